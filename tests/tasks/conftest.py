"""Fixtures for the tasks' tests: real aiosmtpd servers on 127.0.0.1 and queued letters (mail); a
competition ready for screening, through the real call and intake flows (database and disk faults)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.documents.tables import GeneratedDocument
from tasks.mail.delivery import DeliveryOptions, SmtpServer
from tasks.mail.sink import EmlSink, MailSink
from tests.support.outbox import queue_receipts as queue_receipts  # its tests import it from here
from tests.support.smtp import CountingSink

SENDER = "江头街道社工站 <noreply@jiangtou.example.org>"
# Retries come due in milliseconds, so a test sees a letter through several attempts quickly.
FAST = DeliveryOptions(
    connections=3,
    retry_base=timedelta(milliseconds=5),
    retry_cap=timedelta(milliseconds=50),
    linger=timedelta(seconds=60),
)


@pytest.fixture
def start_sink(tmp_path: Path) -> Iterator[Callable[..., MailSink]]:
    """Start an SMTP server on a free loopback port with any handler; stopped after the test."""
    running: list[MailSink] = []

    def start(handler: EmlSink | None = None, **options: Any) -> MailSink:
        sink = MailSink(handler=handler or CountingSink(tmp_path / f"sink-{len(running)}"), **options)
        sink.start()
        running.append(sink)
        return sink

    yield start
    for sink in running:
        sink.stop()


@pytest.fixture
def sink(start_sink: Callable[..., MailSink]) -> MailSink:
    return start_sink()


def server_for(sink: MailSink, **changes: Any) -> SmtpServer:
    return SmtpServer(sink.host, sink.port, timeout=10, **changes)


@pytest.fixture
def documents_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "documents"
    folder.mkdir()
    return folder


@pytest.fixture
def receipt_docx(sqlite_engine: Engine, documents_dir: Path) -> int:
    """A real Word file (python-docx) recorded as a generated document; returns its id."""
    document = docx.Document()
    document.add_heading("受理回执", level=1)
    document.add_paragraph("银龄互助·社区食堂温暖行动（JT2025-001）已受理。")
    buffer = io.BytesIO()
    document.save(buffer)
    relative = Path("jiangtou-2025") / "receipt-JT2025-001.docx"
    (documents_dir / relative).parent.mkdir(parents=True)
    (documents_dir / relative).write_bytes(buffer.getvalue())
    with session_scope(sqlite_engine) as session:
        row = GeneratedDocument(
            role="receipt",
            subject_entity="application",
            subject_id=1,
            path=str(relative),
            filename="受理回执-JT2025-001.docx",
            sha256="0" * 64,
            size=len(buffer.getvalue()),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


BUSY_TIMEOUT = "0.5"  # seconds: a short SQLite busy timeout, so "locked" comes quickly


@pytest.fixture
def ready_for_screening(
    prefect_harness, database_url: str, settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, int, Path]:
    """A competition whose call is out and whose applications came in (the example's files), on
    a fresh database of each kind: (slug, competition id, data folder)."""
    from flows.call import publish_call
    from flows.intake import intake
    from models.db import default_engine, dispose_engines, upgrade_database
    from models.settings import reset_settings
    from tests.models.test_concurrency import CALL_AT, FILES, INTAKE_AT
    from tests.support.factories import make_competition

    settings_env.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("GRANTFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("GRANTFLOW_DATABASE_BUSY_TIMEOUT_SECONDS", BUSY_TIMEOUT)
    reset_settings()
    dispose_engines()
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        slug, competition_id = competition.slug, competition.id
    asyncio.run(publish_call(slug, as_of=CALL_AT, actor="admin:test"))
    imported = asyncio.run(intake(slug, files=FILES, as_of=INTAKE_AT, actor="admin:test"))
    assert all(f["error"] is None for f in imported["files"])
    return slug, competition_id, settings_env
