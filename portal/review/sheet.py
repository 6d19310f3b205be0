"""The review sheet's two requests, without HTTP: show a sheet, and act on a posted form.

Each opens its own session through the personal link (``models.links.open_review_link``), so a
refused link raises ``LinkRefused`` before anything is read. The page is one form; a post's
``action`` says what to do:

    draft             save_sheet(submit=False)    (refused on a submitted sheet: models.submission)
    submit            save_sheet(submit=True)     (a submitted sheet: an amended submission)
    conflict          the reason checked, then the same page asking to confirm the declaration
    conflict_confirm  declare_conflict(reason)
    show              the same page with everything typed, nothing saved (the language switch posts
                      it with ?lang=; the confirmation's "back" too)

``InputError`` comes back as the same page with what the expert typed and each problem beside its
field and in the summary (422); a refusal of the domain (deadline passed, sheet withdrawn, review
closed, a draft of a submitted sheet, a conflict on a submitted sheet) as the page with what was
typed and the domain's own reason, in the reader's language (409); a move the state machine
forbids as the same page with a plain sentence (``refusal.state``) — its internal words (ids, state
names) never reach the expert. A submission that is stored emits the Prefect event after the
commit; the page it leads to names the expert's next sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.competition.tables import Competition
from models.db import session_scope
from models.errors import AccessDenied, Conflict, IllegalTransition, InputError, Problem
from models.links import LinkRefused
from models.review.links import open_review_link
from models.review.notices import queue_invitations
from models.review.reviewing import check_conflict_allowed, declare_conflict, unfinished_assignments
from models.review.score_sheets import save_sheet
from models.review.tables import Expert, ReviewAssignment
from models.settings import Settings
from portal.events import SubmittedSheet, emit_sheet_submitted
from portal.i18n import in_language, translator
from portal.review.expert_page import expert_path, next_sheet, sheet_lines
from portal.review.sheet_page import POINTS_PREFIX, SheetPage, sheet_page

NOTICE_OF = {"draft": "draft", "submit": "submitted", "conflict_confirm": "conflict"}  # action -> ?done=
MAX_REASON = 1000


@dataclass
class SheetOutcome:
    page: SheetPage | None
    status: int = 200
    notice: str | None = None  # an i18n key: notice.submitted …
    problem_notice: str = ""  # a refusal of the domain, in the reader's language
    redirect_notice: str | None = None  # after a successful post: redirect with ?done=<this>


@dataclass(frozen=True)
class Entered:
    """What the expert typed into the sheet (kept as typed when the page comes back)."""

    points: Mapping[str, str]
    comment: str
    reason: str

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> Entered:
        return cls(
            points={
                key.removeprefix(POINTS_PREFIX): value
                for key, value in fields.items()
                if key.startswith(POINTS_PREFIX)
            },
            comment=fields.get("comment", ""),
            reason=fields.get("conflict_reason", "")[:MAX_REASON],
        )


def _page(
    session: Session,
    assignment: ReviewAssignment,
    settings: Settings,
    now: datetime,
    language: str,
    *,
    entered: Entered | None = None,
    problems: list[Problem] | None = None,
    confirm_conflict: bool = False,
) -> SheetPage:
    page = sheet_page(
        session,
        assignment=assignment,
        now=now,
        timezone=settings.timezone,
        language=language,
        entered=entered.points if entered is not None else None,
        entered_comment=entered.comment if entered is not None else None,
        entered_reason=entered.reason if entered is not None else "",
        problems=problems,
        confirm_conflict=confirm_conflict,
    )
    expert = session.get(Expert, assignment.expert_id)
    assert expert is not None
    page.expert_url = expert_path(expert, settings)
    page.next_sheet = next_sheet(
        sheet_lines(session, expert, settings, now), after=("review", assignment.id or 0)
    )
    return page


def show_sheet(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, done: str | None
) -> SheetOutcome:
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        page = _page(session, assignment, settings, now, language)
    notice = f"notice.{done}" if done else None
    if notice is None and not page.editable:
        notice = "notice.withdrawn" if page.withdrawn else "notice.closed"
    return SheetOutcome(page, notice=notice)


def _conflict_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError(Problem("", "conflict_reason", "请写明回避原因", "give the reason for the conflict"))
    if len(reason) > MAX_REASON:
        raise InputError(
            Problem(
                "",
                "conflict_reason",
                f"回避原因不超过 {MAX_REASON} 字",
                f"the reason exceeds {MAX_REASON} characters",
            )
        )
    return reason


def handle_post(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, fields: Mapping[str, str]
) -> SheetOutcome:
    action = fields.get("action", "")
    entered = Entered.of(fields)
    submitted: SubmittedSheet | None = None
    try:
        with session_scope(engine) as session:
            assignment = open_review_link(session, token=token, settings=settings, now=now)
            assert assignment.id is not None
            actor = f"expert:{assignment.expert_id}"
            if action in ("draft", "submit"):
                save_sheet(
                    session,
                    assignment_id=assignment.id,
                    points=entered.points,
                    comment=entered.comment,
                    submit=action == "submit",
                    actor=actor,
                    now=now,
                )
                if action == "submit":
                    still_open = unfinished_assignments(session, competition_id=assignment.competition_id)
                    submitted = SubmittedSheet(
                        assignment.id,
                        assignment.competition_id,
                        assignment.application_id,
                        assignment.expert_id,
                        open_sheets=len(still_open),
                        competition_slug=_slug(session, assignment.competition_id),
                    )
            elif action in ("conflict", "show"):  # nothing stored: the page again
                if action == "conflict":  # refused now, not only once confirmed
                    check_conflict_allowed(session, assignment=assignment, now=now)
                    _conflict_reason(entered.reason)
                page = _page(
                    session,
                    assignment,
                    settings,
                    now,
                    language,
                    entered=entered,
                    confirm_conflict=action == "conflict",
                )
                return SheetOutcome(page)
            elif action == "conflict_confirm":
                withdrawal = declare_conflict(
                    session,
                    assignment_id=assignment.id,
                    reason=_conflict_reason(entered.reason),
                    actor=actor,
                    now=now,
                )
                if withdrawal.replacement is not None:  # the replacement's invitation waits in the outbox
                    competition = session.get(Competition, assignment.competition_id)
                    assert competition is not None
                    queue_invitations(session, competition=competition, settings=settings)
            else:
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
    except LinkRefused:
        raise
    except InputError as exc:
        return _again(engine, token, settings, now, language, entered, exc.problems, status=422)
    except (AccessDenied, Conflict) as exc:  # a refusal the domain words for the expert (zh / en)
        outcome = _again(engine, token, settings, now, language, entered, [], status=409)
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except IllegalTransition:  # internal words (ids, state names): never shown to the expert
        outcome = _again(engine, token, settings, now, language, entered, [], status=409)
        outcome.problem_notice = translator(language)("refusal.state")
        return outcome
    if submitted is not None:
        emit_sheet_submitted(submitted)
    return SheetOutcome(None, redirect_notice=NOTICE_OF[action])


def _again(
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    entered: Entered,
    problems: list[Problem],
    *,
    status: int,
) -> SheetOutcome:
    """The sheet once more (in a fresh session: the failed one was rolled back)."""
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        page = _page(session, assignment, settings, now, language, entered=entered, problems=problems)
    return SheetOutcome(page, status=status)


def _slug(session: Session, competition_id: int) -> str:
    competition = session.get(Competition, competition_id)
    return competition.slug if competition is not None else ""
