"""The final evaluation and annual report flows under Prefect's harness, on the example year:
grades settle each grant, every applicant gets one letter with the 结项评估报告 (real aiosmtpd
sink → .eml), a re-run sends nothing, the rectified project's second round closes the competition,
and the 年度总结报告 is written with its charts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import docx
import pytest
from sqlmodel import select

from models.competition.tables import Competition
from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.evaluation.evaluating import final_checkpoint
from models.lifecycle import set_state
from models.states import CheckpointState, CompetitionStage
from models.supervision.tables import CheckpointReport, Supervisor
from tests.support.year import Year, evaluated_year

pytestmark = pytest.mark.flows
AT = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def year_in_default_db(settings_env: Path) -> Year:
    upgrade_database(default_engine())
    with session_scope() as session:
        return evaluated_year(session)


def _messages(mail_dir: Path) -> list:
    """The 结项 result letters caught (the year's earlier letters are delivered in the same runs)."""
    caught = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mail_dir.glob("*.eml"))
    ]
    return [m for m in caught if "结项评估结果" in str(m["subject"])]


def test_final_evaluation_then_annual_report(prefect_harness, year_in_default_db, settings_env):
    from flows.evaluation import annual_report, final_evaluation

    year = year_in_default_db
    result = asyncio.run(final_evaluation(year.competition.slug, as_of=AT, actor="admin:test"))
    assert result["opened"] and len(result["evaluated"]) == 11
    assert result["reports"] == 11 and result["letters"] == 11 and not result["closed"]
    messages = _messages(settings_env / "mail")
    assert len(messages) == 11
    first = messages[0]
    assert "结项评估结果" in str(first["subject"])
    attachments = [part.get_filename() for part in first.iter_attachments()]
    assert len(attachments) == 1 and attachments[0].startswith("结项评估报告-")

    again = asyncio.run(final_evaluation(year.competition.slug, as_of=AT, actor="admin:test"))
    assert again["evaluated"] == [] and again["letters"] == 0 and len(_messages(settings_env / "mail")) == 11

    failing = year.refs()[3]
    with session_scope() as session:  # the 整改 re-check's reports (stand-in for supervision)
        checkpoint = final_checkpoint(session, grant_id=year.grants[failing].id)
        set_state(session, checkpoint, CheckpointState.open, actor="test")
        supervisor_id = checkpoint.supervisor_id or session.exec(select(Supervisor.id)).first()
        session.add(  # one record per checkpoint, by its supervisor
            CheckpointReport(
                checkpoint_id=checkpoint.id, supervisor_id=supervisor_id, score=Decimal(75), passed=True
            )
        )
        set_state(session, checkpoint, CheckpointState.submitted, actor="test")
    second = asyncio.run(
        final_evaluation(year.competition.slug, as_of=AT.replace(day=30), actor="admin:test")
    )
    assert [row["outcome"] for row in second["evaluated"]] == ["released"]
    assert second["letters"] == 1 and second["closed"]
    assert len(_messages(settings_env / "mail")) == 12

    report = annual_report(year.competition.slug, as_of=AT.replace(month=11, day=10))
    assert report["figures"]["outcomes"] == {"completed": 11, "terminated": 0, "rectified": 1, "running": 0}
    with session_scope() as session:
        assert session.get(Competition, year.competition_id).stage is CompetitionStage.closed
        document = session.get(GeneratedDocument, report["document"])
        path = settings_env / "documents" / document.path
    assert path.name == "年度总结报告-2025.docx"
    assert len(docx.Document(str(path)).inline_shapes) == 4


def test_lifecycle_takes_the_final_evaluation_then_the_annual_report(
    prefect_harness, year_in_default_db, settings_env, caplog
):
    """The hourly lifecycle run knows the 结项: it evaluates once the reports are in (a failed
    project gets its 整改通知 in the same run), waits for the re-check, closes, writes the 年度总结报告
    — each run's log saying what it decided and why; the report dates each stage as of its run."""
    from flows.lifecycle import advance

    year = year_in_default_db
    slug = year.competition.slug
    with caplog.at_level("INFO"):
        first = asyncio.run(advance(slug, as_of=AT))
    assert first["step"] == "final_evaluation" and len(first["result"]["evaluated"]) == 11
    assert first["result"]["rectification_notices"] == 1
    assert any(
        "next step final_evaluation" in r.getMessage() and "the 结项 of 11 grants is ready" in r.getMessage()
        for r in caplog.records
    )
    caught = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((settings_env / "mail").glob("*.eml"))
    ]
    (notice,) = [m for m in caught if "整改通知" in str(m["subject"])]  # delivered in the same run
    assert next(part.get_filename() for part in notice.iter_attachments()).startswith("整改通知-")

    waiting = asyncio.run(advance(slug, as_of=AT.replace(day=21)))
    assert waiting["step"] is None and "1 grants not closed yet" in waiting["waiting"]

    failing = year.refs()[3]
    with session_scope() as session:  # the 整改 re-check's record (stand-in for supervision)
        checkpoint = final_checkpoint(session, grant_id=year.grants[failing].id)
        set_state(session, checkpoint, CheckpointState.open, actor="test")
        session.add(
            CheckpointReport(
                checkpoint_id=checkpoint.id,
                supervisor_id=checkpoint.supervisor_id,
                score=Decimal(75),
                passed=True,
            )
        )
        set_state(session, checkpoint, CheckpointState.submitted, actor="test")
    closing = asyncio.run(advance(slug, as_of=AT.replace(day=30)))
    assert closing["step"] == "final_evaluation" and closing["result"]["closed"]
    report = asyncio.run(advance(slug, as_of=AT.replace(month=11, day=10)))
    assert report["step"] == "annual_report"
    done = asyncio.run(advance(slug, as_of=AT.replace(month=11, day=11)))
    assert done["step"] is None and "annual report is written" in done["waiting"]

    dates = {row["stage"]: row["date"] for row in report["result"]["figures"]["timeline"]}
    assert (dates["evaluation"], dates["closed"]) == ("2025-10-20", "2025-10-30")  # as of the runs
    with session_scope() as session:
        document = session.get(GeneratedDocument, report["result"]["document"])
        path = settings_env / "documents" / document.path
    cells = [c.text for t in docx.Document(str(path)).tables for row in t.rows for c in row.cells]
    assert "2025年10月20日" in cells and "2025年10月30日" in cells  # official dates, never ISO
