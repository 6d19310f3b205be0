"""The ``grantflow`` command: one Typer app, thin over flows and models.

Prefect's offline defaults are set here, before any command imports Prefect, wherever the command
is started from.
"""

from models.settings import apply_prefect_defaults

apply_prefect_defaults()
