"""The bytes of a letter: standard MIME that any mail program reads, and no header injection."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from zoneinfo import ZoneInfo

import pytest

from models.mail.mime import (
    DOCX_TYPE,
    Attachment,
    build_message,
    mailbox,
    message_bytes,
    message_domain,
    one_line,
    parse_mailbox,
)

SENDER = parse_mailbox("江头街道社工站 <noreply@jiangtou.example.org>")
DATE = datetime(2025, 5, 20, 14, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def build(**changes):
    arguments = {
        "sender": SENDER,
        "recipient_email": "user@example.org",
        "recipient_name": "乐龄中心",
        "subject": "【受理回执】银龄互助",
        "text": "您好\n第二行",
        "html": "<p>您好</p>",
        "message_id": "<letter-1.abc@jiangtou.example.org>",
        "date": DATE,
        **changes,
    }
    raw = message_bytes(build_message(**arguments))
    return raw, email.message_from_bytes(raw, policy=policy.default)


def test_message_is_ascii_crlf_and_reads_back_in_chinese():
    raw, message = build()
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert message["Subject"] == "【受理回执】银龄互助"
    assert str(message["Date"]) == "Tue, 20 May 2025 14:30:00 +0800"
    assert message["Message-ID"] == "<letter-1.abc@jiangtou.example.org>"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content() == "您好\n第二行"
    assert message.get_body(("html",))["Content-Transfer-Encoding"] == "base64"


def test_ascii_subject_and_name_stay_readable():
    raw, message = build(subject="Receipt JT2025-001", recipient_name='Lee, "Li" Ming')
    assert b"Subject: Receipt JT2025-001\r\n" in raw
    assert message["To"].addresses[0].display_name == 'Lee, "Li" Ming'


def test_attachments_carry_type_and_rfc2231_names():
    files = [
        Attachment("受理回执/../JT2025-001.docx", b"PK\x03\x04docx"),
        Attachment("签到表.pdf", b"%PDF-1.4"),
        Attachment("notes", b"plain bytes"),
    ]
    raw, message = build(attachments=files)
    assert message.get_content_type() == "multipart/mixed"
    parts = list(message.iter_attachments())
    assert [p.get_content_type() for p in parts] == [DOCX_TYPE, "application/pdf", "application/octet-stream"]
    assert [p.get_filename() for p in parts] == ["受理回执_.._JT2025-001.docx", "签到表.pdf", "notes"]
    assert parts[0].get_content() == b"PK\x03\x04docx"
    assert b"filename*=utf-8''" in raw


def test_line_breaks_never_reach_a_header():
    raw, message = build(
        subject="通知\r\nBcc: evil@example.org",
        recipient_name="张三\nCc: evil@example.org",
        message_id="<x@y>\r\nBcc: evil@example.org",
    )
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nCc:" not in headers
    assert message["Bcc"] is None and message["Cc"] is None
    assert one_line("a\r\n\tb\u2028c\x00") == "a b c"


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b\r\nBcc: c@d", "<a@b>", "用户@例子.中国"])
def test_unusable_addresses_are_refused(bad):
    with pytest.raises(ValueError):
        mailbox(bad)


def test_sender_domain_names_the_message_ids():
    assert message_domain("江头街道社工站 <noreply@jiangtou.example.org>") == "jiangtou.example.org"
    assert SENDER.name == "江头街道社工站" and SENDER.address == "noreply@jiangtou.example.org"
