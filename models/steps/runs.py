"""Console runs: a stage started from the console is a row here before it starts, and stays one.

    open_run      a new run, ``queued``, with ``active_key`` = competition + step: a second start of
                  the same step while one is queued or running finds that one (``RunUnderWay``) —
                  the unique key decides, so two clicks, two tabs or two workers start it once
    begin         queued → running (in-process: with a lease renewed by ``renew``)
    finish        → done | refused | failed, with the result, the one-line message, the marks of what
                  it wrote; the key is released in the same transaction
    settle_stale  an in-process run whose lease ran out (the portal stopped under it) → failed
    written_by    the documents and letters written while it ran (ids between its two marks)

Every move goes through ``set_state`` (audited with the run's actor, the console's user). Times
here are the machine's own clock (``utcnow``), not the moment a run acts as of (``as_of``): a
lease must run out in real time even when the portal replays a year.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.audit import record
from models.documents.tables import GeneratedDocument
from models.errors import Conflict, NotFound
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.states import RUN_MOVES, RUNS_ACTIVE, Machine, RunState
from models.types import UtcDateTime, enum_column, utcnow

LEASE = timedelta(seconds=60)  # an in-process run renews it every LEASE / 4
HERE = "here"  # a run in the portal's own process (a background thread)
PREFECT = "prefect"  # a run of the step's deployment on the Prefect server
MESSAGE_MAX = 2000


class ConsoleRun(SQLModel, table=True):
    """One stage run started from the console: what, for whom, by whom, where, and how it ended."""

    __tablename__ = "console_run"
    __machine__: ClassVar[Machine] = Machine("console_run", "state", RUN_MOVES)

    id: int | None = Field(default=None, primary_key=True)
    # no foreign key: a purged competition's runs stay as history (its id is never reused for it)
    competition_id: int | None = Field(default=None, index=True)
    slug: str = Field(max_length=64)  # the competition's (for a setup run: the one it creates)
    step: str = Field(max_length=40)  # models.steps keys: call, intake, screening, …
    state: RunState = Field(default=RunState.queued, sa_type=enum_column(RunState), index=True)
    # "<slug>:<step>" while queued or running, NULL after: the one-at-a-time guard (unique)
    active_key: str | None = Field(default=None, max_length=120, sa_column_kwargs={"unique": True})
    actor: str = Field(max_length=80)  # admin:<name>
    runs_on: str = Field(default=HERE, max_length=10)  # here | prefect
    as_of: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the moment it acts as of
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)  # in-process runs
    prefect_run_id: str = Field(default="", max_length=40)
    prefect_run_name: str = Field(default="", max_length=200)
    prefect_url: str = Field(default="", max_length=500)
    prefect_state: str = Field(default="", max_length=40)  # the last state read from the server
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # shown, never the bytes
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    message: str = Field(default="", sa_type=sa.Text)  # a refusal's sentence, an error's line
    error_file: str = Field(default="", max_length=300)  # the traceback, under <data dir>/errors/
    documents_from: int = 0  # the largest document id when it began: it wrote those after
    documents_to: int | None = None  # … up to this one, when it ended
    letters_from: int = 0
    letters_to: int | None = None

    @property
    def active(self) -> bool:
        return self.state in RUNS_ACTIVE


class RunUnderWay(Conflict):
    """The step is queued or running already: ``run_id`` is that run."""

    def __init__(self, run: ConsoleRun) -> None:
        super().__init__(
            f"此步骤已在进行中（第 {run.id} 号运行，{run.actor}），请等待其完成 / this step is under way "
            f"already (run {run.id}, started by {run.actor}): wait for it to finish"
        )
        self.run_id = run.id or 0


def active_key(slug: str, step: str) -> str:
    return f"{slug}:{step}"


def marks(session: Session) -> tuple[int, int]:
    """The largest document id and the largest letter id now."""
    documents = session.exec(select(func.max(GeneratedDocument.id))).one() or 0
    letters = session.exec(select(func.max(OutboxLetter.id))).one() or 0
    return documents, letters


def active_run(session: Session, *, slug: str, step: str) -> ConsoleRun | None:
    return session.exec(select(ConsoleRun).where(ConsoleRun.active_key == active_key(slug, step))).first()


def open_run(
    session: Session,
    *,
    step: str,
    slug: str,
    competition_id: int | None,
    actor: str,
    as_of: datetime | None,
    parameters: dict[str, Any] | None = None,
    runs_on: str = HERE,
) -> ConsoleRun:
    """A new queued run of ``step`` (audited), or ``RunUnderWay`` naming the one already queued or
    running. The caller commits."""
    settle_stale(session, now=utcnow(), slug=slug, step=step)
    found = active_run(session, slug=slug, step=step)
    if found is not None:
        raise RunUnderWay(found)
    documents, letters = marks(session)
    run = ConsoleRun(
        competition_id=competition_id,
        slug=slug,
        step=step,
        active_key=active_key(slug, step),
        actor=actor,
        runs_on=runs_on,
        as_of=as_of,
        parameters=dict(parameters or {}),
        documents_from=documents,
        letters_from=letters,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # another request took the key between our look and our insert
        found = active_run(session, slug=slug, step=step)
        if found is None:  # pragma: no cover - the winner finished in between: try once more
            raise Conflict("请重试 / please try again") from None
        raise RunUnderWay(found) from None
    assert run.id is not None
    record(
        session,
        actor=actor,
        entity="console_run",
        entity_id=run.id,
        action="run_started",
        reason=step,
        data={"slug": slug, "runs_on": runs_on, **({"as_of": as_of.isoformat()} if as_of else {})},
    )
    session.flush()
    return run


def _run(session: Session, run_id: int) -> ConsoleRun:
    run = session.get(ConsoleRun, run_id)
    if run is None:
        raise NotFound(f"没有第 {run_id} 号运行 / no run {run_id}")
    return run


def begin(session: Session, *, run_id: int, now: datetime) -> ConsoleRun:
    """queued → running; an in-process run takes its first lease."""
    run = _run(session, run_id)
    run.started_at = now
    if run.runs_on == HERE:
        run.lease_until = now + LEASE
    set_state(session, run, RunState.running, actor=run.actor, reason=run.step)
    return run


def note_prefect_run(session: Session, *, run_id: int, flow_run_id: str, name: str, url: str) -> None:
    """The server's run behind this one (its page in the Prefect UI)."""
    run = _run(session, run_id)
    run.prefect_run_id, run.prefect_run_name, run.prefect_url = flow_run_id, name[:200], url[:500]
    session.add(run)
    session.flush()


def renew(session: Session, *, run_ids: list[int], now: datetime) -> None:
    """Extend the leases of the in-process runs this process is running."""
    if run_ids:
        session.execute(
            sa.update(ConsoleRun)
            .where(col(ConsoleRun.id).in_(run_ids), col(ConsoleRun.state).in_(RUNS_ACTIVE))
            .values(lease_until=now + LEASE)
        )


def finish(
    session: Session,
    *,
    run_id: int,
    state: RunState,
    now: datetime,
    result: dict[str, Any] | None = None,
    message: str = "",
    error_file: str = "",
) -> ConsoleRun | None:
    """End the run as ``state`` (done, refused or failed) and release its key; None when it had
    ended already (a second reader of the same Prefect state, or a lease settled meanwhile)."""
    run = _run(session, run_id)
    if not run.active:
        return None
    documents, letters = marks(session)
    run.finished_at = now
    run.result = result
    run.message = message[:MESSAGE_MAX]
    run.error_file = error_file[:300]
    run.documents_to, run.letters_to = documents, letters
    run.active_key = None
    run.lease_until = None
    set_state(session, run, state, actor=run.actor, reason=message.splitlines()[0][:200] if message else "")
    return run


INTERRUPTED = (
    "运行中断：门户进程在运行结束前停止了（已完成的部分保留，可再次运行以完成其余部分）/ interrupted: the "
    "portal stopped before the run ended (what it finished is kept; run it again to finish the rest)"
)


def settle_stale(
    session: Session, *, now: datetime, slug: str | None = None, step: str | None = None
) -> list[int]:
    """Mark failed every in-process run whose lease has run out (its portal stopped under it)."""
    query = select(ConsoleRun).where(
        col(ConsoleRun.state).in_(RUNS_ACTIVE),
        ConsoleRun.runs_on == HERE,
        col(ConsoleRun.lease_until).is_not(None),
        col(ConsoleRun.lease_until) < now,
    )
    if slug is not None and step is not None:
        query = query.where(ConsoleRun.active_key == active_key(slug, step))
    settled = []
    for run in session.exec(query).all():
        if finish(session, run_id=run.id or 0, state=RunState.failed, now=now, message=INTERRUPTED):
            settled.append(run.id or 0)
    return settled


def run_in(session: Session, *, competition_id: int | None, slug: str, run_id: int) -> ConsoleRun:
    """The run ``run_id`` of that competition, or ``NotFound`` (an id of another is not found)."""
    run = session.get(ConsoleRun, run_id)
    if run is None or run.slug != slug or run.competition_id != competition_id:
        raise NotFound(f"没有第 {run_id} 号运行 / no run {run_id}")
    return run


def runs_of(session: Session, *, competition_id: int, limit: int = 200) -> list[ConsoleRun]:
    """The competition's runs, newest first."""
    return list(
        session.exec(
            select(ConsoleRun)
            .where(ConsoleRun.competition_id == competition_id)
            .order_by(col(ConsoleRun.id).desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Written:
    """What a run wrote: its documents and its letters (of its competition)."""

    documents: list[GeneratedDocument]
    letters: list[OutboxLetter]


def written_by(session: Session, run: ConsoleRun, *, competition_id: int | None) -> Written:
    """The documents and letters with ids after the run's first marks (up to its last ones when it
    ended): written while it ran — the stage's lock keeps another stage's work out of that span."""
    documents_to, letters_to = run.documents_to, run.letters_to
    if documents_to is None or letters_to is None:
        documents_to, letters_to = marks(session)
    documents = session.exec(
        select(GeneratedDocument)
        .where(
            col(GeneratedDocument.id) > run.documents_from,
            col(GeneratedDocument.id) <= documents_to,
            GeneratedDocument.competition_id == competition_id,
        )
        .order_by(col(GeneratedDocument.id))
    ).all()
    letters = session.exec(
        select(OutboxLetter)
        .where(
            col(OutboxLetter.id) > run.letters_from,
            col(OutboxLetter.id) <= letters_to,
            OutboxLetter.competition_id == competition_id,
        )
        .order_by(col(OutboxLetter.id))
    ).all()
    return Written(list(documents), list(letters))


def keep_traceback(exc: BaseException, *, data_dir: Path, prefix: str = "console") -> str:
    """Write the traceback beside the data (never on the page); return its path, or "" when it
    could not be written (the report of a bug must not raise a second one)."""
    try:
        folder = data_dir / "errors"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{prefix}-{utcnow():%Y%m%dT%H%M%S%f}.txt"
        target.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except Exception:
        return ""
    return str(target)
