"""Fixtures of the console's tests (see ``console_world``)."""

from tests.portal.admin.console_world import console  # noqa: F401  (fixture)
from tests.portal.admin.pages_world import held_year_template, pages  # noqa: F401  (fixtures)
from tests.portal.admin.test_console_browser import shots  # noqa: F401  (where the pictures go)
from tests.support.browser import browser  # noqa: F401  (the shared Chromium fixture)
from tests.support.year import year_template  # noqa: F401  (the example's year, built once a session)
