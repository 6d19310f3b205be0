"""The outbox: every outgoing letter is a row before anything is sent.

The idempotency key (stage, recipient, subject) makes queuing the same letter twice yield one row.
Rows move through ``set_state`` only (audited)::

    draft ──release──▶ queued ──claim──▶ sending ──250──▶ sent
                         ▲                  │ 4xx / connection lost (attempts left): backoff
                         └──────────────────┤ lease over after a crash: resolve_sending
                         ▲                  │ 5xx, or attempts used up
                       retry ◀──── failed ◀─┘

This module holds the table, the keys, queuing, the queries and the administrator's moves (release,
retry); the sender's moves (claim, mark, back off, settle) are in ``models/sending.py``. Every
function is a pure database operation on the caller's session; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.audit import AS_OF
from models.errors import NotFound
from models.lifecycle import set_state, set_states
from models.savepoints import savepoint
from models.states import LETTER_MOVES, LetterState, Machine
from models.types import UtcDateTime, enum_column, utcnow

KEY_LENGTH = 300


class OutboxLetter(SQLModel, table=True):
    __tablename__ = "outbox_letter"
    __machine__: ClassVar[Machine] = Machine("letter", "state", LETTER_MOVES)
    # a sender's claim and the delivery's counts ask for a competition's letters in one state: by
    # competition alone they walked every letter of the year, once per batch of ten (N²)
    __table_args__ = (sa.Index("ix_outbox_letter_competition_state", "competition_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int | None = Field(default=None, foreign_key="competition.id", index=True)
    idempotency_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    role: str = Field(max_length=60)  # the mail template role: receipt, award, rejection …
    stage: str = Field(max_length=40)
    recipient_email: str = Field(max_length=254)
    recipient_name: str = Field(default="", max_length=200)
    subject_entity: str = Field(default="", max_length=40)  # application, grant, assignment …
    subject_id: int | None = None
    subject: str = Field(max_length=500)  # the rendered subject line
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    attachments: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # GeneratedDocument ids
    state: LetterState = Field(default=LetterState.queued, sa_type=enum_column(LetterState), index=True)
    attempts: int = 0
    # queued: not before this time (backoff); sending: the claim's lease ends at this time
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_answer: str = Field(default="", sa_type=sa.Text)
    message_id: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


def idempotency_key(stage: str, recipient: str, subject: str) -> str:
    """The key that makes a letter unique: stage + recipient + subject (e.g. ``application:12``).

    A key longer than the column keeps its head and ends with the SHA-256 of the whole.
    """
    key = f"{stage}|{recipient.strip().lower()}|{subject}"
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: KEY_LENGTH - 65]}#{digest}"


def letter_date(letter: OutboxLetter) -> datetime | None:
    """The moment the letter is dated (its Date header): its run's moment, or None — then the
    moment it is sent."""
    stamp = (letter.extra or {}).get(DATED)
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def message_id_for(letter: OutboxLetter, domain: str) -> str:
    """The letter's Message-ID: fixed by its row, so a re-send after a crash repeats it exactly."""
    seed = f"{letter.idempotency_key}|{letter.created_at.isoformat() if letter.created_at else ''}"
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
    return f"<letter-{letter.id}.{digest}@{domain}>"


DATED = "dated"  # the key in ``extra`` of the moment a letter is dated (its Date header)


def queue_letter(session: Session, letter: OutboxLetter) -> OutboxLetter:
    """Add ``letter`` unless a letter with the same idempotency key exists; return the stored one.

    A letter queued by a run that acts as of a moment (``session_scope(as_of=…)``) is dated by that
    moment (``letter_date``): the demo's 2025 letters say 2025, whenever they are sent.
    Safe against a concurrent writer: the unique key decides, inside a savepoint. The caller
    (``compose_letter``) has looked the key up already; a letter stored since is found by the key.
    """
    moment = session.info.get(AS_OF)
    if isinstance(moment, datetime):
        letter.extra = {**(letter.extra or {}), DATED: moment.isoformat()}
    try:
        with savepoint(session):
            session.add(letter)
            session.flush()
    except IntegrityError:
        stored = session.exec(
            select(OutboxLetter).where(OutboxLetter.idempotency_key == letter.idempotency_key)
        ).one()
        return stored
    return letter


# ---- queries (keyword-only) ---------------------------------------------------------------------


def find_by_key(session: Session, *, key: str) -> OutboxLetter | None:
    return session.exec(select(OutboxLetter).where(OutboxLetter.idempotency_key == key)).first()


def get_letter(session: Session, *, letter_id: int) -> OutboxLetter:
    letter = session.get(OutboxLetter, letter_id)
    if letter is None:
        raise NotFound(f"没有信件 {letter_id} / no letter #{letter_id} in the outbox")
    return letter


def list_letters(
    session: Session,
    *,
    competition_id: int | None = None,
    states: Iterable[LetterState] | None = None,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[OutboxLetter]:
    query = select(OutboxLetter).order_by(col(OutboxLetter.id))
    if competition_id is not None:
        query = query.where(OutboxLetter.competition_id == competition_id)
    if states is not None:
        query = query.where(col(OutboxLetter.state).in_(list(states)))
    if ids is not None:
        query = query.where(col(OutboxLetter.id).in_(list(ids)))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def count_by_state(session: Session, *, competition_id: int | None = None) -> dict[str, int]:
    query = select(OutboxLetter.state, func.count()).group_by(OutboxLetter.state)
    if competition_id is not None:
        query = query.where(OutboxLetter.competition_id == competition_id)
    return {str(state): int(n) for state, n in session.exec(query)}


def next_due_at(session: Session, *, competition_id: int | None = None) -> datetime | None:
    """When the earliest queued letter may be tried (None: nothing is queued)."""
    queued = [OutboxLetter.state == LetterState.queued]
    if competition_id is not None:
        queued.append(OutboxLetter.competition_id == competition_id)
    undated = session.exec(
        select(func.count()).where(*queued, col(OutboxLetter.next_attempt_at).is_(None))
    ).one()
    if undated:
        return utcnow()
    earliest: datetime | None = session.exec(
        select(func.min(OutboxLetter.next_attempt_at)).where(*queued)
    ).one()
    return earliest


def move_letter(session: Session, letter: OutboxLetter, to: LetterState, *, actor: str, reason: str) -> None:
    set_state(session, letter, to, actor=actor, reason=reason)


def move_letters(
    session: Session, letters: Sequence[OutboxLetter], to: LetterState, *, actor: str, reasons: Sequence[str]
) -> list[OutboxLetter]:
    """``move_letter`` for a batch, in a few statements (``set_states``): the letters moved, in order;
    one another run moved meanwhile is left out."""
    return set_states(session, letters, to, actor=actor, reason=reasons)


# ---- commands for people: release and retry ----------------------------------------------------


def _select_for(
    session: Session, state: LetterState, *, ids: Sequence[int] | None, competition_id: int | None
) -> list[OutboxLetter]:
    if ids is not None:
        found = list_letters(session, ids=ids)
        missing = sorted(set(ids) - {letter.id for letter in found})
        if missing:
            raise NotFound(f"没有信件 {missing} / no letter(s) {missing} in the outbox")
        return found
    return list_letters(session, competition_id=competition_id, states=[state])


def release_letters(
    session: Session, *, actor: str, ids: Sequence[int] | None = None, competition_id: int | None = None
) -> list[OutboxLetter]:
    """Draft → queued: an administrator has read the letters and lets them go."""
    letters = _select_for(session, LetterState.draft, ids=ids, competition_id=competition_id)
    for letter in letters:
        move_letter(session, letter, LetterState.queued, actor=actor, reason="放行 / released")
    return letters


def retry_letters(
    session: Session, *, actor: str, ids: Sequence[int] | None = None, competition_id: int | None = None
) -> list[OutboxLetter]:
    """Failed → queued, with a fresh count of attempts (the last answer stays for reference)."""
    letters = _select_for(session, LetterState.failed, ids=ids, competition_id=competition_id)
    for letter in letters:
        letter.attempts = 0
        letter.next_attempt_at = None
        move_letter(session, letter, LetterState.queued, actor=actor, reason="重发 / retry after failure")
    return letters


def letter_ids(session: Session, *, competition_id: int, role: str) -> set[int]:
    """The ids of a competition's letters of one role (to tell a re-run's new letters apart)."""
    rows = session.exec(
        select(OutboxLetter.id).where(
            OutboxLetter.competition_id == competition_id, OutboxLetter.role == role
        )
    )
    return {i for i in rows if i is not None}
