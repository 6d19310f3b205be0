"""文号: one numbering registry for every official paper that carries one.

A 文号 is ``代字〔年份〕序号号`` (``江头社工〔2025〕12号``): the 代字 is configured per kind of paper
(``numbering`` in the competition file, ``CompetitionConfig.doc_prefix``), the year is the year
the paper is issued, and the 序号 counts on from 1 per 代字 and year — papers sharing a 代字
share its numbers, so no 文号 is ever printed twice.

``assign_number`` gives the decision a paper records (kind + subject, e.g. the 拨款通知 of
tranche #7) its number once: in the caller's transaction, counted on a locked series row
(``FOR UPDATE`` on PostgreSQL; SQLite has one writer), audited, and never given again (a unique
constraint on 代字, year and 序号 backs it). Asked again for the same decision — a re-run of the
stage, or a later paper that refers to it — it returns the number already given. A number is
taken only when its transaction commits: a rolled-back run leaves no gap and no orphan.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import NumberedKind
from models.competition.tables import Competition, competition_config
from models.documents.tables import DocumentNumber, DocumentNumberSeries


def doc_number(prefix: str, year: int, seq: int) -> str:
    """``江头社工〔2025〕12号``."""
    return f"{prefix}〔{year}〕{seq}号"


def number_of(session: Session, *, kind: NumberedKind, subject_entity: str, subject_id: int) -> str:
    """The 文号 given to a decision's paper, or "" when none has been given."""
    found = session.exec(
        select(DocumentNumber.number).where(
            DocumentNumber.kind == str(kind),
            DocumentNumber.subject_entity == subject_entity,
            DocumentNumber.subject_id == subject_id,
        )
    ).first()
    return found or ""


def _series_exists(session: Session, prefix: str, year: int) -> None:
    """The series row, inserted when missing (a concurrent insert of the same row waits, then does
    nothing)."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(DocumentNumberSeries)
        .values(prefix=prefix, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    session.execute(statement)


def assign_number(
    session: Session,
    *,
    competition: Competition,
    kind: NumberedKind,
    subject_entity: str,
    subject_id: int,
    issued_on: date,
    actor: str = "system:numbering",
) -> str:
    """The decision's 文号: the one it was given, else the next of its 代字 and year (see the module
    docstring). The caller commits."""
    given = number_of(session, kind=kind, subject_entity=subject_entity, subject_id=subject_id)
    if given:
        return given
    prefix = competition_config(competition).doc_prefix(kind)
    year = issued_on.year
    _series_exists(session, prefix, year)
    series = session.exec(
        select(DocumentNumberSeries)
        .where(DocumentNumberSeries.prefix == prefix, DocumentNumberSeries.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    # read again under the lock: a concurrent run may have numbered this decision meanwhile
    given = number_of(session, kind=kind, subject_entity=subject_entity, subject_id=subject_id)
    if given:
        return given
    series.last += 1
    session.add(series)
    number = DocumentNumber(
        competition_id=competition.id,
        kind=str(kind),
        subject_entity=subject_entity,
        subject_id=subject_id,
        prefix=prefix,
        year=year,
        seq=series.last,
        number=doc_number(prefix, year, series.last),
    )
    session.add(number)
    session.flush()
    record(
        session,
        actor=actor,
        entity="document_number",
        entity_id=number.id or 0,
        action="assigned",
        reason=f"文号 {number.number}",
        data={"kind": str(kind), "subject": f"{subject_entity}#{subject_id}", "number": number.number},
    )
    return number.number


def numbers_of(session: Session, *, competition_id: int) -> list[DocumentNumber]:
    """Every 文号 a competition's papers were given, in the order they were given."""
    return list(
        session.exec(
            select(DocumentNumber)
            .where(DocumentNumber.competition_id == competition_id)
            .order_by(col(DocumentNumber.id))
        )
    )
