"""The deliver-letters flow under Prefect's test harness, to the embedded sink and to a configured server."""

from __future__ import annotations

import pytest

from models.db import default_engine, session_scope, upgrade_database
from models.mail.letters import LETTERS, compose_letter
from models.mail.outbox import count_by_state
from models.settings import get_settings, reset_settings
from models.setup import create_competition
from tasks.mail.sink import EmlSink, MailSink
from tests.conftest import EXAMPLE_DIR

pytestmark = pytest.mark.flows


def queue(count: int, *, competition=None) -> None:
    with session_scope() as session:
        for i in range(count):
            compose_letter(
                session,
                role="receipt",
                stage="intake",
                recipient_email=f"flow{i}@example.org",
                context=LETTERS.get("receipt").keys,
                subject_entity="application",
                subject_id=i,
                competition=competition,
                occasion="with-competition" if competition else "",
            )


async def test_deliver_flow_without_smtp_host_saves_eml_files(prefect_harness, settings_env):
    from flows.deliver import deliver_letters

    upgrade_database(default_engine())
    queue(3)
    report = await deliver_letters()
    mail_dir = get_settings().mail_dir
    assert report["sent"] == 3 and report["failed"] == []
    assert report["mail_dir"] == str(mail_dir.resolve())
    assert len(list(mail_dir.glob("*.eml"))) == 3
    again = await deliver_letters()  # a re-run sends nothing twice
    assert again["sent"] == 0 and len(list(mail_dir.glob("*.eml"))) == 3


async def test_deliver_flow_uses_the_configured_server_and_the_competition(
    prefect_harness, settings_env, monkeypatch, tmp_path
):
    from flows.deliver import deliver_letters

    upgrade_database(default_engine())
    with session_scope() as session:
        competition = create_competition(
            session,
            text=(EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8"),
            source="t",
            actor="t",
        )
    queue(2, competition=competition)
    queue(1)
    with MailSink(handler=EmlSink(tmp_path / "server")) as server:
        monkeypatch.setenv("GRANTFLOW_SMTP_HOST", server.host)
        monkeypatch.setenv("GRANTFLOW_SMTP_PORT", str(server.port))
        reset_settings()
        report = await deliver_letters("jiangtou-2025")
    assert report["sent"] == 2 and report["mail_dir"] == ""
    assert report["server"].startswith(f"{server.host}:{server.port}")
    assert len(server.handler.files()) == 2
    assert not get_settings().mail_dir.exists()
    with session_scope() as session:
        assert count_by_state(session) == {"sent": 2, "queued": 1}
