"""What a backup and a restore of a whole year cost: the demo's year (every stage's documents, the
evidence uploads, the audit log), on SQLite and on PostgreSQL.

The demo runs once per database kind into a temporary folder; then ``make_backup`` and
``restore_backup`` (into a fresh folder and database) are timed, in this process, median of 3, and
the restored copy is compared with the original — every row of every table, every file. The archive's
size beside the data it holds. PostgreSQL is measured on a server this benchmark starts (Debian's
package, as the tests do). Figures only: the machine is shared.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3


def _env(data: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    env.update({"GRANTFLOW_DATA_DIR": str(data), "GRANTFLOW_DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    return env


def _rows(url: str) -> dict[str, list[str]]:
    from models.db import normalise_url

    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: sorted(repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
                for name in sorted(sa.inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


def _files(data: Path) -> dict[str, str]:
    return {
        str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
        for root in ("documents", "uploads")
        for p in sorted((data / root).rglob("*"))
        if p.is_file()
    }


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(kind: str, work: Path, new_url: Any) -> dict[str, Any]:
    from models.backup.backup import make_backup
    from models.backup.restore import restore_backup
    from models.db import dispose_engines, get_engine

    source = work / f"demo-{kind}"
    url = new_url(source)
    subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--out", str(source)],
        cwd=ROOT,
        env=_env(source, url),
        check=True,
        capture_output=True,
        timeout=1800,
    )
    backups, restores, archive = [], [], work / f"{kind}.tar.gz"
    for run in range(RUNS):
        archive.unlink(missing_ok=True)
        started = time.perf_counter()
        summary = make_backup(
            archive,
            engine=get_engine(url),
            documents_dir=source / "documents",
            uploads_dir=source / "uploads",
        )
        backups.append(time.perf_counter() - started)
        target = work / f"restored-{kind}-{run}"
        target.mkdir()
        target_url = new_url(target)
        started = time.perf_counter()
        restore_backup(
            archive,
            engine=get_engine(target_url),
            documents_dir=target / "documents",
            uploads_dir=target / "uploads",
        )
        restores.append(time.perf_counter() - started)
        dispose_engines()
    rows, files = _rows(url), _files(source)
    same = _rows(target_url) == rows and _files(target) == files
    return {
        f"{kind}_tables": len(rows),
        f"{kind}_rows": sum(len(r) for r in rows.values()),
        f"{kind}_documents": sum(1 for name in files if name.startswith("documents/")),
        f"{kind}_uploads": sum(1 for name in files if name.startswith("uploads/")),
        f"{kind}_data_mb (database + folders)": round(
            (_size(source / "documents") + _size(source / "uploads") + _database_bytes(kind, url, source))
            / 1e6,
            2,
        ),
        f"{kind}_archive_mb": round(summary.size / 1e6, 2),
        f"{kind}_backup_s (median of {RUNS})": round(statistics.median(backups), 2),
        f"{kind}_restore_s (median of {RUNS})": round(statistics.median(restores), 2),
        f"{kind}_round_trip_identical (every row, every file)": same,
    }


def _database_bytes(kind: str, url: str, source: Path) -> int:
    if kind == "sqlite":
        return sum(p.stat().st_size for p in source.glob("grantflow.db*"))
    from models.db import normalise_url

    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()


def main() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PostgresServer

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="grantflow-bench-backup-") as folder:
        work = Path(folder)
        figures.update(measure("sqlite", work, lambda data: f"sqlite:///{data / 'grantflow.db'}"))
        server = PostgresServer.start()
        try:
            figures.update(measure("postgresql", work, lambda _data: server.create_database()))
        finally:
            server.stop()
    return figures


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value}")
