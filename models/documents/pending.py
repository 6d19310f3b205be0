"""Files written by a transaction not yet committed, listed on disk: no file outlives its transaction.

``write_document`` writes a document's file before its row commits. A transaction that rolls back
(or whose session closes uncommitted) removes the files it created. A process killed in between
(SIGKILL, the machine losing power) runs no handler: its files would stay without rows — on
PostgreSQL for good, since the re-run's subject gets a new id from a sequence that never gives
the old one again, and so a new folder (``publicity-2/`` beside the orphan in ``publicity-1/``).

So each transaction that creates a file first appends its path to a list of its own, written
before the file (``<documents>/.pending/.<host>~<pid>~<process start>~<token>.tmp``); the list is
removed when the transaction commits. ``sweep`` — run by ``write_document`` in every process before
its first file and then at most once a minute — takes each list left by a process of this host that
is gone (its pid no longer running, or running a process started at another moment), and removes
each listed file that has no row (``generated_document.path``): its transaction never committed.
A list is claimed by renaming it first, so two processes never sweep the same one.

Lists of another host (documents on a shared disk) are left to that host's processes. Hidden names
ending ``.tmp`` keep the lists out of backups (``models.backup.backup.stored_files``).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.documents.tables import GeneratedDocument

FOLDER = ".pending"
SWEEP_EVERY_SECONDS = 60.0
_INFO = "grantflow.documents.pending"  # session.info: this transaction's PendingFiles by folder
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:60] or "host"
_swept: dict[Path, float] = {}  # documents folder → monotonic moment of this process's last sweep


class PendingFiles:
    """The files one transaction created, and the list on disk that names them."""

    def __init__(self, documents_dir: Path) -> None:
        folder = documents_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        self.root = documents_dir
        self.list = folder / f".{_HOST}~{pid}~{_process_start(pid)}~{secrets.token_hex(6)}.tmp"
        self.files: list[Path] = []

    def note(self, target: Path) -> None:
        """Record ``target`` before it is written."""
        with self.list.open("a", encoding="utf-8") as stream:
            stream.write(str(target.relative_to(self.root)) + "\n")
        self.files.append(target)

    def committed(self) -> None:
        self.list.unlink(missing_ok=True)

    def abandoned(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)
        self.list.unlink(missing_ok=True)


def note_new_file(session: Session, documents_dir: Path, target: Path) -> None:
    """List ``target`` (a file about to be created) under the session's transaction."""
    lists: dict[Path, PendingFiles] = session.info.setdefault(_INFO, {})
    pending = lists.get(documents_dir)
    if pending is None:
        pending = lists[documents_dir] = PendingFiles(documents_dir)
    pending.note(target)


def sweep_if_due(session: Session, documents_dir: Path) -> int:
    """``sweep`` once in this process before its first file, then at most once a minute."""
    now = time.monotonic()
    last = _swept.get(documents_dir)
    if last is not None and now - last < SWEEP_EVERY_SECONDS:
        return 0
    _swept[documents_dir] = now
    return sweep(session, documents_dir)


def sweep(session: Session, documents_dir: Path) -> int:
    """Remove the files of transactions whose process died before they committed; the count."""
    folder = documents_dir / FOLDER
    if not folder.is_dir():
        return 0
    removed = 0
    for listed in sorted(folder.glob(f".{_HOST}~*.tmp")):
        if not _gone(listed.name):
            continue
        claimed = listed.with_name(f".sweeping~{secrets.token_hex(6)}.tmp")
        try:
            listed.rename(claimed)  # one sweeper per list
        except FileNotFoundError:
            continue
        paths = sorted({line for line in claimed.read_text(encoding="utf-8").splitlines() if line})
        kept: set[str] = set()
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            kept.update(
                session.exec(
                    select(GeneratedDocument.path).where(col(GeneratedDocument.path).in_(chunk))
                ).all()
            )
        for relative in paths:
            if relative not in kept and (documents_dir / relative).is_file():
                (documents_dir / relative).unlink(missing_ok=True)
                removed += 1
        claimed.unlink(missing_ok=True)
    return removed


def _gone(name: str) -> bool:
    """Whether the process that wrote the list ``name`` (``.<host>~<pid>~<start>~<token>.tmp``) is gone."""
    parts = name[1:].split("~")
    if len(parts) != 4 or not parts[1].isdigit():
        return False  # not ours to judge
    pid, start = int(parts[1]), parts[2]
    if pid == os.getpid():
        return start != _process_start(pid)
    running = _process_start(pid)
    if running:
        return running != start  # the pid now names another process
    if start:  # this system tells a process's start, and there is none with this pid
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _process_start(pid: int) -> str:
    """The moment the process started, in clock ticks since boot (Linux), or "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _committed(session: sa.orm.Session) -> None:
    for pending in session.info.pop(_INFO, {}).values():
        pending.committed()


@sa.event.listens_for(sa.orm.Session, "after_transaction_end")
def _ended(session: sa.orm.Session, transaction: sa.orm.SessionTransaction) -> None:
    """A transaction that ends without a commit (rolled back, or its session closed) takes the
    files it created with it: no file without its row."""
    if transaction.parent is None:
        for pending in session.info.pop(_INFO, {}).values():
            pending.abandoned()
