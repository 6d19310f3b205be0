"""Crash test: a sender of 500 letters is killed with SIGKILL at random moments, then run again.
The sink must hold exactly 500 messages with 500 distinct Message-IDs — none missing, none twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from models.db import dispose_engines, get_engine, upgrade_database
from models.mail.outbox import count_by_state, list_letters
from models.states import LetterState
from tasks.mail.sink import EmlSink, message_id_of
from tests.tasks.conftest import queue_receipts

ROOT = Path(__file__).resolve().parents[3]
LETTERS = 500
CONNECTIONS = 4


def start_sender(database: str, data: Path, host: str | None, port: int | None) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.support.crash_sender",
        "--database",
        database,
        "--data",
        str(data),
        "--connections",
        str(CONNECTIONS),
    ]
    if host:
        command += ["--host", host, "--port", str(port)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    return subprocess.Popen(
        command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def sent(engine) -> int:
    with Session(engine) as session:
        return count_by_state(session).get(LetterState.sent.value, 0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["relay", "embedded"])
def test_sigkill_at_random_moments_then_rerun_delivers_each_letter_once(mode, tmp_path, start_sink):
    database = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = get_engine(database)
    upgrade_database(engine)
    queue_receipts(engine, LETTERS)
    data = tmp_path / "data"
    if mode == "relay":  # a configured SMTP server (GRANTFLOW_SMTP_HOST): it cannot be asked, only sent to
        sink = start_sink(EmlSink(tmp_path / "relay-mail"))
        folder, host, port = sink.handler.folder, sink.host, sink.port
    else:  # no server configured: the embedded sink runs inside the sender and dies with it
        sink, folder, host, port = None, data / "mail", None, None

    rng = random.Random(4711)
    kills, interrupted_sends, progress = 0, 0, [0]
    for _ in range(5):
        sender = start_sender(database, data, host, port)
        assert sender.stdout is not None and sender.stdout.readline().strip() == "ready", sender.stderr.read()
        # strike at a random moment once the run has got going: after 30–90 more letters, ± a few ms
        target = progress[-1] + rng.randint(30, 90)
        give_up = time.monotonic() + 120
        while sender.poll() is None and sent(engine) < target and time.monotonic() < give_up:
            time.sleep(0.003)
        time.sleep(rng.uniform(0, 0.02))
        if sender.poll() is None:
            sender.send_signal(signal.SIGKILL)
            kills += 1
        sender.wait(timeout=60)
        sender.stdout.close()
        sender.stderr.close()
        with Session(engine) as session:
            counts = count_by_state(session)
        interrupted_sends += counts.get(LetterState.sending.value, 0)
        progress.append(counts.get(LetterState.sent.value, 0))

    final = start_sender(database, data, host, port)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = json.loads(out.splitlines()[-1])

    # the kills really struck in the middle of the delivery, with letters in flight
    assert kills >= 4
    assert 0 < progress[1] < progress[-1] < LETTERS, progress
    assert interrupted_sends > 0
    assert report["requeued_after_crash"] + report["confirmed_after_crash"] > 0

    with Session(engine) as session:
        letters = list_letters(session)
    assert {letter.state for letter in letters} == {LetterState.sent}
    stored = [message_id_of(path.read_bytes()) for path in folder.glob("*.eml")]
    assert len(stored) == LETTERS
    assert len(set(stored)) == LETTERS
    assert set(stored) == {letter.message_id for letter in letters}
    if sink is not None:
        # the residual window: at most one message per connection per crash reached the server
        # twice (same Message-ID, kept once by the sink)
        assert sink.handler.accepted - LETTERS == sink.handler.duplicates <= kills * CONNECTIONS
    dispose_engines()
