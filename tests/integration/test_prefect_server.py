"""The example's year on real parts, as an organisation runs it: PostgreSQL for grantflow and for
Prefect, ``grantflow up`` (Prefect server, work pool, ``prefect deploy`` from deployments/prefect.yaml,
a process worker), stages run as deployments, letters caught by a loopback SMTP server, the review
closed by the event trigger when the portal receives the last sheet — and the same ranking as the
embedded demo. Every process it started is stopped, also when it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from models.competition.tables import get_competition
from models.db import dispose_engines, get_engine, session_scope
from models.mail.outbox import OutboxLetter
from models.review.results import review_report
from models.states import CompetitionStage, LetterState
from tasks.mail.sink import EmlSink, MailSink
from tests.support.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "jiangtou-2025"

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(2400)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def grantflow(*args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture()
def server_env(postgres: PostgresServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of an organisation's machine, with ``grantflow up`` running; ``down`` after."""
    app_url = postgres.create_database()
    prefect_url = postgres.create_database().replace("postgresql+psycopg://", "postgresql+asyncpg://")
    sink = MailSink(handler=EmlSink(tmp_path / "caught")).start()
    port, portal_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "GRANTFLOW_"))  # nothing of the test session's own settings
    }
    env.update(
        {
            "GRANTFLOW_ENVIRONMENT": "development",
            "GRANTFLOW_DATA_DIR": str(tmp_path / "data"),
            "GRANTFLOW_DATABASE_URL": app_url,
            "GRANTFLOW_SMTP_HOST": "127.0.0.1",
            "GRANTFLOW_SMTP_PORT": str(sink.port),
            "GRANTFLOW_PORTAL_URL": f"http://127.0.0.1:{portal_port}",
            "PREFECT_API_DATABASE_CONNECTION_URL": prefect_url,
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    try:
        started = grantflow("up", "--port", str(port), "--no-portal", env=env)
        assert started.returncode == 0, started.stdout + started.stderr
        env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        env["GRANTFLOW_TEST_CAUGHT_MAIL"] = str(tmp_path / "caught")
        yield env
    finally:
        stopped = grantflow("down", env=env, timeout=120)
        sink.stop()
        leftovers = subprocess.run(
            ["pgrep", "-f", str(tmp_path / "data")], capture_output=True, text=True
        ).stdout.split()
        for pid in leftovers:  # never leave a process of this test behind
            subprocess.run(["kill", "-9", pid], check=False)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def embedded_ranking(tmp_path: Path) -> list[list[object]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "GRANTFLOW_"))}
    env.update({"GRANTFLOW_ENVIRONMENT": "development", "PYTHONPATH": str(ROOT)})
    out = tmp_path / "embedded"
    demo = grantflow("demo", "--out", str(out), env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    engine = get_engine(f"sqlite:///{out / 'grantflow.db'}")
    try:
        with session_scope(engine) as session:
            competition = get_competition(session)
            report = review_report(session, competition_id=competition.id or 0)
        return [[row["ref"], row["rank"], row["aggregate"]] for row in report["applications"]]
    finally:
        dispose_engines()


def test_the_year_runs_on_prefect_server_with_postgresql_like_the_embedded_demo(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    driven = subprocess.run(
        [sys.executable, "-m", "tests.support.year_on_server", str(EXAMPLE)],
        cwd=ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=1800,
        stdin=subprocess.DEVNULL,
    )
    assert driven.returncode == 0, driven.stdout[-3000:] + driven.stderr[-3000:]
    result = json.loads(driven.stdout.strip().splitlines()[-1])

    assert [r["state"] for r in result["runs"]] == ["COMPLETED"] * len(result["runs"]), result["runs"]
    assert result["stage"] == CompetitionStage.funding, "the trigger did not close the review"
    assert result["sheets"] > 0

    # the database, the letters and the documents, on PostgreSQL
    engine = get_engine(server_env["GRANTFLOW_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            letters = list(session.exec(select(OutboxLetter)))
            competition = get_competition(session)
            assert competition.stage is CompetitionStage.funding
    finally:
        dispose_engines()
    assert letters and all(letter.state is LetterState.sent for letter in letters)
    caught = list(Path(server_env["GRANTFLOW_TEST_CAUGHT_MAIL"]).glob("*.eml"))
    assert len(caught) == len(letters), "every letter reached the SMTP server exactly once"
    documents = list((Path(server_env["GRANTFLOW_DATA_DIR"]) / "documents").rglob("*.docx"))
    assert documents

    # the same ranking as the embedded demo
    assert result["ranking"] == embedded_ranking(tmp_path)
