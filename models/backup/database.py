"""The database part of a backup, for each kind: a consistent snapshot, and loading one in one step.

- SQLite: ``sqlite3``'s online backup API copies every page in one step under a read transaction,
  so the copy is the database at one moment while the portal and flows keep writing (WAL lets
  them). Loading runs the same API the other way: the target is replaced in one transaction.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row counts and the schema
  revision are read in it and ``pg_dump --snapshot`` dumps exactly that moment (custom format, no
  owners or privileges). Loading drops the ``public`` schema and replays ``pg_restore``'s script
  with ``psql --single-transaction``: all of it, or — on any error — nothing.

Debian's client tools (``pg_dump``, ``pg_restore``, ``psql``) are found on PATH or under
``/usr/lib/postgresql/*/bin``; the connection goes to them through libpq's environment variables
(the password never on a command line).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from models.backup.archive import BackupFailed
from models.errors import ConfigError

VERSION_TABLE = "alembic_version"


def kind_of(engine: Engine) -> str:
    return engine.dialect.name


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows of every table in the database (by name), the schema's own version table included."""
    names = sorted(sa.inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: int(connection.execute(sa.text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())
        for name in names
    }


def revision_of(connection: Connection) -> str:
    if VERSION_TABLE not in sa.inspect(connection).get_table_names():
        return ""
    found = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return str(found or "")


def user_rows(engine: Engine) -> dict[str, int]:
    """Tables holding rows, apart from the schema's version: an empty target has none."""
    with engine.connect() as connection:
        counts = row_counts(connection)
    return {name: rows for name, rows in counts.items() if rows and name != VERSION_TABLE}


# ---- SQLite --------------------------------------------------------------------------------------


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ConfigError("备份需要数据库文件 / a backup needs a database file, not an in-memory database")
    return Path(database)


def snapshot_sqlite(engine: Engine, into: Path) -> tuple[str, dict[str, int]]:
    """Copy the database at one moment into ``into``; its revision and row counts, read from the copy."""
    source = sqlite3.connect(sqlite_path(engine), timeout=30)
    target = sqlite3.connect(into)
    try:
        source.backup(target)  # every page in one step: one read transaction, one moment
    finally:
        source.close()
        target.close()
    copy = sa.create_engine(f"sqlite:///{into}")
    try:
        with copy.connect() as connection:
            return revision_of(connection), row_counts(connection)
    finally:
        copy.dispose()


def check_sqlite_copy(path: Path) -> tuple[str, dict[str, int]]:
    """An unpacked copy opens, passes SQLite's integrity check; its revision and row counts."""
    copy = sa.create_engine(f"sqlite:///{path}")
    try:
        with copy.connect() as connection:
            verdict = connection.execute(sa.text("PRAGMA integrity_check")).scalar()
            if verdict != "ok":
                raise BackupFailed(f"SQLite integrity check: {verdict}")
            return revision_of(connection), row_counts(connection)
    except sa.exc.DatabaseError as exc:
        raise BackupFailed(f"not a SQLite database: {exc.orig}") from exc
    finally:
        copy.dispose()


def load_sqlite(copy: Path, engine: Engine) -> None:
    """Replace the target database by ``copy`` in one transaction (the backup API, reversed)."""
    path = sqlite_path(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()  # our own pooled connections; others wait on the lock (busy timeout)
    source = sqlite3.connect(copy)
    target = sqlite3.connect(path, timeout=30)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


# ---- PostgreSQL ----------------------------------------------------------------------------------


def postgres_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise ConfigError(
            f"找不到 {name}：请安装 PostgreSQL 客户端 / {name} not found: install the PostgreSQL client "
            "tools (Debian: postgresql-client)"
        )
    return found


def libpq_environment(engine: Engine) -> dict[str, str]:
    """The engine's connection as libpq environment variables (PGHOST, PGPASSWORD …)."""
    url = engine.url
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password if isinstance(url.password, str) else None,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode") if isinstance(url.query.get("sslmode"), str) else None,
        "PGAPPNAME": "grantflow-backup",
    }
    environ.update({key: str(value) for key, value in values.items() if value})
    return environ


def _run(command: list[str], engine: Engine) -> None:
    result = subprocess.run(command, env=libpq_environment(engine), capture_output=True, check=False)
    if result.returncode != 0:
        said = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = "; ".join(said[:3]) or f"exit status {result.returncode}"
        raise BackupFailed(f"{Path(command[0]).name}: {detail}")


def snapshot_postgresql(engine: Engine, into: Path) -> tuple[str, dict[str, int]]:
    """``pg_dump`` of one exported snapshot; the revision and row counts read in that snapshot."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            revision, counts = revision_of(connection), row_counts(connection)
            _run(
                [
                    postgres_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={into}",
                ],
                engine,
            )
    return revision, counts


def check_postgresql_copy(path: Path, engine: Engine) -> None:
    """An unpacked dump is one ``pg_restore`` can read (its table of contents)."""
    _run([postgres_tool("pg_restore"), "--list", str(path)], engine)


def load_postgresql(copy: Path, engine: Engine, work: Path) -> None:
    """Replace the ``public`` schema by the dump in one transaction: all of it or nothing."""
    prefix, body = work / "0-replace-schema.sql", work / "1-restore.sql"
    prefix.write_text("DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n", encoding="utf-8")
    _run([postgres_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={body}", str(copy)], engine)
    engine.dispose()  # our own pooled connections hold no lock the DROP would wait for
    _run(
        [
            postgres_tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",  # with several --file: one transaction around them all
            "--set=ON_ERROR_STOP=1",
            f"--file={prefix}",
            f"--file={body}",
        ],
        engine,
    )
