"""The audit trail's effective moment: a run as of another moment dates what it changed so."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.audit import effective_at, effective_now, record, take_effect
from models.db import session_scope

AS_OF = datetime(2025, 3, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_row_written_as_of_a_moment_carries_it(engine):
    with session_scope(engine, as_of=AS_OF) as session:
        event = record(
            session, actor="test", entity="competition", entity_id=1, action="stage", data={"k": 1}
        )
        assert effective_now(session) == AS_OF
    assert event.data == {"k": 1, "as_of": AS_OF.isoformat()}
    assert effective_at(event) == AS_OF and event.at.year > 2025  # written now, took effect then


def test_without_a_moment_the_audit_time_is_the_effective_one(engine):
    with Session(engine) as session:
        event = record(session, actor="test", entity="competition", entity_id=1, action="stage")
        session.flush()
        assert event.data == {} and effective_at(event) == event.at
        take_effect(session, None)  # no moment given: nothing changes
        assert "as_of" not in session.info


def test_a_naive_moment_is_refused(engine):
    with Session(engine) as session, pytest.raises(ValueError, match="as_of"):
        take_effect(session, datetime(2025, 3, 5, 9, 0))
