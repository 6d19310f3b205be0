"""筹备 Setup: the administrator's configuration becomes a competition in the database."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from tasks.competition import create_competition_from_file, prepare_database


@flow(name="setup", flow_run_name="setup · {config_path}")
def setup_competition(config_path: str, actor: str = "admin", as_of: datetime | None = None) -> int:
    """Validate the competition file and store the competition (stage: 筹备 draft, as of ``as_of``)."""
    prepare_database()
    return create_competition_from_file(config_path, actor, as_of)
