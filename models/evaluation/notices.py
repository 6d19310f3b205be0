"""结项's paperwork: the 结项评估报告 of each evaluated round, the 结余资金退回通知 of a grant whose
settlement leaves money to return, and the result letter with them.

The report prints the score and grade, what was delivered against the plan (activities and
person-times planned in the 申报书 against those reported at the 结项), the money — granted, paid,
the verified spending, and one sentence of how the final tranche and the balance were settled
together (``settlement_sentence``, by the configured rule; never "pay the 尾款 and return the
balance" at once) — the spending per budget line, and the supervisors' findings; with an expert
panel, its experts among the evaluators, their written opinions after the supervisors' findings
(``opinions``) and, in the conclusion, both aggregates with their weights and how many panel
sheets counted (``panel_note``).

Each paper is the record of its decision, written once, in the transaction that takes it (the
evaluation task writes them before it commits): a round's report under its own name (a second
round after 整改 gets its own, ``结项评估报告-<ref>（复评）``, the first kept as it was), the 结余资金退回通知
under its 文号 from the registry. The letter is keyed by the round and its outcome, so a re-run
sends nothing new.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from models.competition.config import CompetitionConfig, NumberedKind
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import percent
from models.documents.numbering import assign_number
from models.documents.registry import write_document, written_document
from models.documents.tables import GeneratedDocument
from models.evaluation.annual import grant_reconciliation, return_notice_number
from models.evaluation.checkpoints import FINAL, final_round
from models.evaluation.grading import OUTCOME_LABELS, Outcome
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.funding.money import GrantMoney
from models.funding.tables import Grant, Tranche
from models.intake.correspondence import write_to_applicant
from models.intake.plan import application_plan
from models.intake.tables import Application, Organisation
from models.mail.outbox import OutboxLetter, letter_ids
from models.money import format_yuan
from models.review.tables import Expert
from models.settings import Settings
from models.states import AssignmentState, TrancheState
from models.supervision.tables import Checkpoint, CheckpointReport, Supervisor

STAGE = "evaluation"
ROLE = "final_evaluation_report"
REFUND = "refund_notice"
RULE_NAME = "据实结算（尾款为核定支出超出已拨付资金的部分，以计划尾款为限；已拨付资金超出核定支出的部分退回）"


def _evaluated_on(session: Session, checkpoint: Checkpoint | None) -> date | None:
    """The day the 结项 was assessed: the supervisors' last visit (never the checkpoint's due day,
    which may lie after the report is written)."""
    if checkpoint is None:
        return None
    records = session.exec(select(CheckpointReport).where(CheckpointReport.checkpoint_id == checkpoint.id))
    return max((r.visit_date for r in records if r.visit_date is not None), default=None)


def _category(config: CompetitionConfig, code: str) -> str:
    category = config.category(code)
    return category.name if category is not None else code


def evaluated(
    session: Session, *, competition_id: int
) -> list[tuple[FinalEvaluation, Grant, Application, Organisation]]:
    """Every final evaluation of the competition with its grant, application and organisation."""
    rows = session.exec(
        select(FinalEvaluation, Grant, Application, Organisation)
        .join(Grant, col(Grant.id) == col(FinalEvaluation.grant_id))
        .join(Application, col(Application.id) == col(Grant.application_id))
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .where(Grant.competition_id == competition_id)
        .order_by(col(Application.ref))
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def panel_note(evaluation: FinalEvaluation) -> str:
    """How the score was made when an expert panel took part (empty without one): the two
    aggregates, their weights, and how many panel sheets counted."""
    weight = evaluation.panel_weight
    if weight is None:
        return ""
    supervisors = evaluation.supervisor_score
    share = _number(weight * 100)
    rest = _number((1 - weight) * 100)
    counted = f"{evaluation.panel_counted}/{evaluation.panel_assigned}"
    if evaluation.panel_score is None:
        return (
            f"专家组评分未在期限内提交（应交{evaluation.panel_assigned}份，按期提交0份），"
            f"按督导评分{supervisors}分计算。"
            if supervisors is not None
            else ""
        )
    missing = evaluation.panel_assigned - evaluation.panel_counted
    late = f"，另有{missing}份逾期未交，不计入" if missing else ""
    return (
        f"督导评分{supervisors}分（权重{rest}%），专家组评分{evaluation.panel_score}分"
        f"（权重{share}%，按期提交{counted}份{late}）。"
    )


def panel_names(session: Session, *, checkpoint_id: int) -> list[str]:
    """The panel's experts whose submitted sheets counted for this checkpoint round."""
    return list(
        session.exec(
            select(Expert.name)
            .join(PanelSheet, col(PanelSheet.expert_id) == col(Expert.id))
            .where(PanelSheet.checkpoint_id == checkpoint_id, PanelSheet.state == AssignmentState.submitted)
            .order_by(col(Expert.id))
        )
    )


def panel_comments(session: Session, *, checkpoint_id: int) -> list[str]:
    """The written opinions of the panel's submitted sheets for this round, unsigned, in order."""
    comments = session.exec(
        select(PanelSheet.comment)
        .where(PanelSheet.checkpoint_id == checkpoint_id, PanelSheet.state == AssignmentState.submitted)
        .order_by(col(PanelSheet.expert_id))
    )
    return [text for text in (c.strip().rstrip("。；;.") for c in comments) if text]


def opinions(supervisors: str, panel: list[str]) -> str:
    """Section 六 of the 结项评估报告: the supervisors' findings, then the panel's opinions."""
    text = supervisors.strip()
    if panel:
        if text and not text.endswith(("。", "！", "？", ".")):
            text += "。"
        text += "专家组意见：" + "；".join(panel) + "。"
    return text or "无"


def _yuan(fen: int) -> str:
    return f"{format_yuan(fen)}元"


def settlement_sentence(
    session: Session, *, grant: Grant, outcome: Outcome | None, money: GrantMoney, cite: bool = True
) -> str:
    """How this decision settled the final tranche and the balance together, from the recorded
    facts (the final tranche's paid and settled-off amounts, the termination), citing by 文号 the
    paper that asks for money back (unless ``cite`` is off: that paper itself)."""
    final = session.exec(select(Tranche).where(Tranche.grant_id == grant.id, Tranche.gate == FINAL)).first()
    label = final.label if final is not None else "尾款"
    planned = _yuan(final.amount_fen) if final is not None else _yuan(0)
    back = return_notice_number(session, grant_id=grant.id or 0) if cite else ""
    cited = (
        f"，见{'终止通知' if outcome is Outcome.terminated else '结余资金退回通知'}（{back}）" if back else ""
    )
    to_return = f"已拨付资金结余{_yuan(money.to_return_fen)}应予退回{cited}" if money.to_return_fen else ""
    if outcome is Outcome.rectification:
        return f"{label}{planned}暂缓拨付，整改复评后结算。"
    if outcome is Outcome.terminated:
        return (
            "；".join(
                filter(None, [f"终止资助协议，未拨付的{_yuan(money.cancelled_fen)}不再拨付", to_return])
            )
            + "。"
        )
    if outcome is Outcome.withheld:
        borne = f"超出已拨付资金的支出{_yuan(money.borne_fen)}由项目方自行承担" if money.borne_fen else ""
        return "；".join(filter(None, [f"评估不合格，{label}{planned}不予拨付", to_return, borne])) + "。"
    if final is None or outcome is not Outcome.released:
        return ""
    if final.state is TrancheState.released and not final.reduced_fen:
        paid = _yuan(final.paid_fen)
        return f"按{RULE_NAME}，拨付{label}{paid}，累计拨付{_yuan(money.paid_fen)}，无结余资金。"
    if final.state is TrancheState.released:
        return (
            f"按{RULE_NAME}，{label}计划{planned}，核减{_yuan(final.reduced_fen)}，拨付"
            f"{_yuan(final.paid_fen)}，累计拨付{_yuan(money.paid_fen)}，与核定支出一致，无结余资金。"
        )
    return (
        "；".join(
            filter(
                None,
                [
                    f"按{RULE_NAME}，核定支出{_yuan(money.spent_fen)}未超过此前已拨付的{_yuan(money.paid_fen)}，"
                    f"{label}{planned}全部核减，不再拨付",
                    to_return,
                ],
            )
        )
        + "。"
    )


def report_context(
    session: Session,
    *,
    competition: Competition,
    config: CompetitionConfig,
    evaluation: FinalEvaluation,
    grant: Grant,
    application: Application,
    organisation: Organisation,
    issue_date: date,
) -> dict[str, Any]:
    """The 结项评估报告 of one project's evaluated round (``evaluation.round``)."""
    assert grant.id is not None
    checkpoint = final_round(session, grant_id=grant.id, round=evaluation.round)
    names: list[str] = []
    if checkpoint is not None:
        names = list(
            session.exec(
                select(Supervisor.name)
                .join(CheckpointReport, col(CheckpointReport.supervisor_id) == col(Supervisor.id))
                .where(CheckpointReport.checkpoint_id == checkpoint.id)
                .order_by(col(Supervisor.id))
            )
        )
    comments: list[str] = []
    if checkpoint is not None and evaluation.panel_weight is not None:
        experts = panel_names(session, checkpoint_id=checkpoint.id or 0)
        names += [f"{name}（结项评审专家）" for name in experts]
        comments = panel_comments(session, checkpoint_id=checkpoint.id or 0)
    plan = application_plan(application)
    sessions, people = plan.sessions, plan.participants
    money = grant_reconciliation(
        session, grant_id=grant.id, checkpoint_id=checkpoint.id if checkpoint is not None else None
    )
    outcome = Outcome(evaluation.outcome) if evaluation.outcome else None
    conclusion = OUTCOME_LABELS[outcome][0] if outcome else ""
    period = config.competition.service_period
    return {
        "competition_name": competition.name,
        "project_title": application.title,
        "application_ref": application.ref,
        "organisation_name": organisation.name,
        "category": _category(config, application.category),
        "communities": application.communities or [application.community],
        "period_start": application.period_start or grant.signed_on or period.start,
        "period_end": application.period_end or period.end,
        "evaluators": names or ["—"],
        "evaluation_date": _evaluated_on(session, checkpoint) or issue_date,
        "final_score": evaluation.score,
        "grade": evaluation.grade,
        "passed": evaluation.passed,
        "round": evaluation.round,
        "indicators": [
            {
                "name": "活动场次",
                "planned": plan.sessions_text,
                "actual": f"{evaluation.activities_held}场",
                "rate": percent(evaluation.activities_held, sessions),
            },
            {
                "name": "服务人次",
                "planned": plan.participants_text,
                "actual": f"{evaluation.person_times:,}人次",
                "rate": percent(evaluation.person_times, people),
            },
        ],
        "granted_fen": money.money.granted_fen,
        "paid_fen": money.money.paid_fen,
        "spent_fen": money.money.spent_fen,
        "settlement": settlement_sentence(session, grant=grant, outcome=outcome, money=money.money),
        "spending": [
            {"item": line.item, "budget_fen": line.budget_fen, "spent_fen": line.spent_fen}
            for line in money.lines
        ],
        "achievements": application.summary or application.title,
        "shortcomings": opinions(evaluation.summary, comments),
        "conclusion": panel_note(evaluation)
        + f"结项评估得分{evaluation.score}分，等级“{evaluation.grade}”，{conclusion}。",
        "issue_date": issue_date,
        "operator": config.competition.operator or competition.organiser,
    }


def _report_name(application: Application, round_: int) -> str:
    return f"结项评估报告-{application.ref}" + ("（复评）" if round_ > 1 else "") + ".docx"


def refund_notice(
    session: Session,
    *,
    competition: Competition,
    config: CompetitionConfig,
    evaluation: FinalEvaluation,
    grant: Grant,
    application: Application,
    organisation: Organisation,
    issue_date: date,
    settings: Settings,
) -> GeneratedDocument | None:
    """The 结余资金退回通知 of a grant whose 结项 settlement leaves money to return (None otherwise):
    paid, spent, the balance and where it goes back — numbered from the registry, written once."""
    assert grant.id is not None and competition.id is not None
    if evaluation.outcome not in (Outcome.released, Outcome.withheld):
        return None  # a termination asks for its money back in its 终止通知
    filename = f"结余资金退回通知-{application.ref}.docx"
    written = written_document(
        session,
        role=REFUND,
        competition_id=competition.id,
        stage=STAGE,
        subject_entity="grant",
        subject_id=grant.id,
        filename=filename,
        documents_dir=settings.documents_dir,
    )
    if written is not None:
        return written  # written once: what decided it is not read again
    money = grant_reconciliation(session, grant_id=grant.id).money
    if not money.to_return_fen:
        return None
    outcome = OUTCOME_LABELS[Outcome(evaluation.outcome)][0]
    return write_document(
        session,
        role=REFUND,
        context={
            "doc_number": assign_number(
                session,
                competition=competition,
                kind=NumberedKind.refund_notice,
                subject_entity="grant",
                subject_id=grant.id,
                issued_on=issue_date,
            ),
            "organisation_name": organisation.name,
            "competition_name": competition.name,
            "project_title": application.title,
            "application_ref": application.ref,
            "agreement_number": grant.agreement_no,
            "evaluation": f"结项评估得分{evaluation.score}分，等级“{evaluation.grade}”，{outcome}",
            "settlement": settlement_sentence(
                session, grant=grant, outcome=Outcome(evaluation.outcome), money=money, cite=False
            ),
            "granted_fen": money.granted_fen,
            "paid_fen": money.paid_fen,
            "spent_fen": money.spent_fen,
            "to_return_fen": money.to_return_fen,
            "return_days": config.settlement.return_days,
            "return_to": config.return_to,
            "contact": config.competition.contact,
            "organiser": competition.organiser,
            "issue_date": issue_date,
        },
        competition_id=competition.id,
        stage=STAGE,
        subject_entity="grant",
        subject_id=grant.id,
        filename=filename,
        documents_dir=settings.documents_dir,
    )


def write_reports(
    session: Session, *, competition: Competition, issue_date: date, settings: Settings
) -> list[GeneratedDocument]:
    """The 结项评估报告 of every evaluated project's latest round (returned), and its 结余资金退回通知 when
    money is to be returned — each written once (a paper written before is left as it is)."""
    assert competition.id is not None
    config = competition_config(competition)
    reports = []
    for evaluation, grant, application, organisation in evaluated(session, competition_id=competition.id):
        parts = {
            "competition": competition,
            "config": config,
            "evaluation": evaluation,
            "grant": grant,
            "application": application,
            "organisation": organisation,
            "issue_date": issue_date,
        }
        # the 结余资金退回通知 first: the report cites it by its 文号
        refund_notice(session, settings=settings, **parts)  # type: ignore[arg-type]
        checkpoint = final_round(session, grant_id=grant.id or 0, round=evaluation.round)
        reports.append(
            write_document(
                session,
                role=ROLE,
                # built only when the report is written (a re-run passes over it)
                context=partial(report_context, session, **parts),  # type: ignore[arg-type]
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="checkpoint",
                subject_id=checkpoint.id if checkpoint is not None else None,
                filename=_report_name(application, evaluation.round),
                documents_dir=settings.documents_dir,
            )
        )
    return reports


def report_of(session: Session, *, checkpoint_id: int) -> GeneratedDocument | None:
    """The 结项评估报告 of one round (its final checkpoint)."""
    return session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.role == ROLE,
            GeneratedDocument.subject_entity == "checkpoint",
            GeneratedDocument.subject_id == checkpoint_id,
        )
    ).first()


def refund_of(session: Session, *, grant_id: int) -> GeneratedDocument | None:
    """The grant's 结余资金退回通知, once written."""
    return session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.role == REFUND,
            GeneratedDocument.subject_entity == "grant",
            GeneratedDocument.subject_id == grant_id,
        )
    ).first()


def queue_results(session: Session, *, competition: Competition) -> list[OutboxLetter]:
    """The final result letter, with its round's report (and the 结余资金退回通知), once per round
    and outcome; returns the new ones."""
    assert competition.id is not None
    before = letter_ids(session, competition_id=competition.id, role="final_result")
    letters = []
    for evaluation, grant, application, organisation in evaluated(session, competition_id=competition.id):
        assert grant.id is not None
        if not application.contact_email or not evaluation.outcome:
            continue
        checkpoint = final_round(session, grant_id=grant.id, round=evaluation.round)
        report = report_of(session, checkpoint_id=checkpoint.id or 0) if checkpoint is not None else None
        refund = refund_of(session, grant_id=grant.id)
        outcome = Outcome(evaluation.outcome)
        zh, _ = OUTCOME_LABELS[outcome]
        money = grant_reconciliation(session, grant_id=grant.id).money
        remarks = f"{zh}。" + settlement_sentence(session, grant=grant, outcome=outcome, money=money)
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="final_result",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"round-{evaluation.round}:{evaluation.outcome}",
                attachments=[d.id for d in (report, refund) if d is not None and d.id is not None],
                context={"score": str(evaluation.score), "grade": evaluation.grade, "remarks": remarks},
            )
        )
    session.flush()
    return [letter for letter in letters if letter.id not in before]
