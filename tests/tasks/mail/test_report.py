"""What a delivery run reports: how many letters still wait for a retry and when the next attempt is
— and that the CLI and the demo say so, instead of "mailed"."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cli.demo.run import DemoRun
from cli.demo.selection import _mail_note
from cli.outbox import delivery_summary
from models.mail.outbox import list_letters
from tasks.mail.delivery import SmtpServer, deliver_due
from tests.support.smtp import FaultySink
from tests.tasks.conftest import FAST, SENDER, queue_receipts, server_for

SLOW_RETRIES = replace(
    FAST, retry_base=timedelta(minutes=10), retry_cap=timedelta(hours=1), linger=timedelta(0)
)


def free_port() -> int:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_report_carries_the_waiting_letters_and_the_next_attempt(
    sqlite_engine, documents_dir, tmp_path
):
    queue_receipts(sqlite_engine, 3)
    report = await deliver_due(
        sqlite_engine,
        SmtpServer("127.0.0.1", free_port(), timeout=5),
        sender=SENDER,
        documents_dir=documents_dir,
        options=SLOW_RETRIES,
    )
    with Session(sqlite_engine) as session:
        earliest = min(letter.next_attempt_at for letter in list_letters(session))
    assert report.sent == 0 and report.waiting == 3
    assert report.next_attempt_at == earliest
    as_dict = json.loads(json.dumps(report.as_dict()))  # plain JSON, as the Prefect task returns it
    assert datetime.fromisoformat(as_dict["next_attempt_at"]) == earliest

    local = earliest.astimezone(ZoneInfo("Asia/Shanghai"))
    line = delivery_summary(as_dict, "Asia/Shanghai")
    assert f"3 waiting for a retry, next attempt at {local:%Y-%m-%d %H:%M} (Asia/Shanghai)" in line
    assert "待重试 3 封" in line and "已发送 0 封" in line

    run = DemoRun(out=tmp_path, example=tmp_path)
    assert _mail_note(run, as_dict) == line
    [note] = run.notes  # a real server: no .eml folder, but what waits and what to run
    assert "3 letters wait for a retry" in note and "grantflow outbox send" in note


async def test_summary_of_a_run_that_sent_everything_names_no_retry(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = FaultySink(tmp_path / "mail", faulty_share=0, reject=frozenset({"user1@example.org"}))
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 3)
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    as_dict = report.as_dict()
    assert as_dict["waiting"] == 0 and as_dict["next_attempt_at"] is None
    line = delivery_summary(as_dict, "Asia/Shanghai")
    assert line == "已发送 2 封 / 2 sent；发送失败 1 封 / 1 failed"
    run = DemoRun(out=Path(tmp_path), example=Path(tmp_path))
    _mail_note(run, as_dict)
    assert run.notes == [
        "1 封信发送失败，见 grantflow outbox list --state failed / "
        "1 letters failed: see `grantflow outbox list --state failed`"
    ]
