"""Delivering the outbox to a real aiosmtpd server on 127.0.0.1: headers, MIME, connections, TLS."""

from __future__ import annotations

import email
import io
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from sqlmodel import Session, select

from models.audit import history
from models.db import session_scope
from models.errors import DeliveryError
from models.mail.mime import DOCX_TYPE
from models.mail.outbox import OutboxLetter, idempotency_key, list_letters
from models.settings import SmtpTls
from models.states import LetterState
from tasks.mail.delivery import DeliveryOptions, SmtpServer, deliver_due
from tasks.mail.sink import EmlSink
from tasks.mail.smtp import RateLimit
from tests.support.smtp import PASSWORD, USER, authenticator, make_certificate
from tests.tasks.conftest import FAST, SENDER, queue_receipts, server_for


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def letters(engine) -> list[OutboxLetter]:
    with Session(engine) as session:
        return list_letters(session)


async def test_delivered_letter_has_chinese_headers_bodies_and_docx(
    sqlite_engine, sink, documents_dir, receipt_docx
):
    [letter_id] = queue_receipts(sqlite_engine, 1, attachments=[receipt_docx])
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 1 and report.failed == []
    [row] = letters(sqlite_engine)
    assert row.state is LetterState.sent and row.sent_at is not None and row.last_answer.startswith("250")
    [path] = sink.handler.files()
    raw = path.read_bytes()
    assert raw.isascii()  # every header RFC 2047 / 2231 encoded, bodies base64
    message = read(path)
    assert message["Subject"] == "【受理回执】银龄互助·社区食堂温暖行动（JT2025-001）"
    assert "=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0].decode()
    assert message["From"].addresses[0].display_name == "江头街道社工站"
    assert message["From"].addresses[0].addr_spec == "noreply@jiangtou.example.org"
    assert message["To"].addresses[0].display_name == "申报单位0号"
    assert message["To"].addresses[0].addr_spec == "user0@example.org"
    assert message["Message-ID"] == row.message_id
    assert row.message_id.startswith(f"<letter-{letter_id}.") and row.message_id.endswith(
        "@jiangtou.example.org>"
    )
    assert message["Date"].datetime.tzinfo is not None
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text.get_content_charset() == "utf-8" and "已于 2025年5月20日 14:30 受理" in text.get_content()
    assert "<strong>银龄互助·社区食堂温暖行动</strong>" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == DOCX_TYPE
    assert attachment.get_filename() == "受理回执-JT2025-001.docx"
    assert b"filename*=utf-8''%E5%8F%97%E7%90%86" in raw  # RFC 2231
    opened = docx.Document(io.BytesIO(attachment.get_content()))
    assert any("已受理" in paragraph.text for paragraph in opened.paragraphs)
    assert sink.handler.receipts[0].rcpt_tos == ("user0@example.org",)
    assert sink.handler.receipts[0].mail_from == "noreply@jiangtou.example.org"


async def test_crlf_in_name_and_subject_cannot_inject_a_header(sqlite_engine, sink, documents_dir):
    with session_scope(sqlite_engine) as session:  # written straight into the row, past compose_letter
        session.add(
            OutboxLetter(
                idempotency_key=idempotency_key("intake", "victim@example.org", "x"),
                role="receipt",
                stage="intake",
                recipient_email="victim@example.org",
                recipient_name="张三\r\nBcc: evil@example.org",
                subject="受理回执\r\nBcc: evil@example.org\n\nbody",
                body_text="正文",
                body_html="",
            )
        )
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 1
    [path] = sink.handler.files()
    message = read(path)
    assert message["Bcc"] is None
    assert message["Subject"] == "受理回执 Bcc: evil@example.org body"
    assert message["To"].addresses[0].display_name == "张三 Bcc: evil@example.org"
    assert message["To"].addresses[0].addr_spec == "victim@example.org"
    assert sink.handler.receipts[0].rcpt_tos == ("victim@example.org",)
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "正文"


async def test_one_connection_carries_many_messages(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 25)
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, connections=1),
    )
    assert report.sent == 25
    assert report.connections == 1
    assert len(sink.handler.sessions) == 1
    assert len(sink.handler.files()) == 25


async def test_connections_are_bounded_and_renewed_after_a_set_number(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 40)
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, connections=2, batch=5, messages_per_connection=8),
    )
    assert report.sent == 40
    # at most two at a time, each carrying at most 8 messages: at least 5 sessions, all counted
    assert report.connections == len(sink.handler.sessions) >= 5
    assert len({receipt.message_id for receipt in sink.handler.receipts}) == 40


async def test_rate_limit_spaces_messages_evenly():
    limit = RateLimit(per_second=1000)
    for _ in range(20):
        await limit.wait()
    first_slot_after = limit._next - 20 * limit.interval
    assert limit.interval == pytest.approx(0.001)
    assert limit._next == pytest.approx(first_slot_after + 20 * 0.001)
    assert RateLimit(0).interval == 0  # no limit configured: never waits


async def test_each_letter_moves_through_audited_states(sqlite_engine, sink, documents_dir):
    [letter_id] = queue_receipts(sqlite_engine, 1)
    await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    with Session(sqlite_engine) as session:
        moves = [(e.from_state, e.to_state) for e in history(session, entity="letter", entity_id=letter_id)]
    assert moves == [("queued", "sending"), ("sending", "sent")]


async def test_missing_attachment_fails_that_letter_with_the_reason(
    sqlite_engine, sink, documents_dir, receipt_docx
):
    queue_receipts(sqlite_engine, 1, attachments=[receipt_docx])
    queue_receipts(sqlite_engine, 1, start=1, attachments=[9999])
    (documents_dir / "jiangtou-2025" / "receipt-JT2025-001.docx").unlink()
    queue_receipts(sqlite_engine, 1, start=2)
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 1 and len(report.failed) == 2
    rows = {row.recipient_email: row for row in letters(sqlite_engine)}
    assert rows["user0@example.org"].state is LetterState.failed
    assert "No such file" in rows["user0@example.org"].last_answer
    assert "#9999" in rows["user1@example.org"].last_answer
    assert rows["user2@example.org"].state is LetterState.sent


async def test_draft_letters_wait_for_release(sqlite_engine, sink, documents_dir):
    [letter_id] = queue_receipts(sqlite_engine, 1)
    with session_scope(sqlite_engine) as session:
        session.get(
            OutboxLetter, letter_id
        ).state = LetterState.draft  # as compose_letter makes it when required
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 0 and sink.handler.files() == []


async def test_competition_filter_sends_only_that_competitions_letters(sqlite_engine, sink, documents_dir):
    ids = queue_receipts(sqlite_engine, 2)
    with session_scope(sqlite_engine) as session:
        from models.setup import create_competition
        from tests.conftest import EXAMPLE_DIR

        competition = create_competition(
            session,
            text=(EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8"),
            source="t",
            actor="t",
        )
        session.get(OutboxLetter, ids[0]).competition_id = competition.id
        competition_id = competition.id
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=FAST,
        competition_id=competition_id,
    )
    assert report.sent == 1
    states = {row.id: row.state for row in letters(sqlite_engine)}
    assert states == {ids[0]: LetterState.sent, ids[1]: LetterState.queued}


@pytest.fixture
def certificate(tmp_path):
    return make_certificate(tmp_path / "tls")


async def test_starttls_with_auth_delivers(sqlite_engine, start_sink, certificate, documents_dir, tmp_path):
    sink = start_sink(
        EmlSink(tmp_path / "tls-mail"),
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    queue_receipts(sqlite_engine, 3)
    server = server_for(
        sink, tls=SmtpTls.starttls, user=USER, password=PASSWORD, tls_context=certificate.client_context()
    )
    report = await deliver_due(
        sqlite_engine, server, sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 3
    assert len(sink.handler.files()) == 3


async def test_implicit_tls_delivers(sqlite_engine, start_sink, certificate, documents_dir, tmp_path):
    sink = start_sink(EmlSink(tmp_path / "tls-mail"), ssl_context=certificate.server_context())
    queue_receipts(sqlite_engine, 2)
    server = server_for(sink, tls=SmtpTls.implicit, tls_context=certificate.client_context())
    report = await deliver_due(
        sqlite_engine, server, sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert report.sent == 2 and len(sink.handler.files()) == 2


async def test_wrong_password_stops_the_run_and_letters_stay_queued(
    sqlite_engine, start_sink, certificate, documents_dir, tmp_path
):
    sink = start_sink(
        EmlSink(tmp_path / "tls-mail"),
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    queue_receipts(sqlite_engine, 4)
    server = server_for(
        sink, tls=SmtpTls.starttls, user=USER, password="wrong", tls_context=certificate.client_context()
    )
    with pytest.raises(DeliveryError, match="login refused"):
        await deliver_due(sqlite_engine, server, sender=SENDER, documents_dir=documents_dir, options=FAST)
    rows = letters(sqlite_engine)
    assert {row.state for row in rows} == {LetterState.queued}
    assert {row.attempts for row in rows} == {0}  # a settings problem costs no letter an attempt
    assert sink.handler.files() == []


async def test_untrusted_certificate_stops_the_run(
    sqlite_engine, start_sink, certificate, documents_dir, tmp_path
):
    sink = start_sink(EmlSink(tmp_path / "tls-mail"), ssl_context=certificate.server_context())
    queue_receipts(sqlite_engine, 1)
    server = server_for(sink, tls=SmtpTls.implicit)  # the system's CAs do not know our certificate
    with pytest.raises(DeliveryError, match="TLS"):
        await deliver_due(sqlite_engine, server, sender=SENDER, documents_dir=documents_dir, options=FAST)
    assert [row.state for row in letters(sqlite_engine)] == [LetterState.queued]


def test_smtp_server_from_settings_maps_tls_and_auth():
    from models.settings import Settings

    settings = Settings(
        smtp_host="mail.example.org",
        smtp_port=465,
        smtp_tls="implicit",
        smtp_user="u",
        smtp_password="p",
        smtp_timeout_seconds=12,
        smtp_connections=6,
        smtp_max_per_second=5,
        smtp_messages_per_connection=40,
    )
    server = SmtpServer.from_settings(settings)
    assert (server.host, server.port, server.tls, server.user, server.password, server.timeout) == (
        "mail.example.org",
        465,
        SmtpTls.implicit,
        "u",
        "p",
        12,
    )
    client = server.client()
    assert client.use_tls is True
    options = DeliveryOptions.from_settings(settings)
    assert (options.connections, options.max_per_second, options.messages_per_connection) == (6, 5, 40)
    with pytest.raises(DeliveryError):
        SmtpServer.from_settings(Settings(smtp_host=None))


async def test_rows_are_read_back_with_select(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 3)
    await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    with Session(sqlite_engine) as session:
        sent = session.exec(select(OutboxLetter).where(OutboxLetter.state == LetterState.sent)).all()
    assert sorted(row.message_id for row in sent) == sorted(r.message_id for r in sink.handler.receipts)
