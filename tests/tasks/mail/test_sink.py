"""The embedded sink: a real SMTP server that keeps each Message-ID once, as an .eml file."""

from __future__ import annotations

import email
import smtplib
from email import policy
from email.message import EmailMessage

from tasks.mail.sink import EmlSink, MailSink, delivered_in, eml_name


def message(message_id: str, body: str = "你好") -> bytes:
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = "a@example.org", "b@example.org", "测试"
    letter["Message-ID"] = message_id
    letter.set_content(body)
    return letter.as_bytes()


def test_sink_stores_each_message_id_once(tmp_path):
    with MailSink(tmp_path / "mail") as sink, smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("a@example.org", ["b@example.org"], message("<one@example.org>"))
        client.sendmail("a@example.org", ["b@example.org"], message("<two@example.org>"))
        refused = client.sendmail("a@example.org", ["b@example.org"], message("<one@example.org>", "again"))
    handler = sink.handler
    assert refused == {}  # a duplicate is answered 250 like any message
    assert [path.name for path in handler.files()] == ["one@example.org.eml", "two@example.org.eml"]
    assert handler.accepted == 3 and handler.duplicates == 1
    kept = email.message_from_bytes(
        (tmp_path / "mail" / "one@example.org.eml").read_bytes(), policy=policy.default
    )
    assert kept.get_content().strip() == "你好"  # the first copy stays; the duplicate is not written
    assert [r.duplicate for r in handler.receipts] == [False, False, True]
    assert list((tmp_path / "mail").glob(".*.tmp")) == []  # no temporary file left behind


def test_sink_file_names_are_safe_and_distinct_for_odd_message_ids():
    odd = ["<../../etc/passwd@x>", "<a b@x>", "<a_b@x>", "<中文@例子>"]
    names = [eml_name(message_id) for message_id in odd]
    assert all("/" not in name and " " not in name and name.endswith(".eml") for name in names)
    assert len(set(names)) == len(names)
    assert eml_name("<letter-7.abc@jiangtou.example.org>") == "letter-7.abc@jiangtou.example.org.eml"


def test_delivered_in_answers_for_stored_message_ids(tmp_path):
    handler = EmlSink(tmp_path / "mail")
    handler.store(message("<kept@example.org>"), "a@example.org", ("b@example.org",))
    delivered = delivered_in(tmp_path / "mail")
    assert delivered("<kept@example.org>") is True
    assert delivered("<never@example.org>") is False
    assert handler.has("<kept@example.org>")


def test_message_without_message_id_is_kept_under_its_content_hash(tmp_path):
    handler = EmlSink(tmp_path / "mail")
    answer = handler.store(b"Subject: x\r\n\r\nbody\r\n", "a@example.org", ("b@example.org",))
    [path] = handler.files()
    assert answer.startswith("250") and path.name.startswith("no-message-id-")
