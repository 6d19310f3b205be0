"""The evaluated year, built once per test session into a SQLite file; each test gets a copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from models.db import dispose_engines, get_engine, upgrade_database
from tests.support.year import Year, evaluated_year


@pytest.fixture(scope="session")
def year_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example year up to the submitted 结项 reports (≈ 15 s, once)."""
    path = tmp_path_factory.mktemp("year") / "year.db"
    engine = get_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        evaluated_year(session)
        session.commit()
    dispose_engines()
    return path


@pytest.fixture
def year_session(year_template: Path, tmp_path: Path) -> Iterator[Session]:
    """A session on a private copy of the evaluated year."""
    copy = tmp_path / "year.db"
    shutil.copy(year_template, copy)
    engine = get_engine(f"sqlite:///{copy}")
    with Session(engine, expire_on_commit=False) as session:
        yield session
    dispose_engines()


@pytest.fixture
def year(year_session: Session) -> Year:
    return Year.load(year_session)
