"""Servers lost mid-stage during the whole year: the SMTP server and the PostgreSQL server stopped
hard at seeded moments inside the demo year's stages, kept down for the rest of that stage, brought
back; then the year goes on (the interrupted stage run again where it stopped) and is compared with
a clean year exactly as the crash tests compare it (``tests/support/year_compare.py``).

- The SMTP server (``python -m tasks.mail.sink`` in a process of its own) is SIGKILLed by the year's
  process at a seeded arrival at a letter's ``claimed`` or ``accepted`` point — a stage's delivery
  in full swing, letters in flight on four connections. The stage must end normally, its line
  saying how many letters wait for a retry and till when (no traceback); the server comes back on
  the same port and folder; the letters go when due (the next stages' deliveries, then
  ``grantflow outbox send`` as the line says) — each exactly once.
- The PostgreSQL server (durable: every acknowledged commit kept, as a real one) is crashed with
  ``pg_ctl stop -m immediate`` at a seeded arrival at any fault point of a stage (a document on
  disk, before or after a commit, a letter's points). The stage's tasks retry, then the step stops
  with one line — "database unavailable … run it again" — and exit code 1, no traceback; the
  server is started again (crash recovery from its WAL) and the step run again: it completes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.mail.sink import EmlSink, MailSink
from tests.support.postgres import PostgresServer
from tests.support.year_compare import (
    Ran,
    Year,
    census_of,
    compare_years,
    outage_year,
    plan_kills,
    prefect_server,
    sink_process,
    step_index,
)

LINGER = 2.0  # GRANTFLOW_SMTP_LINGER_SECONDS: a stage waits this long for a retry, not 2 minutes


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    with prefect_server() as url:
        yield url


@pytest.fixture(scope="module")
def durable_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this module's own, crashed and restarted by its tests."""
    server = PostgresServer.start(durable=True)
    try:
        yield server
    finally:
        server.stop()


def smtp_outages(tmp_path: Path, outages: int, seed: int) -> dict[str, object]:
    began = datetime.now(UTC)
    with MailSink(handler=EmlSink(tmp_path / "clean-mail")) as clean_sink:
        clean = Year(tmp_path / "clean", clean_sink.port, linger_seconds=LINGER)
        census_of(clean)
    # one outage a stage at most: the stage ends without its server, the year goes on after it
    sending = [step for step, counts in clean.census.items() if counts.get("claimed")]
    plan = plan_kills(clean.census, min(outages, len(sending)), seed, points=("claimed", "accepted"))
    with sink_process(tmp_path / "crash-mail") as sink:
        crashed = Year(tmp_path / "crashed", sink.port, linger_seconds=LINGER)

        def ended(ran: Ran, step: int) -> bool:
            # the stage ended normally without its server; its line says what waits, and only then
            assert ran.code == 3, ran.err[-3000:]
            waiting = crashed.scalar("SELECT count(*) FROM outbox_letter WHERE state = 'queued'")
            said = ran.said(step) or ""
            crashed.kills[-1]["waiting"] = waiting
            # the call's own line sums its delivery ("3 waiting for a retry"); the others get run_step's
            told = re.search(rf"\b{waiting} (letters wait|waiting) for a retry, next attempt at", said)
            assert bool(told) if waiting else ("for a retry" not in said), said
            return True

        def back() -> None:
            sink.reap()
            sink.start()

        outage_year(crashed, plan, strike=sink.kill_command, restore=back, expect=ended)
        figures = compare_years(clean, crashed, tmp_path / "clean-mail", sink.folder, began)
        figures["server lives"] = sink.lives
    figures["letters waiting after the outage"] = [k.get("waiting") for k in crashed.kills]
    return figures


def postgres_outages(
    tmp_path: Path, server: PostgresServer, outages: int, seed: int, include: tuple[int, ...] = ()
) -> dict[str, object]:
    began = datetime.now(UTC)
    with (
        MailSink(handler=EmlSink(tmp_path / "clean-mail")) as clean_sink,
        MailSink(handler=EmlSink(tmp_path / "crash-mail")) as crash_sink,
    ):
        clean = Year(tmp_path / "clean", clean_sink.port, server.create_database())
        census_of(clean)
        plan = plan_kills(clean.census, outages, seed, include=include)
        crashed = Year(tmp_path / "crashed", crash_sink.port, server.create_database())

        def stopped(ran: Ran, step: int) -> bool:
            errors = [line for line in ran.err.splitlines() if line.startswith("错误 / error:")]
            crashed.kills[-1]["error"] = errors
            if ran.code == 3:  # struck after the step's last word with the database
                assert errors == [], ran.err[-3000:]
                return True
            assert ran.code == 1 and ran.lines[-1] == "stopped", (ran.lines[-3:], ran.err[-3000:])
            assert len(errors) == 1 and "database unavailable" in errors[0], ran.err[-3000:]
            assert "run it again" in errors[0]
            return False

        outage_year(
            crashed,
            plan,
            strike=server.crash_command,
            restore=lambda: server.control("start"),
            expect=stopped,
        )
        figures = compare_years(clean, crashed, clean_sink.handler.folder, crash_sink.handler.folder, began)
        figures["server saw twice"] = sum(1 for r in crash_sink.handler.receipts if r.duplicate)
    figures["stopped with one line"] = sum(1 for k in crashed.kills if k["code"] == 1)
    return figures


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_smtp_server_killed_in_two_stages_then_back_delivers_each_letter_once(tmp_path, prefect_api):
    figures = smtp_outages(tmp_path, outages=2, seed=22)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == 2 and figures["server lives"] == 3
    assert sum(figures["letters waiting after the outage"]) > 0  # type: ignore[arg-type]


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_soak_the_smtp_server_killed_in_every_stage_that_sends_then_back_delivers_each_letter_once(
    tmp_path, prefect_api
):
    figures = smtp_outages(tmp_path, outages=12, seed=2025)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == len(figures["steps"]) >= 10  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_postgresql_server_crashed_in_two_stages_then_restarted_equals_a_clean_year(
    tmp_path, prefect_api, durable_postgres
):
    # one of them while the sample experts fill their sheets through the portal (its 503 pages)
    figures = postgres_outages(
        tmp_path, durable_postgres, outages=2, seed=22, include=(step_index("专家评分 / experts score"),)
    )
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == 2 and figures["stopped with one line"] >= 1


@pytest.mark.postgres
@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_soak_the_postgresql_server_crashed_in_twelve_stages_then_restarted_equals_a_clean_year(
    tmp_path, prefect_api, durable_postgres
):
    figures = postgres_outages(tmp_path, durable_postgres, outages=12, seed=2025)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == 12
