"""The evaluated year (``tests.support.year``), built once per test session; each test a copy."""

from tests.support.year import year, year_session, year_template

__all__ = ["year", "year_session", "year_template"]
