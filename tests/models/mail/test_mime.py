"""The bytes of a letter: standard MIME that any mail program reads, and no header injection."""

from __future__ import annotations

import base64
import email
import email.message
import re
from datetime import datetime
from email import policy
from email.header import Header, decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.mail.letters import LANGUAGES, LETTERS, render_letter
from models.mail.mime import (
    DOCX_TYPE,
    Attachment,
    build_message,
    encoded_words,
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


# ---- RFC 2047: every encoded word at most 75 characters, every letter role, long Chinese text --------

ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
MIXED = st.one_of(CHINESE, CHINESE, CHINESE, st.sampled_from(list("·—（）【】《》，。、 -AZaz09😀𠀋é")))
# long names and titles, each with at least one Chinese character (so its header needs encoded words)
LONG_TEXT = st.builds(lambda head, rest: head + rest, CHINESE, st.text(MIXED, min_size=20, max_size=140))
NAMED_KEYS = ("recipient_name", "competition_name", "organiser", "project_title")


def header_block(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def check_wire_headers(raw: bytes) -> None:
    lines = header_block(raw)
    assert all(len(line) <= 78 for line in lines), [line for line in lines if len(line) > 78]
    words = [word for line in lines for word in ENCODED_WORD.findall(line)]
    assert words, "expected encoded words for Chinese text"
    assert all(len(word) <= 75 for word in words), [word for word in words if len(word) > 75]
    for word in words:  # each word holds whole characters: it decodes on its own
        charset, _, payload = word[2:-2].split("?")
        base64.b64decode(payload).decode(charset)


def rfc2047_display_name(raw: bytes, field: str) -> str:
    """The display name as RFC 2047 §6.2 reads it: the space between adjacent encoded words is ignored.

    (CPython's modern parser keeps that space inside a display name — python/cpython#128110 — so a
    long name is decoded here with ``email.header``, which follows the RFC.)
    """
    value = email.message_from_bytes(raw, policy=policy.compat32)[field]
    phrase, _, address = str(value).rpartition(" <")
    assert address.endswith(">") and "@" in address
    return str(make_header(decode_header(phrase)))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", sorted(role.name for role in LETTERS))
@given(names=st.lists(LONG_TEXT, min_size=len(NAMED_KEYS), max_size=len(NAMED_KEYS)), sender_name=LONG_TEXT)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_role_with_long_chinese_names_has_short_encoded_words_that_decode_back(
    role, language, names, sender_name
):
    context = dict(LETTERS.get(role).keys)
    for key, value in zip(NAMED_KEYS, names, strict=True):
        if key in context:
            context[key] = value
    letter = render_letter(role, context, language)
    sender = mailbox("noreply@jiangtou.example.org", sender_name)
    raw, message = build(
        sender=sender,
        recipient_name=context["recipient_name"],
        subject=letter.subject,
        text=letter.text,
        html=letter.html,
    )
    check_wire_headers(raw)
    assert message["Subject"] == letter.subject
    assert message["To"].addresses[0].addr_spec == "user@example.org"
    assert rfc2047_display_name(raw, "To") == one_line(context["recipient_name"])
    assert rfc2047_display_name(raw, "From") == one_line(sender_name)


@given(text=LONG_TEXT, first=st.integers(min_value=10, max_value=75))
def test_encoded_words_fit_their_room_and_read_back(text, first):
    words = encoded_words(text, first=first).split(" ")  # the smallest word holds any character: 20
    assert len(words[0]) <= max(first, 20) and all(len(word) <= 75 for word in words)
    assert str(make_header(decode_header(" ".join(words)))) == text


def test_compat32_header_would_write_76_character_words():
    """The defect this guards against: email.header.Header under compat32 (what mime.py used)."""
    message = email.message.Message()
    message["Subject"] = Header("江头街道2025年微公益创投大赛评审邀请：" + "银龄互助" * 20, "utf-8")
    raw = message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
    assert max(len(word) for word in ENCODED_WORD.findall(raw.decode("ascii"))) == 76
    raw, _ = build(subject="江头街道2025年微公益创投大赛评审邀请：" + "银龄互助" * 20)
    check_wire_headers(raw)
