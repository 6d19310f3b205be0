"""The funded example competition (built once per session, copied per test)."""

from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
