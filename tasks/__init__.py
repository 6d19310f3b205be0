"""Prefect tasks grouped by concern: thin, take ids, work in batches, call models/.

Importing this package imports ``flows`` first so that Prefect's offline settings are in place.
"""

import flows  # noqa: F401
