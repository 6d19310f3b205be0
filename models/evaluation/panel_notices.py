"""The expert panel's letters: one invitation per expert listing the 结项 sheets not yet announced to
them, each with its own personal link — the review's invitation, for the final evaluation — and
reminders before the due day.

Idempotent twice over: a sheet once listed in an invitation (``extra["panel_sheets"]``) is not
listed again, and the letter's key names the set of sheets it lists, so a re-run (or a concurrent
one, behind the competition's lock) queues nothing new. A reminder's key names the expert and the
offset (``2d-before``): each offset's reminder goes out once (``models.mail.reminders``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import cn_moment, local_date
from models.evaluation.panel_links import panel_link
from models.evaluation.tables import PanelSheet
from models.funding.tables import Grant
from models.intake.tables import Application
from models.mail.correspondence import write_to
from models.mail.outbox import OutboxLetter
from models.mail.reminders import remind_once, write_by_hand
from models.review.links import expert_link
from models.review.tables import Expert
from models.settings import Settings
from models.states import ASSIGNMENTS_OPEN

STAGE = "evaluation"
ROLE = "final_review_invitation"
REMINDER = "final_review_reminder"


def _announced(session: Session, *, competition_id: int) -> set[int]:
    letters = session.exec(
        select(OutboxLetter).where(OutboxLetter.competition_id == competition_id, OutboxLetter.role == ROLE)
    )
    return {int(i) for letter in letters for i in letter.extra.get("panel_sheets", [])}


def _occasion(sheets: list[PanelSheet]) -> str:
    ids = ",".join(str(s.id) for s in sorted(sheets, key=lambda s: s.id or 0))
    return "panel-" + hashlib.sha256(ids.encode()).hexdigest()[:16]


def queue_panel_invitations(
    session: Session, *, competition: Competition, settings: Settings
) -> list[OutboxLetter]:
    """One letter per expert for the open panel sheets not yet announced to them; the caller commits."""
    assert competition.id is not None
    announced = _announced(session, competition_id=competition.id)
    by_expert: dict[int, list[PanelSheet]] = defaultdict(list)
    for sheet in _open_sheets(session, competition_id=competition.id):
        if sheet.id not in announced:
            by_expert[sheet.expert_id].append(sheet)
    if not by_expert:
        return []
    letters = []
    for expert_id, mine in sorted(by_expert.items()):
        expert = session.get(Expert, expert_id)
        assert expert is not None
        letter = write_to(
            session,
            competition=competition,
            role=ROLE,
            stage=STAGE,
            email=expert.email,
            name=expert.name,
            subject_entity="expert",
            subject_id=expert_id,
            occasion=_occasion(mine),
            context=_invitation_context(session, competition, expert, mine, settings),
        )
        letter.extra = {**letter.extra, "panel_sheets": sorted(s.id for s in mine if s.id is not None)}
        session.add(letter)
        letters.append(letter)
    session.flush()
    return letters


def _invitation_context(
    session: Session, competition: Competition, expert: Expert, sheets: list[PanelSheet], settings: Settings
) -> dict[str, object]:
    top = competition_config(competition).rubric.total
    return {
        **_reminder_context(session, expert, sheets, settings),
        "project_count": len(sheets),
        "top_score": format(top.normalize(), "f"),
    }


def _reminder_context(
    session: Session, expert: Expert, sheets: list[PanelSheet], settings: Settings
) -> dict[str, object]:
    return {
        "pending_count": len(sheets),
        "sheets": _sheet_rows(session, sheets, settings),
        "expert_url": expert_link(expert, settings),
        "review_deadline": cn_moment(min(s.deadline for s in sheets), settings.timezone),
    }


def _open_sheets(session: Session, *, competition_id: int) -> list[PanelSheet]:
    return list(
        session.exec(
            select(PanelSheet)
            .where(PanelSheet.competition_id == competition_id, col(PanelSheet.state).in_(ASSIGNMENTS_OPEN))
            .order_by(col(PanelSheet.id))
        )
    )


def _sheet_rows(session: Session, sheets: list[PanelSheet], settings: Settings) -> list[dict[str, str]]:
    """Each sheet's project and personal link, by project reference."""
    rows = []
    for sheet in sheets:
        grant = session.get(Grant, sheet.grant_id)
        application = session.get(Application, grant.application_id) if grant else None
        assert application is not None
        rows.append({"ref": application.ref, "title": application.title, "url": panel_link(sheet, settings)})
    return sorted(rows, key=lambda row: row["ref"])


def queue_panel_reminders(
    session: Session, *, competition: Competition, settings: Settings, now: datetime
) -> list[OutboxLetter]:
    """Remind every expert with open panel sheets, once per configured offset before the earliest
    deadline among them (``evaluation.expert_panel.reminder_days_before``); the caller commits."""
    assert competition.id is not None
    panel = competition_config(competition).evaluation.expert_panel
    if panel is None:
        return []
    by_expert: dict[int, list[PanelSheet]] = defaultdict(list)
    for sheet in _open_sheets(session, competition_id=competition.id):
        by_expert[sheet.expert_id].append(sheet)
    letters = []
    for expert_id, mine in sorted(by_expert.items()):
        expert = session.get(Expert, expert_id)
        assert expert is not None
        letter = remind_once(
            session,
            competition=competition,
            role=REMINDER,
            stage=STAGE,
            email=expert.email,
            name=expert.name,
            subject_entity="expert",
            subject_id=expert_id,
            deadline=min(s.deadline for s in mine),
            now=now,
            offsets=panel.reminder_days_before,
            context=_reminder_context(session, expert, mine, settings),
        )
        if letter is not None:
            letters.append(letter)
    session.flush()
    return letters


# ---- letters an administrator asks for (the console) -------------------------------------------


def panel_letter_by_hand(
    session: Session,
    *,
    competition: Competition,
    settings: Settings,
    expert_id: int,
    now: datetime,
    invitation: bool,
) -> tuple[OutboxLetter, bool] | None:
    """The expert's open panel sheets in one letter asked for now — the invitation again
    (``invitation``) or a reminder — keyed by the day (``models.mail.reminders.write_by_hand``);
    None when the expert has no open panel sheet. Returns the letter and whether it is new."""
    assert competition.id is not None
    mine = [s for s in _open_sheets(session, competition_id=competition.id) if s.expert_id == expert_id]
    expert = session.get(Expert, expert_id)
    if not mine or expert is None:
        return None
    return write_by_hand(
        session,
        competition=competition,
        role=ROLE if invitation else REMINDER,
        stage=STAGE,
        email=expert.email,
        name=expert.name,
        subject_entity="expert",
        subject_id=expert_id,
        day=local_date(now, settings.timezone),
        context=(
            _invitation_context(session, competition, expert, mine, settings)
            if invitation
            else _reminder_context(session, expert, mine, settings)
        ),
    )
