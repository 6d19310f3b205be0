"""``grantflow screening run|override`` in a real process against a real database."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.db import dispose_engines, get_engine, upgrade_database
from models.intake.imports import import_applications
from models.lifecycle import set_state
from models.states import CompetitionStage
from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition


@pytest.fixture
def received(tmp_path):
    """The example's spreadsheet applications, received while the call was open."""
    engine = get_engine(f"sqlite:///{tmp_path / 'grantflow.db'}")
    upgrade_database(engine)
    with Session(engine) as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        import_applications(
            session,
            competition_id=competition.id,
            path=EXAMPLE_DIR / "applications.xlsx",
            actor="test",
            now=datetime(2025, 2, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        )
        session.commit()
    dispose_engines()
    return tmp_path


@pytest.mark.slow
def test_screening_run_then_override_changes_the_outcome(received):
    result = run(["screening", "run", "--as-of", "2025-03-03T09:00", "--reviewer", "林老师"], received)
    assert result.returncode == 0, result.stderr
    assert "通过 / eligible: 21；未通过 / ineligible: 3" in result.stdout
    assert "✗ 2025-024  银龄互助——后埔老伙伴结对关怀" in result.stdout
    assert "登记或备案：未填写统一社会信用代码或登记证号（备案号）" in result.stdout

    bad_rule = run(["screening", "override", "2025-024", "没有的规则", "--pass", "--reason", "x"], received)
    assert bad_rule.returncode == 1 and "no eligibility rule" in bad_rule.stderr
    assert "Traceback" not in bad_rule.stderr

    override = run(
        [
            "screening",
            "override",
            "2025-024",
            "登记或备案",
            "--pass",
            "--reason",
            "已补交备案证明",
            "--as-of",
            "2025-03-05T09:00",
        ],
        received,
    )
    assert override.returncode == 0, override.stderr
    assert "已改判 / overridden: 2025-024 registration → 符合" in override.stdout
    assert "资格审查通过 (eligible)" in override.stdout
    assert "改判后的资格审查表 / sheets for the ruling: 1；结果通知 / result letters: 1" in override.stdout

    status = json.loads(run(["status", "--json"], received).stdout)
    assert status["competition"]["stage"] == "screening"
    assert status["counts"] == {"eligible": 22, "ineligible": 2}
    assert len(list((received / "mail").glob("*.eml"))) == 24 + 1
