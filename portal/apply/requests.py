"""The web form's requests (网上申报), without HTTP: show the form, act on a post, confirm.

    show_form     the empty form, or the closed page (not 征集中, or after the deadline)
    handle_post   action=submit   → models.intake.web.submit_web_application (stored, receipt queued)
                  action=add_rows | add_activities → the same form with more budget lines or
                  activity rows (works without JavaScript); action=show → the same form (the
                  language switch: what was typed comes back in the other language)
    show_done     the confirmation with the 申报编号, opened by a signed token from the redirect

An unknown competition raises ``NotFound`` (the route answers 404). ``InputError`` comes back as the
form with everything typed and each problem beside its field (422); a duplicate as the form with a
clear notice naming the stored 申报编号 (409); a closed competition as a plain page (409). A post
that loses a race with an identical one (the database's unique keys refuse the second) is tried
again in a fresh transaction, where it is recognised as the duplicate it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from models.competition.tables import Competition, competition_config, get_competition
from models.db import session_scope
from models.errors import InputError, NotFound, Problem
from models.intake.tables import Application, Organisation
from models.intake.web import (
    ApplicationsClosed,
    DuplicateApplication,
    ensure_accepting,
    submit_web_application,
)
from models.settings import Settings
from portal.apply.form import ApplyPage, Entered, apply_page, raw_row
from portal.i18n import in_language

ACTOR = "applicant:web"
MORE_ROWS = {  # action → (the form with more rows, the notice)
    "add_rows": (Entered.with_more_rows, "notice.rows_added"),
    "add_activities": (Entered.with_more_activities, "notice.activities_added"),
}
ATTEMPTS = 3
DONE_MAX_AGE = 7 * 86400  # the confirmation page opens for a week after the submission


@dataclass(frozen=True)
class ClosedPage:
    competition: str
    reason: str  # not_open | deadline
    message: str  # in the reader's language
    contact: str


@dataclass
class ApplyOutcome:
    page: ApplyPage | None = None
    status: int = 200
    notice: str | None = None  # an i18n key: notice.rows_added
    problem_notice: str = ""  # a duplicate, in the reader's language
    closed: ClosedPage | None = None
    received: int | None = None  # the stored application's id: redirect to the confirmation


@dataclass(frozen=True)
class DonePage:
    competition: str
    ref: str
    title: str
    organisation: str
    email: str
    submitted_at: str
    contact: str


def _closed(competition: Competition, exc: ApplicationsClosed, language: str) -> ApplyOutcome:
    contact = competition_config(competition).competition.contact
    page = ClosedPage(competition.name, exc.reason, in_language(str(exc), language), contact)
    return ApplyOutcome(closed=page, status=409)


def show_form(engine: Engine, slug: str, settings: Settings, now: datetime, language: str) -> ApplyOutcome:
    return _again(engine, slug, settings, now, language, Entered.blank(), [], status=200)


def handle_post(
    engine: Engine,
    slug: str,
    settings: Settings,
    now: datetime,
    language: str,
    fields: Mapping[str, str],
    communities: Sequence[str],
) -> ApplyOutcome:
    entered = Entered.from_form(fields, communities)
    action = fields.get("action", "submit")
    if action in MORE_ROWS:  # more rows, everything typed kept (works without JavaScript)
        more, notice = MORE_ROWS[action]
        outcome = _again(engine, slug, settings, now, language, more(entered), [], status=200)
        outcome.notice = notice if outcome.page is not None else None
        return outcome
    if action == "show":  # the same form with what was typed (the language switch): nothing stored
        return _again(engine, slug, settings, now, language, entered, [], status=200)
    if action != "submit":
        unknown = Problem("", "", "未知操作", f"unknown action {action!r}")
        return _again(engine, slug, settings, now, language, entered, [unknown], status=422)
    received: int | None = None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with session_scope(engine) as session:
                competition = get_competition(session, slug=slug)
                assert competition.id is not None
                application = submit_web_application(
                    session,
                    competition_id=competition.id,
                    row=raw_row(entered),
                    now=now,
                    actor=ACTOR,
                    settings=settings,
                )
                received = application.id
        except IntegrityError:  # an identical post won the race: look again in a fresh transaction
            if attempt == ATTEMPTS:
                raise
            continue
        except InputError as exc:
            return _again(engine, slug, settings, now, language, entered, exc.problems, status=422)
        except DuplicateApplication as exc:
            outcome = _again(engine, slug, settings, now, language, entered, [], status=409)
            outcome.problem_notice = in_language(str(exc), language)
            return outcome
        except ApplicationsClosed:
            return _again(engine, slug, settings, now, language, entered, [], status=409)
        break
    return ApplyOutcome(received=received)


def _again(
    engine: Engine,
    slug: str,
    settings: Settings,
    now: datetime,
    language: str,
    entered: Entered,
    problems: Sequence[Problem],
    *,
    status: int,
) -> ApplyOutcome:
    """The form (in a fresh session: a failed one was rolled back), or the closed page."""
    with session_scope(engine) as session:
        competition = get_competition(session, slug=slug)
        try:
            ensure_accepting(competition, now=now, timezone=settings.timezone)
        except ApplicationsClosed as exc:
            return _closed(competition, exc, language)
        page = apply_page(
            competition, entered=entered, problems=problems, language=language, timezone=settings.timezone
        )
    return ApplyOutcome(page, status=status)


# ---- the confirmation -------------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="grantflow.apply.done")


def done_token(application_id: int, slug: str, *, secret: str) -> str:
    """The signed part of the confirmation's address: it opens that application's page only."""
    return str(_serializer(secret).dumps([application_id, slug]))


def show_done(engine: Engine, slug: str, token: str, settings: Settings) -> DonePage:
    """The confirmation of a stored application; ``NotFound`` for a forged, stale or foreign token."""
    try:
        application_id, signed_slug = _serializer(settings.secret_key.get_secret_value()).loads(
            token, max_age=DONE_MAX_AGE
        )
    except (BadSignature, ValueError, TypeError):
        raise NotFound("没有这份申报 / no such application") from None
    with session_scope(engine) as session:
        application = session.get(Application, application_id) if isinstance(application_id, int) else None
        competition = session.get(Competition, application.competition_id) if application else None
        if application is None or competition is None or signed_slug != slug or competition.slug != slug:
            raise NotFound("没有这份申报 / no such application")
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None
        return DonePage(
            competition=competition.name,
            ref=application.ref,
            title=application.title,
            organisation=organisation.name,
            email=application.contact_email,
            submitted_at=f"{application.submitted_at.astimezone(ZoneInfo(settings.timezone)):%Y-%m-%d %H:%M}",
            contact=competition_config(competition).competition.contact,
        )
