"""A process killed between a document's file and its row's commit leaves no file behind.

A real child process writes a document in a transaction and SIGKILLs itself before the commit (no
handler runs); the next writer — this process — removes the orphan before its own first file
(``models/documents/pending.py``). On PostgreSQL this is the only cleanup there is: the re-run's
subject gets a new id, so its document goes to a new folder and nothing overwrites the orphan.
A transaction still running in a live process keeps its files; a list whose transaction did commit
(killed after the commit, before the list was removed) keeps its files too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from models.documents import pending
from models.documents.tables import GeneratedDocument
from tests.cli.test_cli import ROOT
from tests.tasks.test_storage_full import write_receipt

CHILD = """
import os, signal, sys
from pathlib import Path
from sqlmodel import Session
from models.db import get_engine
from models.documents import pending
from models.documents.registry import DOCUMENTS, write_document

url, documents, subject, mode = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if mode == "commit-then-kill":  # the commit lands, the list is never removed
    pending.PendingFiles.committed = lambda self: None
with Session(get_engine(url)) as session:
    write_document(
        session, role="receipt", context=DOCUMENTS.get("receipt").keys, competition_id=None,
        stage="intake", subject_entity="application", subject_id=subject,
        filename=f"受理回执-{subject}.docx", documents_dir=documents,
    )
    if mode == "commit-then-kill":
        session.commit()
    print("written", flush=True)
    if mode == "wait":
        sys.stdin.readline()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _child(engine: Engine, documents: Path, subject: int, mode: str) -> subprocess.Popen[str]:
    url = engine.url.render_as_string(hide_password=False)
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), url, str(documents), str(subject), mode],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _killed(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    assert child.wait(timeout=60) == -signal.SIGKILL


def _files(documents: Path) -> list[str]:
    return sorted(str(p.relative_to(documents)) for p in documents.rglob("*") if p.is_file())


def _forget_sweeps() -> None:
    pending._swept.clear()  # this test process sweeps as a fresh process would


def test_the_file_of_a_killed_transaction_is_removed_by_the_next_writer(engine, tmp_path):
    documents = tmp_path / "documents"
    _killed(_child(engine, documents, 7, "kill"))
    orphan = "shared/intake/application-7/受理回执-7.docx"
    left = _files(documents)
    assert orphan in left and any(name.startswith(".pending/.") for name in left)  # file and its list

    _forget_sweeps()
    with Session(engine, expire_on_commit=False) as session:
        kept = write_receipt(session, documents, 8)  # the re-run's subject has a new id: a new folder
        session.commit()
    assert _files(documents) == [kept.path]
    with Session(engine) as session:
        assert session.exec(select(GeneratedDocument.path)).all() == [kept.path]


def test_a_live_transaction_keeps_its_file_until_its_process_dies(engine, tmp_path):
    documents = tmp_path / "documents"
    child = _child(engine, documents, 7, "wait")
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "written"
        with Session(engine) as session:
            assert pending.sweep(session, documents) == 0
        assert "shared/intake/application-7/受理回执-7.docx" in _files(documents)
    finally:
        child.kill()
        child.wait(timeout=60)
    with Session(engine) as session:
        assert pending.sweep(session, documents) == 1
    assert _files(documents) == []


def test_a_committed_document_stays_when_its_process_died_before_removing_its_list(engine, tmp_path):
    documents = tmp_path / "documents"
    _killed(_child(engine, documents, 7, "commit-then-kill"))
    assert len(_files(documents)) == 2  # the document and the list the commit did not remove
    with Session(engine) as session:
        assert pending.sweep(session, documents) == 0
        assert session.exec(select(GeneratedDocument.path)).all() == [
            "shared/intake/application-7/受理回执-7.docx"
        ]
    assert _files(documents) == ["shared/intake/application-7/受理回执-7.docx"]


def test_a_list_of_another_host_or_an_unreadable_name_is_left_alone(engine, tmp_path):
    documents = tmp_path / "documents"
    folder = documents / pending.FOLDER
    folder.mkdir(parents=True)
    (documents / "shared" / "intake").mkdir(parents=True)
    (documents / "shared" / "intake" / "x.docx").write_bytes(b"x")
    for name in (".another-host~1~1~abc.tmp", f".{pending._HOST}~notapid~1~abc.tmp"):
        (folder / name).write_text("shared/intake/x.docx\n", encoding="utf-8")
    with Session(engine) as session:
        assert pending.sweep(session, documents) == 0
    assert (documents / "shared" / "intake" / "x.docx").is_file() and len(list(folder.iterdir())) == 2
