"""The lifecycle flow takes each step when its conditions hold, and waits (saying why) otherwise."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from models.competition.tables import Competition
from models.db import default_engine, session_scope, upgrade_database
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment
from models.states import CompetitionStage
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition

pytestmark = [pytest.mark.flows, pytest.mark.slow]
BJ = ZoneInfo("Asia/Shanghai")


def stage_of(competition_id: int) -> CompetitionStage:
    with session_scope() as session:
        competition = session.get(Competition, competition_id)
        assert competition is not None
        return competition.stage


def test_lifecycle_advances_through_the_stages(prefect_harness, settings_env: Path):
    from flows.intake import intake
    from flows.lifecycle import advance

    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        competition_id, slug = competition.id, competition.slug

    early = asyncio.run(advance(slug, as_of=datetime(2025, 1, 5, 9, tzinfo=BJ)))
    assert early["step"] is None and "not due" in early["waiting"]
    assert stage_of(competition_id) is CompetitionStage.draft

    assert asyncio.run(advance(slug, as_of=datetime(2025, 1, 6, 9, tzinfo=BJ)))["step"] == "publish_call"
    assert stage_of(competition_id) is CompetitionStage.call_open
    waiting = asyncio.run(advance(slug, as_of=datetime(2025, 2, 1, 9, tzinfo=BJ)))
    assert waiting["step"] is None and "until applications close" in waiting["waiting"]

    files = [str(EXAMPLE_DIR / "applications-gbk.csv")]
    asyncio.run(intake(slug, files=files, as_of=datetime(2025, 2, 20, 9, tzinfo=BJ)))
    assert asyncio.run(advance(slug, as_of=datetime(2025, 3, 1, 9, tzinfo=BJ)))["step"] == "screening"

    held = asyncio.run(advance(slug, as_of=datetime(2025, 3, 3, 9, tzinfo=BJ)))
    assert held["step"] is None and "allow_review" in held["waiting"]
    assert stage_of(competition_id) is CompetitionStage.screening
    opened = asyncio.run(advance(slug, as_of=datetime(2025, 3, 3, 9, tzinfo=BJ), allow_review=True))
    assert opened["step"] == "open_review" and opened["result"]["sheets"] > 0

    pending = asyncio.run(advance(slug, as_of=datetime(2025, 3, 10, 9, tzinfo=BJ)))
    assert pending["step"] is None and "sheets outstanding" in pending["waiting"]
    with session_scope() as session:
        for sheet in session.exec(select(ReviewAssignment)).all():
            save_sheet(
                session,
                assignment_id=sheet.id,
                submit=True,
                actor="expert",
                now=datetime(2025, 3, 12, tzinfo=BJ),
                points={
                    "need": Decimal(15),
                    "design": Decimal(20),
                    "capacity": Decimal(15),
                    "budget": Decimal(12),
                    "innovation": Decimal(8),
                    "sustainability": Decimal(8),
                },
            )
    closed = asyncio.run(advance(slug, as_of=datetime(2025, 3, 12, 10, tzinfo=BJ)))
    assert closed["step"] == "close_review" and closed["result"]["results"] > 0
    assert stage_of(competition_id) is CompetitionStage.funding
    after = asyncio.run(advance(slug, as_of=datetime(2025, 3, 13, 9, tzinfo=BJ)))
    assert after["step"] is None


def _run_name(state) -> str:
    from prefect.client.orchestration import get_client

    async def read() -> str:
        async with get_client() as client:
            return (await client.read_flow_run(state.state_details.flow_run_id)).name

    return asyncio.run(read())


def test_lifecycle_without_a_competition_completes_and_says_why(
    prefect_harness, settings_env: Path, caplog: pytest.LogCaptureFixture
):
    """Deployed before any competition exists: the hourly run completes (no NotFound), its log says
    what it decided, and its name shows no ``None``."""
    from flows.lifecycle import advance

    upgrade_database(default_engine())
    with caplog.at_level("INFO"):
        state = asyncio.run(advance(as_of=datetime(2025, 1, 5, 9, tzinfo=BJ), return_state=True))
    assert state.is_completed()
    result = state.result()
    assert result["step"] is None and "no competition yet" in result["waiting"]
    assert any(
        "nothing to do now" in r.getMessage() and "no competition yet" in r.getMessage()
        for r in caplog.records
    )
    name = _run_name(state)
    assert "None" not in name and name.endswith("推进 advance")

    named = asyncio.run(advance("jiangtou-2026", return_state=True))
    assert "no competition 'jiangtou-2026'" in named.result()["waiting"]
    assert _run_name(named) == "jiangtou-2026 · 推进 advance"
