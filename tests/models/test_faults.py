"""The fault points of every stage's work: where they are reached, and that nothing else strikes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import faults
from models.competition.tables import get_competition
from models.db import session_scope
from models.documents.registry import DOCUMENTS, write_document
from models.setup import create_competition


@pytest.fixture
def census():
    counted = faults.count()
    yield counted
    faults.disarm()


def test_a_document_is_reached_on_disk_before_its_commit_and_each_commit_before_and_after(
    sqlite_engine: Engine, tmp_path: Path, example_dir: Path, census
) -> None:
    with session_scope(sqlite_engine) as session:
        create_competition(
            session,
            text=(example_dir / "competition.yaml").read_text(encoding="utf-8"),
            source="test",
            actor="test",
        )
    assert census == {"before-commit": 1, "after-commit": 1}
    with session_scope(sqlite_engine) as session:
        write_document(
            session,
            role="receipt",
            context=dict(DOCUMENTS.get("receipt").keys),
            competition_id=get_competition(session).id,
            stage="intake",
            subject_entity="application",
            subject_id=3,
            filename="受理回执-JT2025-003.docx",
            documents_dir=tmp_path / "documents",
        )
        assert census["document"] == 1 and len(list((tmp_path / "documents").rglob("*.docx"))) == 1
    assert census == {"before-commit": 2, "after-commit": 2, "document": 1}


def test_a_transaction_that_fails_reaches_no_commit_point(sqlite_engine: Engine, census) -> None:
    with pytest.raises(RuntimeError), session_scope(sqlite_engine):
        raise RuntimeError("the stage's work failed")
    assert census == {}


def test_an_armed_point_of_another_name_never_strikes(sqlite_engine: Engine, census) -> None:
    faults.arm("document", hit=1)
    with session_scope(sqlite_engine):
        pass
    assert census == {"before-commit": 1, "after-commit": 1}


def test_an_unknown_point_or_a_hit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault point 'flushed'"):
        faults.arm("flushed", hit=1)
    with pytest.raises(ValueError, match="hit counts from 1"):
        faults.arm("document", hit=0)


def test_an_armed_strike_is_called_once_at_its_arrival_and_the_work_goes_on(
    sqlite_engine: Engine, census
) -> None:
    struck: list[int] = []
    faults.arm("after-commit", hit=2, strike=lambda: struck.append(census["after-commit"]))
    for _ in range(3):
        with session_scope(sqlite_engine):
            pass
    assert struck == [2] and census == {"before-commit": 3, "after-commit": 3}
