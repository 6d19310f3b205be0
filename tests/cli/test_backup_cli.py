"""``grantflow backup FILE`` / ``grantflow restore FILE`` as an administrator runs them, on the
demo's whole year (every stage's documents, the evidence uploads, the audit log), on SQLite and on
PostgreSQL: a round trip gives back every row of every table and every file byte for byte; a
damaged, truncated or foreign archive, another database kind or a newer schema is refused in one
line and changes nothing; a target holding data is replaced only with ``--force``; and a backup
taken while documents are being written is consistent (every document row has its file)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import normalise_url
from models.documents.registry import DOCUMENTS, write_document
from models.documents.tables import GeneratedDocument
from tests.cli.test_cli import GRANTFLOW, ROOT, run
from tests.support.factories import EXAMPLE_CONFIG

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Place:
    """Where a grantflow installation keeps its data: a data folder, and a database URL."""

    data: Path
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {"GRANTFLOW_DATABASE_URL": self.url}

    def grantflow(self, *args: str):
        return run(list(args), self.data, **self.env)


def new_place(kind: str, folder: Path, postgres) -> Place:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'grantflow.db'}" if kind == "sqlite" else postgres.create_database()
    return Place(folder, url)


@pytest.fixture(scope="module")
def demos(request, tmp_path_factory) -> Callable[[str], Place]:
    """The demo's whole year on a database kind, made once for this module (read it, never change it)."""
    made: dict[str, Place] = {}

    def demo_on(kind: str) -> Place:
        if kind not in made:
            postgres = request.getfixturevalue("postgres") if kind == "postgresql" else None
            place = new_place(kind, tmp_path_factory.mktemp(f"demo-{kind}"), postgres)
            # the demo, as test_cli.run would start it, with room for a loaded machine (≈ 80 s alone)
            environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
            environ.update({"GRANTFLOW_DATA_DIR": str(place.data), "COLUMNS": "200", **place.env})
            result = subprocess.run(
                [*GRANTFLOW, "demo", "--out", str(place.data)],
                capture_output=True,
                text=True,
                env=environ,
                cwd=ROOT,
                timeout=1800,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            made[kind] = place
        return made[kind]

    return demo_on


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo(request, demos) -> Place:
    return demos(request.param)


@pytest.fixture
def kind(demo: Place) -> str:
    return "sqlite" if demo.url.startswith("sqlite") else "postgresql"


@pytest.fixture
def place(kind: str, tmp_path: Path, request) -> Callable[[str], Place]:
    postgres = request.getfixturevalue("postgres") if kind == "postgresql" else None
    return lambda name: new_place(kind, tmp_path / name, postgres)


def every_row(url: str, columns: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Every row of every table, as sorted text (so the order rows were written in does not count);
    with ``columns``, only those columns of those tables (what an older schema had)."""
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            names = sorted(columns or inspector.get_table_names())
            found = {}
            for name in names:
                shown = (columns or {}).get(name) or [c["name"] for c in inspector.get_columns(name)]
                listed = ", ".join(f'"{c}"' for c in shown)
                found[name] = sorted(
                    repr(tuple(row)) for row in conn.execute(sa.text(f'SELECT {listed} FROM "{name}"'))
                )
            return found
    finally:
        engine.dispose()


def table_columns(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            return {
                name: [c["name"] for c in inspector.get_columns(name)] for name in inspector.get_table_names()
            }
    finally:
        engine.dispose()


def every_file(data: Path) -> dict[str, str]:
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for root in ("documents", "uploads")
        for path in sorted((data / root).rglob("*"))
        if path.is_file()
    }


def state(place: Place) -> tuple[dict[str, list[str]], dict[str, str]]:
    return every_row(place.url), every_file(place.data)


def backup_of(source: Place, folder: Path) -> Path:
    archive = folder / "backup.tar.gz"
    made = source.grantflow("backup", str(archive))
    assert made.returncode == 0, made.stderr
    return archive


# ---- the round trip ------------------------------------------------------------------------------


def test_backup_then_restore_gives_every_row_and_file_back(demo, place, tmp_path):
    archive = backup_of(demo, tmp_path)
    target = place("target")
    restored = target.grantflow("restore", str(archive), "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)

    rows, files = state(demo)
    assert every_row(target.url) == rows
    assert every_file(target.data) == files
    assert report["tables"] == len(rows) and report["rows"] == sum(len(r) for r in rows.values())
    assert report["documents"] == sum(1 for name in files if name.startswith("documents/")) > 100
    assert report["uploads"] == sum(1 for name in files if name.startswith("uploads/")) > 10
    assert len(rows["audit_event"]) > 1000
    # the restored installation works: a read command, and the audit log is still append-only
    assert target.grantflow("status").returncode == 0
    engine = sa.create_engine(normalise_url(target.url))
    raw = engine.raw_connection()
    try:
        with pytest.raises(Exception, match="append-only"):
            raw.cursor().execute("DELETE FROM audit_event")
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()


def test_backup_refuses_to_overwrite_a_file_unless_forced(demo, tmp_path):
    archive = backup_of(demo, tmp_path)
    before = archive.read_bytes()
    again = demo.grantflow("backup", str(archive))
    assert again.returncode == 1 and "exists already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and archive.read_bytes() == before
    assert demo.grantflow("backup", str(archive), "--force").returncode == 0


# ---- refusals: one line, nothing changed ------------------------------------------------------------


def rewrite(archive: Path, into: Path, change: Callable[[str, bytes], tuple[str, bytes] | None]) -> Path:
    """A copy of ``archive`` with each member passed through ``change`` (None drops it)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(into, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            changed = change(info.name, data)
            if changed is None:
                continue
            name, data = changed
            copy = tarfile.TarInfo(name)
            copy.size = len(data)
            target.addfile(copy, io.BytesIO(data))
    return into


def manifest_with(**changes) -> Callable[[str, bytes], tuple[str, bytes]]:
    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if name != "manifest.json":
            return name, data
        manifest = json.loads(data)
        for key, value in changes.items():
            if key == "schema_revision":
                manifest["database"]["schema_revision"] = value
            else:
                manifest[key] = value
        return name, json.dumps(manifest).encode()

    return change


def _first_document(name: str) -> bool:
    return name.startswith("documents/") and name.endswith(".docx")


def _damage(archive: Path, into: Path) -> Path:
    """One byte of a document changed, the archive otherwise well formed: only the checksum tells."""
    done = []

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if _first_document(name) and not done:
            done.append(name)
            return name, data[:-1] + bytes([data[-1] ^ 0xFF])
        return name, data

    return rewrite(archive, into, change)


def _drop_one_document(archive: Path, into: Path) -> Path:
    dropped = []

    def change(name: str, data: bytes) -> tuple[str, bytes] | None:
        if _first_document(name) and not dropped:
            dropped.append(name)
            return None
        return name, data

    return rewrite(archive, into, change)


def _foreign_tar(archive: Path, into: Path) -> Path:
    with tarfile.open(into, "w:gz") as target:
        for name, data in (("README.txt", b"not ours"), ("data/table.csv", b"a,b\n1,2\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return into


def _zip(archive: Path, into: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(into, "w") as target:
        target.writestr("manifest.json", b"{}")
    return into


def _escaping_member(archive: Path, into: Path) -> Path:
    def change(name: str, data: bytes) -> tuple[str, bytes]:
        return ("documents/../../escaped.docx", data) if _first_document(name) else (name, data)

    return rewrite(archive, into, change)


REFUSALS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "truncated": (lambda a, i: i.write_bytes(a.read_bytes()[: a.stat().st_size // 2]) and i, "truncated"),
    "one byte changed": (_damage, "checksum mismatch"),
    "a member missing": (_drop_one_document, "missing from the archive"),
    "another tool's tar": (_foreign_tar, "not a grantflow backup"),
    "a zip file": (_zip, "not a grantflow backup (not a tar.gz archive)"),
    "a path out of the folders": (_escaping_member, "not a grantflow backup"),
    "a newer schema": (
        lambda a, i: rewrite(a, i, manifest_with(schema_revision="9999")),
        "schema revision 9999 is newer",
    ),
    "a newer format": (
        lambda a, i: rewrite(a, i, manifest_with(format_version=2)),
        "format version 2 is newer",
    ),
    "another format": (
        lambda a, i: rewrite(a, i, manifest_with(format="other-tool")),
        "not a grantflow backup",
    ),
}


def restored(source: Place, target: Place, folder: Path) -> Path:
    """``target`` made a restored copy of ``source``; returns the archive."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = backup_of(source, folder)
    made = target.grantflow("restore", str(archive))
    assert made.returncode == 0, made.stderr
    return archive


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_restore_refuses_a_bad_archive_in_one_line_and_changes_nothing(case, demos, tmp_path):
    """The archive is checked before any database work, so one kind (SQLite) shows every case."""
    target = new_place("sqlite", tmp_path / "target", None)
    archive = restored(demos("sqlite"), target, tmp_path / "good")
    make, says = REFUSALS[case]
    bad = make(archive, tmp_path / "bad.tar.gz")
    before = state(target)
    refused = target.grantflow("restore", str(bad), "--force")  # even forced
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert says in refused.stderr and str(bad) in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert state(target) == before
    assert not (tmp_path / "escaped.docx").exists()
    assert not [p for p in target.data.iterdir() if p.name.startswith(".grantflow-restore-")]


def test_restore_into_a_target_holding_data_refuses_without_force(demo, place, tmp_path):
    target = place("target")
    archive = restored(demo, target, tmp_path / "backup")
    before = state(target)
    refused = target.grantflow("restore", str(archive))
    assert (
        refused.returncode == 1 and "the target holds data" in refused.stderr and "--force" in refused.stderr
    )
    assert state(target) == before
    replaced = target.grantflow("restore", str(archive), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert state(target) == state(demo)


def test_restore_of_another_database_kind_is_refused(demo, kind, tmp_path, request):
    """A SQLite archive does not go into PostgreSQL, nor the other way."""
    archive = backup_of(demo, tmp_path)
    other = "postgresql" if kind == "sqlite" else "sqlite"
    postgres = request.getfixturevalue("postgres") if other == "postgresql" else None
    target = new_place(other, tmp_path / "other", postgres)
    assert target.grantflow("init").returncode == 0
    before = state(target)
    refused = target.grantflow("restore", str(archive), "--force")
    assert refused.returncode == 1
    assert f"the backup holds a {kind} database; the target is {other}" in refused.stderr
    assert state(target) == before


# ---- consistent while work goes on -------------------------------------------------------------------


def test_a_backup_taken_while_documents_are_written_is_consistent(demo, place, tmp_path):
    """A writer commits document after document (file first, then its row) all the while the
    backup runs; the restored copy holds a file, with the row's sha256, for every document row."""
    source = place("source")
    restored(demo, source, tmp_path / "seed")
    engine = sa.create_engine(normalise_url(source.url))
    sample = DOCUMENTS.get("receipt").keys
    stop, written = threading.Event(), []

    def writer() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            with Session(engine) as session:
                document = write_document(
                    session,
                    role="receipt",
                    context=sample,
                    competition_id=None,
                    stage="intake",
                    subject_entity="application",
                    subject_id=100_000 + number,
                    filename=f"受理回执-BK-{number:05d}.docx",
                    documents_dir=source.data / "documents",
                )
                session.commit()
                written.append(document.id)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:  # the writer is under way before the backup starts
            stop.wait(0.01)
        before = len(written)
        archive = backup_of(source, tmp_path)
        during = len(written) - before
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert during > 0  # the writer kept writing while the backup ran

    copy = place("copy")
    assert copy.grantflow("restore", str(archive)).returncode == 0
    copied = sa.create_engine(normalise_url(copy.url))
    try:
        with Session(copied) as session:
            documents = session.exec(select(GeneratedDocument)).all()
    finally:
        copied.dispose()
    mine = [d for d in documents if d.path.startswith("shared/")]
    assert before <= len(mine) < len(written) + 1
    for document in documents:
        path = copy.data / "documents" / document.path
        assert path.is_file(), document.path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == document.sha256, document.path


# ---- an older backup ---------------------------------------------------------------------------


def test_a_backup_of_an_older_schema_is_restored_then_upgraded(tmp_path):
    """Last year's archive, made before migration 0012 (the audit log's triggers): restored, then
    upgraded in place — its data kept, the triggers there."""
    from models.db import current_revision, dispose_engines, downgrade_database, get_engine, head_revision

    source = new_place("sqlite", tmp_path / "old", None)
    assert source.grantflow("competition", "create", str(EXAMPLE_CONFIG)).returncode == 0
    downgrade_database(get_engine(source.url), "0007")
    dispose_engines()
    archive = backup_of(source, tmp_path)
    rows = every_row(source.url)
    old_columns = table_columns(source.url)
    target = new_place("sqlite", tmp_path / "new", None)
    restored = target.grantflow("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "database upgraded from revision 0007" in restored.stdout
    engine = get_engine(target.url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            triggers = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        assert {name for (name,) in triggers} == {"audit_event_no_update", "audit_event_no_delete"}
    finally:
        dispose_engines()
    upgraded = every_row(target.url, old_columns)  # later migrations add columns; the old ones kept
    assert {name: upgraded[name] for name in rows if name != "alembic_version"} == {
        name: rows[name] for name in rows if name != "alembic_version"
    }
