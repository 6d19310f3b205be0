"""Supervision's letters and papers. Every function looks for what is missing and adds only that; a
letter's key names its subject and occasion, so a re-run (or a concurrent run) sends nothing twice.

Letters: the supervisor's invitation (``supervision_request``, one per checkpoint and link nonce —
a re-assigned checkpoint is announced to its new supervisor), the grantee's request for its own
report (``progress_report_request``), reminders once per configured offset to whoever has not
submitted (``supervision_reminder``, ``progress_report_reminder``), the 整改通知 with its document
(``rectification`` + ``rectification_notice``), the 拨款通知 letter for a released tranche
(the 拨款通知 and its ``tranche_paid`` letter come from the funding stage's ``open_gate``), and the 终止通知
(``termination``).

Papers, each written once from its decision's own record: 督导记录表 (``supervision_record``) per
submitted record of a settled checkpoint, 中期评估意见 (``midterm_opinion``) per settled checkpoint
other than the last configured one — its 拨付意见 from that checkpoint's outcome and round, citing
the 拨款通知 or 整改通知 by 文号 —, 整改通知 (``rectification_notice``) per rectification and 终止通知
(``termination_notice``) per termination, both numbered from the 文号 registry.

Long by design: every letter and paper of supervision, keyed the same way, so none is sent or
written twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.bilingual import chinese
from models.competition.config import NumberedKind
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import percent
from models.documents.numbering import assign_number, number_of
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.funding.tables import Grant, Tranche
from models.intake.correspondence import write_to_applicant
from models.mail.correspondence import write_to
from models.mail.letters import checked_address, letter_key
from models.mail.outbox import OutboxLetter, find_by_key
from models.money import format_yuan, yuan_in_capitals
from models.settings import Settings
from models.states import RECTIFICATIONS_TERMINABLE, CheckpointState, RectificationState
from models.supervision.links import report_link, supervise_link
from models.supervision.outcomes import rectification_for
from models.supervision.plan import grant_parts, project_plan
from models.supervision.records import MODES, checkpoint_context, progress_of, report_of, report_on_time
from models.supervision.schedule import checkpoints_of
from models.supervision.tables import (
    Checkpoint,
    CheckpointReport,
    GrantTermination,
    Rectification,
    Supervisor,
)

STAGE = "supervision"


def cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _known(session: Session, competition_id: int) -> set[int]:
    """The ids of the competition's supervision letters so far (to return only the new ones)."""
    rows = session.exec(
        select(OutboxLetter.id).where(
            OutboxLetter.competition_id == competition_id, OutboxLetter.stage == STAGE
        )
    )
    return {i for i in rows if i is not None}


def _new(letters: list[OutboxLetter], known: set[int]) -> list[OutboxLetter]:
    seen: set[int] = set()
    fresh = []
    for letter in letters:
        if letter.id is not None and letter.id not in known and letter.id not in seen:
            seen.add(letter.id)
            fresh.append(letter)
    return fresh


def _due_offset(due: date, today: date, offsets: list[int]) -> int | None:
    """The reminder due ``today``: the smallest offset whose day has come, before the due day."""
    if today > due:
        return None
    due_now = [d for d in offsets if due - timedelta(days=d) <= today]
    return min(due_now) if due_now else None


def _names(session: Session, checkpoint: Checkpoint) -> dict[str, Any]:
    _, application, organisation = grant_parts(session, checkpoint.grant_id)
    return {"application": application, "organisation": organisation}


def _checkpoint_name(name: str, checkpoint: Checkpoint) -> str:
    return name if checkpoint.round == 1 else f"{name}（整改复查）"


def queue_invitations(
    session: Session, *, competition: Competition, settings: Settings
) -> list[OutboxLetter]:
    """For every open checkpoint: the supervisor's link, and the grantee's report link (new letters)."""
    assert competition.id is not None
    known = _known(session, competition.id)
    letters = []
    for checkpoint in checkpoints_of(
        session, competition_id=competition.id, states=frozenset({CheckpointState.open})
    ):
        _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
        parts = _names(session, checkpoint)
        application, organisation = parts["application"], parts["organisation"]
        supervisor = session.get(Supervisor, checkpoint.supervisor_id)
        name = _checkpoint_name(plan.name, checkpoint)
        if supervisor is not None and checkpoint.token_nonce:
            letters.append(
                write_to(
                    session,
                    competition=competition,
                    role="supervision_request",
                    stage=STAGE,
                    email=supervisor.email,
                    name=supervisor.name,
                    subject_entity="checkpoint",
                    subject_id=checkpoint.id,
                    occasion=f"link-{checkpoint.token_nonce[:8]}",
                    context={
                        "application_ref": application.ref,
                        "project_title": application.title,
                        "organisation_name": organisation.name,
                        "checkpoint_name": name,
                        "report_url": supervise_link(checkpoint, settings),
                        "due_date": cn_day(checkpoint.due_on),
                    },
                )
            )
        if checkpoint.report_nonce and application.contact_email:
            letters.append(
                write_to_applicant(
                    session,
                    competition=competition,
                    role="progress_report_request",
                    stage=STAGE,
                    application=application,
                    organisation=organisation,
                    occasion=f"checkpoint-{checkpoint.id}",
                    context={
                        "checkpoint_name": name,
                        "report_name": plan.report_name,
                        "report_url": report_link(checkpoint, settings),
                        "due_date": cn_day(checkpoint.report_due_on or checkpoint.due_on),
                        "missing_fails": plan.missing_report_fails,
                    },
                )
            )
    session.flush()
    return _new(letters, known)


def _once(
    session: Session, *, role: str, email: str, entity: str, subject_id: int | None, occasion: str
) -> bool:
    """Whether this letter has not been queued yet."""
    key = letter_key(
        role=role,
        stage=STAGE,
        recipient_email=email,
        subject_entity=entity,
        subject_id=subject_id,
        occasion=occasion,
    )
    return find_by_key(session, key=key) is None


def queue_reminders(
    session: Session, *, competition: Competition, settings: Settings, now: datetime
) -> list[OutboxLetter]:
    """Remind whoever has not submitted, once per configured offset before their due day."""
    assert competition.id is not None
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    letters = []
    for checkpoint in checkpoints_of(
        session, competition_id=competition.id, states=frozenset({CheckpointState.open})
    ):
        _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
        parts = _names(session, checkpoint)
        application, organisation = parts["application"], parts["organisation"]
        name = _checkpoint_name(plan.name, checkpoint)
        record = report_of(session, checkpoint_id=checkpoint.id or 0)
        supervisor = session.get(Supervisor, checkpoint.supervisor_id)
        offset = _due_offset(checkpoint.due_on, today, plan.reminder_days_before)
        if supervisor is not None and (record is None or record.draft) and offset is not None:
            occasion = f"{offset}d-before-{checkpoint.token_nonce[:8]}"
            if _once(
                session,
                role="supervision_reminder",
                email=supervisor.email,
                entity="checkpoint",
                subject_id=checkpoint.id,
                occasion=occasion,
            ):
                letters.append(
                    write_to(
                        session,
                        competition=competition,
                        role="supervision_reminder",
                        stage=STAGE,
                        email=supervisor.email,
                        name=supervisor.name,
                        subject_entity="checkpoint",
                        subject_id=checkpoint.id,
                        occasion=occasion,
                        context={
                            "application_ref": application.ref,
                            "project_title": application.title,
                            "organisation_name": organisation.name,
                            "checkpoint_name": name,
                            "report_url": supervise_link(checkpoint, settings),
                            "due_date": cn_day(checkpoint.due_on),
                            "days_left": (checkpoint.due_on - today).days,
                        },
                    )
                )
        report_due = checkpoint.report_due_on or checkpoint.due_on
        progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
        offset = _due_offset(report_due, today, plan.reminder_days_before)
        if (
            offset is not None
            and not report_on_time(checkpoint, progress, timezone=settings.timezone)
            and application.contact_email
        ):
            occasion = f"checkpoint-{checkpoint.id}-{offset}d-before"
            if _once(
                session,
                role="progress_report_reminder",
                email=application.contact_email,
                entity="application",
                subject_id=application.id,
                occasion=occasion,
            ):
                letters.append(
                    write_to_applicant(
                        session,
                        competition=competition,
                        role="progress_report_reminder",
                        stage=STAGE,
                        application=application,
                        organisation=organisation,
                        occasion=occasion,
                        context={
                            "checkpoint_name": name,
                            "report_name": plan.report_name,
                            "report_url": report_link(checkpoint, settings),
                            "due_date": cn_day(report_due),
                            "days_left": (report_due - today).days,
                            "missing_fails": plan.missing_report_fails,
                        },
                    )
                )
    session.flush()
    return letters


# ---- papers -------------------------------------------------------------------------------------


def _indicator_rows(session: Session, checkpoint: Checkpoint) -> list[dict[str, str]]:
    """Plan beside what was reported: sessions, person-times, beneficiaries, money."""
    plan = project_plan(session, grant_id=checkpoint.grant_id)
    report = report_of(session, checkpoint_id=checkpoint.id or 0)
    progress = progress_of(session, checkpoint_id=checkpoint.id or 0)

    held = report.activities_held if report else 0
    people = report.person_times if report else 0
    spent = report.spent_fen if report else 0
    return [
        {
            "name": "活动场次",
            "planned": plan.plan.sessions_text,
            "actual": f"{held}场",
            "rate": percent(held, plan.sessions),
            "evidence": f"进度报告列 {len(progress.activities) if progress else 0} 项活动",
            "note": "",
        },
        {
            "name": "服务人次",
            "planned": plan.plan.participants_text,
            "actual": f"{people:,}人次",
            "rate": percent(people, plan.participants),
            "evidence": "签到表",
            "note": "",
        },
        {
            "name": "受益人数",
            "planned": plan.plan.beneficiaries_text,
            "actual": f"{report.beneficiaries if report else 0:,}人",
            "rate": percent(report.beneficiaries if report else 0, plan.beneficiaries),
            "evidence": "",
            "note": "",
        },
        {
            "name": "经费使用",
            "planned": format_yuan(plan.amount_fen, unit=True),
            "actual": format_yuan(spent, unit=True),
            "rate": percent(spent, plan.amount_fen),
            "evidence": "票据",
            "note": "",
        },
    ]


THUMBNAIL_SIDE = 480  # pixels; printed 60 mm wide


def evidence_for_record(session: Session, *, checkpoint_id: int, settings: Settings) -> list[dict[str, Any]]:
    """The 督导记录表's evidence list: every file of the checkpoint, images embedded as small PNGs."""
    import io

    from PIL import Image

    from models.documents.engine.docx import InlineImage
    from models.supervision.evidence import KIND_LABELS, evidence_of

    rows = []
    for item in evidence_of(session, checkpoint_id=checkpoint_id):
        image = None
        path = settings.uploads_dir / item.path
        if item.media_type.startswith("image/") and path.is_file():
            with Image.open(path) as opened:
                picture = opened.convert("RGB")
            picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            out = io.BytesIO()
            picture.save(out, format="PNG", optimize=True)
            image = InlineImage(out.getvalue(), 60, item.name)
        owner = "项目方" if item.owner == "grantee" else "督导"
        rows.append(
            {"kind": f"{KIND_LABELS.get(item.kind, item.kind)}（{owner}）", "name": item.name, "image": image}
        )
    return rows


def _documents_dir(settings: Settings) -> Path:
    return settings.documents_dir


def _opinion(
    session: Session, checkpoint: Checkpoint, report: CheckpointReport, report_name: str, settings: Settings
) -> str:
    """The 评估意见 of a settled checkpoint, from its own record: a late grantee report that failed
    it, the supervisor's reason for overriding the pass mark, the findings."""
    _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
    progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
    lines = []
    if plan.missing_report_fails and not report_on_time(checkpoint, progress, timezone=settings.timezone):
        lines.append(f"项目方未按期提交{report_name}，按约定视为不合格。")
    if report.override_reason:
        lines.append(f"督导人员改判为{'合格' if report.passed else '不合格'}，理由：{report.override_reason}")
    if report.findings:
        lines.append(report.findings)
    passed = checkpoint.state is CheckpointState.passed
    return "\n".join(lines) or ("评估合格。" if passed else "评估不合格。")


def _local_day(moment: datetime, settings: Settings) -> date:
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def _rectification_number(
    session: Session, competition: Competition, rectification: Rectification, settings: Settings
) -> str:
    """The 文号 of a rectification's 整改通知 (given now if the notice is still to be written)."""
    return assign_number(
        session,
        competition=competition,
        kind=NumberedKind.rectification_notice,
        subject_entity="rectification",
        subject_id=rectification.id or 0,
        issued_on=_local_day(rectification.opened_at, settings),
    )


def _tranche_opinion(
    session: Session, competition: Competition, checkpoint: Checkpoint, settings: Settings
) -> str:
    """四、拨付意见: what this checkpoint's decision did to the tranche gated on it — from the
    checkpoint's own outcome and round, never from what later decisions did to the tranche, and
    with the 文号 of the paper that carries it out (the 拨款通知, the 整改通知)."""
    tranche = _gated_tranche(session, checkpoint)
    if tranche is None:
        return "本检查点不涉及拨付。"
    amount = f"{tranche.label}{format_yuan(tranche.amount_fen, unit=True)}"
    rectification = rectification_for(session, checkpoint=checkpoint)
    notice = _rectification_number(session, competition, rectification, settings) if rectification else ""
    by_notice = f"按整改通知（{notice}）" if notice else ""
    if checkpoint.state is CheckpointState.passed:
        paid = number_of(
            session, kind=NumberedKind.payment_notice, subject_entity="tranche", subject_id=tranche.id or 0
        )
        release = f"同意拨付{amount}" + (f"，见拨款通知（{paid}）" if paid else "") + "。"
        return f"{by_notice}整改后经复查合格，{release}" if checkpoint.round > 1 else release
    if checkpoint.round == 1:
        return f"{amount}暂缓拨付，待{by_notice}整改并经复查合格后拨付。"
    return (
        f"{by_notice}整改后经复查仍不合格，{amount}不予拨付。"
        "是否终止资助协议并追回已拨付资金，由主办方依资助协议第七条决定，另行书面通知。"
    )


def write_papers(
    session: Session, *, competition: Competition, settings: Settings, today: date
) -> list[GeneratedDocument]:
    """督导记录表 and 中期评估意见 for every settled checkpoint with a record — each written once,
    from the checkpoint's own outcome and round (never from what a later decision did)."""
    assert competition.id is not None
    config = competition_config(competition)
    last = config.checkpoints[-1].code if config.checkpoints else ""
    written = []
    settled = frozenset({CheckpointState.passed, CheckpointState.failed})
    for checkpoint in checkpoints_of(session, competition_id=competition.id, states=settled):
        report = report_of(session, checkpoint_id=checkpoint.id or 0)
        if report is None or report.draft:
            continue
        _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
        if checkpoint.settled_at is not None:
            today = checkpoint.settled_at.astimezone(ZoneInfo(settings.timezone)).date()
        grant, application, organisation = grant_parts(session, checkpoint.grant_id)
        supervisor = session.get(Supervisor, report.supervisor_id)
        name = _checkpoint_name(plan.name, checkpoint)
        rows = _indicator_rows(session, checkpoint)
        suffix = f"{application.ref}-{checkpoint.code}-{checkpoint.round}"
        common = {
            "competition_name": competition.name,
            "project_title": application.title,
            "application_ref": application.ref,
            "organisation_name": organisation.name,
            "checkpoint_name": name,
        }
        written.append(
            write_document(
                session,
                role="supervision_record",
                context={
                    **common,
                    "supervisor_name": supervisor.name if supervisor else "",
                    "visit_date": report.visit_date or today,
                    "visit_method": MODES.get(report.visit_mode, report.visit_mode),
                    "location": application.community + "社区",
                    "participants": f"项目联系人{application.contact_name}"
                    if application.contact_name
                    else "",
                    "indicators": [
                        {k: r[k] for k in ("name", "planned", "actual", "evidence", "note")} for r in rows
                    ],
                    "beneficiary_feedback": str(report.indicators.get("feedback", {}).get("comment", ""))
                    if isinstance(report.indicators.get("feedback"), dict)
                    else "",
                    "findings": report.findings,
                    "suggestions": report.rectify,
                    "score": report.score,
                    "passed": checkpoint.state is CheckpointState.passed,
                    "evidence": evidence_for_record(
                        session, checkpoint_id=checkpoint.id or 0, settings=settings
                    ),
                },
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="checkpoint",
                subject_id=checkpoint.id,
                filename=f"督导记录表-{suffix}",
                documents_dir=_documents_dir(settings),
            )
        )
        if checkpoint.code == last:
            continue  # the final evaluation writes its own report
        written.append(
            write_document(
                session,
                role="midterm_opinion",
                context={
                    **common,
                    "evaluation_date": report.visit_date or today,
                    "supervisor_names": [supervisor.name] if supervisor else [],
                    "score": report.score,
                    "pass_score": plan.pass_score,
                    "passed": checkpoint.state is CheckpointState.passed,
                    "indicators": [{k: r[k] for k in ("name", "planned", "actual", "rate")} for r in rows],
                    "granted_fen": grant.amount_fen,
                    "spent_fen": report.spent_fen,
                    "opinion": _opinion(session, checkpoint, report, plan.report_name, settings),
                    "next_tranche": _tranche_opinion(session, competition, checkpoint, settings),
                    "operator": config.competition.operator or competition.organiser,
                    "issue_date": today,
                },
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="checkpoint",
                subject_id=checkpoint.id,
                filename=f"中期评估意见-{suffix}",
                documents_dir=_documents_dir(settings),
            )
        )
    return written


def _rectification_notice(
    session: Session,
    *,
    competition: Competition,
    rectification: Rectification,
    settings: Settings,
    today: date,
) -> GeneratedDocument:
    checkpoint = session.get(Checkpoint, rectification.checkpoint_id)
    assert checkpoint is not None and competition.id is not None
    _, _, plan, config = checkpoint_context(session, checkpoint.id or 0)
    _, application, organisation = grant_parts(session, rectification.grant_id)
    withheld = _gated_tranche(session, checkpoint)
    reports = session.exec(
        select(CheckpointReport)
        .where(CheckpointReport.checkpoint_id == checkpoint.id, col(CheckpointReport.draft).is_(False))
        .order_by(col(CheckpointReport.submitted_at), col(CheckpointReport.id))
    )  # one record at a 中期评估; every supervisor's at a 结项评估 with a panel
    problems = list(
        dict.fromkeys(ln.strip() for report in reports for ln in report.findings.splitlines() if ln.strip())
    )
    return write_document(
        session,
        role="rectification_notice",
        context={
            "doc_number": _rectification_number(session, competition, rectification, settings),
            "organisation_name": organisation.name,
            "competition_name": competition.name,
            "project_title": application.title,
            "application_ref": application.ref,
            "checkpoint_name": plan.name,
            "score": checkpoint.score if checkpoint.score is not None else 0,
            "pass_score": plan.pass_score,
            "problems": problems or [chinese(checkpoint.outcome_reason)],
            "requirements": rectification.items,
            "deadline": rectification.deadline,
            "withheld_label": withheld.label if withheld else "—",
            "withheld_fen": withheld.amount_fen if withheld else 0,
            "contact": config.competition.contact,
            "operator": config.competition.operator or competition.organiser,
            "issue_date": today,
        },
        competition_id=competition.id,
        stage=STAGE,
        subject_entity="rectification",
        subject_id=rectification.id,
        filename=f"整改通知-{application.ref}-{rectification.id}",
        documents_dir=_documents_dir(settings),
    )


def _gated_tranche(session: Session, checkpoint: Checkpoint) -> Tranche | None:
    """The tranche gated on a checkpoint's code — the one its outcome released or withheld (None
    when none is)."""
    return session.exec(
        select(Tranche).where(Tranche.grant_id == checkpoint.grant_id, Tranche.gate == checkpoint.code)
    ).first()


def queue_rectification_notices(
    session: Session, *, competition: Competition, settings: Settings
) -> list[OutboxLetter]:
    """The 整改通知 of every rectification — the document and its letter, dated the day the
    rectification opened — once each (keyed by the rectification): for a failed 中期评估 from the
    supervision flow, for a failed 结项评估 from the final evaluation's flow; returns the new letters."""
    assert competition.id is not None
    known = _known(session, competition.id)
    letters = []
    grants = select(Grant.id).where(Grant.competition_id == competition.id)
    for rectification in session.exec(
        select(Rectification).where(col(Rectification.grant_id).in_(grants)).order_by(col(Rectification.id))
    ):
        _, application, organisation = grant_parts(session, rectification.grant_id)
        if not application.contact_email:
            continue
        key = _key_for(checked_address(application.contact_email), application.id, rectification.id)
        if find_by_key(session, key=key) is not None:
            continue  # the notice and its letter went out already
        opened_on = rectification.opened_at.astimezone(ZoneInfo(settings.timezone)).date()
        document = _rectification_notice(
            session, competition=competition, rectification=rectification, settings=settings, today=opened_on
        )
        checkpoint = session.get(Checkpoint, rectification.checkpoint_id)
        assert checkpoint is not None
        _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
        withheld = _gated_tranche(session, checkpoint)
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="rectification",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"rectification-{rectification.id}",
                attachments=[document.id] if document.id is not None else [],
                context={
                    "checkpoint_name": plan.name,
                    "findings": rectification.items,
                    "rectify_by": cn_day(rectification.deadline),
                    "withheld_amount": format_yuan(withheld.amount_fen if withheld else 0),
                },
            )
        )
    session.flush()
    return _new(letters, known)


def queue_outcome_letters(
    session: Session, *, competition: Competition, settings: Settings, now: datetime
) -> list[OutboxLetter]:
    """整改通知 (document + letter) and 终止通知 (document + letter), each once; returns the new
    letters (the 拨款通知 and its letter come from funding's ``open_gate``)."""
    assert competition.id is not None
    known = _known(session, competition.id)
    letters = queue_rectification_notices(session, competition=competition, settings=settings)
    letters += queue_termination_notices(session, competition=competition, settings=settings)
    return _new(letters, known)


def _termination_grounds(
    session: Session, competition: Competition, grant_id: int, settings: Settings
) -> str:
    """Why the agreement ends, citing the earlier paper it follows from: the 整改通知 whose
    rectification failed or lapsed, else the failed 结项评估."""
    rectification = session.exec(
        select(Rectification)
        .where(Rectification.grant_id == grant_id, col(Rectification.state).in_(RECTIFICATIONS_TERMINABLE))
        .order_by(col(Rectification.id).desc())
    ).first()
    if rectification is None:
        return "结项评估不合格"
    number = _rectification_number(session, competition, rectification, settings)
    checkpoint = session.get(Checkpoint, rectification.checkpoint_id)
    name = checkpoint_context(session, checkpoint.id or 0)[2].name if checkpoint is not None else "评估"
    lapsed = rectification.state is RectificationState.lapsed
    outcome = "逾期未提交整改报告" if lapsed else "整改后经复查仍不合格"
    return f"{name}不合格，依整改通知（{number}）限期整改，{outcome}"


def termination_notice(
    session: Session, *, competition: Competition, termination: GrantTermination, settings: Settings
) -> GeneratedDocument:
    """The 终止通知 of one termination: why, the money paid, accepted, to be returned and no longer
    paid — written once, from the termination's own record."""
    assert competition.id is not None
    grant, application, organisation = grant_parts(session, termination.grant_id)
    config = competition_config(competition)
    day = _local_day(termination.terminated_at, settings)
    return write_document(
        session,
        role="termination_notice",
        context={
            "doc_number": assign_number(
                session,
                competition=competition,
                kind=NumberedKind.termination_notice,
                subject_entity="termination",
                subject_id=termination.id or 0,
                issued_on=day,
            ),
            "organisation_name": organisation.name,
            "competition_name": competition.name,
            "project_title": application.title,
            "application_ref": application.ref,
            "agreement_number": grant.agreement_no,
            "grounds": _termination_grounds(session, competition, grant.id or 0, settings),
            "reason": chinese(termination.reason),
            "terminated_on": day,
            "grant_fen": grant.amount_fen,
            "released_fen": termination.released_fen,
            "accepted_spend_fen": termination.accepted_spend_fen,
            "clawback_fen": termination.clawback_fen,
            "cancelled_fen": termination.cancelled_fen,
            "return_days": config.settlement.return_days,
            "return_to": config.return_to,
            "contact": config.competition.contact,
            "organiser": competition.organiser,
            "issue_date": day,
        },
        competition_id=competition.id,
        stage=STAGE,
        subject_entity="termination",
        subject_id=termination.id,
        filename=f"终止通知-{application.ref}",
        documents_dir=_documents_dir(settings),
    )


def queue_termination_notices(
    session: Session, *, competition: Competition, settings: Settings
) -> list[OutboxLetter]:
    """The 终止通知 of every termination — the document and its letter, dated the day of the
    termination — once each (keyed by the termination); returns the new letters."""
    assert competition.id is not None
    known = _known(session, competition.id)
    letters = []
    grants = select(Grant.id).where(Grant.competition_id == competition.id)
    for termination in session.exec(
        select(GrantTermination)
        .where(col(GrantTermination.grant_id).in_(grants))
        .order_by(col(GrantTermination.id))
    ):
        _, application, organisation = grant_parts(session, termination.grant_id)
        document = termination_notice(
            session, competition=competition, termination=termination, settings=settings
        )
        if not application.contact_email:
            continue
        config = competition_config(competition)
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="termination",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"termination-{termination.id}",
                attachments=[document.id] if document.id is not None else [],
                context={
                    "doc_number": number_of(
                        session,
                        kind=NumberedKind.termination_notice,
                        subject_entity="termination",
                        subject_id=termination.id or 0,
                    ),
                    "reason": chinese(termination.reason),
                    "terminated_on": cn_day(_local_day(termination.terminated_at, settings)),
                    "released_amount": format_yuan(termination.released_fen),
                    "accepted_spend": format_yuan(termination.accepted_spend_fen),
                    "clawback_amount": format_yuan(termination.clawback_fen),
                    "clawback_in_capitals": yuan_in_capitals(termination.clawback_fen),
                    "cancelled_amount": format_yuan(termination.cancelled_fen),
                    "return_days": config.settlement.return_days,
                    "return_to": config.return_to,
                },
            )
        )
    session.flush()
    return _new(letters, known)


def _key_for(email: str, application_id: int | None, rectification_id: int | None) -> str:
    return letter_key(
        role="rectification",
        stage=STAGE,
        recipient_email=email,
        subject_entity="application",
        subject_id=application_id,
        occasion=f"rectification-{rectification_id}",
    )
