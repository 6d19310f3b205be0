"""Tasks that create and advance the competition itself."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from models.competition import create_competition, get_competition
from models.db import default_engine, session_scope, upgrade_database
from models.errors import ConfigError, Problem


@task(name="prepare-database")
def prepare_database() -> None:
    """Create the schema, or upgrade an older one in place."""
    upgrade_database(default_engine())


@task(name="create-competition")
def create_competition_from_file(config_path: str, actor: str) -> int:
    """Validate the YAML file and store the competition; returns its id."""
    path = Path(config_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), "", "文件不存在", "file not found")) from None
    with session_scope() as session:
        competition = create_competition(session, text=text, source=str(path), actor=actor)
        assert competition.id is not None
        return competition.id


@task(name="find-competition")
def competition_id_for(slug: str | None) -> int:
    with session_scope() as session:
        competition = get_competition(session, slug=slug)
        assert competition.id is not None
        return competition.id
