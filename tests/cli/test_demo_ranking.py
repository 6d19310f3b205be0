"""The demo's ranking prints the agreement figures that apply to the panel's design (the review
report's ``applies``), not a fixed choice of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from tests.conftest import EXAMPLE_DIR


def _reviewed(totals: dict[str, list[int]]) -> int:
    """A competition whose review closed: the example's 7 experts, 5 a project (an incomplete design)."""
    from models.db import default_engine, session_scope, upgrade_database
    from models.intake.tables import Application
    from models.review.results import close_review
    from models.review.reviewing import assign_reviews
    from models.review.score_sheets import save_sheet
    from tests.support.review_data import NOW, points_for, setup_review, sheets

    upgrade_database(default_engine())
    with session_scope() as session:
        competition, _ = setup_review(session, apps=len(totals))
        assert competition.id is not None
        assign_reviews(session, competition_id=competition.id, actor="admin")
        for application in session.exec(select(Application)):
            ordered = sorted(sheets(session, application.id), key=lambda s: s.expert_id)
            for sheet, total in zip(ordered, totals[application.ref], strict=True):
                save_sheet(
                    session,
                    assignment_id=sheet.id,
                    points=points_for(total),
                    submit=True,
                    actor="expert",
                    now=NOW,
                )
        close_review(session, competition_id=competition.id, actor="admin")
        return competition.id


def test_show_ranking_prints_the_figures_that_apply(
    settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.demo.review import show_ranking
    from cli.demo.run import DemoRun
    from models.db import session_scope
    from models.review.agreement import NAMES
    from models.review.results import review_report

    competition_id = _reviewed(
        {
            "JT2025-001": [70, 80, 85, 90, 99],
            "JT2025-002": [80, 82, 84, 86, 88],
            "JT2025-003": [60, 65, 70, 75, 80],
            "JT2025-004": [90, 91, 92, 93, 94],
        }
    )
    with session_scope() as session:
        panel = review_report(session, competition_id=competition_id)["panel"]
    assert panel["applies"] == ["icc1_1", "icc1_k"]  # the design the figures must follow

    run = DemoRun(out=tmp_path, example=EXAMPLE_DIR, competition_id=competition_id, facts={"panel": panel})
    show_ranking(run)
    out = capsys.readouterr().out
    assert "评审排名 / ranking" in out and " 1. JT2025-004 " in out
    (agreement,) = [text for text in out.splitlines() if "评审一致性 / agreement" in text]
    assert panel["design_text"] in agreement
    assert f"ICC(1,1) = {panel['icc1_1']['value']}" in agreement
    assert f"{NAMES['icc1_k']} (k̄ = k₀ = {panel['k0']}) = {panel['icc1_k']['value']}" in agreement
    assert "ICC(2" not in agreement and "Kendall" not in agreement
