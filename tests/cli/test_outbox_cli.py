"""``grantflow outbox``: an administrator lists, previews, releases and retries letters."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from models.db import dispose_engines, get_engine, session_scope, upgrade_database
from models.mail.letters import LETTERS, compose_letter
from models.mail.outbox import OutboxLetter
from models.mail.sending import claim_letters
from models.states import LetterState
from models.types import utcnow
from tests.cli.test_cli import run


def prepare(data_dir: Path) -> list[int]:
    """Three letters: two drafts waiting for release, one that failed."""
    engine = get_engine(f"sqlite:///{data_dir / 'grantflow.db'}")
    upgrade_database(engine)
    ids = []
    with session_scope(engine) as session:
        for i, state in enumerate([LetterState.draft, LetterState.draft, LetterState.failed]):
            letter = compose_letter(
                session,
                role="award",
                stage="funding",
                recipient_email=f"org{i}@example.org",
                recipient_name=f"申报单位{i}",
                context=LETTERS.get("award").keys,
                subject_entity="application",
                subject_id=i,
            )
            letter.state = state
            letter.last_answer = "550 5.1.1 mailbox unavailable" if state is LetterState.failed else ""
            ids.append(letter.id)
    dispose_engines()
    return ids


def test_outbox_list_show_release_and_retry(tmp_path):
    first, second, failed = prepare(tmp_path)

    listed = run(["outbox", "list", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["counts"] == {"draft": 2, "failed": 1}
    assert [letter["id"] for letter in data["letters"]] == [first, second, failed]

    human = run(["outbox", "list", "--state", "draft"], tmp_path)
    assert "org0@example.org" in human.stdout and "org2@example.org" not in human.stdout

    shown = json.loads(run(["outbox", "show", str(first), "--json"], tmp_path).stdout)
    assert shown["subject"] == "【立项通知】银龄互助·社区食堂温暖行动（JT2025-001）获得资助"
    assert "人民币贰万元整" in shown["body_text"] and shown["body_html"].startswith("<!DOCTYPE html>")
    preview = run(["outbox", "show", str(first)], tmp_path)
    assert "收件人 To: 申报单位0 <org0@example.org>" in preview.stdout and "获准立项" in preview.stdout

    released = json.loads(run(["outbox", "release", str(first), "--json"], tmp_path).stdout)
    assert released["count"] == 1 and released["letters"][0]["state"] == "queued"
    retried = json.loads(run(["outbox", "retry", "--all", "--json"], tmp_path).stdout)
    assert [letter["id"] for letter in retried["letters"]] == [failed]
    assert retried["letters"][0]["last_answer"].startswith("550")

    after = json.loads(run(["outbox", "list", "--json"], tmp_path).stdout)
    assert after["counts"] == {"draft": 1, "queued": 2}


def test_outbox_release_needs_ids_or_all_and_unknown_ids_fail_cleanly(tmp_path):
    prepare(tmp_path)
    nothing = run(["outbox", "release"], tmp_path)
    assert nothing.returncode == 1 and "--all" in nothing.stderr and "Traceback" not in nothing.stderr
    unknown = run(["outbox", "show", "999"], tmp_path)
    assert unknown.returncode == 1 and "no letter #999" in unknown.stderr
    bad_state = run(["outbox", "list", "--state", "lost"], tmp_path)
    assert bad_state.returncode == 1 and "lost" in bad_state.stderr


@pytest.mark.slow
def test_outbox_send_delivers_released_letters_to_the_embedded_sink(tmp_path):
    first, _, _ = prepare(tmp_path)
    assert run(["outbox", "release", "--all"], tmp_path).returncode == 0
    engine = get_engine(f"sqlite:///{tmp_path / 'grantflow.db'}")
    with session_scope(engine) as session:  # a sender that died holding a live claim on one letter
        claim_letters(session, now=utcnow(), lease=timedelta(hours=1), limit=1, domain="x.org", actor="x")
    dispose_engines()
    sent = run(["outbox", "send", "--after-crash", "--json"], tmp_path)
    assert sent.returncode == 0, sent.stderr
    report = json.loads(sent.stdout[sent.stdout.index("{") :])
    assert report["sent"] == 2 and report["requeued_after_crash"] == 1
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
    engine = get_engine(f"sqlite:///{tmp_path / 'grantflow.db'}")
    with session_scope(engine) as session:
        assert session.get(OutboxLetter, first).state is LetterState.sent
    dispose_engines()


@pytest.mark.slow
def test_a_stage_whose_smtp_server_is_away_ends_saying_its_letters_wait_then_they_go_once(tmp_path):
    from tests.support.year_compare import free_port, prefect_server

    with prefect_server():  # one Prefect server for the commands (not a temporary one each)
        stage_then_server_back(tmp_path, free_port())


def stage_then_server_back(tmp_path: Path, port: int) -> None:
    import time
    from datetime import datetime

    from tasks.mail.sink import EmlSink, MailSink
    from tests.conftest import EXAMPLE_DIR

    # nothing listens on ``port``: every connection refused
    away = {"GRANTFLOW_SMTP_HOST": "127.0.0.1", "GRANTFLOW_SMTP_PORT": str(port)}
    assert run(["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path).returncode == 0
    published = run(
        ["call", "publish", "--as-of", "2025-01-06T09:00"],
        tmp_path,
        GRANTFLOW_SMTP_LINGER_SECONDS="0",
        **away,
    )
    assert published.returncode == 0 and "Traceback" not in published.stderr, published.stderr
    said = [line for line in published.stderr.splitlines() if line.startswith("信件 / letters:")]
    assert len(said) == 1 and "3 waiting for a retry, next attempt at 20" in said[0], published.stderr
    listed = json.loads(run(["outbox", "list", "--json"], tmp_path).stdout)
    assert listed["counts"] == {"queued": 3}
    due = max(datetime.fromisoformat(letter["next_attempt_at"]) for letter in listed["letters"])
    time.sleep(max((due.replace(tzinfo=due.tzinfo or UTC) - utcnow()).total_seconds(), 0) + 0.5)
    with MailSink(handler=EmlSink(tmp_path / "mail-back"), port=port) as sink:  # the server is back
        sent = run(["outbox", "send"], tmp_path, **away)
        assert sent.returncode == 0 and "已发送 3 封 / 3 sent" in sent.stdout, sent.stderr
        assert len(sink.handler.files()) == 3 and sink.handler.duplicates == 0
