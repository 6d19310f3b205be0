"""Signing in to the console: the password, a throttle per address, a lock-out per name.

Every attempt is a ``LoginAttempt`` row, whatever the name typed, in the same transaction as its
audit row, so the counts hold across workers and restarts:

- a **name** is locked once ``max_failures`` wrong passwords were typed for it within the window
  (``lockout``) — counted since its last successful sign-in and since its password last changed
  (``grantflow admin passwd`` lifts a lock). While locked, no password is even checked; the lock
  lifts when the oldest of those failures leaves the window. Names without an account are counted
  the same way, so the answer never tells whether an account exists;
- an **address** is throttled after ``4 × max_failures`` failures within the window, whatever the
  names (one machine guessing many names).

A wrong password, an unknown name and a disabled account get the same answer. The account's
failures and its lock-out are audited on the ``user`` entity (``login_failed``, ``lockout``), as is
each sign-in (``login``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from models.accounts.passwords import hash_password, needs_rehash, verify_password
from models.accounts.tables import LoginAttempt, User
from models.accounts.users import actor_of, find_user, fold_name
from models.audit import record
from models.settings import Settings

ADDRESS_FACTOR = 4  # an address may fail this many times more than a name before it is throttled


@dataclass(frozen=True)
class Limits:
    """How long a session lives and how many failures lock a name (from the settings)."""

    idle: timedelta
    lifetime: timedelta
    max_failures: int
    lockout: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            idle=timedelta(minutes=settings.console_idle_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
            max_failures=settings.console_login_failures,
            lockout=timedelta(minutes=settings.console_lockout_minutes),
        )


class Refusal(StrEnum):
    password = "password"  # wrong password, unknown name or disabled account: one answer for all
    locked = "locked"  # the name is locked out
    throttled = "throttled"  # the address is throttled


@dataclass(frozen=True)
class SignIn:
    user: User | None  # signed in, or None
    refused: Refusal | None = None
    until: datetime | None = None  # locked or throttled until then


def _failures(
    session: Session, *, since: datetime, name: str | None = None, client: str | None = None
) -> list[datetime]:
    query = select(LoginAttempt.at).where(
        col(LoginAttempt.at) > since,
        col(LoginAttempt.succeeded).is_(False),
        LoginAttempt.refused == Refusal.password.value,
    )
    if name is not None:
        query = query.where(LoginAttempt.name == name)
    if client is not None:
        query = query.where(LoginAttempt.client == client)
    return sorted(session.exec(query).all())


def _last_success(session: Session, name: str) -> datetime | None:
    return session.exec(
        select(LoginAttempt.at)
        .where(LoginAttempt.name == name, col(LoginAttempt.succeeded).is_(True))
        .order_by(col(LoginAttempt.at).desc())
        .limit(1)
    ).first()


def _until(failures: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """When the newest ``limit`` failures stop counting, or None while under the limit."""
    if len(failures) < limit:
        return None
    return failures[len(failures) - limit] + window


def sign_in(
    session: Session, *, name: str, password: str, client: str, now: datetime, limits: Limits
) -> SignIn:
    """Check a sign-in; the attempt and its audit are added to ``session`` either way (commit it)."""
    folded, client = fold_name(name), client[:64]
    window_start = now - limits.lockout

    def attempt(refused: Refusal | None) -> None:
        session.add(
            LoginAttempt(at=now, name=folded, client=client, succeeded=refused is None, refused=refused or "")
        )

    throttled = _until(
        _failures(session, since=window_start, client=client),
        limits.max_failures * ADDRESS_FACTOR,
        limits.lockout,
    )
    if throttled is not None:
        attempt(Refusal.throttled)
        return SignIn(None, Refusal.throttled, throttled)
    user = find_user(session, name) if folded else None
    since = max(
        [window_start, _last_success(session, folded) or window_start]
        + ([user.password_changed_at] if user is not None else [])
    )
    locked = _until(_failures(session, since=since, name=folded), limits.max_failures, limits.lockout)
    if locked is not None:
        attempt(Refusal.locked)
        return SignIn(None, Refusal.locked, locked)
    matches = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not matches or not user.active:
        attempt(Refusal.password)
        if user is not None and user.id is not None:
            record(
                session,
                actor="web:login",
                entity="user",
                entity_id=user.id,
                action="login_failed",
                data={"client": client},
            )
            session.flush()  # this failure counts from now on
            failures = _failures(session, since=since, name=folded)
            now_locked = _until(failures, limits.max_failures, limits.lockout)
            if now_locked is not None and len(failures) == limits.max_failures:  # locked by this one
                record(
                    session,
                    actor="web:login",
                    entity="user",
                    entity_id=user.id,
                    action="lockout",
                    reason=f"连续 {limits.max_failures} 次密码错误，锁定至 {now_locked.isoformat()} / "
                    f"{limits.max_failures} wrong passwords: locked until {now_locked.isoformat()}",
                    data={"client": client},
                )
        session.flush()
        return SignIn(None, Refusal.password)
    attempt(None)
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    assert user.id is not None
    record(
        session,
        actor=actor_of(user),
        entity="user",
        entity_id=user.id,
        action="login",
        data={"client": client},
    )
    session.flush()
    return SignIn(user)
