"""One Prefect flow per stage of the lifecycle; no business rules live here.

Prefect must never reach the network: its offline defaults are set before Prefect is first
imported (``models.settings.apply_prefect_defaults``; also in ``prefect.toml`` and the Makefile).
A grantflow error that ends a run is logged as a refusal, without a traceback (``flows.refusals``).
"""

from flows import refusals
from models.settings import apply_prefect_defaults

apply_prefect_defaults()
refusals.install()
