"""The 结项's one settlement rule on the example year (``settlement.rule: net``, 据实结算): the final
tranche and the balance settled together, stated in every paper; a termination's 终止通知; each
round's 结项评估报告 written once."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.audit import take_effect
from models.documents.tables import DocumentNumber, GeneratedDocument
from models.evaluation.annual import annual_figures, grant_money_of
from models.evaluation.evaluating import evaluate_grants, final_checkpoint, open_evaluation
from models.evaluation.grading import Outcome
from models.evaluation.notices import queue_results, write_reports
from models.funding.tables import Tranche
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from models.states import TrancheState
from models.supervision.notices import queue_termination_notices
from models.supervision.tables import CheckpointReport, GrantTermination
from tests.models.evaluation.test_evaluating import _second_round
from tests.support.mailbox import docx_text
from tests.support.year import Year

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 10, 20, 10, 0, tzinfo=BEIJING)
RECHECK_AT = datetime(2025, 10, 31, 10, 0, tzinfo=BEIJING)
ACTOR = "admin:test"
NUMBER = re.compile(r"江头社工〔2025〕[1-9]\d*号")


def _evaluate(session: Session, year: Year, at: datetime = AT) -> dict[str, Outcome]:
    """The evaluation task's transaction: settle, then write each decision's papers."""
    take_effect(session, at)
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    settled = evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=at.date())
    write_reports(session, competition=year.competition, issue_date=at.date(), settings=get_settings())
    by_grant = {g.id: ref for ref, g in year.grants.items()}
    return {by_grant[s.grant_id]: s.outcome for s in settled}


def _tranches(session: Session, grant_id: int) -> dict[str, Tranche]:
    return {t.gate: t for t in session.exec(select(Tranche).where(Tranche.grant_id == grant_id))}


def _spend(session: Session, year: Year, ref: str, fen: int) -> None:
    """The supervisor's 结项 record of ``ref`` accepted ``fen`` (and the lines say the same)."""
    report = session.exec(
        select(CheckpointReport).where(CheckpointReport.checkpoint_id == year.final_checkpoints[ref].id)
    ).one()
    lines = report.indicators["spent_by_line"]
    items = list(lines)
    shares = {item: fen * lines[item] // max(1, sum(lines.values())) for item in items}
    shares[items[-1]] += fen - sum(shares.values())
    report.spent_fen, report.indicators = fen, {"spent_by_line": shares}
    session.add(report)
    session.flush()


def _document(session: Session, role: str, **where: object) -> GeneratedDocument:
    query = select(GeneratedDocument).where(GeneratedDocument.role == role)
    for name, value in where.items():
        query = query.where(getattr(GeneratedDocument, name) == value)
    return session.exec(query).one()


def test_underspent_and_overpaid_projects_are_settled_by_the_one_rule(year_session, year, settings_env):
    refs = year.refs()
    full, partial, overpaid = refs[0], refs[1], refs[2]
    paid_before = {
        ref: sum(t.paid_fen for t in _tranches(year_session, year.grants[ref].id).values() if t.paid_fen)
        for ref in (partial, overpaid)
    }
    final = {ref: _tranches(year_session, year.grants[ref].id)["final"].amount_fen for ref in refs}
    _spend(year_session, year, full, year.grants[full].amount_fen)
    _spend(year_session, year, partial, paid_before[partial] + final[partial] // 2)
    _spend(year_session, year, overpaid, paid_before[overpaid] - 26_700)
    outcomes = _evaluate(year_session, year)
    assert {outcomes[r] for r in (full, partial, overpaid)} == {Outcome.released}

    # everything spent: the final tranche in full, nothing back
    money = grant_money_of(year_session, grant_id=year.grants[full].id)
    assert (money.paid_fen, money.reduced_fen, money.to_return_fen) == (year.grants[full].amount_fen, 0, 0)
    # part of it: planned − underspend, paid; the 拨款通知 says so
    tranche = _tranches(year_session, year.grants[partial].id)["final"]
    assert tranche.state is TrancheState.released
    assert (tranche.paid_fen, tranche.reduced_fen) == (
        final[partial] // 2,
        final[partial] - final[partial] // 2,
    )
    notice = _document(year_session, "payment_notice", subject_entity="tranche", subject_id=tranche.id)
    text = docx_text(settings_env / "documents" / notice.path)
    assert "按据实结算" in text and "核减" in text and NUMBER.search(text)
    assert grant_money_of(year_session, grant_id=year.grants[partial].id).to_return_fen == 0
    # paid beyond the spending: no final tranche, the balance returned by its own numbered notice
    tranche = _tranches(year_session, year.grants[overpaid].id)["final"]
    assert (tranche.state, tranche.paid_fen, tranche.reduced_fen) == (
        TrancheState.cancelled,
        0,
        final[overpaid],
    )
    assert grant_money_of(year_session, grant_id=year.grants[overpaid].id).to_return_fen == 26_700
    grant = year.grants[overpaid]
    refund = _document(year_session, "refund_notice", subject_entity="grant", subject_id=grant.id)
    number = year_session.exec(
        select(DocumentNumber).where(
            DocumentNumber.kind == "refund_notice", DocumentNumber.subject_id == grant.id
        )
    ).one()
    refund_text = docx_text(settings_env / "documents" / refund.path)
    assert (
        number.number in refund_text and "267.00元" in refund_text and "人民币贰佰陆拾柒元整" in refund_text
    )
    # the 结项评估报告 states the same settlement and never pays a 尾款 while a balance goes back
    report = _document(
        year_session,
        "final_evaluation_report",
        subject_entity="checkpoint",
        subject_id=year.final_checkpoints[overpaid].id,
    )
    report_text = docx_text(settings_env / "documents" / report.path)
    assert f"267.00元应予退回，见结余资金退回通知（{number.number}）" in report_text
    assert "拨付尾款" not in report_text and "全部核减，不再拨付" in report_text
    # the result letter carries both papers
    queue_results(year_session, competition=year.competition)
    letter = year_session.exec(
        select(OutboxLetter).where(
            OutboxLetter.role == "final_result",
            OutboxLetter.recipient_email == grant_email(year_session, grant),
        )
    ).one()
    assert sorted(letter.attachments) == sorted([report.id, refund.id])
    # the year's figures list it, with the notice's 文号
    figures = annual_figures(year_session, competition_id=year.competition_id)
    (row,) = [r for r in figures["returns"] if r["ref"] == overpaid]
    assert (row["to_return_fen"], row["doc_number"], row["why"]) == (26_700, number.number, "结余退回")


def grant_email(session: Session, grant) -> str:
    from models.intake.tables import Application

    application = session.get(Application, grant.application_id)
    assert application is not None and application.contact_email
    return application.contact_email.lower()


def test_a_rounds_report_is_written_once_and_the_second_round_writes_its_own(
    year_session, year, settings_env
):
    failing = year.refs()[3]
    grant = year.grants[failing]
    assert _evaluate(year_session, year)[failing] is Outcome.rectification
    first = _document(
        year_session,
        "final_evaluation_report",
        subject_entity="checkpoint",
        subject_id=year.final_checkpoints[failing].id,
    )
    first_bytes = (settings_env / "documents" / first.path).read_bytes()
    assert "暂缓拨付，整改复评后结算" in docx_text(settings_env / "documents" / first.path)
    _second_round(year_session, year, failing, "74")
    assert _evaluate(year_session, year, RECHECK_AT) == {failing: Outcome.released}
    second = final_checkpoint(year_session, grant_id=grant.id)
    report = _document(
        year_session, "final_evaluation_report", subject_entity="checkpoint", subject_id=second.id
    )
    assert report.filename.endswith("（复评）.docx") and report.id != first.id
    assert (settings_env / "documents" / first.path).read_bytes() == first_bytes
    text = docx_text(settings_env / "documents" / report.path)
    assert "整改后复评（第2轮）" in text and "无结余资金" in text


def test_a_failed_recheck_terminates_with_a_numbered_notice_of_what_to_return(
    year_session, year, settings_env
):
    failing = year.refs()[3]
    grant = year.grants[failing]
    _evaluate(year_session, year)
    _second_round(year_session, year, failing, "51")
    report = year_session.exec(
        select(CheckpointReport).where(
            CheckpointReport.checkpoint_id == final_checkpoint(year_session, grant_id=grant.id).id
        )
    ).one()
    report.spent_fen = 250_000  # less than the 80% paid before
    year_session.add(report)
    assert _evaluate(year_session, year, RECHECK_AT) == {failing: Outcome.terminated}
    termination = year_session.exec(
        select(GrantTermination).where(GrantTermination.grant_id == grant.id)
    ).one()
    paid = sum(t.paid_fen for t in _tranches(year_session, grant.id).values())
    assert (termination.released_fen, termination.accepted_spend_fen) == (paid, 250_000)
    assert termination.clawback_fen == paid - 250_000
    assert termination.cancelled_fen == _tranches(year_session, grant.id)["final"].amount_fen
    letters = queue_termination_notices(year_session, competition=year.competition, settings=get_settings())
    assert [letter.role for letter in letters] == ["termination"]
    notice = _document(
        year_session, "termination_notice", subject_entity="termination", subject_id=termination.id
    )
    assert letters[0].attachments == [notice.id]
    text = docx_text(settings_env / "documents" / notice.path)
    number = NUMBER.search(text)
    assert number is not None and number.group() in letters[0].body_text
    assert "依整改通知（" in text and "整改后经复查仍不合格" in text
    money = grant_money_of(year_session, grant_id=grant.id)
    assert (
        money.to_return_fen == termination.clawback_fen and money.cancelled_fen == termination.cancelled_fen
    )
    # written once: a second pass writes and sends nothing
    assert (
        queue_termination_notices(year_session, competition=year.competition, settings=get_settings()) == []
    )
    assert (
        len(
            year_session.exec(
                select(GeneratedDocument).where(GeneratedDocument.role == "termination_notice")
            ).all()
        )
        == 1
    )
    assert "2025年10月31日" in text  # the decision's day (the run's as_of), not the wall clock
