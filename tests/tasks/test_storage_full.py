"""The documents disk full while a stage writes its documents, on a real small file system.

``grantflow screening run`` runs in a mount namespace of its own with a tmpfs over the documents
folder, filled to 200 KB of free space (``tests/support/disk_full.py``; ``unshare`` — as root, or
with a user namespace otherwise — so nothing on the machine is touched): the 资格审查表 it writes
meet a real ENOSPC from the kernel partway through. The command stops with one line naming the
full disk (exit 1); the step keeps nothing — no document row, no new file, no temporary file, the
stage not moved. Once there is room, the same command completes: one sheet per application, each
a Word file whose sha256 is its row's.

And below the stage, on any disk: a document written in a transaction that rolls back (or whose
session closes uncommitted) is removed with it; one that existed before stays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.documents.registry import DOCUMENTS, write_document
from models.documents.tables import GeneratedDocument
from tests.cli.test_cli import ROOT
from tests.models.test_concurrency import SCREENING_AT

FREE = 200_000  # bytes left on the documents disk: room for a few sheets of ~24 KB, not for all


def in_own_mount_namespace() -> list[str]:
    if os.geteuid() == 0:
        return ["unshare", "--mount", "--propagation", "private"]
    return ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


@pytest.mark.slow
@pytest.mark.flows
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_documents_disk_full_mid_stage_stops_in_one_line_keeps_nothing_then_a_rerun_completes(
    ready_for_screening, tmp_path
):
    _slug, competition_id, data = ready_for_screening
    from models.db import default_engine

    database = default_engine().url.database
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    environ.update(
        {"GRANTFLOW_DATA_DIR": str(data), "GRANTFLOW_DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "200"}
    )
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "cli.main", "screening", "run", "--as-of", SCREENING_AT.isoformat()]
    driver = subprocess.run(
        [
            *in_own_mount_namespace(),
            sys.executable,
            "-m",
            "tests.support.disk_full",
            "--data",
            str(data),
            "--database",
            str(database),
            "--free",
            str(FREE),
            "--out",
            str(out),
            "--",
            *command,
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert driver.returncode == 0, driver.stderr[-3000:]
    report = json.loads(driver.stdout)
    assert report["free"] <= FREE + 8192

    full, before, after = report["full"], report["before"], report["after_full"]
    said = [line for line in full["stderr"].splitlines() if line.startswith("错误 / error:")]
    assert full["returncode"] == 1, full["stderr"][-3000:]
    assert len(said) == 1 and "no space left on the documents disk" in said[0], full["stderr"][-3000:]
    assert "nothing of this step was kept" in said[0] and "run it again" in said[0]
    assert "Traceback" not in said[0]
    # the step kept nothing: no row, no new file, no temporary file
    assert after["rows"]["generated_document"] == before["rows"]["generated_document"]
    assert after["rows"]["outbox_letter"] == before["rows"]["outbox_letter"]
    assert after["files"] == before["files"] and after["temporary"] == []

    again, final = report["again"], report["after_again"]
    assert again["returncode"] == 0, again["stderr"][-3000:]
    new = sorted(set(final["files"]) - set(before["files"]))
    assert set(before["files"]) <= set(final["files"])
    assert all("/screening/" in name for name in new) and len(new) > 24
    assert final["rows"]["generated_document"] == before["rows"]["generated_document"] + len(new)

    with Session(default_engine()) as session:
        rows = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.role == "eligibility_sheet")
        ).all()
        from models.competition.tables import Competition

        stage = session.get(Competition, competition_id).stage
    assert str(stage) == "screening" and len(rows) == len(new)
    for row in rows:
        path = out / "documents-final" / row.path
        assert final["files"][row.path] == row.sha256
        with zipfile.ZipFile(path) as document:
            assert document.testzip() is None and "word/document.xml" in document.namelist()


def write_receipt(session: Session, documents: Path, subject_id: int) -> GeneratedDocument:
    return write_document(
        session,
        role="receipt",
        context=DOCUMENTS.get("receipt").keys,
        competition_id=None,
        stage="intake",
        subject_entity="application",
        subject_id=subject_id,
        filename=f"受理回执-{subject_id}.docx",
        documents_dir=documents,
    )


def test_a_document_of_a_transaction_that_rolls_back_is_removed(sqlite_engine, tmp_path):
    documents = tmp_path / "documents"
    with Session(sqlite_engine, expire_on_commit=False) as session:
        kept = write_receipt(session, documents, 1)
        session.commit()
    kept_path = documents / kept.path
    with Session(sqlite_engine, expire_on_commit=False) as session:
        again = write_receipt(session, documents, 1)  # the same document: its file existed before
        gone = write_receipt(session, documents, 2)
        gone_path = documents / gone.path
        assert gone_path.is_file() and again.id == kept.id
        session.rollback()
    assert not gone_path.exists() and kept_path.is_file()
    with Session(
        sqlite_engine, expire_on_commit=False
    ) as session:  # a session closed without a commit rolls back too
        closed = write_receipt(session, documents, 3)
        closed_path = documents / closed.path
    assert not closed_path.exists()
    with Session(sqlite_engine, expire_on_commit=False) as session:
        assert [row.subject_id for row in session.exec(select(GeneratedDocument))] == [1]
    assert [p.name for p in documents.rglob("*") if p.is_file()] == [kept_path.name]
