"""``restore_backup``: an archive back into the database and the two folders — whole, or not at all.

Checked before anything changes, each a one-line refusal naming the archive (and the member):
the archive itself (``models.backup.archive.unpack``: not ours, truncated, a checksum, a member
missing or extra, a newer format), the database kind (a SQLite copy does not go into PostgreSQL
or back), the schema revision (newer than this version knows: upgrade grantflow first), the
unpacked database (SQLite: integrity check, revision and row counts as the manifest says;
PostgreSQL: ``pg_restore`` reads its table of contents), and the target — a database with rows or
folders with files are replaced only with ``force``.

Then the database is replaced in one transaction, and the documents and uploads folders by
renaming the unpacked ones into place (the old ones go with the staging folder). A copy of an
older schema is upgraded (``upgrade_database``) afterwards, data kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.backup.archive import BackupFailed, Manifest, refused, unpack
from models.backup.backup import stored_files
from models.backup.database import (
    check_postgresql_copy,
    check_sqlite_copy,
    kind_of,
    load_postgresql,
    load_sqlite,
    row_counts,
    user_rows,
)
from models.db import head_revision, known_revisions, upgrade_database
from models.errors import Conflict


@dataclass(frozen=True)
class RestoreSummary:
    source: Path
    manifest: Manifest
    upgraded_from: str | None  # the copy's schema revision, when it was older than this version's


def _staging_parent(folder: Path) -> Path:
    """The nearest existing folder at or above the data folder: staging on the same file system."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return Path(".")


def _swap_in(new: Path, live: Path, old: Path) -> None:
    """Put the unpacked folder ``new`` where ``live`` is; the previous one goes to ``old``."""
    new.mkdir(parents=True, exist_ok=True)
    if live.exists():
        try:
            os.replace(live, old)
        except OSError:  # a mount point cannot be renamed: move what it holds instead
            old.mkdir(parents=True, exist_ok=True)
            for child in list(live.iterdir()):
                shutil.move(str(child), str(old / child.name))
            for child in list(new.iterdir()):
                shutil.move(str(child), str(live / child.name))
            return
    live.parent.mkdir(parents=True, exist_ok=True)
    os.replace(new, live)


def restore_backup(
    source: Path, *, engine: Engine, documents_dir: Path, uploads_dir: Path, force: bool = False
) -> RestoreSummary:
    """Restore ``source`` (see the module docstring)."""
    source = Path(source)
    documents_dir, uploads_dir = Path(documents_dir), Path(uploads_dir)
    staging = Path(tempfile.mkdtemp(prefix=".grantflow-restore-", dir=_staging_parent(documents_dir.parent)))
    try:
        unpacked = unpack(source, staging / "archive")
        manifest = unpacked.manifest
        kind = kind_of(engine)
        if manifest.database_kind != kind:
            raise refused(
                source,
                manifest.database_member,
                f"备份中是 {manifest.database_kind} 数据库，不能恢复到 {kind} 数据库",
                f"the backup holds a {manifest.database_kind} database; the target is {kind}",
            )
        if manifest.schema_revision not in known_revisions():
            raise refused(
                source,
                manifest.database_member,
                f"备份的数据库版本 {manifest.schema_revision} 比本程序新，请先升级 grantflow",
                f"the backup's schema revision {manifest.schema_revision} is newer than this grantflow "
                f"knows ({head_revision()}): upgrade grantflow first",
            )
        if not force:
            rows = user_rows(engine)
            files = sum(1 for folder in (documents_dir, uploads_dir) for _ in stored_files(folder))
            if rows or files:
                raise Conflict(
                    f"目标已有数据（{len(rows)} 张表有记录，{files} 个文件），未恢复；确认覆盖请加 --force / "
                    f"the target holds data ({len(rows)} tables with rows, {files} files): nothing restored; "
                    "--force replaces it"
                )
        database = unpacked.path(manifest.database_member)
        try:
            if kind == "sqlite":
                revision, tables = check_sqlite_copy(database)
                if (revision, tables) != (manifest.schema_revision, manifest.tables):
                    raise refused(
                        source,
                        manifest.database_member,
                        "数据库与清单不符",
                        "the database disagrees with the manifest (revision or row counts)",
                    )
            else:
                check_postgresql_copy(database, engine)
        except BackupFailed as exc:
            raise refused(source, manifest.database_member, "数据库副本无法读取", str(exc)) from exc

        # from here on the target changes: the database in one transaction, then two renames
        if kind == "sqlite":
            load_sqlite(database, engine)
        else:
            load_postgresql(database, engine, staging)
        with engine.connect() as connection:
            restored = row_counts(connection)
        if restored != manifest.tables:
            raise BackupFailed(
                f"恢复后的数据库与清单不符 / the restored database differs from the manifest ({source})"
            )
        for root, live in (("documents", documents_dir), ("uploads", uploads_dir)):
            _swap_in(unpacked.path(root), live, staging / f"replaced-{root}")
        upgraded_from = None
        if manifest.schema_revision != head_revision():
            upgrade_database(engine)
            upgraded_from = manifest.schema_revision
        return RestoreSummary(source, manifest, upgraded_from)
    except OSError as exc:
        raise BackupFailed(f"恢复未完成 / the restore did not complete ({source}): {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
