"""The engine, sessions and schema migrations.

SQLite (the default, WAL mode, foreign keys on) or PostgreSQL, chosen by the URL. The schema is
owned by Alembic (``models/migrations``): ``upgrade_database`` creates a new database or upgrades
an older one in place, keeping its data.

Two runs of the same stage at once (a double click, a retry, two workers) are serialised by
``lock_competition``: the first statement of every stage task's transaction. The second run waits
for the first to commit, then reads what it did and finds nothing left to do.

Faults a moment cures — SQLite locked by another writer for longer than the busy timeout, a
PostgreSQL connection lost (the server restarted, a failover), a serialization failure — are named
by ``database_fault``: the failed transaction was rolled back whole, so the step may simply run
again. Stage tasks retry on them (``tasks/database_faults.py``), the portal answers a 503 page,
the CLI one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

import models.tables  # noqa: F401  (registers every table)
from models import faults
from models.audit import take_effect
from models.errors import ConfigError, NotFound

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_engines: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and use the psycopg 3 driver for it."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def get_engine(url: str) -> Engine:
    """One engine per URL for the life of the process."""
    url = normalise_url(url)
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            from models.settings import get_settings

            busy_ms = round(get_settings().database_busy_timeout_seconds * 1000)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        elif url.startswith("postgresql"):
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        else:
            raise ConfigError(
                f"不支持的数据库地址 / unsupported GRANTFLOW_DATABASE_URL: {url.split('://')[0]}:// "
                "(use sqlite:/// or postgresql://)"
            )
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def default_engine() -> Engine:
    from models.settings import get_settings

    return get_engine(get_settings().effective_database_url)


@contextmanager
def session_scope(engine: Engine | None = None, *, as_of: datetime | None = None) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error; with ``as_of``,
    its changes take effect at that moment (``models.audit.take_effect``)."""
    with Session(engine or default_engine(), expire_on_commit=False) as session:
        take_effect(session, as_of)
        try:
            yield session
            session.flush()
            faults.reach("before-commit", "session")
            session.commit()
        except BaseException:
            session.rollback()
            raise
        faults.reach("after-commit", "session")


def database_fault(exc: BaseException) -> str | None:
    """One line naming a database fault a retry may cure (see the module docstring), or None."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        orig = getattr(error, "orig", None) or error
        text = " ".join(str(orig).split())
        module = type(orig).__module__
        if module == "sqlite3" and type(orig).__name__ == "OperationalError" and "locked" in text:
            return (
                "SQLite 数据库被另一写入者占用过久 / the SQLite database was locked by another writer "
                f"for longer than the busy timeout ({text})"
            )
        if module.startswith("psycopg") and any(k.__name__ == "OperationalError" for k in type(orig).__mro__):
            first = text[:200]
            return f"PostgreSQL 连接中断或服务器正在重启 / the PostgreSQL connection failed ({first})"
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return f"数据库连接中断 / the database connection was lost ({text[:200]})"
        error = error.__cause__ or error.__context__
    return None


def database_fault_message(fault: str) -> str:
    """What the administrator reads: the fault, that nothing was kept, and what to do."""
    return (
        f"数据库暂时不可用，本步骤已中断，没有写了一半的内容，请稍后重新运行（已完成的部分不会重做）/ "
        f"database unavailable: {fault}; the step stopped with nothing half-written — run it again "
        "(what it finished is kept and not done twice)"
    )


# pg_advisory_xact_lock(key1, key2): key1 names what is locked, key2 is the competition's id
COMPETITION_LOCK_CLASS = 0x6766_0001  # "gf" + 1: a competition's stage work
REF_LOCK_CLASS = 0x6766_0002  # "gf" + 2: handing out a competition's next 申报编号 from the web form


def lock_competition(session: Session, competition_id: int) -> None:
    """Hold the competition's lock until this transaction ends (commit or rollback).

    Call it as the first statement of a stage task's transaction: a second run of the stage
    waits here until the first one has committed, then sees everything it did.

    - PostgreSQL: ``pg_advisory_xact_lock`` on (stage work, competition id). An advisory lock does
      not block rows that merely refer to the competition (the portal's web form, score sheets).
    - SQLite: an empty write on the competition row takes the database's write lock at once
      (pysqlite opens the transaction just before it); other writers wait up to the busy timeout
      (``GRANTFLOW_DATABASE_BUSY_TIMEOUT_SECONDS``, 30 s). Taking it later, after this transaction
      wrote something, works too; taking it after reads in the same ORM session risks acting on
      stale objects.

    Raises ``NotFound`` for a competition that does not exist.
    """
    connection = session.connection()
    params = {"id": competition_id}
    if connection.dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key, :id)"), {"key": COMPETITION_LOCK_CLASS, **params}
        )
        found = session.execute(sa.text("SELECT 1 FROM competition WHERE id = :id"), params).first()
        exists = found is not None
    else:
        result = session.execute(
            sa.text("UPDATE competition SET updated_at = updated_at WHERE id = :id"), params
        )
        exists = result.rowcount == 1  # type: ignore[attr-defined]
    if not exists:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")


def lock_refs(session: Session, competition_id: int) -> None:
    """Hold the lock on handing out ``competition_id``'s next 申报编号 until this transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock`` on (申报编号, competition id) — concurrent web posts read the
    same count and chose the same number, and three retries did not end it at 25 posts/s
    (bench/results/load-postgres.md: a 500). SQLite: nothing (its writers are one at a time)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key, :id)"), {"key": REF_LOCK_CLASS, "id": competition_id}
        )


# alembic is imported where the schema is migrated or checked, not by every command that reads
def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Create the schema, or upgrade an older one in place (data kept)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade_database(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def known_revisions() -> set[str]:
    """Every revision this version's migrations know (an older database's, or the head)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head
