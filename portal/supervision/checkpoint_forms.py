"""A checkpoint's form opened by a personal link — the supervisor's 督导记录 (``supervise``) and the
grantee's 中期/结项报告 (``report``): show it, take a post with its uploads, show it again.

Each page is a ``CheckpointForm``: which link opens it, whose evidence it uploads, how its page is
built and how a post is saved. The rules are the same for both and live here once:

- the link is checked first (``LinkRefused`` propagates: the route answers with the refusal page);
- ``action`` is ``draft`` or ``submit``; a checkpoint not open any more refuses the post (409);
- the uploads are checked and stored, then the form saved, in one transaction; a file written by a
  post that did not commit is removed again (``discard``), whatever went wrong;
- a field problem shows the page again with what was entered and the problem beside its field
  (422); a conflict shows the stored page with the reason (409);
- something to announce once the post committed (the supervisor's record → a Prefect event) runs
  after the transaction, never inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition
from models.db import session_scope
from models.errors import Conflict, IllegalTransition, InputError, Problem
from models.funding.tables import Grant
from models.settings import Settings
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.supervision.evidence import discard
from models.supervision.links import open_checkpoint_link
from models.supervision.records import checkpoint_context
from models.supervision.tables import Checkpoint
from portal.i18n import in_language
from portal.uploads import save_with_evidence


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


@dataclass(frozen=True)
class CheckpointForm:
    purpose: Literal["checkpoint", "report"]  # the personal link that opens it
    owner: str  # whose evidence the uploads are: "supervisor" | "grantee"
    page: Callable[..., Any]  # (session, *, checkpoint, language, entered=None, problems=()) -> page
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
        page = form.page(session, checkpoint=_open(session, form, token, settings, now), language=language)
    notice = f"sv.notice.{done}" if done else None
    if notice is None and not page.header.editable:
        notice = "sv.notice.closed"
    return CheckpointOutcome(page, notice=notice)


def handle_form_post(
    form: CheckpointForm,
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    fields: Mapping[str, str],
    uploads: Sequence[Any],
) -> CheckpointOutcome:
    action = fields.get("action", "")
    written: list[Path] = []
    announce: Callable[[], object] | None = None
    try:
        with session_scope(engine) as session:
            checkpoint = _open(session, form, token, settings, now)
            if action not in ("draft", "submit"):
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
            if checkpoint.state not in CHECKPOINTS_OPEN or checkpoint.state is CheckpointState.scheduled:
                raise Conflict(
                    "该检查点已结束，不能再修改 / this checkpoint is closed: nothing can be changed"
                )
            _, grant, _, config = checkpoint_context(session, checkpoint.id or 0)
            competition = session.get(Competition, grant.competition_id)
            assert competition is not None
            posted = Posted(
                session,
                checkpoint,
                grant,
                competition,
                config,
                fields,
                submit=action == "submit",
                actor=form.actor(checkpoint, grant),
                now=now,
            )
            save_with_evidence(
                session,
                checkpoint_id=checkpoint.id or 0,
                owner=form.owner,
                uploads=uploads,
                rules=config.supervision.uploads,
                uploads_dir=settings.uploads_dir,
                folder=competition.slug,
                actor=posted.actor,
                written=written,
                save=lambda ids: form.save(posted, ids),
            )
            if posted.submit and form.on_submit is not None:
                announce = form.on_submit(posted)
    except InputError as exc:
        discard(written)
        return _again(form, engine, token, settings, now, language, fields, exc.problems, status=422)
    except (Conflict, IllegalTransition) as exc:
        discard(written)
        outcome = _again(form, engine, token, settings, now, language, None, [], status=409)
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except BaseException:  # a refused link included: no file of an uncommitted post stays
        discard(written)
        raise
    if announce is not None:
        announce()
    return CheckpointOutcome(None, redirect_notice="submitted" if action == "submit" else "draft")


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
    """The page once more (in a fresh session: the failed one was rolled back)."""
    with session_scope(engine) as session:
        page = form.page(
            session,
            checkpoint=_open(session, form, token, settings, now),
            language=language,
            entered=entered,
            problems=problems,
        )
    return CheckpointOutcome(page, status=status)
