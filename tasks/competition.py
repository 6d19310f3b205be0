"""Tasks that create the competition and find it (light: every stage's flow imports them)."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from models.competition.config_file import read_config_text
from models.competition.tables import get_competition
from models.db import default_engine, session_scope, upgrade_database
from models.setup import create_competition
from models.stage_order import StageRun, require_stage
from tasks.database_faults import ON_DATABASE_FAULT


@task(name="prepare-database", **ON_DATABASE_FAULT)
def prepare_database() -> None:
    """Create the schema, or upgrade an older one in place."""
    upgrade_database(default_engine())


@task(name="create-competition")
def create_competition_from_file(config_path: str, actor: str, as_of: datetime | None = None) -> int:
    """Validate the YAML file and store the competition (its audit row dated ``as_of``); returns its id."""
    text = read_config_text(config_path)
    with session_scope(as_of=as_of) as session:
        competition = create_competition(session, text=text, source=str(config_path), actor=actor)
        assert competition.id is not None
        return competition.id


@task(name="create-competition-from-text")
def create_competition_from_text(text: str, source: str, actor: str, as_of: datetime | None = None) -> int:
    """Validate configuration text sent with the run (from another machine); returns the new id."""
    with session_scope(as_of=as_of) as session:
        competition = create_competition(session, text=text, source=source, actor=actor)
        assert competition.id is not None
        return competition.id


@task(name="find-competition", **ON_DATABASE_FAULT)
def competition_id_for(slug: str | None, run: StageRun | None = None) -> int:
    """The competition's id; with ``run``, refused (one line, nothing changed) unless the
    competition's stage allows that run (``models.stage_order``, which the CLI asks first)."""
    with session_scope() as session:
        competition = get_competition(session, slug=slug)
        assert competition.id is not None
        if run is not None:
            require_stage(run, slug=competition.slug, stage=competition.stage)
        return competition.id
