"""资格审查 Screening's paperwork: the 资格审查表 of each application (every rule, its requirement,
符合/不符合 and why, overrides included), and the result letter to each applicant — with the sheet
attached when the application is not eligible.

Idempotent: a sheet is written once; when a rule's result changes after it was written (an
administrator's override) that ruling gets a sheet of its own (``资格审查表-<ref>（第2版）``) and the
first stays as it was. A result letter is keyed by the decision, so an applicant hears again only
when an override changes the outcome.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.errors import InputError, NotFound, Problem
from models.intake.correspondence import write_to_applicant
from models.intake.tables import Application, EligibilityCheck, Organisation
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter, letter_ids
from models.screening.eligibility import RULE_LABELS, checks_of, sheet_rows
from models.settings import Settings
from models.stage_order import StageRun, require_stage
from models.states import ORGANISATION_KIND_LABELS, ApplicationState, CompetitionStage

STAGE = "screening"
DECIDED = (ApplicationState.eligible, ApplicationState.ineligible)


def check_screening_may_run(competition: Competition, *, now: datetime) -> None:
    """Refuse screening before any of its work is done: a competition still in 筹备 (no call
    published) cannot be screened (``models.stage_order``), nor one whose applications are still
    open. Changes nothing."""
    require_stage(StageRun.screening, slug=competition.slug, stage=competition.stage)
    close = competition_config(competition).deadlines.applications_close
    if competition.stage is CompetitionStage.call_open and now < close:
        raise InputError(
            Problem(
                competition.slug,
                "deadlines.applications_close",
                f"申报尚未截止（{close.isoformat()}），不能开始资格审查",
                f"applications are open until {close.isoformat()}: screening cannot start yet",
            )
        )


def open_screening(session: Session, *, competition: Competition, now: datetime, actor: str) -> bool:
    """征集中 → 资格审查: the stage's last step, taken once every application is screened, its
    资格审查表 written and its result letter queued — so a run that fails half-way leaves the
    competition 征集中, where the next run (by hand or the hourly ``advance``) finishes it, and
    ``timeline.next_step`` never reads a half-done screening as done. False when the stage had
    moved already."""
    check_screening_may_run(competition, now=now)
    if competition.stage is not CompetitionStage.call_open:
        return False
    set_state(
        session,
        competition,
        CompetitionStage.screening,
        actor=actor,
        reason="资格审查完成 / screening done",
    )
    return True


def failed_reasons(checks: list[EligibilityCheck], config: CompetitionConfig) -> list[str]:
    """``规则：原因`` for each rule not met (with an administrator's override note)."""
    return [f"{row['rule']}：{row['note']}" for row in sheet_rows(checks, config) if row["result"] != "符合"]


def eligibility_sheet_context(
    application: Application,
    organisation: Organisation,
    checks: list[EligibilityCheck],
    *,
    competition: Competition,
    config: CompetitionConfig,
    reviewer: str,
    review_date: date,
) -> dict[str, Any]:
    """资格审查表: the application, each rule's result and reason, and the conclusion."""
    passed = all(c.passed for c in checks)
    failed = [RULE_LABELS.get(c.rule, c.rule) for c in checks if not c.passed]
    return {
        "competition_name": competition.name,
        "application_ref": application.ref,
        "project_title": application.title,
        "organisation_name": organisation.name,
        "org_kind": ORGANISATION_KIND_LABELS.get(organisation.kind, str(organisation.kind)),
        "registration_number": organisation.registration_number,
        "amount_fen": application.amount_fen,
        "communities": list(application.communities or [application.community]),
        "checks": sheet_rows(checks, config),
        "passed": passed,
        "conclusion": "符合申报条件，进入专家评审。"
        if passed
        else f"不符合申报条件（{'、'.join(failed)}），不进入专家评审。",
        "reviewer": reviewer,
        "review_date": review_date,
    }


def _screened(session: Session, *, competition_id: int) -> list[tuple[Application, Organisation]]:
    have_checks = select(EligibilityCheck.application_id)
    return list(
        session.exec(
            select(Application, Organisation)
            .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
            .where(Application.competition_id == competition_id, col(Application.id).in_(have_checks))
            .order_by(col(Application.ref))
        ).all()
    )


def sheets_of(session: Session, *, application_id: int) -> list[GeneratedDocument]:
    """An application's 资格审查表, the first one first (a ruling after it wrote the next)."""
    return list(
        session.exec(
            select(GeneratedDocument)
            .where(
                GeneratedDocument.role == "eligibility_sheet",
                GeneratedDocument.subject_entity == "application",
                GeneratedDocument.subject_id == application_id,
            )
            .order_by(col(GeneratedDocument.id))
        )
    )


def sheet_of(session: Session, *, application_id: int) -> GeneratedDocument | None:
    """The application's latest 资格审查表: the one that records its standing now."""
    sheets = sheets_of(session, application_id=application_id)
    return sheets[-1] if sheets else None


def write_sheets(
    session: Session, *, competition: Competition, reviewer: str, review_date: date, settings: Settings
) -> list[GeneratedDocument]:
    """A 资格审查表 for each screened application that has none, or whose results changed since."""
    assert competition.id is not None
    config = competition_config(competition)
    written = []
    for application, organisation in _screened(session, competition_id=competition.id):
        assert application.id is not None
        checks = checks_of(session, application_id=application.id)
        written_before = sheets_of(session, application_id=application.id)
        if written_before and all(c.checked_at <= written_before[-1].created_at for c in checks):
            continue
        # a ruling after the sheet was written is a later decision: its own sheet, the first kept
        version = f"（第{len(written_before) + 1}版）" if written_before else ""
        written.append(
            write_document(
                session,
                role="eligibility_sheet",
                context=eligibility_sheet_context(
                    application,
                    organisation,
                    checks,
                    competition=competition,
                    config=config,
                    reviewer=reviewer,
                    review_date=review_date,
                ),
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="application",
                subject_id=application.id,
                filename=f"资格审查表-{application.ref}{version}.docx",
                documents_dir=settings.documents_dir,
            )
        )
    return written


def queue_results(session: Session, *, competition: Competition) -> list[OutboxLetter]:
    """The screening result to each applicant decided eligible or not (once per decision);
    returns the letters queued now."""
    assert competition.id is not None
    config = competition_config(competition)
    before = letter_ids(session, competition_id=competition.id, role="eligibility_result")
    letters = []
    for application, organisation in _screened(session, competition_id=competition.id):
        assert application.id is not None
        if application.state not in DECIDED or not application.contact_email:
            continue
        eligible = application.state is ApplicationState.eligible
        sheet = None if eligible else sheet_of(session, application_id=application.id)
        checks = checks_of(session, application_id=application.id)
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="eligibility_result",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=str(application.state),
                attachments=[sheet.id] if sheet is not None and sheet.id is not None else [],
                context={
                    "eligible": eligible,
                    "reasons": [] if eligible else failed_reasons(checks, config),
                },
            )
        )
    session.flush()
    return [letter for letter in letters if letter.id not in before]


def screening_report(session: Session, *, competition_id: int) -> list[dict[str, Any]]:
    """Every screened application: its state and, when a rule failed, the reasons (CLI, demo, UI)."""
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    config = competition_config(competition)
    rows = []
    for application, organisation in _screened(session, competition_id=competition_id):
        assert application.id is not None
        checks = checks_of(session, application_id=application.id)
        rows.append(
            {
                "id": application.id,
                "ref": application.ref,
                "title": application.title,
                "organisation": organisation.name,
                "state": str(application.state),
                "eligible": all(c.passed for c in checks),
                "reasons": failed_reasons(checks, config),
                "overrides": [
                    {"rule": c.rule, "passed": c.passed, "by": c.overridden_by, "reason": c.override_reason}
                    for c in checks
                    if c.overridden_by
                ],
            }
        )
    return rows


def application_by_ref(session: Session, *, competition_id: int, ref: str) -> Application:
    found = session.exec(
        select(Application).where(Application.competition_id == competition_id, Application.ref == ref)
    ).first()
    if found is None:
        raise NotFound(f"没有申报编号 {ref} / no application {ref!r} in this competition")
    return found


def rule_code(name: str) -> str:
    """A rule by its code (``barred``) or its Chinese label (``禁止申报名单``)."""
    if name in RULE_LABELS:
        return name
    for code, label in RULE_LABELS.items():
        if label == name:
            return code
    known = "、".join(f"{code}（{label}）" for code, label in RULE_LABELS.items())
    raise NotFound(f"没有审查规则 {name}（可选：{known}） / no eligibility rule {name!r}")
