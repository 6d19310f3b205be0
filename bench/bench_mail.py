"""Mail throughput: our sender against the naive way, side by side, to the same loopback sink.

- ours: ``tasks.mail.delivery.deliver_due`` — aiosmtplib, a few connections each reused for many
  messages, group-committed ``sent`` rows;
- naive: smtplib, one connection per message (connect, EHLO, MAIL, RCPT, DATA, QUIT), one letter
  after another.
Both do the same outbox bookkeeping (claim → ``sending`` → ``sent``, audited) on their own copy of
the same SQLite outbox, and build the same MIME bytes, so the difference is the way of sending. The
sink (aiosmtpd, saving .eml files) runs in its own process, as a real server would; every run is
checked to have delivered every letter. On loopback both are bound by CPU (two processes, SQLite,
MIME); a third scenario lets the sink take 20 ms to answer DATA, as a real server does.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docx

from models.db import dispose_engines, get_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.mail.letters import LETTERS, compose_letter
from models.mail.mime import message_domain, parse_mailbox
from models.mail.sending import mark_sent
from models.types import utcnow
from tasks.mail.delivery import DeliveryOptions, SmtpServer, deliver_due
from tasks.mail.workers import build_outgoing, claim_batch

SENDER = "江头街道社工站 <noreply@jiangtou.example.org>"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """``python -m tasks.mail.sink`` in its own process."""

    def __init__(self, folder: Path, delay_ms: int = 0) -> None:
        self.folder, self.port = folder, _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tasks.mail.sink",
                str(folder),
                "--port",
                str(self.port),
                "--delay-ms",
                str(delay_ms),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "SMTP sink on …": it is listening

    def count(self) -> int:
        return len(list(self.folder.glob("*.eml")))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def _outbox(folder: Path, count: int, *, attachment: bool) -> str:
    url = f"sqlite:///{folder / 'outbox.db'}"
    engine = get_engine(url)
    upgrade_database(engine)
    documents = folder / "documents"
    documents.mkdir()
    with session_scope(engine) as session:
        attachments: list[int] = []
        if attachment:
            document = docx.Document()
            document.add_paragraph("受理回执：银龄互助·社区食堂温暖行动已受理。")
            buffer = io.BytesIO()
            document.save(buffer)
            (documents / "receipt.docx").write_bytes(buffer.getvalue())
            row = GeneratedDocument(
                role="receipt",
                path="receipt.docx",
                filename="受理回执-JT2025-001.docx",
                sha256="0" * 64,
                size=len(buffer.getvalue()),
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            attachments = [row.id]
        for i in range(count):
            compose_letter(
                session,
                role="receipt",
                stage="intake",
                recipient_email=f"user{i}@example.org",
                recipient_name=f"申报单位{i}号",
                context=LETTERS.get("receipt").keys,
                subject_entity="application",
                subject_id=i,
                attachments=attachments,
            )
    return url


def run_ours(url: str, documents: Path, port: int, connections: int = 4) -> float:
    engine = get_engine(url)
    started = time.perf_counter()
    report = asyncio.run(
        deliver_due(
            engine,
            SmtpServer("127.0.0.1", port),
            sender=SENDER,
            documents_dir=documents,
            options=DeliveryOptions(connections=connections),
        )
    )
    elapsed = time.perf_counter() - started
    assert report.failed == [], report.failed
    return elapsed


def run_naive(url: str, documents: Path, port: int) -> float:
    engine = get_engine(url)
    sender = parse_mailbox(SENDER)
    options = DeliveryOptions(batch=1)
    started = time.perf_counter()
    while True:
        with session_scope(engine) as session:
            claimed = claim_batch(
                session, now=utcnow(), options=options, domain=message_domain(SENDER), competition_id=None
            )
        if not claimed:
            break
        outgoing = build_outgoing(claimed[0], sender=sender, documents_dir=documents, date=utcnow())
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(sender.address, [outgoing.recipient], outgoing.data)
        with session_scope(engine) as session:
            mark_sent(session, letter_id=outgoing.letter_id, answer="250", now=utcnow(), actor="bench")
    return time.perf_counter() - started


def _one(name: str, runner: Any, count: int, *, attachment: bool, delay_ms: int) -> float:
    """Messages per second of ``runner`` on its own copy of the outbox, every letter checked delivered."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-mail-{name}-"))
    try:
        url = _outbox(folder, count, attachment=attachment)
        sink = Sink(folder / "sink", delay_ms)
        try:
            elapsed = runner(url, folder / "documents", sink.port)
            delivered = sink.count()
        finally:
            sink.stop()
        assert delivered == count, f"{name}: {delivered} of {count} delivered"
        return round(count / elapsed, 1)
    finally:
        dispose_engines()
        shutil.rmtree(folder, ignore_errors=True)


def cpu_a_letter(count: int = 400, *, connections: int = 8, delay_ms: int = 20) -> float:
    """Milliseconds of this process's CPU (``time.process_time``) a letter for ``run_ours``: the
    sender's own cost, comparable on a loaded machine where messages per second are not (the sink
    runs in its own process and is not counted)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-mail-cpu-"))
    try:
        url = _outbox(folder, count, attachment=False)
        sink = Sink(folder / "sink", delay_ms)
        try:
            cpu = time.process_time()
            run_ours(url, folder / "documents", sink.port, connections)
            used = time.process_time() - cpu
            delivered = sink.count()
        finally:
            sink.stop()
        assert delivered == count, f"{delivered} of {count} delivered"
        return round(used * 1000 / count, 2)
    finally:
        dispose_engines()
        shutil.rmtree(folder, ignore_errors=True)


def profile_ours(count: int = 300, *, connections: int = 16, delay_ms: int = 20, top: int = 40) -> str:
    """cProfile of ``run_ours`` with ``asyncio.to_thread`` run inline, so the profile sees the
    database work done in threads; the ``top`` functions by cumulative time."""
    import cProfile
    import pstats

    async def inline(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    folder = Path(tempfile.mkdtemp(prefix="bench-mail-profile-"))
    original = asyncio.to_thread
    try:
        url = _outbox(folder, count, attachment=False)
        sink = Sink(folder / "sink", delay_ms)
        profiler = cProfile.Profile()
        asyncio.to_thread = inline  # type: ignore[assignment]
        try:
            profiler.enable()
            run_ours(url, folder / "documents", sink.port, connections)
            profiler.disable()
        finally:
            asyncio.to_thread = original
            sink.stop()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        return out.getvalue()
    finally:
        dispose_engines()
        shutil.rmtree(folder, ignore_errors=True)


def _scenario(
    count: int, *, attachment: bool, delay_ms: int, connections: tuple[int, ...] = (4,)
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for many in connections:
        figures[f"ours {many}"] = _one(
            f"ours{many}",
            lambda url, documents, port, many=many: run_ours(url, documents, port, many),
            count,
            attachment=attachment,
            delay_ms=delay_ms,
        )
    figures["naive"] = _one("naive", run_naive, count, attachment=attachment, delay_ms=delay_ms)
    for many in connections:
        figures[f"ratio {many}"] = round(figures[f"ours {many}"] / figures["naive"], 2)
    return figures


def main() -> dict[str, Any]:
    results: dict[str, Any] = {}
    scenarios = (
        ("plain letters", 1000, False, 0, (4,)),
        ("letters with a .docx", 500, True, 0, (4,)),
        # a real server answers DATA after queueing the message safely (fsync, checks): say 20 ms;
        # then the sender's connection count decides (GRANTFLOW_SMTP_CONNECTIONS)
        ("plain letters, server answering DATA in 20 ms", 600, False, 20, (4, 16, 32)),
    )
    for label, count, attachment, delay_ms, connections in scenarios:
        figures = _scenario(count, attachment=attachment, delay_ms=delay_ms, connections=connections)
        ours = ", ".join(f"{many} connections {figures[f'ours {many}']} msg/s" for many in connections)
        ratios = ", ".join(f"{figures[f'ratio {many}']}×" for many in connections)
        print(
            f"   {label} ×{count}: ours {ours}; naive smtplib {figures['naive']} msg/s; {ratios}", flush=True
        )
        results[f"{label}: messages"] = count
        for many in connections:
            results[f"{label}: ours (aiosmtplib, {many} reused connections) msg/s"] = figures[f"ours {many}"]
        results[f"{label}: naive (smtplib, a connection per message) msg/s"] = figures["naive"]
        for many in connections:
            results[f"{label}: ratio ours ({many} connections)/naive"] = figures[f"ratio {many}"]
    return results
