"""Console sessions, kept in the database: a signed-in browser holds a random token (in a signed
cookie the portal sets); the table keeps only its sha256.

A session ends at logout, after ``idle`` without a request, ``lifetime`` after sign-in, when its
user's password changes or the account is disabled — whichever comes first. Signing in always
opens a new session (and ends the one the browser held): a token planted before sign-in is
never the one signed in (no session fixation). ``seen_at`` is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from models.accounts.login import Limits
from models.accounts.tables import ConsoleSession, User
from models.accounts.users import actor_of
from models.audit import record

SEEN_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Resumed:
    user: User
    session: ConsoleSession

    @property
    def csrf_value(self) -> str:
        """What the console's CSRF tokens are bound to: the token's digest, never the token."""
        return self.session.token_sha256


def open_session(
    session: Session, *, user: User, client: str, now: datetime, previous: str | None = None
) -> str:
    """A new session for ``user`` (after ``sign_in``); returns its token. ``previous``, the token
    the browser held before, is ended."""
    if previous:
        _end(session, previous, why="login", now=now)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        ConsoleSession(
            token_sha256=token_digest(token), user_id=user.id, created_at=now, seen_at=now, client=client[:64]
        )
    )
    session.flush()
    return token


def _row(session: Session, token: str) -> ConsoleSession | None:
    return session.exec(
        select(ConsoleSession).where(ConsoleSession.token_sha256 == token_digest(token))
    ).first()


def _end(session: Session, token: str, *, why: str, now: datetime) -> ConsoleSession | None:
    row = _row(session, token)
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.ended_why = now, why
    session.add(row)
    return row


def resume_session(session: Session, *, token: str, now: datetime, limits: Limits) -> Resumed | None:
    """The live session ``token`` names, or None (unknown, ended, idle too long, too old, or its
    user disabled — ending it now)."""
    row = _row(session, token)
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    why = ""
    if user is None or not user.active:
        why = "disabled"
    elif user.password_changed_at > row.created_at:
        why = "password"
    elif now - row.seen_at > limits.idle:
        why = "idle"
    elif now - row.created_at > limits.lifetime:
        why = "expired"
    if why or user is None:
        row.ended_at, row.ended_why = now, why or "disabled"
        session.add(row)
        return None
    if now - row.seen_at >= SEEN_EVERY:
        row.seen_at = now
        session.add(row)
    return Resumed(user, row)


def end_session(session: Session, *, token: str, now: datetime) -> bool:
    """Logout: the session ends (audited); False when it had ended already."""
    row = _end(session, token, why="logout", now=now)
    if row is None:
        return False
    user = session.get(User, row.user_id)
    if user is not None and user.id is not None:
        record(session, actor=actor_of(user), entity="user", entity_id=user.id, action="logout")
    session.flush()
    return True
