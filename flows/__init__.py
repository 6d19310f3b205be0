"""One Prefect flow per stage of the lifecycle; no business rules live here.

Prefect must never reach the network: analytics and update checks are switched off before
Prefect is first imported (also in ``prefect.toml`` and the Makefile).
"""

import os

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}.items():
    os.environ.setdefault(_name, _value)
