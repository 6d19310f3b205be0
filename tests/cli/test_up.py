"""``grantflow up``'s worker: it asks the server for runs every second (Prefect's default of 10 s
made a console click wait 5 s on average before anything happened), unless the environment says
otherwise; and it is a process worker on the pool the deployments name."""

from __future__ import annotations

import pytest

from cli.up import POOL, WORKER_QUERY_SECONDS, worker_command, worker_environment
from tests.test_deployments import SPEC


def test_worker_environment_asks_every_second_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings.models.root import Settings

    monkeypatch.delenv("PREFECT_WORKER_QUERY_SECONDS", raising=False)
    chosen = worker_environment()
    assert chosen == {"PREFECT_WORKER_QUERY_SECONDS": WORKER_QUERY_SECONDS}
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", chosen["PREFECT_WORKER_QUERY_SECONDS"])
    assert Settings().worker.query_seconds == 1  # Prefect reads it as its worker's interval
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "5")
    assert worker_environment() == {"PREFECT_WORKER_QUERY_SECONDS": "5"}


def test_worker_command_starts_a_worker_on_the_deployments_pool() -> None:
    command = worker_command()
    assert command[1:5] == ["-m", "prefect", "worker", "start"]
    assert command[command.index("--pool") + 1] == POOL
    assert {d["work_pool"]["name"] for d in SPEC["deployments"]} == {POOL}


def test_portal_command_starts_the_recommended_workers_unless_told() -> None:
    from cli.up import portal_command
    from portal.serving import recommended_workers

    default = portal_command(8123)
    assert default[1:5] == ["-m", "cli.main", "portal", "--port"]
    assert default[default.index("--port") + 1] == "8123"
    assert default[default.index("--workers") + 1] == str(recommended_workers())
    chosen = portal_command(8123, 3)
    assert chosen[chosen.index("--workers") + 1] == "3"


def test_up_offers_the_portal_workers_option_defaulting_to_the_recommended_count() -> None:
    from typer.testing import CliRunner

    from cli.main import app

    answer = CliRunner().invoke(app, ["up", "--help"], env={"COLUMNS": "200"})
    assert answer.exit_code == 0, answer.output
    assert "--portal-workers" in answer.output
    assert "default: one per core" in answer.output
    refused = CliRunner().invoke(app, ["up", "--portal-workers", "0"], env={"COLUMNS": "200"})
    assert refused.exit_code == 2
