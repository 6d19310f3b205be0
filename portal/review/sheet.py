"""The review sheet's two requests, without HTTP: show a sheet, and act on a posted form.

Each opens its own session through the personal link (``models.links.open_review_link``), so a
refused link raises ``LinkRefused`` before anything is read. A post calls the domain:

    action=draft     save_sheet(submit=False)      action=submit   save_sheet(submit=True)
    action=conflict  declare_conflict(reason)

``InputError`` comes back as the same page with what the expert typed and each problem beside its
field (422); a refusal of the domain (deadline passed, sheet withdrawn, review closed, a draft of
a submitted sheet, a conflict on a submitted sheet) as the page with what was typed and the
domain's own bilingual reason, in the reader's language (409); a move the state machine forbids
as the same page with a plain sentence (``refusal.state``) — its internal words (ids, state
names) never reach the expert. A submission that is stored emits the Prefect event after the
commit.
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
from models.review.reviewing import declare_conflict, unfinished_assignments
from models.review.score_sheets import save_sheet
from models.settings import Settings
from portal.events import SubmittedSheet, emit_sheet_submitted
from portal.i18n import in_language, translator
from portal.review.sheet_page import POINTS_PREFIX, SheetPage, sheet_page

NOTICE_OF = {"draft": "draft", "submit": "submitted", "conflict": "conflict"}  # action -> ?done=
MAX_REASON = 1000


@dataclass
class SheetOutcome:
    page: SheetPage | None
    status: int = 200
    notice: str | None = None  # an i18n key: notice.submitted …
    problem_notice: str = ""  # a refusal of the domain, in the reader's language
    redirect_notice: str | None = None  # after a successful post: redirect with ?done=<this>


def show_sheet(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, done: str | None
) -> SheetOutcome:
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        page = sheet_page(
            session, assignment=assignment, now=now, timezone=settings.timezone, language=language
        )
    notice = f"notice.{done}" if done else None
    if notice is None and not page.editable:
        notice = "notice.withdrawn" if page.withdrawn else "notice.closed"
    return SheetOutcome(page, notice=notice)


def _reason(fields: Mapping[str, str]) -> str:
    return fields.get("conflict_reason", "")[:MAX_REASON]


def _conflict_reason(fields: Mapping[str, str]) -> str:
    reason = fields.get("conflict_reason", "").strip()
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
    points = {
        key.removeprefix(POINTS_PREFIX): value
        for key, value in fields.items()
        if key.startswith(POINTS_PREFIX)
    }
    comment = fields.get("comment", "")
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
                    points=points,
                    comment=comment,
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
            elif action == "conflict":
                withdrawal = declare_conflict(
                    session,
                    assignment_id=assignment.id,
                    reason=_conflict_reason(fields),
                    actor=actor,
                    now=now,
                )
                if (
                    withdrawal.replacement is not None
                ):  # the replacement expert's invitation waits in the outbox
                    competition = session.get(Competition, assignment.competition_id)
                    assert competition is not None
                    queue_invitations(session, competition=competition, settings=settings)
            else:
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
    except LinkRefused:
        raise
    except InputError as exc:
        return _again(
            engine,
            token,
            settings,
            now,
            language,
            points,
            comment,
            exc.problems,
            status=422,
            reason=_reason(fields),
        )
    except (AccessDenied, Conflict) as exc:  # a refusal the domain words for the expert (zh / en)
        outcome = _again(
            engine, token, settings, now, language, points, comment, [], status=409, reason=_reason(fields)
        )
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except IllegalTransition:  # internal words (ids, state names): never shown to the expert
        outcome = _again(
            engine, token, settings, now, language, points, comment, [], status=409, reason=_reason(fields)
        )
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
    points: Mapping[str, str] | None,
    comment: str | None,
    problems: list[Problem],
    *,
    status: int,
    reason: str = "",
) -> SheetOutcome:
    """The sheet once more (in a fresh session: the failed one was rolled back)."""
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        page = sheet_page(
            session,
            assignment=assignment,
            now=now,
            timezone=settings.timezone,
            language=language,
            entered=points,
            entered_comment=comment,
            entered_reason=reason,
            problems=problems,
        )
    return SheetOutcome(page, status=status)


def _slug(session: Session, competition_id: int) -> str:
    competition = session.get(Competition, competition_id)
    return competition.slug if competition is not None else ""
