"""筹备 Setup: the administrator's configuration becomes a competition in the database."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.runtime import flow_run

from models.errors import ConfigError, Problem
from tasks.competition import create_competition_from_file, create_competition_from_text, prepare_database

UPLOADED = "上传的配置 uploaded configuration"


def _run_name() -> str:
    parameters = flow_run.parameters
    return f"setup · {parameters.get('config_path') or parameters.get('config_name') or UPLOADED}"


@flow(name="setup", flow_run_name=_run_name)
def setup_competition(
    config_path: str | None = None,
    actor: str = "admin",
    config_text: str | None = None,
    config_name: str = "",
    as_of: datetime | None = None,
) -> int:
    """Validate the competition file and store the competition (stage: 筹备 draft, as of ``as_of``).

    ``config_path`` is a path on the worker. From another machine, send the file's text instead:
    ``config_text`` (what ``grantflow competition create FILE --deployment`` does), with
    ``config_name`` naming it in the audit. Exactly one of the two.
    """
    if (config_path is None) == (config_text is None):
        raise ConfigError(
            Problem(
                "setup",
                "config_path / config_text",
                "须给出配置文件路径或配置内容之一",
                "give either config_path (a file on the worker) or config_text (the file's text)",
            )
        )
    prepare_database()
    if config_text is not None:
        return create_competition_from_text(config_text, config_name or UPLOADED, actor, as_of)
    assert config_path is not None
    return create_competition_from_file(config_path, actor, as_of)
