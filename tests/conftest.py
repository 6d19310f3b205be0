"""Test fixtures with real parts: SQLite files, a PostgreSQL server this session starts as a plain
user, and Prefect's own test harness (one per session, only for tests that ask for it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

# Prefect must never reach the network, and its settings are read at import time.
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ.setdefault("GRANTFLOW_ENVIRONMENT", "test")

from models.db import dispose_engines, get_engine, upgrade_database
from models.settings import reset_settings
from tests.support.postgres import PostgresServer

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "examples" / "jiangtou-2025"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="also run the soak tests (make soak)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests (too long for CI) are deselected unless ``--soak`` is given."""
    if config.getoption("--soak"):
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on a free loopback port, for the whole test session."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind: a SQLite file, and a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'grantflow.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = get_engine(database_url)
    upgrade_database(engine)
    yield engine
    dispose_engines()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests whose subject is not the database."""
    engine = get_engine(f"sqlite:///{tmp_path / 'grantflow.db'}")
    upgrade_database(engine)
    yield engine
    dispose_engines()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every setting at a temporary data folder; yields that folder."""
    data = tmp_path / "data"
    monkeypatch.setenv("GRANTFLOW_DATA_DIR", str(data))
    monkeypatch.delenv("GRANTFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("GRANTFLOW_SMTP_HOST", raising=False)
    reset_settings()
    yield data
    reset_settings()
    dispose_engines()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness, started once for the session (it takes 11–19 s)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled 江头街道 example."""
    target = tmp_path / "jiangtou-2025"
    shutil.copytree(EXAMPLE_DIR, target)
    return target
