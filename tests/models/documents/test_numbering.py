"""The 文号 registry on SQLite and PostgreSQL: one number per decision, counted per 代字 and year,
audited, never given twice — also when two runs number papers at the same moment."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.competition.config import NumberedKind
from models.competition.tables import Competition
from models.db import dispose_engines, get_engine, lock_competition, upgrade_database
from models.documents.numbering import assign_number, number_of, numbers_of
from models.documents.tables import DocumentNumber, DocumentNumberSeries
from models.errors import ConfigError, Conflict
from models.setup import purge_competition
from tests.support.factories import example_config_text, make_competition

WELL_FORMED = re.compile(r"^江头社工〔(\d{4})〕([1-9]\d*)号$")


def _assign(session: Session, competition: Competition, kind: NumberedKind, subject: int, on: date) -> str:
    return assign_number(
        session,
        competition=competition,
        kind=kind,
        subject_entity="tranche" if kind is NumberedKind.payment_notice else "rectification",
        subject_id=subject,
        issued_on=on,
    )


def test_assign_number_once_per_decision_counted_per_prefix_and_year(session: Session) -> None:
    competition = make_competition(session)
    on = date(2025, 6, 20)
    first = _assign(session, competition, NumberedKind.payment_notice, 7, on)
    assert first == "江头社工〔2025〕1号"
    assert _assign(session, competition, NumberedKind.payment_notice, 7, on) == first  # a re-run
    assert _assign(session, competition, NumberedKind.payment_notice, 8, on) == "江头社工〔2025〕2号"
    # another kind under the same 代字 counts on: a 文号 is never printed twice
    assert _assign(session, competition, NumberedKind.rectification_notice, 7, on) == "江头社工〔2025〕3号"
    # a new year starts at 1
    assert (
        _assign(session, competition, NumberedKind.payment_notice, 9, date(2026, 1, 5))
        == "江头社工〔2026〕1号"
    )
    session.commit()
    assert number_of(session, kind=NumberedKind.payment_notice, subject_entity="tranche", subject_id=8) == (
        "江头社工〔2025〕2号"
    )
    assert number_of(session, kind=NumberedKind.payment_notice, subject_entity="tranche", subject_id=99) == ""
    given = [n.number for n in numbers_of(session, competition_id=competition.id)]
    assert given == [
        "江头社工〔2025〕1号",
        "江头社工〔2025〕2号",
        "江头社工〔2025〕3号",
        "江头社工〔2026〕1号",
    ]
    audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "document_number")).all()
    assert sorted(e.data["number"] for e in audit) == sorted(given) and {e.action for e in audit} == {
        "assigned"
    }


def test_a_kind_may_have_its_own_prefix(session: Session) -> None:
    text = example_config_text(**{"  kinds: {}\n": "  kinds: {payment_notice: 江头社工拨}\n"})
    competition = make_competition(session, text=text)
    on = date(2025, 4, 8)
    assert _assign(session, competition, NumberedKind.payment_notice, 1, on) == "江头社工拨〔2025〕1号"
    assert _assign(session, competition, NumberedKind.rectification_notice, 1, on) == "江头社工〔2025〕1号"


@pytest.mark.parametrize("prefix", ["江头 社工", "江头〔社工〕", '""'])
def test_a_prefix_with_spaces_or_brackets_is_refused(session: Session, prefix: str) -> None:
    with pytest.raises(ConfigError, match=r"numbering\.prefix"):
        make_competition(
            session, text=example_config_text(**{"  prefix: 江头社工\n": f"  prefix: {prefix}\n"})
        )


def test_a_purged_competition_leaves_its_numbers_used(session: Session) -> None:
    competition = make_competition(session)
    on = date(2025, 6, 20)
    _assign(session, competition, NumberedKind.payment_notice, 1, on)
    _assign(session, competition, NumberedKind.payment_notice, 2, on)
    session.commit()
    if session.get_bind().dialect.name == "sqlite":  # refused there: SQLite reuses ids the audit names
        with pytest.raises(Conflict, match="不能清除"):
            purge_competition(session, slug=competition.slug, actor="test")
        session.rollback()
        assert len(session.exec(select(DocumentNumber)).all()) == 2
        return
    purge_competition(session, slug=competition.slug, actor="test")
    session.commit()
    assert session.exec(select(DocumentNumber)).all() == []
    again = make_competition(session)
    assert _assign(session, again, NumberedKind.payment_notice, 1, on) == "江头社工〔2025〕3号"


@pytest.mark.slow
@pytest.mark.postgres
def test_two_runs_at_once_never_share_a_number(postgres) -> None:
    """Two competitions with the same 代字 (their stage locks do not exclude each other) number
    20 papers each at the same moment, and both also number the same decision: every number
    once, contiguous, and that decision one number."""
    engine = get_engine(postgres.create_database())
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        first = make_competition(session)
        second = make_competition(
            session, text=example_config_text(**{"slug: jiangtou-2025": "slug: jiangtou-2025-b"})
        )
        session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    on = date(2025, 10, 20)

    def run(competition: Competition, offset: int) -> None:
        try:
            barrier.wait()
            for index in range(20):
                with Session(engine, expire_on_commit=False) as session:
                    lock_competition(session, competition.id or 0)
                    _assign(session, competition, NumberedKind.payment_notice, offset + index, on)
                    _assign(session, competition, NumberedKind.rectification_notice, 1, on)
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c, o)) for c, o in ((first, 0), (second, 100))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(engine) as session:
        rows = session.exec(select(DocumentNumber)).all()
        seqs = sorted(n.seq for n in rows)
        assert seqs == list(range(1, 42))  # 40 tranches and the one rectification: 41, no gap
        assert all(WELL_FORMED.match(n.number) for n in rows)
        shared = [n for n in rows if n.kind == "rectification_notice"]
        assert len(shared) == 1
        series = session.get(DocumentNumberSeries, ("江头社工", 2025))
        assert series is not None and series.last == 41
    dispose_engines()
