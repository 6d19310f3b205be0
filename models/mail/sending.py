"""The sender's moves on outbox rows — the database half of exactly-once delivery.

``claim_letters`` commits ``sending`` with a deterministic Message-ID and a lease
(``next_attempt_at`` = lease end) *before* the SMTP transaction; ``mark_sent`` commits ``sent``
right after the server's 250, one letter at a time (``tasks/mail_run.py`` waits for that commit
before the connection carries another message). A sender renews the leases of the letters it still
holds (``renew_leases``) and never sends one whose lease it lost. A crash leaves at most the letters
in flight in ``sending``; ``resolve_sending`` settles them once their lease is over (or at once,
``every=True``, when no other sender can be running): ``sent`` when the receiving side can be asked
and holds the Message-ID, otherwise back to ``queued``, to be sent again with the same Message-ID.
ARCHITECTURE.md states the residual window.

A server that takes the whole message but never answers its final "." (``mark_unknown``) is the
same uncertainty without a crash: ``sent`` when the receiving side holds the Message-ID; otherwise
the letter is sent *once more* with the same Message-ID, and if that too goes unanswered it is
``failed`` with the reason kept (never a loop of re-sends). The count is kept in the row's
``extra["unknown_outcomes"]`` and every move is audited.

Every function is a pure database operation on the caller's session; the caller commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from models.mail.outbox import OutboxLetter, message_id_for, move_letter, move_letters
from models.states import LetterState


def claim_letters(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    domain: str,
    actor: str,
    competition_id: int | None = None,
) -> list[OutboxLetter]:
    """Queued letters that are due → ``sending``, each with its Message-ID and a lease until now+lease.

    Two senders never claim the same letter: a conditional UPDATE on (state, due time) decides
    under the database's write lock (SQLite) or row lock (PostgreSQL, which also skips rows
    another sender has locked). The attempt is counted here, so a letter that kills its sender
    every time still runs out of attempts.
    """
    due = sa.or_(col(OutboxLetter.next_attempt_at).is_(None), col(OutboxLetter.next_attempt_at) <= now)
    query = (
        select(OutboxLetter.id)
        .where(OutboxLetter.state == LetterState.queued, due)
        .order_by(col(OutboxLetter.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if competition_id is not None:
        query = query.where(OutboxLetter.competition_id == competition_id)
    candidates = [letter_id for letter_id in session.exec(query) if letter_id is not None]
    until = now + lease
    if not candidates:
        return []
    table = OutboxLetter.__table__  # type: ignore[attr-defined]
    # one conditional UPDATE for the batch: the rows it returns are the ones this sender won
    won = list(
        session.connection()
        .execute(
            sa.update(table)
            .where(col(table.c.id).in_(candidates), table.c.state == LetterState.queued.value, due)
            .values(next_attempt_at=until)
            .returning(table.c.id)
        )
        .scalars()
    )
    if not won:
        return []
    letters = list(
        session.exec(
            select(OutboxLetter)
            .where(col(OutboxLetter.id).in_(won))
            .order_by(col(OutboxLetter.id))
            .execution_options(populate_existing=True)
        )
    )
    for letter in letters:
        letter.attempts += 1
        letter.next_attempt_at = until
        if not letter.message_id:
            letter.message_id = message_id_for(letter, domain)
    reasons = [f"第 {letter.attempts} 次 / attempt {letter.attempts}" for letter in letters]
    # won above, in this transaction: every one moves (one UPDATE and one audit INSERT for the batch)
    return move_letters(session, letters, LetterState.sending, actor=actor, reasons=reasons)


def renew_leases(session: Session, *, letter_ids: Sequence[int], now: datetime, until: datetime) -> list[int]:
    """Extend to ``until`` the leases a sender still holds (``sending``, lease not over); returns the
    ids still held. A letter missing from the answer lost its lease and must not be sent now."""
    if not letter_ids:
        return []
    table = OutboxLetter.__table__  # type: ignore[attr-defined]
    # one conditional UPDATE for the batch: the rows it returns are the leases still held
    held = set(
        session.connection()
        .execute(
            sa.update(table)
            .where(
                col(table.c.id).in_(list(letter_ids)),
                table.c.state == LetterState.sending.value,
                table.c.next_attempt_at > now,
            )
            .values(next_attempt_at=until)
            .returning(table.c.id)
        )
        .scalars()
    )
    return [letter_id for letter_id in letter_ids if letter_id in held]


def _in_flight(session: Session, letter_id: int) -> OutboxLetter | None:
    """The letter, if it is still ``sending`` (another sender may have resolved an expired lease)."""
    letter = session.get(OutboxLetter, letter_id, populate_existing=True)
    if letter is None or letter.state is not LetterState.sending:
        return None
    return letter


def mark_sent(session: Session, *, letter_id: int, answer: str, now: datetime, actor: str) -> bool:
    """The server said 250: ``sending`` → ``sent``. Commit this before the next message."""
    letter = _in_flight(session, letter_id)
    if letter is None:
        return False
    _sent(session, letter, answer=answer, now=now, actor=actor)
    return True


def mark_all_sent(
    session: Session, *, answers: Sequence[tuple[int, str]], now: datetime, actor: str
) -> list[bool]:
    """``mark_sent`` for the 250s of several connections at once (the sender's group commit): their
    rows read in one query, without the letters' bodies. True for each letter still ``sending``."""
    ids = [letter_id for letter_id, _ in answers]
    rows = {
        letter.id: letter
        for letter in session.exec(
            select(OutboxLetter)
            .where(col(OutboxLetter.id).in_(ids))
            .options(defer(OutboxLetter.body_text), defer(OutboxLetter.body_html))  # type: ignore[arg-type]
            .execution_options(populate_existing=True)
        )
    }
    first: dict[int, int] = {}  # letter id → the index of its answer (a repeated id is not marked twice)
    for index, (letter_id, answer) in enumerate(answers):
        letter = rows.get(letter_id)
        if letter is not None and letter.state is LetterState.sending and letter_id not in first:
            _answered(letter, answer=answer, now=now)
            first[letter_id] = index
    # one compare-and-set UPDATE and one audit INSERT for the group; a letter another sender
    # settled since the read above is not moved (False)
    reasons = [answers[index][1][:200] for index in first.values()]
    moved = move_letters(session, [rows[i] for i in first], LetterState.sent, actor=actor, reasons=reasons)
    marked = [False] * len(answers)
    for letter in moved:
        assert letter.id is not None
        marked[first[letter.id]] = True
    return marked


def _answered(letter: OutboxLetter, *, answer: str, now: datetime) -> None:
    letter.sent_at = now
    letter.last_answer = answer
    letter.next_attempt_at = None


def _sent(session: Session, letter: OutboxLetter, *, answer: str, now: datetime, actor: str) -> None:
    _answered(letter, answer=answer, now=now)
    move_letter(session, letter, LetterState.sent, actor=actor, reason=answer[:200])


def mark_failed(session: Session, *, letter_id: int, answer: str, actor: str) -> bool:
    """A permanent answer (5xx) or a letter that cannot be built: ``sending`` → ``failed``."""
    letter = _in_flight(session, letter_id)
    if letter is None:
        return False
    letter.last_answer = answer
    letter.next_attempt_at = None
    move_letter(session, letter, LetterState.failed, actor=actor, reason=answer[:200])
    return True


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: base·2^(n−1), at most ``cap``, then a random 50–100 % of it."""
    exponent = min(max(attempts - 1, 0), 30)
    ceiling = min(cap, base * (2**exponent))
    return ceiling * rng.uniform(0.5, 1.0)


def mark_deferred(
    session: Session,
    *,
    letter_id: int,
    answer: str,
    now: datetime,
    actor: str,
    max_attempts: int,
    base: timedelta,
    cap: timedelta,
    rng: random.Random,
) -> LetterState | None:
    """A transient failure (4xx, connection lost): back to ``queued`` after a backoff, or ``failed``
    when the attempts are used up. Returns the new state (None if the letter was no longer ours)."""
    letter = _in_flight(session, letter_id)
    if letter is None:
        return None
    letter.last_answer = answer
    if letter.attempts >= max_attempts:
        letter.next_attempt_at = None
        reason = f"{letter.attempts} 次均未成功 / gave up after {letter.attempts} attempts: {answer}"
        letter.last_answer = reason
        move_letter(session, letter, LetterState.failed, actor=actor, reason=reason[:200])
        return LetterState.failed
    letter.next_attempt_at = now + retry_delay(letter.attempts, base=base, cap=cap, rng=rng)
    reason = f"稍后重试 / retry later: {answer[:160]}"
    move_letter(session, letter, LetterState.queued, actor=actor, reason=reason)
    return LetterState.queued


UNKNOWN_OUTCOMES = "unknown_outcomes"  # OutboxLetter.extra: sends the server never answered after DATA
CONFIRMED_AFTER_SILENCE = (
    "接收方已有此信（DATA 之后未答复）/ confirmed by the receiving side after no reply to DATA"
)


def mark_unknown(
    session: Session,
    *,
    letter_id: int,
    answer: str,
    now: datetime,
    actor: str,
    max_attempts: int,
    base: timedelta,
    cap: timedelta,
    rng: random.Random,
    delivered: Callable[[str], bool] | None = None,
) -> LetterState | None:
    """The whole message was sent but the server never answered the final "." — it may hold it.

    Settled like an interrupted send, and never by a loop of re-sends:
    - ``delivered(message_id)`` (the embedded sink can be asked) holds it → ``sent``;
    - otherwise the first unknown outcome → ``queued`` after a backoff, to be sent once more with the
      same Message-ID (a mailbox that deduplicates on it shows one message);
    - a second unknown outcome (or the attempts used up) → ``failed``, with a reason that says the
      server may hold it: ``grantflow outbox retry`` only after checking with the recipient.
    Returns the new state (None if the letter was no longer ours).
    """
    letter = _in_flight(session, letter_id)
    if letter is None:
        return None
    if delivered is not None and letter.message_id and delivered(letter.message_id):
        letter.sent_at = now
        letter.last_answer = CONFIRMED_AFTER_SILENCE
        letter.next_attempt_at = None
        move_letter(session, letter, LetterState.sent, actor=actor, reason=CONFIRMED_AFTER_SILENCE)
        return LetterState.sent
    unknown = int(letter.extra.get(UNKNOWN_OUTCOMES, 0)) + 1
    letter.extra = {**letter.extra, UNKNOWN_OUTCOMES: unknown}  # a new dict: the JSON column sees it
    if unknown >= 2 or letter.attempts >= max_attempts:
        letter.next_attempt_at = None
        letter.last_answer = (
            f"结果未知（{unknown} 次发送均无答复），不再自动重发：服务器可能已收到此信，核实后可 "
            f"grantflow outbox retry / outcome unknown after {unknown} unanswered send(s), not sent "
            f"again: the server may hold it — check before `grantflow outbox retry`. {answer}"
        )
        move_letter(session, letter, LetterState.failed, actor=actor, reason=letter.last_answer[:200])
        return LetterState.failed
    letter.last_answer = (
        f"结果未知，将以同一 Message-ID 再发一次 / outcome unknown: sent once more with the same "
        f"Message-ID. {answer}"
    )
    letter.next_attempt_at = now + retry_delay(letter.attempts, base=base, cap=cap, rng=rng)
    move_letter(session, letter, LetterState.queued, actor=actor, reason=letter.last_answer[:200])
    return LetterState.queued


def unclaim(session: Session, *, letter_ids: Sequence[int], reason: str, actor: str) -> int:
    """Letters claimed but never tried (the run stopped): back to ``queued``, the attempt not counted."""
    count = 0
    for letter_id in letter_ids:
        letter = _in_flight(session, letter_id)
        if letter is None:
            continue
        letter.attempts = max(letter.attempts - 1, 0)
        letter.next_attempt_at = None
        move_letter(session, letter, LetterState.queued, actor=actor, reason=reason)
        count += 1
    return count


def resolve_sending(
    session: Session,
    *,
    now: datetime,
    actor: str,
    delivered: Callable[[str], bool] | None = None,
    every: bool = False,
) -> dict[str, list[int]]:
    """Settle letters left in ``sending`` whose lease is over (their sender crashed or hung) — or
    all of them with ``every=True``, for use only when no other sender can be running.

    ``delivered(message_id)`` asks the receiving side when it can be asked (the embedded sink's
    folder): a letter it holds is ``sent``. Every other one goes back to ``queued`` and will be
    sent again with the same Message-ID — the one place a duplicate can arise (ARCHITECTURE.md).
    """
    expired = sa.or_(col(OutboxLetter.next_attempt_at).is_(None), col(OutboxLetter.next_attempt_at) <= now)
    if every:
        expired = sa.true()
    stale = [
        letter_id
        for letter_id in session.exec(
            select(OutboxLetter.id).where(OutboxLetter.state == LetterState.sending, expired)
        )
        if letter_id is not None
    ]
    table = OutboxLetter.__table__  # type: ignore[attr-defined]
    confirmed: list[int] = []
    requeued: list[int] = []
    for letter_id in stale:
        # Take the row over only if nobody renewed or settled it meanwhile.
        result = session.connection().execute(
            sa.update(table)
            .where(table.c.id == letter_id, table.c.state == LetterState.sending.value, expired)
            .values(next_attempt_at=None)
        )
        if result.rowcount != 1:
            continue
        letter = session.get(OutboxLetter, letter_id, populate_existing=True)
        assert letter is not None
        if delivered is not None and letter.message_id and delivered(letter.message_id):
            letter.sent_at = now
            letter.last_answer = "接收方已有此信 / confirmed by the receiving side after an interrupted send"
            move_letter(session, letter, LetterState.sent, actor=actor, reason=letter.last_answer)
            confirmed.append(letter_id)
        else:
            letter.last_answer = (
                "发送中断，将以同一 Message-ID 重发 / interrupted send: re-queued, same Message-ID"
            )
            move_letter(session, letter, LetterState.queued, actor=actor, reason=letter.last_answer)
            requeued.append(letter_id)
    return {"confirmed": confirmed, "requeued": requeued}
