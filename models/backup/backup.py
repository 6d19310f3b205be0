"""``make_backup``: the database, the documents and the uploads in one archive, while work goes on.

The database is copied first, as one snapshot (``models.backup.database``); then the two folders
are walked. Every file is written (and renamed into place) before the row that names it commits,
so each file a row of the snapshot names is already on disk when the walk reaches it; a file
written after the snapshot is archived too, harmlessly, without a row. Files in the middle of
being written (``.…part`` / ``.…tmp``) are left out, and a file that vanishes during the walk (an
upload of a transaction that rolled back) is skipped.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from models.backup.archive import DATABASE_MEMBERS, ArchiveWriter, BackupFailed, Manifest
from models.backup.database import kind_of, snapshot_postgresql, snapshot_sqlite
from models.errors import ConfigError, Conflict
from models.types import utcnow


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size: int  # bytes of the archive
    sha256: str  # of the archive file itself
    manifest: Manifest


def stored_files(folder: Path) -> Iterator[Path]:
    """Every finished file under ``folder``, in a stable order (no temporary files, no links)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.startswith(".") and path.suffix in (".part", ".tmp"):
            continue
        yield path


def make_backup(
    target: Path,
    *,
    engine: Engine,
    documents_dir: Path,
    uploads_dir: Path,
    overwrite: bool = False,
    now: datetime | None = None,
) -> BackupSummary:
    """Write the archive ``target`` (see the module docstring); ``Conflict`` if it exists."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise Conflict(f"{target}: 文件已存在 / exists already (--force to overwrite it)")
    if not target.parent.is_dir():
        raise ConfigError(f"{target.parent}: 文件夹不存在 / no such folder")
    kind = kind_of(engine)
    if kind not in DATABASE_MEMBERS:
        raise ConfigError(f"不支持备份 {kind} 数据库 / cannot back up a {kind} database")
    moment = now or utcnow()
    try:
        with tempfile.TemporaryDirectory(prefix=".grantflow-backup-", dir=target.parent) as work:
            copy = Path(work) / "database"
            snapshot = snapshot_sqlite if kind == "sqlite" else snapshot_postgresql
            revision, tables = snapshot(engine, copy)
            if not revision:
                raise ConfigError(
                    "数据库尚未建立，请先运行 grantflow init / the database has no schema: run grantflow init"
                )
            writer = ArchiveWriter(target)
            try:
                with open(copy, "rb") as stream:
                    writer.add_stream(DATABASE_MEMBERS[kind], stream, copy.stat().st_size)
                for root, folder in (("documents", documents_dir), ("uploads", uploads_dir)):
                    for path in stored_files(Path(folder)):
                        try:
                            writer.add_file(f"{root}/{path.relative_to(folder).as_posix()}", path)
                        except FileNotFoundError:
                            continue  # removed meanwhile: it belonged to no committed row
                manifest = Manifest(moment.isoformat(), kind, revision, tables, dict(writer.members))
                writer.finish(manifest)
            except BaseException:
                writer.abandon()
                raise
    except OSError as exc:
        raise BackupFailed(f"备份未写成 / the backup was not written ({target}): {exc}") from exc
    digest = hashlib.sha256()
    with open(target, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return BackupSummary(target, target.stat().st_size, digest.hexdigest(), manifest)
