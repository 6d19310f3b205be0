"""Prefect tasks grouped by concern: thin, take ids, work in batches, call models/.

Prefect's offline defaults are set before Prefect is first imported.
"""

from models.settings import apply_prefect_defaults

apply_prefect_defaults()
