"""公示 The public notice of the approved decision, its window, and the objections raised during it.

``publish_notice`` writes the 拟资助项目公示 (projects, organisations, amounts, the judges, the window
and where to object) and opens a window of N working days (``models.funding.workdays``); it is
idempotent: while a notice is current, publishing again returns it. ``add_objection`` records a
named objection against a listed project while the window is open. ``resolve_objection``:
dismissed keeps the reason; upheld excludes the project, supersedes the notice, re-drafts the
decision (back in 立项决定) and — unless that opens a tie the administrator must decide — approves
it again and publishes a new notice with a new window. ``close_publicity`` closes the notice once
its window has passed and no objection is open: the projects become 已立项 and the grants are made.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from models.audit import record
from models.competition.tables import Competition, competition_config
from models.documents.registry import write_document
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.decision import (
    approve_decision,
    competition_of,
    decisions_of,
    draft_decision,
    open_objections,
)
from models.funding.tables import FundingDecision, Objection, PublicityNotice
from models.funding.workdays import BEIJING, publicity_window
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.review.tables import Expert, ReviewAssignment
from models.states import ApplicationState, AssignmentState, CompetitionStage, ObjectionState

STAGE = "funding"


def current_notice(session: Session, *, competition_id: int) -> PublicityNotice | None:
    """The notice not superseded, newest first (None before the first publication)."""
    return session.exec(
        select(PublicityNotice)
        .where(PublicityNotice.competition_id == competition_id, col(PublicityNotice.superseded_at).is_(None))
        .order_by(col(PublicityNotice.seq).desc())
    ).first()


def judges_of(session: Session, *, competition_id: int) -> list[str]:
    """The experts who submitted at least one sheet, in the order they were registered."""
    submitted = select(ReviewAssignment.expert_id).where(
        ReviewAssignment.competition_id == competition_id, ReviewAssignment.state == AssignmentState.submitted
    )
    return [
        e.name
        for e in session.exec(select(Expert).where(col(Expert.id).in_(submitted)).order_by(col(Expert.id)))
    ]


def listed_projects(
    session: Session, *, competition_id: int
) -> list[tuple[FundingDecision, Application, Organisation]]:
    """The funded projects of the decision, in pool order then rank."""
    found = []
    for decision in decisions_of(session, competition_id=competition_id):
        if not decision.funded:
            continue
        application = session.get(Application, decision.application_id)
        assert application is not None
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None
        found.append((decision, application, organisation))
    return found


def publicity_context(
    session: Session, *, competition: Competition, notice: PublicityNotice
) -> dict[str, Any]:
    assert competition.id is not None
    config = competition_config(competition)
    names = {c.code: c.name for c in config.categories}
    projects = [
        {
            "seq": i,
            "ref": application.ref,
            "title": application.title,
            "organisation": organisation.name,
            "category": names.get(application.category, application.category),
            "amount_fen": decision.amount_fen,
        }
        for i, (decision, application, organisation) in enumerate(
            listed_projects(session, competition_id=competition.id), start=1
        )
    ]
    info = config.competition
    return {
        "competition_name": competition.name,
        "organiser": competition.organiser,
        "projects": projects,
        "project_count": len(projects),
        "total_fen": sum(p["amount_fen"] for p in projects),
        "publicity_start": notice.first_day,
        "publicity_end": notice.ends_at.astimezone(BEIJING),
        "judges": judges_of(session, competition_id=competition.id),
        "objection_contact": config.funding.objection_contact or info.contact,
        "objection_address": info.address or info.operator or competition.organiser,
        "issue_date": notice.published_at.astimezone(BEIJING).date(),
    }


def publish_notice(
    session: Session, *, competition_id: int, now: datetime, actor: str, documents_dir: Path
) -> PublicityNotice:
    """Publish the 公示 for the approved decision (idempotent while a notice is current)."""
    competition, config = competition_of(session, competition_id)
    notice = current_notice(session, competition_id=competition_id)
    if notice is not None:
        return notice
    if competition.stage is not CompetitionStage.publicity:
        raise Conflict(
            f"资助方案尚未批准（阶段“{competition.stage}”），不能公示 / "
            "approve the decision before the notice"
        )
    seq = (
        session.exec(
            select(func.max(PublicityNotice.seq)).where(PublicityNotice.competition_id == competition_id)
        ).one()
        or 0
    ) + 1
    first, ends = publicity_window(
        now,
        config.funding.publicity_working_days,
        ends_at=config.funding.publicity_ends_at,
        holidays=config.holidays,
        make_up=config.make_up_workdays,
    )
    notice = PublicityNotice(
        competition_id=competition_id,
        seq=seq,
        published_at=now,
        first_day=first,
        ends_at=ends,
        working_days=config.funding.publicity_working_days,
    )
    session.add(notice)
    session.flush()
    document = write_document(
        session,
        role="funding_publicity",
        context=publicity_context(session, competition=competition, notice=notice),
        competition_id=competition_id,
        stage=STAGE,
        subject_entity="publicity",
        subject_id=notice.id,
        filename=f"拟资助项目公示（第{seq}次）.docx" if seq > 1 else "拟资助项目公示.docx",
        documents_dir=documents_dir,
    )
    notice.document_id = document.id
    session.add(notice)
    record(
        session,
        actor=actor,
        entity="publicity_notice",
        entity_id=notice.id or 0,
        action="publicity_published",
        reason=f"公示第{seq}次：{first}起{notice.working_days}个工作日，"
        f"至{ends.astimezone(BEIJING):%Y-%m-%d %H:%M} / "
        f"notice {seq} published, window ends {ends.isoformat()}",
    )
    session.flush()
    return notice


def _application_by_ref(session: Session, *, competition_id: int, ref: str) -> Application:
    found = session.exec(
        select(Application).where(Application.competition_id == competition_id, Application.ref == ref)
    ).first()
    if found is None:
        raise NotFound(f"没有申报编号 {ref} / no application {ref!r} in this competition")
    return found


def add_objection(
    session: Session, *, competition_id: int, ref: str, raised_by: str, text: str, now: datetime, actor: str
) -> Objection:
    """Record a named objection against a project on the notice, during its window (idempotent)."""
    where = f"publicity objection add {ref}"
    raised_by, text = raised_by.strip(), text.strip()
    if not raised_by:
        raise InputError(
            Problem(where, "--by", "异议须实名提出", "an objection needs the name of who raises it")
        )
    if not text:
        raise InputError(Problem(where, "--text", "请写明异议的具体事实", "an objection needs its facts"))
    notice = current_notice(session, competition_id=competition_id)
    competition, _ = competition_of(session, competition_id)
    if notice is None or competition.stage is not CompetitionStage.publicity:
        raise Conflict("当前没有进行中的公示 / no notice is open for objections")
    if now >= notice.ends_at:
        end = notice.ends_at.astimezone(BEIJING)
        raise InputError(
            Problem(
                where,
                "--as-of",
                f"公示期已于{end:%Y-%m-%d %H:%M}结束，逾期异议不予受理",
                f"the notice closed at {end.isoformat()}: objections after it are not accepted",
            )
        )
    application = _application_by_ref(session, competition_id=competition_id, ref=ref)
    listed = {a.id for _, a, _ in listed_projects(session, competition_id=competition_id)}
    if application.id not in listed:
        raise InputError(Problem(where, "REF", f"{ref} 不在公示名单中", f"{ref} is not on the notice"))
    existing = session.exec(
        select(Objection).where(
            Objection.notice_id == notice.id,
            Objection.application_id == application.id,
            Objection.raised_by == raised_by,
            Objection.text == text,
        )
    ).first()
    if existing is not None:
        return existing
    assert notice.id is not None and application.id is not None
    objection = Objection(
        competition_id=competition_id,
        notice_id=notice.id,
        application_id=application.id,
        raised_by=raised_by,
        text=text,
        received_at=now,
    )
    session.add(objection)
    session.flush()
    record(
        session,
        actor=actor,
        entity="objection",
        entity_id=objection.id or 0,
        action="objection_received",
        reason=f"{raised_by} 对 {ref} 提出异议：{text} / objection to {ref} by {raised_by}",
    )
    return objection


def resolve_objection(
    session: Session,
    *,
    objection_id: int,
    upheld: bool,
    reason: str,
    now: datetime,
    actor: str,
    documents_dir: Path,
) -> Objection:
    """Dismiss (reason kept) or uphold (revise, re-approve and re-publish) an objection."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"没有异议 #{objection_id} / no objection #{objection_id}")
    reason = reason.strip()
    if not reason:
        raise InputError(
            Problem(
                f"publicity objection resolve {objection_id}",
                "--reason",
                "须写明处理理由",
                "a reason is needed",
            )
        )
    if objection.state is not ObjectionState.open:
        if objection.state is (ObjectionState.upheld if upheld else ObjectionState.dismissed):
            return objection  # the same decision again changes nothing
        raise Conflict(
            f"异议 #{objection_id} 已处理（{objection.state}），不能改判 / "
            f"objection #{objection_id} is already {objection.state}"
        )
    application = session.get(Application, objection.application_id)
    assert application is not None
    target = ObjectionState.upheld if upheld else ObjectionState.dismissed
    objection.resolution, objection.resolved_by, objection.resolved_at = reason, actor, now
    set_state(session, objection, target, actor=actor, reason=reason)
    if not upheld:
        return objection
    competition, _ = competition_of(session, objection.competition_id)
    decision = session.exec(
        select(FundingDecision).where(FundingDecision.application_id == objection.application_id)
    ).one()
    decision.excluded_reason = f"公示期异议成立（{reason}） / objection upheld during the notice: {reason}"
    session.add(decision)
    notice = session.get(PublicityNotice, objection.notice_id)
    assert notice is not None
    notice.superseded_at = now
    session.add(notice)
    for other in open_objections(session, competition_id=objection.competition_id):
        if other.application_id == objection.application_id:
            other.resolution, other.resolved_by, other.resolved_at = reason, actor, now
            set_state(
                session, other, ObjectionState.upheld, actor=actor, reason=f"同一项目的异议已成立：{reason}"
            )
    set_state(
        session,
        competition,
        CompetitionStage.funding,
        actor=actor,
        reason=f"异议成立，修订资助方案：{application.ref} / objection upheld: the decision is revised",
    )
    draft_decision(session, competition_id=objection.competition_id, actor=actor)
    try:
        with session.begin_nested():
            approve_decision(session, competition_id=objection.competition_id, actor=actor)
    except Conflict:
        return objection  # a tie (or another objection) waits for the administrator
    publish_notice(
        session, competition_id=objection.competition_id, now=now, actor=actor, documents_dir=documents_dir
    )
    return objection


def why_notice_stays_open(session: Session, *, competition_id: int, now: datetime) -> Conflict | None:
    """Why the 公示 may not close at ``now`` — no notice published, its window not over, an
    objection open — or None when it may close. Read-only: asked by ``close_publicity`` and, before
    its run, by the CLI (which refuses with it)."""
    notice = current_notice(session, competition_id=competition_id)
    if notice is None:
        return Conflict(
            "公示尚未发布（grantflow funding approve）/ no notice is published (grantflow funding approve)"
        )
    if now < notice.ends_at:
        ends = notice.ends_at.astimezone(BEIJING)
        return Conflict(
            f"公示第{notice.seq}次至 {ends:%Y-%m-%d %H:%M} 结束，期满后才能结束公示 / "
            f"notice {notice.seq} is open until {ends.isoformat()}: it closes after its window"
        )
    objections = open_objections(session, competition_id=competition_id)
    if objections:
        return Conflict(
            f"还有 {len(objections)} 件异议未处理（grantflow publicity objection resolve）/ "
            f"{len(objections)} objections are open (grantflow publicity objection resolve)"
        )
    return None


def close_publicity(session: Session, *, competition_id: int, now: datetime, actor: str) -> bool:
    """Close the notice once its window has passed and no objection is open; the projects are
    funded (已立项). False (nothing changed) while the notice must stay open."""
    competition, _ = competition_of(session, competition_id)
    if competition.stage is not CompetitionStage.publicity:
        return False
    if why_notice_stays_open(session, competition_id=competition_id, now=now) is not None:
        return False
    notice = current_notice(session, competition_id=competition_id)
    assert notice is not None
    notice.closed_at = now
    session.add(notice)
    for _, application, _ in listed_projects(session, competition_id=competition_id):
        if application.state is ApplicationState.shortlisted:
            set_state(
                session,
                application,
                ApplicationState.funded,
                actor=actor,
                reason="公示期满无异议，正式立项 / funded after the notice",
            )
    set_state(
        session,
        competition,
        CompetitionStage.implementation,
        actor=actor,
        reason=f"公示第{notice.seq}次期满，无未处理异议 / notice {notice.seq} closed, no open objection",
    )
    session.flush()
    return True


def publicity_report(session: Session, *, competition_id: int) -> dict[str, Any]:
    """Every notice and objection (``grantflow publicity show``)."""
    notices = session.exec(
        select(PublicityNotice)
        .where(PublicityNotice.competition_id == competition_id)
        .order_by(col(PublicityNotice.seq))
    ).all()
    objections = session.exec(
        select(Objection, Application)
        .join(Application, col(Application.id) == col(Objection.application_id))
        .where(Objection.competition_id == competition_id)
        .order_by(col(Objection.id))
    ).all()
    return {
        "notices": [
            {
                "seq": n.seq,
                "published_at": n.published_at.isoformat(),
                "first_day": n.first_day.isoformat(),
                "ends_at": n.ends_at.astimezone(BEIJING).isoformat(),
                "working_days": n.working_days,
                "closed_at": n.closed_at.isoformat() if n.closed_at else None,
                "superseded_at": n.superseded_at.isoformat() if n.superseded_at else None,
            }
            for n in notices
        ],
        "objections": [
            {
                "id": o.id,
                "ref": a.ref,
                "by": o.raised_by,
                "text": o.text,
                "state": str(o.state),
                "resolution": o.resolution,
                "received_at": o.received_at.isoformat(),
            }
            for o, a in objections
        ],
    }
