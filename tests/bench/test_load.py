"""The load generator's schedule and accounting (no timings): every request planned is sent or
skipped, every one sent is counted once as ok or as an error of its kind, and against the portal's
applicants' form every accepted application is stored exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bench.load.traffic import run_open
from bench.load.worlds import SECRET, ApplyWorld
from models.settings import reset_settings
from portal.app import create_app
from portal.serving import serve_in_background
from tests.portal.apply_world import OPEN_AT, SLUG, build_apply_world


async def _answer(request: Request) -> PlainTextResponse:
    number = int(request.path_params["number"])
    if number % 4 == 3:
        await asyncio.sleep(3)  # past the client's timeout
    return PlainTextResponse("", status_code=500 if number % 4 == 1 else 200)


async def _send(client: httpx.AsyncClient, i: int) -> str:
    answer = await client.get(f"/{i}")
    return "ok" if answer.status_code == 200 else f"GET {answer.status_code}"


def test_run_open_counts_every_request_once_by_kind() -> None:
    app = Starlette(routes=[Route("/{number}", _answer)])
    with serve_in_background(app) as url:
        tally = asyncio.run(run_open(url, rate=8, seconds=2, send=_send, timeout=1))
    assert tally.planned == 16 == tally.sent + tally.skipped and tally.skipped == 0
    assert tally.ok == 8 and dict(tally.errors) == {"GET 500": 4, "timeout": 4}
    assert tally.sent == tally.ok + sum(tally.errors.values()) == sum(tally.outcomes.values())
    assert len(tally.latencies_ms) == 12  # the answered ones; a timeout has no latency
    assert tally.figures()["errors"] == 8


def test_run_open_against_apply_form_stores_each_accepted_once(
    settings_env: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """40 posts in one second, many at once: on PostgreSQL they chose the same 申报编号 (a 500)."""
    monkeypatch.setenv("GRANTFLOW_SECRET_KEY", SECRET)  # the load's CSRF tokens are signed with it
    monkeypatch.setenv("GRANTFLOW_DATABASE_URL", database_url)
    reset_settings()
    world = build_apply_world()
    load = ApplyWorld(data_dir=settings_env, clock=OPEN_AT, slug=SLUG, competition_id=world.competition_id)
    with serve_in_background(create_app(world.settings, clock=lambda: OPEN_AT)) as url:
        tally = asyncio.run(
            run_open(url, rate=40, seconds=1, send=load.send, cookies=load.cookies, timeout=60)
        )
    assert tally.planned == tally.sent == 40
    assert tally.sent == tally.ok + sum(tally.errors.values()) == sum(tally.outcomes.values())
    # requests 9, 19, 29, 39 repeat 4, 14, 24, 34 word for word: one of each pair stored, one refused
    assert dict(tally.outcomes) == {"ok: accepted": 36, "ok: duplicate refused": 4}
    assert load.check() == {
        "accepted": 36,
        "stored": 36,
        "lost": 0,
        "stored_not_accepted": 0,
        "doubled": 0,
        "duplicate_refs": 0,
    }
