"""The audit log is append-only through every interface, on SQLite and PostgreSQL.

1. No code changes or deletes an audit row: the source of every package is scanned (``ast``) for
   an ``update``/``delete`` of ``AuditEvent``, SQL text that updates, deletes or truncates
   ``audit_event``, and ``session.delete`` of an audit row; the scanner proves itself on planted code.
2. At run time, every way SQLAlchemy offers (the ORM's flush of a changed or deleted row, bulk and
   Core statements, ``text``, ``exec_driver_sql``) is refused before it reaches the database.
3. Below that, the database's own triggers (migration 0012) refuse UPDATE and DELETE — and
   TRUNCATE on PostgreSQL — from a client that bypasses SQLAlchemy (the raw DB-API connection), and
   the rows stay as they were. Adding rows still works, and purging a competition keeps its rows.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from models.audit import AuditAppendOnly, AuditEvent, changes_audit, record
from models.competition.tables import Competition
from models.db import dispose_engines, downgrade_database, get_engine, upgrade_database
from models.errors import Conflict
from models.lifecycle import set_state
from models.setup import purge_competition
from models.states import CompetitionStage
from tests.support.factories import make_competition

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "tasks", "flows", "portal", "cli", "bench")
TRIGGERS = {
    "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
    "postgresql": {"audit_event_no_update_or_delete", "audit_event_no_truncate"},
}


# ---- 1. the code --------------------------------------------------------------------------------


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def audit_writes(source: str, where: str) -> list[str]:
    """Each place in ``source`` that would change or delete audit rows."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and changes_audit(node.value):
            found.append(f"{line}: SQL {node.value.strip()[:60]!r}")
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        arguments = [*node.args, *(k.value for k in node.keywords)]
        if name in {"update", "delete"} and any(
            "AuditEvent" in _names(arg) or "audit_event" in ast.unparse(arg) for arg in arguments
        ):
            found.append(f"{line}: {ast.unparse(node)[:60]}")
        # session.query(AuditEvent)….update(), AuditEvent.__table__.delete()
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name in {"update", "delete"} and receiver is not None and "AuditEvent" in _names(receiver):
            found.append(f"{line}: {ast.unparse(node)[:60]}")
        # session.delete(event) of a row read from the audit log: a name that says so
        if name == "delete" and any(
            isinstance(arg, ast.Name) and re.search(r"audit|event", arg.id, re.I) for arg in node.args
        ):
            found.append(f"{line}: {ast.unparse(node)[:60]}")
    return found


PLANTED = {
    "core_update": "sa.update(AuditEvent).values(reason='x')",
    "core_delete": "session.execute(delete(AuditEvent).where(AuditEvent.id == 1))",
    "table_delete": "conn.execute(AuditEvent.__table__.delete())",
    "text_update": "session.execute(sa.text('UPDATE audit_event SET reason = :r'))",
    "text_delete": "conn.exec_driver_sql('delete  from \"audit_event\" where id = 1')",
    "truncate": "cursor.execute('TRUNCATE TABLE audit_event')",
    "orm_query": "session.query(AuditEvent).filter_by(id=1).delete()",
    "orm_delete": "for event in history(session, entity='x', entity_id=1):\n    session.delete(event)",
}


@pytest.mark.parametrize("planted", sorted(PLANTED))
def test_scanner_finds_planted_audit_writes(planted):
    assert audit_writes(PLANTED[planted], "planted.py"), planted


def test_scanner_passes_audit_reads_and_inserts():
    harmless = (
        "select(AuditEvent).where(AuditEvent.entity == 'grant')\n"
        "record(session, actor='a', entity='x', entity_id=1, action='update')\n"
        "session.execute(sa.text('SELECT * FROM audit_event'))\n"
        "op.execute('CREATE TRIGGER t BEFORE UPDATE ON audit_event BEGIN SELECT 1; END')\n"
        "session.delete(letter)\n"
    )
    assert audit_writes(harmless, "harmless.py") == []


def test_no_code_updates_or_deletes_an_audit_row():
    found = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "versions" not in path.parts  # the migrations create the triggers that refuse it
        for hit in audit_writes(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


# ---- 2. and 3. at run time ----------------------------------------------------------------------


@pytest.fixture
def audited(session: Session) -> Session:
    """A competition made by production code: its creation and one stage move are audited."""
    competition = make_competition(session)
    set_state(session, competition, CompetitionStage.call_open, actor="admin:test", reason="发布")
    session.commit()
    return session


def snapshot(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text("SELECT * FROM audit_event ORDER BY id"))]


def _orm_change(session: Session) -> None:
    event = session.exec(select(AuditEvent)).first()
    event.reason = "改写 / rewritten"
    session.commit()


def _orm_delete(session: Session) -> None:
    session.delete(session.exec(select(AuditEvent)).first())
    session.commit()


ORM_AND_CORE: dict[str, Callable[[Session], object]] = {
    "orm attribute": _orm_change,
    "orm delete": _orm_delete,
    "orm bulk update": lambda s: s.execute(sa.update(AuditEvent).values(reason="x")),
    "orm bulk delete": lambda s: s.execute(sa.delete(AuditEvent).where(AuditEvent.id > 0)),
    "core table delete": lambda s: s.connection().execute(AuditEvent.__table__.delete()),
    "text update": lambda s: s.execute(sa.text("UPDATE audit_event SET actor = 'x'")),
    "driver sql delete": lambda s: s.connection().exec_driver_sql("DELETE FROM audit_event"),
}


@pytest.mark.parametrize("how", sorted(ORM_AND_CORE))
def test_every_sqlalchemy_interface_is_refused_and_nothing_changes(audited, engine, how):
    before = snapshot(engine)
    assert len(before) >= 2
    with pytest.raises(AuditAppendOnly, match="append-only"):
        ORM_AND_CORE[how](audited)
    audited.rollback()
    assert snapshot(engine) == before


RAW = {
    "update": "UPDATE audit_event SET reason = 'rewritten'",
    "delete": "DELETE FROM audit_event",
    "delete one": "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
}


@pytest.mark.parametrize("how", sorted(RAW))
def test_the_database_refuses_a_client_that_bypasses_sqlalchemy(audited, engine, how):
    """The raw DB-API connection sends SQL without any SQLAlchemy event: only the trigger stands."""
    before = snapshot(engine)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with pytest.raises(Exception, match="append-only") as refused:
            cursor.execute(RAW[how])
        assert not isinstance(refused.value, AuditAppendOnly)  # the database said it, not our code
        raw.rollback()
    finally:
        raw.close()
    assert snapshot(engine) == before


@pytest.mark.postgres
def test_postgresql_refuses_truncate(postgres):
    """SQLite has no TRUNCATE (its DELETE without WHERE is refused above); PostgreSQL's is refused."""
    engine = get_engine(postgres.create_database())
    upgrade_database(engine)
    with Session(engine) as session:
        make_competition(session)
        session.commit()
    before = snapshot(engine)
    raw = engine.raw_connection()
    try:
        with pytest.raises(Exception, match="append-only: TRUNCATE refused"):
            raw.cursor().execute("TRUNCATE audit_event")
        raw.rollback()
    finally:
        raw.close()
    assert snapshot(engine) == before and len(before) == 1
    dispose_engines()


def test_adding_audit_rows_still_works(audited, engine):
    before = len(snapshot(engine))
    record(audited, actor="admin:test", entity="competition", entity_id=1, action="note", reason="追加")
    audited.commit()
    assert len(snapshot(engine)) == before + 1


def test_purging_a_competition_keeps_its_audit_rows(audited, engine):
    """PostgreSQL: the purge deletes the competition's rows, never an audit row, and closes its
    trail with a ``purge`` row. SQLite would give the purged ids to new rows, which the old audit
    rows still name: refused there, nothing deleted."""
    competition_id = audited.exec(select(AuditEvent.entity_id)).first()
    before = snapshot(engine)
    if engine.dialect.name == "sqlite":
        with pytest.raises(Conflict, match="reuses the ids"):
            purge_competition(audited, slug="jiangtou-2025", actor="admin:demo")
        audited.rollback()
        assert snapshot(engine) == before
        assert audited.exec(select(func.count()).select_from(Competition)).one() == 1
        return
    assert purge_competition(audited, slug="jiangtou-2025", actor="admin:demo")
    audited.commit()
    after = snapshot(engine)
    assert after[: len(before)] == before and len(after) == len(before) + 1  # every earlier row as it was
    purge = audited.exec(select(AuditEvent).where(AuditEvent.action == "purge")).one()
    assert (purge.entity, purge.entity_id) == ("competition", competition_id)
    assert audited.exec(select(func.count()).select_from(Competition)).one() == 0


def test_the_triggers_exist_at_head_and_go_with_a_downgrade(engine):
    def triggers() -> set[str]:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
            else:
                query = (
                    "SELECT tgname FROM pg_trigger"
                    " WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
                )
            return {row[0] for row in conn.execute(sa.text(query))}

    assert triggers() == TRIGGERS[engine.dialect.name]
    downgrade_database(engine, "0007")
    assert triggers() == set()
    upgrade_database(engine)
    assert triggers() == TRIGGERS[engine.dialect.name]


def test_an_audit_row_count_is_what_production_wrote(audited):
    # the fixture's competition: created, then moved once — two rows, neither changed
    rows = audited.exec(select(func.count()).select_from(AuditEvent)).one()
    assert rows == 2
