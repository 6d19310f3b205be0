"""The demo's supervision steps on the funded example: grantees and supervisors fill their forms
over HTTP with one upload each; one project fails and passes its re-check, one is terminated."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from cli.demo.run import EXAMPLE, DemoRun
from cli.demo.supervision import STEPS, show_supervision
from models.funding.tables import Tranche
from models.mail.outbox import OutboxLetter
from models.states import GrantState, RectificationState, TrancheState
from models.supervision.evidence import evidence_of
from models.supervision.tables import Checkpoint, GrantTermination, Rectification
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.flows]


def test_demo_supervision_steps(prefect_harness, funded, capsys):  # noqa: F811  (the imported fixture)
    run = DemoRun(out=funded.data, example=EXAMPLE, competition_id=funded.competition_id, slug=funded.slug)
    said = [step(run) for _, step in STEPS]
    assert "个项目分配督导" in said[0] and "3 份督导记录" in said[1] and "通过 passed 1" in said[1]
    assert "通过 passed 1" in said[2] and "仍未通过 failed again 1" in said[2]
    assert "应退回 claw back" in said[3]
    with Session(funded.engine) as session:
        from models.funding.tables import Grant

        states = {g.id: g.state for g in session.exec(select(Grant)) if g.id in funded.grant_ids}
        assert sorted(states.values()) == sorted(
            [GrantState.active, GrantState.active, GrantState.terminated]
        )
        rectifications = session.exec(select(Rectification)).all()
        assert sorted(r.state for r in rectifications) == sorted(
            [RectificationState.passed, RectificationState.failed]
        )
        midterm = {
            t.grant_id: t.state
            for t in session.exec(select(Tranche).where(Tranche.gate == "midterm"))
            if t.grant_id in funded.grant_ids
        }
        assert sorted(midterm.values()) == sorted(
            [TrancheState.released, TrancheState.released, TrancheState.cancelled]
        )
        assert len(session.exec(select(GrantTermination)).all()) == 1
        for checkpoint in session.exec(select(Checkpoint).where(Checkpoint.code == "midterm")):
            assert len(evidence_of(session, checkpoint_id=checkpoint.id, owner="supervisor")) == 1
            assert len(evidence_of(session, checkpoint_id=checkpoint.id, owner="grantee")) == 1
        roles = {
            lt.role for lt in session.exec(select(OutboxLetter).where(OutboxLetter.stage == "supervision"))
        }
        paid = session.exec(select(OutboxLetter).where(OutboxLetter.role == "tranche_paid")).all()
    assert {"supervision_request", "progress_report_request", "rectification", "termination"} <= roles
    assert len(paid) > len(funded.grant_ids), "the mid-term releases sent their 拨款通知 letters too"
    show_supervision(run)
    assert "已终止" in capsys.readouterr().out
