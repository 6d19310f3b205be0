"""The example's year (``tests.support.year``) for the tests of the roof's readings."""

from tests.support.year import year, year_session, year_template

__all__ = ["year", "year_session", "year_template"]
