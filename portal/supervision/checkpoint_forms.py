"""A checkpoint's form opened by a personal link — the supervisor's 督导记录 (``supervise``) and the
grantee's 中期/结项报告 (``report``): show it, take a post with its uploads, show it again, and open
the evidence files it may show.

Each page is a ``CheckpointForm``: which link opens it, whose evidence it uploads (and whose it
shows), how its page is built and how a post is saved. The rules are the same for both and live
here once:

- the link is checked first (``LinkRefused`` propagates: the route answers with the refusal page);
- ``action`` is ``draft`` or ``submit`` (a save), ``show`` (the page again with what was typed:
  the language switch), ``add_row`` (the same with one more activity row) or ``drop:<id>`` (remove
  one of the link's pending files); a checkpoint not open any more refuses the post (409);
- a save: the uploads are checked and stored, the link's pending files joined, then the form saved,
  in one transaction; every problem — a refused file, the count, the form's own — comes back at
  once at its field and in the summary (422); the files that passed are then kept as the link's
  pending uploads and listed as such (nothing chosen is lost); a file written by a post that did
  not commit is removed again (``discard``), whatever went wrong;
- a refusal of the domain (a draft after 提交, the time for changes over, the checkpoint closed)
  shows the page with what was typed and the reason (409);
- something to announce once the post committed (the supervisor's record → a Prefect event) runs
  after the transaction, never inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition
from models.db import session_scope
from models.errors import Conflict, IllegalTransition, InputError, NotFound, Problem
from models.funding.tables import Grant
from models.settings import Settings
from models.supervision.evidence import Upload, discard, drop_pending, evidence_file, sort_uploads
from models.supervision.links import open_checkpoint_link
from models.supervision.records import checkpoint_context
from models.supervision.tables import Checkpoint
from portal.i18n import in_language
from portal.supervision.checkpoint_view import checkpoint_open
from portal.uploads import Destination, StoredFile, keep_pending, save_with_evidence, stored_file

SAVES = ("draft", "submit")
SHOWS = ("show", "add_row")
DROP = "drop:"


@dataclass
class CheckpointOutcome:
    """What the route renders: the page (None: redirect to ``?done=redirect_notice``)."""

    page: Any | None
    status: int = 200
    notice: str | None = None
    problem_notice: str = ""
    redirect_notice: str | None = None


@dataclass(frozen=True)
class Posted:
    """One post of a checkpoint form, as its ``save`` receives it."""

    session: Session
    checkpoint: Checkpoint
    grant: Grant
    competition: Competition
    config: CompetitionConfig
    fields: Mapping[str, str]
    submit: bool
    actor: str
    now: datetime
    timezone: str


@dataclass(frozen=True)
class Shown:
    """How a page is asked for: what was typed (None: what is stored), the problems, one more row."""

    entered: Mapping[str, str] | None = None
    problems: Sequence[Problem] = ()
    more_rows: int = 0


@dataclass(frozen=True)
class CheckpointForm:
    purpose: Literal["checkpoint", "report"]  # the personal link that opens it
    owner: str  # whose evidence the uploads are: "supervisor" | "grantee"
    shows: tuple[str, ...]  # whose evidence its page shows (and its link opens)
    # (session, *, checkpoint, language, now, timezone, shown: Shown) -> the page
    page: Callable[..., Any]
    actor: Callable[[Checkpoint, Grant], str]
    save: Callable[[Posted, list[int]], object]  # (the post, the stored evidence ids)
    # after a committed submit: what to announce (called outside the transaction), or None
    on_submit: Callable[[Posted], Callable[[], object]] | None = None


def _open(
    session: Session, form: CheckpointForm, token: str, settings: Settings, now: datetime
) -> Checkpoint:
    return open_checkpoint_link(session, token=token, settings=settings, now=now, purpose=form.purpose)


def upload_rules(engine: Engine, token: str, settings: Settings, now: datetime, purpose: str) -> int:
    """The upload size limit of the checkpoint ``token`` opens (read before the form is parsed)."""
    with session_scope(engine) as session:
        checkpoint = open_checkpoint_link(
            session,
            token=token,
            settings=settings,
            now=now,
            purpose="checkpoint" if purpose == "checkpoint" else "report",
        )
        config: CompetitionConfig = checkpoint_context(session, checkpoint.id or 0)[3]
        return config.supervision.uploads.max_bytes


def _render(
    form: CheckpointForm,
    session: Session,
    checkpoint: Checkpoint,
    settings: Settings,
    now: datetime,
    language: str,
    shown: Shown,
) -> Any:
    return form.page(
        session, checkpoint=checkpoint, language=language, now=now, timezone=settings.timezone, shown=shown
    )


def show_form(
    form: CheckpointForm,
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    done: str | None,
) -> CheckpointOutcome:
    with session_scope(engine) as session:
        checkpoint = _open(session, form, token, settings, now)
        page = _render(form, session, checkpoint, settings, now, language, Shown())
    notice = f"sv.notice.{done}" if done else None
    if notice is None and not page.form.editable:
        notice = "sv.notice.closed" if not page.header.editable else "sv.notice.final"
    return CheckpointOutcome(page, notice=notice)


def find_evidence(
    form: CheckpointForm, engine: Engine, token: str, settings: Settings, now: datetime, evidence_id: int
) -> StoredFile:
    """A file this form's link may open: of its checkpoint, by those its page shows (its own pending
    files too); ``NotFound`` for any other id."""
    with session_scope(engine) as session:
        checkpoint = _open(session, form, token, settings, now)
        row = evidence_file(
            session,
            checkpoint_id=checkpoint.id or 0,
            evidence_id=evidence_id,
            owners=form.shows,
            viewer=form.owner,
        )
        return stored_file(settings.uploads_dir, row)


@dataclass(frozen=True)
class _Context:
    checkpoint: Checkpoint
    grant: Grant
    competition: Competition
    config: CompetitionConfig


def _context(session: Session, checkpoint: Checkpoint) -> _Context:
    _, grant, _, config = checkpoint_context(session, checkpoint.id or 0)
    competition = session.get(Competition, grant.competition_id)
    assert competition is not None
    return _Context(checkpoint, grant, competition, config)


def _destination(form: CheckpointForm, context: _Context, settings: Settings) -> Destination:
    return Destination(
        checkpoint_id=context.checkpoint.id or 0,
        owner=form.owner,
        rules=context.config.supervision.uploads,
        uploads_dir=settings.uploads_dir,
        folder=context.competition.slug,
        actor=form.actor(context.checkpoint, context.grant),
    )


def handle_form_post(
    form: CheckpointForm,
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
) -> CheckpointOutcome:
    action = fields.get("action", "")
    written: list[Path] = []
    announce: Callable[[], object] | None = None
    try:
        with session_scope(engine) as session:
            checkpoint = _open(session, form, token, settings, now)
            if action not in SAVES and action not in SHOWS and not action.startswith(DROP):
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
            if not checkpoint_open(checkpoint):
                raise Conflict(
                    "该检查点已结束，不能再修改 / this checkpoint is closed: nothing can be changed"
                )
            context = _context(session, checkpoint)
            if action not in SAVES:  # nothing of the form is saved: the page again, files kept
                return _shown_again(
                    form, session, context, action, fields, uploads, settings, now, language, written
                )
            posted = Posted(
                session,
                checkpoint,
                context.grant,
                context.competition,
                context.config,
                fields,
                submit=action == "submit",
                actor=form.actor(checkpoint, context.grant),
                now=now,
                timezone=settings.timezone,
            )
            save_with_evidence(
                session,
                _destination(form, context, settings),
                uploads,
                written=written,
                save=lambda ids: form.save(posted, ids),
            )
            if posted.submit and form.on_submit is not None:
                announce = form.on_submit(posted)
    except InputError as exc:
        discard(written)
        _keep_after_refusal(form, engine, token, settings, now, uploads)
        return _again(form, engine, token, settings, now, language, fields, exc.problems, status=422)
    except (Conflict, IllegalTransition) as exc:
        discard(written)
        _keep_after_refusal(form, engine, token, settings, now, uploads)
        outcome = _again(form, engine, token, settings, now, language, fields, [], status=409)
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except BaseException:  # a refused link included: no file of an uncommitted post stays
        discard(written)
        raise
    if announce is not None:
        announce()
    return CheckpointOutcome(None, redirect_notice="submitted" if action == "submit" else "draft")


def _shown_again(
    form: CheckpointForm,
    session: Session,
    context: _Context,
    action: str,
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    settings: Settings,
    now: datetime,
    language: str,
    written: list[Path],
) -> CheckpointOutcome:
    """show / add_row / drop: the page with what was typed; the files posted along kept pending."""
    dropped: Path | None = None
    if action.startswith(DROP):
        number = action.removeprefix(DROP)
        if not number.isdigit() or len(number) > 12:
            raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
        with suppress(NotFound):  # already removed (a second click): nothing to do
            dropped = drop_pending(
                session,
                checkpoint_id=context.checkpoint.id or 0,
                owner=form.owner,
                evidence_id=int(number),
                uploads_dir=settings.uploads_dir,
                actor=form.actor(context.checkpoint, context.grant),
            )
    keep_pending(session, _destination(form, context, settings), uploads, written=written)
    _, refused = sort_uploads(uploads, context.config.supervision.uploads)
    shown = Shown(entered=fields, problems=refused, more_rows=1 if action == "add_row" else 0)
    session.flush()
    page = _render(form, session, context.checkpoint, settings, now, language, shown)
    session.commit()
    if dropped is not None:
        dropped.unlink(missing_ok=True)
    return CheckpointOutcome(page, status=422 if refused else 200)


def _keep_after_refusal(
    form: CheckpointForm,
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    uploads: Sequence[Upload],
) -> None:
    """After a post that was not saved: its files that pass their checks stay as pending uploads."""
    if not uploads:
        return
    written: list[Path] = []
    try:
        with session_scope(engine) as session:
            checkpoint = _open(session, form, token, settings, now)
            if checkpoint_open(checkpoint):
                keep_pending(
                    session,
                    _destination(form, _context(session, checkpoint), settings),
                    uploads,
                    written=written,
                )
    except BaseException:
        discard(written)
        raise


def _again(
    form: CheckpointForm,
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    entered: Mapping[str, str] | None,
    problems: Sequence[Problem],
    *,
    status: int,
) -> CheckpointOutcome:
    """The page once more (in a fresh session: the failed one was rolled back), with what was typed
    while the form can still be saved."""
    with session_scope(engine) as session:
        checkpoint = _open(session, form, token, settings, now)
        page = _render(form, session, checkpoint, settings, now, language, Shown(entered, problems))
        if not page.form.editable and entered is not None:  # read-only: what is stored, not what was typed
            page = _render(form, session, checkpoint, settings, now, language, Shown())
    return CheckpointOutcome(page, status=status)
