"""The review's letters: one invitation per expert, and reminders at the configured offsets before
the deadline — never twice for the same offset.

An expert gets one letter listing every sheet assigned to them and carrying one link, the expert's
own page (``expert_link``: the list of their sheets, each with its own link, the next one to do
marked). A replacement expert invited later gets a letter of their own for the new sheet: the
letter's occasion is the set of sheets it lists.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import local_date
from models.intake.tables import Application
from models.mail.correspondence import write_to
from models.mail.outbox import OutboxLetter
from models.mail.reminders import remind_once, write_by_hand
from models.review.links import expert_link
from models.review.reviewing import unfinished_assignments
from models.review.tables import Expert, ReviewAssignment
from models.settings import Settings
from models.states import ASSIGNMENTS_OPEN

STAGE = "review"


def cn_datetime(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _sheet_rows(
    assignments: Sequence[ReviewAssignment], applications: dict[int, Application]
) -> list[dict[str, str]]:
    ordered = sorted(assignments, key=lambda a: applications[a.application_id].ref)
    return [
        {"ref": applications[a.application_id].ref, "title": applications[a.application_id].title}
        for a in ordered
    ]


def _occasion(assignments: Sequence[ReviewAssignment]) -> str:
    ids = ",".join(str(a.id) for a in sorted(assignments, key=lambda a: a.id or 0))
    return "sheets-" + hashlib.sha256(ids.encode()).hexdigest()[:16]


def queue_invitations(
    session: Session, *, competition: Competition, settings: Settings
) -> list[OutboxLetter]:
    """One invitation per expert for the open sheets not yet announced to them (idempotent)."""
    assert competition.id is not None
    assignments = session.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.competition_id == competition.id,
            col(ReviewAssignment.state).in_(ASSIGNMENTS_OPEN),
        )
    ).all()
    announced = _announced_sheets(session, competition_id=competition.id)
    by_expert: dict[int, list[ReviewAssignment]] = defaultdict(list)
    for assignment in assignments:
        if assignment.id not in announced:
            by_expert[assignment.expert_id].append(assignment)
    applications = _applications(session, competition_id=competition.id)
    letters = []
    for expert_id, sheets in sorted(by_expert.items()):
        expert = session.get(Expert, expert_id)
        assert expert is not None
        letter = write_to(
            session,
            competition=competition,
            role="review_invitation",
            stage=STAGE,
            email=expert.email,
            name=expert.name,
            subject_entity="expert",
            subject_id=expert_id,
            occasion=_occasion(sheets),
            context=_letter_context(sheets, applications, expert, settings, count="application_count"),
        )
        letter.extra = {**letter.extra, "assignments": sorted(a.id for a in sheets if a.id is not None)}
        session.add(letter)
        letters.append(letter)
    session.flush()
    return letters


def queue_reminders(
    session: Session, *, competition: Competition, settings: Settings, now: datetime
) -> list[OutboxLetter]:
    """Remind every expert with unfinished sheets, once per configured offset (``3d``, ``1d`` …)."""
    assert competition.id is not None
    config = competition_config(competition)
    open_sheets = unfinished_assignments(session, competition_id=competition.id)
    by_expert: dict[int, list[ReviewAssignment]] = defaultdict(list)
    experts: dict[int, Expert] = {}
    for sheet in open_sheets:
        by_expert[sheet.expert.id or 0].append(sheet.assignment)
        experts[sheet.expert.id or 0] = sheet.expert
    applications = _applications(session, competition_id=competition.id)
    letters = []
    for expert_id, sheets in sorted(by_expert.items()):
        expert = experts[expert_id]
        letter = remind_once(
            session,
            competition=competition,
            role="review_reminder",
            stage=STAGE,
            email=expert.email,
            name=expert.name,
            subject_entity="expert",
            subject_id=expert_id,
            deadline=min(a.deadline for a in sheets),
            now=now,
            offsets=config.review.reminder_days_before,
            context=_letter_context(sheets, applications, expert, settings, count="pending_count"),
        )
        if letter is not None:
            letters.append(letter)
    session.flush()
    return letters


def _letter_context(
    sheets: Sequence[ReviewAssignment],
    applications: dict[int, Application],
    expert: Expert,
    settings: Settings,
    *,
    count: str,
) -> dict[str, object]:
    """What the invitation (``count="application_count"``) and the reminder (``"pending_count"``)
    say: the sheets, the expert's own link, the earliest deadline."""
    return {
        count: len(sheets),
        "sheets": _sheet_rows(sheets, applications),
        "expert_url": expert_link(expert, settings),
        "review_deadline": cn_datetime(min(a.deadline for a in sheets), settings.timezone),
    }


# ---- letters an administrator asks for (the console) -------------------------------------------


def _by_hand(
    session: Session,
    competition: Competition,
    settings: Settings,
    expert: Expert,
    sheets: Sequence[ReviewAssignment],
    now: datetime,
    *,
    invitation: bool,
) -> tuple[OutboxLetter, bool]:
    """The invitation or the reminder listing ``sheets``, asked for on ``now``'s day
    (``models.mail.reminders.write_by_hand``)."""
    assert competition.id is not None and expert.id is not None
    return write_by_hand(
        session,
        competition=competition,
        role="review_invitation" if invitation else "review_reminder",
        stage=STAGE,
        email=expert.email,
        name=expert.name,
        subject_entity="expert",
        subject_id=expert.id,
        day=local_date(now, settings.timezone),
        context=_letter_context(
            sheets,
            _applications(session, competition_id=competition.id),
            expert,
            settings,
            count="application_count" if invitation else "pending_count",
        ),
    )


def remind_expert(
    session: Session, *, competition: Competition, settings: Settings, expert_id: int, now: datetime
) -> tuple[OutboxLetter, bool] | None:
    """Remind one expert now of their unfinished sheets (the scheduled reminder's letter, keyed by
    the day: ``models.mail.reminders.write_by_hand``); None when nothing is unfinished. Returns the
    letter and whether it is new."""
    assert competition.id is not None
    sheets = [
        s.assignment
        for s in unfinished_assignments(session, competition_id=competition.id)
        if s.expert.id == expert_id
    ]
    expert = session.get(Expert, expert_id)
    if not sheets or expert is None:
        return None
    return _by_hand(session, competition, settings, expert, sheets, now, invitation=False)


def resend_invitation(
    session: Session, *, competition: Competition, settings: Settings, expert_id: int, now: datetime
) -> tuple[OutboxLetter, bool] | None:
    """The invitation again, listing every open sheet of the expert, with their own link (the
    same links: a lost letter, not a leaked link); None when no sheet is open."""
    assert competition.id is not None
    sheets = list(
        session.exec(
            select(ReviewAssignment)
            .where(
                ReviewAssignment.competition_id == competition.id,
                ReviewAssignment.expert_id == expert_id,
                col(ReviewAssignment.state).in_(ASSIGNMENTS_OPEN),
            )
            .order_by(col(ReviewAssignment.id))
        )
    )
    expert = session.get(Expert, expert_id)
    if not sheets or expert is None:
        return None
    letter, new = _by_hand(session, competition, settings, expert, sheets, now, invitation=True)
    if new:
        letter.extra = {**letter.extra, "assignments": sorted(a.id for a in sheets if a.id is not None)}
        session.add(letter)
        session.flush()
    return letter, new


def _applications(session: Session, *, competition_id: int) -> dict[int, Application]:
    rows = session.exec(select(Application).where(Application.competition_id == competition_id))
    return {a.id: a for a in rows if a.id is not None}


def _announced_sheets(session: Session, *, competition_id: int) -> set[int]:
    letters = session.exec(
        select(OutboxLetter).where(
            OutboxLetter.competition_id == competition_id, OutboxLetter.role == "review_invitation"
        )
    )
    return {int(i) for letter in letters for i in letter.extra.get("assignments", [])}
