"""结项's paperwork: the 结项评估报告 of each evaluated project and the result letter with it.

The report prints the score and grade, what was delivered against the plan (activities and
person-times planned in the 申报书 against those reported at the 结项), the money (granted,
released, spent per budget line, to return) and the supervisors' findings; with an expert panel,
its experts among the evaluators, their written opinions after the supervisors' findings
(``opinions``) and, in the conclusion, both aggregates with their weights and how many panel
sheets counted (``panel_note``). Both are idempotent:
the document is rewritten only when its content changed (a second round after 整改), and the letter
is keyed by the round and its outcome, so a re-run sends nothing new.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import percent
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.evaluation.annual import grant_reconciliation
from models.evaluation.checkpoints import final_checkpoint
from models.evaluation.grading import OUTCOME_LABELS, Outcome, planned_delivery
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.funding.tables import Grant
from models.intake.correspondence import write_to_applicant
from models.intake.tables import Application, Organisation
from models.mail.outbox import OutboxLetter, letter_ids
from models.review.tables import Expert
from models.settings import Settings
from models.states import AssignmentState
from models.supervision.tables import CheckpointReport, Supervisor

STAGE = "evaluation"
ROLE = "final_evaluation_report"


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
    """The 结项评估报告 of one project."""
    assert grant.id is not None
    checkpoint = final_checkpoint(session, grant_id=grant.id)
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
    sessions, people = planned_delivery(application.details)
    money = grant_reconciliation(session, grant_id=grant.id)
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
        "evaluation_date": checkpoint.due_on if checkpoint is not None else issue_date,
        "final_score": evaluation.score,
        "grade": evaluation.grade,
        "passed": evaluation.passed,
        "round": evaluation.round,
        "indicators": [
            {
                "name": "活动场次",
                "planned": f"{sessions}场",
                "actual": f"{evaluation.activities_held}场",
                "rate": percent(evaluation.activities_held, sessions),
            },
            {
                "name": "服务人次",
                "planned": f"{people:,}人次",
                "actual": f"{evaluation.person_times:,}人次",
                "rate": percent(evaluation.person_times, people),
            },
        ],
        "granted_fen": money.granted_fen,
        "paid_fen": money.released_fen,
        "spent_fen": money.spent_fen,
        "to_return_fen": money.to_return_fen,
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


def write_reports(
    session: Session, *, competition: Competition, issue_date: date, settings: Settings
) -> list[GeneratedDocument]:
    """The 结项评估报告 of every evaluated project (rewritten only when it changed)."""
    assert competition.id is not None
    config = competition_config(competition)
    documents = []
    for evaluation, grant, application, organisation in evaluated(session, competition_id=competition.id):
        context = report_context(
            session,
            competition=competition,
            config=config,
            evaluation=evaluation,
            grant=grant,
            application=application,
            organisation=organisation,
            issue_date=issue_date,
        )
        documents.append(
            write_document(
                session,
                role=ROLE,
                context=context,
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="grant",
                subject_id=grant.id,
                filename=f"结项评估报告-{application.ref}.docx",
                documents_dir=settings.documents_dir,
            )
        )
    return documents


def report_of(session: Session, *, grant_id: int) -> GeneratedDocument | None:
    return session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.role == ROLE,
            GeneratedDocument.subject_entity == "grant",
            GeneratedDocument.subject_id == grant_id,
        )
    ).first()


def queue_results(session: Session, *, competition: Competition) -> list[OutboxLetter]:
    """The final result letter, with its report, once per round and outcome; returns the new ones."""
    assert competition.id is not None
    before = letter_ids(session, competition_id=competition.id, role="final_result")
    letters = []
    for evaluation, grant, application, organisation in evaluated(session, competition_id=competition.id):
        assert grant.id is not None
        if not application.contact_email or not evaluation.outcome:
            continue
        report = report_of(session, grant_id=grant.id)
        zh, _ = OUTCOME_LABELS[Outcome(evaluation.outcome)]
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="final_result",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"round-{evaluation.round}:{evaluation.outcome}",
                attachments=[report.id] if report is not None and report.id is not None else [],
                context={"score": str(evaluation.score), "grade": evaluation.grade, "remarks": zh},
            )
        )
    session.flush()
    return [letter for letter in letters if letter.id not in before]
