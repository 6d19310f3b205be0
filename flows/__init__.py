"""One Prefect flow per stage of the lifecycle; no business rules live here.

Prefect must never reach the network: its offline defaults are set before Prefect is first
imported (``models.settings.apply_prefect_defaults``; also in ``prefect.toml`` and the Makefile).
"""

from models.settings import apply_prefect_defaults

apply_prefect_defaults()
