"""The call flow under Prefect's harness: the 征集公告 and the blank 申报书 go to the mailing list
(embedded SMTP sink, real aiosmtpd), the competition opens, and a re-run changes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.errors import InputError
from models.mail.outbox import OutboxLetter
from models.states import CompetitionStage
from tests.support.factories import make_competition
from tests.support.mailbox import attachment_names, docx_text, messages, plain_text

pytestmark = pytest.mark.flows
BEIJING = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)


@pytest.fixture
def draft_competition(settings_env: Path) -> tuple[int, str]:
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        return competition.id, competition.slug


async def test_publish_call_mails_notice_and_blank_form_to_the_mailing_list(
    prefect_harness, draft_competition, settings_env
):
    from flows.call import publish_call

    competition_id, slug = draft_competition
    result = await publish_call(slug, as_of=CALL_AT, actor="admin:test")
    assert result["opened"] is True
    assert result["delivery"]["sent"] == 3

    mail = messages(settings_env / "mail")
    assert sorted(str(m["to"]).split("<")[-1].rstrip(">") for m in mail) == [
        "shegongshi@jiangtou.example.org",
        "shezu@jiangtou.example.org",
        "zhiyuan@jiangtou.example.org",
    ]
    for message in mail:
        names = attachment_names(message)
        assert len(names) == 2
        assert names[0].startswith("征集公告-") and names[1].startswith("申报书-")
        assert "【征集公告】" in str(message["subject"])
        body = plain_text(message)
        assert "60,000.00 元" in body and "8,000.00 元" in body and "2025年2月28日 17:00" in body

    with session_scope() as session:
        competition = session.get(Competition, competition_id)
        assert competition.stage is CompetitionStage.call_open
        documents = session.exec(select(GeneratedDocument)).all()
        assert sorted(d.role for d in documents) == ["application_form", "call_notice"]
        moves = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "competition", AuditEvent.to_state == "call_open")
        ).all()
        assert [m.actor for m in moves] == ["admin:test"]
    notice = next(d for d in documents if d.role == "call_notice")
    text = docx_text(settings_env / "documents" / notice.path)
    for expected in (
        "60,000.00元",
        "2,000.00元至8,000.00元",
        "社会组织组：36,000.00元",
        "一老：为老服务",
        "需求分析",
        "资格审查 | 2025年3月7日前",
        "中期评估合格后拨付",
        "2025年1月6日",
    ):
        assert expected in text, expected
    form = next(d for d in documents if d.role == "application_form")
    blank = docx_text(settings_env / "documents" / form.path).replace("\u2060", "")  # word joiners
    assert "☐一老" in blank and "☐忠仑" in blank and "承诺书" in blank


async def test_publish_call_again_sends_and_writes_nothing_new(
    prefect_harness, draft_competition, settings_env
):
    from flows.call import publish_call

    _competition_id, slug = draft_competition
    await publish_call(slug, as_of=CALL_AT)
    with session_scope() as session:
        first = {(d.id, d.sha256) for d in session.exec(select(GeneratedDocument))}
    again = await publish_call(slug, as_of=datetime(2025, 1, 9, 9, 0, tzinfo=BEIJING))
    assert again["opened"] is False and again["letters"] == [] and again["delivery"]["sent"] == 0
    assert len(messages(settings_env / "mail")) == 3
    with session_scope() as session:
        assert {(d.id, d.sha256) for d in session.exec(select(GeneratedDocument))} == first
        assert len(session.exec(select(OutboxLetter)).all()) == 3


async def test_publish_call_after_the_deadline_is_refused(prefect_harness, draft_competition, settings_env):
    from flows.call import publish_call

    competition_id, slug = draft_competition
    with pytest.raises(InputError, match="too late to publish the call"):
        await publish_call(slug, as_of=datetime(2025, 3, 1, 9, 0, tzinfo=BEIJING))
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.draft
        assert session.exec(select(OutboxLetter)).all() == []
    assert messages(settings_env / "mail") == []


def _competition_named(name: str) -> tuple[int, str]:
    import yaml

    from tests.support.factories import example_config_text

    data = yaml.safe_load(example_config_text())
    data["competition"]["name"] = name
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session, text=yaml.safe_dump(data, allow_unicode=True))
        return competition.id, competition.slug


async def test_publish_call_of_a_competition_with_a_very_long_chinese_name(prefect_harness, settings_env):
    """80 CJK characters are 240 bytes: with the role prefix the file name would pass the 255-byte limit."""
    from flows.call import publish_call

    name = "江头街道“江头公益圈”微公益创投大赛暨社区治理与服务创新项目征集活动" * 3
    assert len(name) >= 80 and len(name) <= 200
    competition_id, slug = _competition_named(name)
    result = await publish_call(slug, as_of=CALL_AT)
    assert result["opened"] is True and len(result["documents"]) == 2 and len(result["letters"]) == 3
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.call_open
        documents = session.exec(select(GeneratedDocument)).all()
    for document in documents:
        assert len(document.filename.encode("utf-8")) <= 150
        assert document.filename.startswith(("征集公告-江头街道", "申报书-江头街道"))
        assert document.filename.endswith("….docx")
        assert (settings_env / "documents" / document.path).is_file()
    assert len(messages(settings_env / "mail")) == 3


async def test_publish_call_that_fails_half_way_stays_in_draft_and_a_rerun_finishes_it(
    prefect_harness, draft_competition, settings_env
):
    from flows.call import publish_call

    competition_id, slug = draft_competition
    blocker = settings_env / "documents"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the documents folder should be", encoding="utf-8")
    with pytest.raises(OSError):
        await publish_call(slug, as_of=CALL_AT)
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.draft
        assert session.exec(select(GeneratedDocument)).all() == []
        assert session.exec(select(OutboxLetter)).all() == []

    blocker.unlink()
    again = await publish_call(slug, as_of=CALL_AT)
    assert again["opened"] is True and len(again["documents"]) == 2 and len(again["letters"]) == 3
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.call_open
    assert len(messages(settings_env / "mail")) == 3


def test_opening_the_call_before_its_documents_are_written_is_refused(settings_env):
    from models.call.notices import open_call

    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        with pytest.raises(InputError, match="not written yet"):
            open_call(session, competition=competition, now=CALL_AT, actor="admin:test")
        assert competition.stage is CompetitionStage.draft
