"""The state machines: every table is well-formed, set_state is the one audited writer."""

from __future__ import annotations

from collections import deque

import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent, history
from models.competition.tables import Competition
from models.errors import IllegalTransition
from models.lifecycle import allowed_moves, set_state
from models.setup import create_competition
from models.states import CompetitionStage
from models.tables import MACHINES
from tests.conftest import EXAMPLE_DIR

INITIAL = {
    "competition": "draft",
    "application": "submitted",
    "assignment": "invited",
    "panel_sheet": "invited",
    "grant": "awarded",
    "tranche": "planned",
    "checkpoint": "scheduled",
    "rectification": "open",
    "letter": "draft",
    "objection": "open",
    "console_run": "queued",
}


@pytest.mark.parametrize("machine", MACHINES.values(), ids=lambda m: m.entity)
def test_machine_every_state_reachable_from_initial(machine):
    states = set(machine.moves)
    start = next(s for s in states if s == INITIAL[machine.entity])
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in machine.moves[queue.popleft()]:
            assert nxt in states, f"{machine.entity}: target {nxt} is not a state"
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == states, f"{machine.entity}: unreachable {states - seen}"


@pytest.mark.parametrize("machine", MACHINES.values(), ids=lambda m: m.entity)
def test_machine_has_a_terminal_state(machine):
    assert any(not targets for targets in machine.moves.values())


def _competition(session: Session) -> Competition:
    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    competition = create_competition(session, text=text, source="competition.yaml", actor="test")
    session.commit()
    return competition


def test_set_state_legal_move_writes_audit_row(session):
    competition = _competition(session)
    event = set_state(session, competition, CompetitionStage.call_open, actor="admin:test", reason="征集开始")
    session.commit()
    assert competition.stage is CompetitionStage.call_open
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "draft",
        "call_open",
        "admin:test",
        "征集开始",
    )
    rows = history(session, entity="competition", entity_id=competition.id)
    assert [r.action for r in rows] == ["create", "stage"]
    assert rows[-1].at.tzinfo is not None


def test_set_state_illegal_move_refused_and_nothing_written(session):
    competition = _competition(session)
    before = len(session.exec(select(AuditEvent)).all())
    with pytest.raises(IllegalTransition) as caught:
        set_state(session, competition, CompetitionStage.closed, actor="admin:test")
    message = str(caught.value)
    assert "不能从 draft 变为 closed" in message
    assert "cannot move from draft to closed" in message
    assert "call_open" in message  # the allowed moves are named
    session.rollback()
    session.refresh(competition)
    assert competition.stage is CompetitionStage.draft
    assert len(session.exec(select(AuditEvent)).all()) == before


def test_allowed_moves_of_terminal_state_empty(session):
    competition = _competition(session)
    set_state(session, competition, CompetitionStage.cancelled, actor="admin:test", reason="取消")
    assert allowed_moves(competition) == frozenset()
    with pytest.raises(IllegalTransition, match="none"):
        set_state(session, competition, CompetitionStage.call_open, actor="admin:test")


def test_set_state_on_object_without_machine_is_type_error(session):
    with pytest.raises(TypeError):
        set_state(
            session,
            AuditEvent(actor="x", entity="x", entity_id=1, action="x"),
            CompetitionStage.draft,
            actor="t",
        )
