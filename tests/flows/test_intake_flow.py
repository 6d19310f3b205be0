"""The intake flow under Prefect's harness: files in, a 受理回执 (document and letter) for every
accepted application, a refusal letter with the reasons for every refused row that can be reached,
the deadline with its audited override, and re-runs that change nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.intake.imports import import_applications
from models.intake.tables import Application
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.states import CompetitionStage
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition
from tests.support.mailbox import attachment_names, docx_text, messages, plain_text, with_subject

pytestmark = pytest.mark.flows
BEIJING = ZoneInfo("Asia/Shanghai")
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
LATE = datetime(2025, 3, 2, 10, 0, tzinfo=BEIJING)
GOOD = str(EXAMPLE_DIR / "applications.xlsx")
BROKEN = str(EXAMPLE_DIR / "broken.xlsx")


@pytest.fixture
def open_competition(settings_env: Path) -> tuple[int, str]:
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        return competition.id, competition.slug


async def test_intake_sends_receipts_and_refusals_with_reasons(
    prefect_harness, open_competition, settings_env
):
    from flows.intake import intake

    _competition_id, slug = open_competition
    result = await intake(slug, files=[GOOD, BROKEN], as_of=INTAKE_AT, actor="admin:test")
    good, broken = result["files"]
    assert len(good["accepted"]) == 24 and good["refused"] == [] and good["error"] is None
    assert broken["accepted"] == [] and len(broken["refused"]) == 20
    reachable = [row for row in broken["refused"] if row["email"]]
    assert result["receipts"] == 24 and result["refusals"] == len(reachable) == 17
    assert result["held"] == 0  # each broken row its own mistake: every refusal goes out
    row4 = next(row for row in broken["refused"] if row["where"].startswith("broken.xlsx:第4行"))
    assert (
        row4["problems"][0]["field"] == "申请金额（元）" and "超过单个项目上限" in row4["problems"][0]["zh"]
    )

    mail = messages(settings_env / "mail")
    receipts = with_subject(mail, "【受理回执】")
    assert len(receipts) == 24
    for message in receipts:
        (name,) = attachment_names(message)
        assert name.startswith("受理回执-2025-0") and name.endswith(".docx")
        assert name.removeprefix("受理回执-").removesuffix(".docx") in str(message["subject"])
    refusals = with_subject(mail, "【申报未受理】")
    assert len(refusals) == 17 and all(attachment_names(m) == [] for m in refusals)
    to_row4 = next(m for m in refusals if row4["email"] in str(m["to"]))
    assert "申请金额 12,000.00 元超过单个项目上限 8,000.00 元" in plain_text(to_row4)

    with session_scope() as session:
        documents = session.exec(select(GeneratedDocument)).all()
        assert {d.role for d in documents} == {"receipt"} and len(documents) == 24
        first = session.exec(select(Application).where(Application.ref == "2025-001")).one()
    receipt = next(d for d in documents if d.subject_id == first.id)
    text = docx_text(settings_env / "documents" / receipt.path)
    assert (
        "2025-001" in text and first.title in text and "电子表格申报汇总表" in text and "2025年3月7日" in text
    )


async def test_intake_run_again_is_a_no_op(prefect_harness, open_competition, settings_env):
    from flows.intake import intake

    _competition_id, slug = open_competition
    await intake(slug, files=[GOOD, BROKEN], as_of=INTAKE_AT)
    with session_scope() as session:
        letters = len(session.exec(select(OutboxLetter)).all())
        documents = len(session.exec(select(GeneratedDocument)).all())
    again = await intake(slug, files=[GOOD, BROKEN], as_of=INTAKE_AT)
    good, broken = again["files"]
    assert good["accepted"] == [] and len(good["duplicates"]) == 24
    assert len(broken["refused"]) == 20  # refused again, for the same reasons: no second letter
    assert again["receipts"] == 0 and again["refusals"] == 0 and again["delivery"]["sent"] == 0
    assert len(messages(settings_env / "mail")) == letters == 24 + 17
    with session_scope() as session:
        assert len(session.exec(select(OutboxLetter)).all()) == letters
        assert len(session.exec(select(GeneratedDocument)).all()) == documents == 24


async def test_intake_after_the_deadline_needs_an_audited_reason(
    prefect_harness, open_competition, settings_env
):
    from flows.intake import intake

    _competition_id, slug = open_competition
    refused = await intake(slug, files=[str(EXAMPLE_DIR / "applications-gbk.csv")], as_of=LATE)
    (report,) = refused["files"]
    assert report["accepted"] == [] and "申报已于 2025-02-28 17:00（北京时间）截止" in report["error"]
    assert refused["receipts"] == 0 and messages(settings_env / "mail") == []

    late = await intake(
        slug,
        files=[str(EXAMPLE_DIR / "applications-gbk.csv")],
        as_of=LATE,
        override_reason="街道批准补录：邮件系统故障",
        actor="admin:test",
    )
    (report,) = late["files"]
    assert report["late"] is True and len(report["accepted"]) == 3 and report["error"] is None
    assert late["receipts"] == 3
    with session_scope() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "late_import")).one()
        assert audit.actor == "admin:test" and audit.reason == "街道批准补录：邮件系统故障"
        assert sorted(audit.data["applications"]) == sorted(r["id"] for r in report["accepted"])


async def test_intake_sends_missing_receipts_of_an_interrupted_import(
    prefect_harness, open_competition, settings_env
):
    """Applications stored by a run that stopped before its receipts get them on the next run."""
    from flows.intake import intake

    competition_id, slug = open_competition
    with session_scope() as session:
        report = import_applications(
            session,
            competition_id=competition_id,
            path=EXAMPLE_DIR / "applications-gbk.csv",
            actor="test",
            now=INTAKE_AT,
        )
    result = await intake(slug, files=[], as_of=INTAKE_AT)
    assert result["files"] == [] and result["receipts"] == len(report.accepted) == 3
    received = with_subject(messages(settings_env / "mail"), "【受理回执】")
    assert sorted(attachment_names(m)[0] for m in received) == [
        "受理回执-2025-001.docx",
        "受理回执-2025-002.docx",
        "受理回执-2025-003.docx",
    ]
    assert "文本格式申报汇总表" in docx_text(
        next((settings_env / "documents").rglob("受理回执-2025-001.docx"))
    )


async def test_each_file_succeeds_or_fails_on_its_own_and_receipts_still_go(
    prefect_harness, open_competition, settings_env, tmp_path, monkeypatch
):
    """A file nested past the stack, a CSV field past the csv module's limit, and a file that meets
    a bug do not stop the run: the files around them are imported and their receipts queued."""
    import shutil

    import models.intake.imports
    from flows.intake import intake

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    wide = tmp_path / "wide.csv"
    wide.write_text("项目名称,申报单位\n" + "长" * 200_000 + ",x\n", encoding="utf-8")
    bug = tmp_path / "bug.xlsx"
    shutil.copy(GOOD, bug)
    real = models.intake.imports.validate_row

    def validate_with_a_bug(row, **kwargs):
        if row.where.startswith("bug.xlsx:第5行"):
            raise RuntimeError("a bug on row 5")
        return real(row, **kwargs)

    monkeypatch.setattr(models.intake.imports, "validate_row", validate_with_a_bug)
    gbk = str(EXAMPLE_DIR / "applications-gbk.csv")
    result = await intake(
        open_competition[1], files=[gbk, str(deep), str(wide), str(bug), GOOD], as_of=INTAKE_AT
    )
    csv_report, deep_report, wide_report, bug_report, good_report = result["files"]
    assert len(csv_report["accepted"]) == 3 and csv_report["error"] is None
    assert deep_report["error"].startswith("deep.json: ") and "嵌套层次过深" in deep_report["error"]
    assert wide_report["error"].startswith("wide.csv:第") and "CSV" in wide_report["error"]
    assert (
        bug_report["error"].startswith("bug.xlsx: ") and "RuntimeError: a bug on row 5" in bug_report["error"]
    )
    assert bug_report["accepted"] == []
    assert len(good_report["accepted"]) == 24 and good_report["error"] is None
    assert result["receipts"] == 27
    with session_scope() as session:
        stored = session.exec(select(Application)).all()
        assert len(stored) == 27 and not any(a.source.startswith("bug.xlsx") for a in stored)
        receipts = session.exec(select(OutboxLetter).where(OutboxLetter.role == "receipt")).all()
        assert len(receipts) == 27
