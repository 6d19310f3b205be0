"""The console's accounts on SQLite and PostgreSQL: names and passwords, the throttle and the
lock-out counted from the stored attempts, sessions that end, and doctor's check."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from models.accounts.login import Limits, Refusal, sign_in
from models.accounts.passwords import verify_password
from models.accounts.roles import ROLE_POWERS, Power, Role, role_of
from models.accounts.sessions import end_session, open_session, resume_session
from models.accounts.tables import ConsoleSession, LoginAttempt, User
from models.accounts.users import add_user, check_administrator, set_active, set_password
from models.audit import AuditEvent
from models.errors import Conflict, InputError, NotFound
from models.types import utcnow

LIMITS = Limits(
    idle=timedelta(minutes=30), lifetime=timedelta(hours=12), max_failures=3, lockout=timedelta(minutes=15)
)
PASSWORD = "a-long-enough-secret"


@pytest.fixture
def lin(session: Session) -> User:
    user = add_user(session, name="lin", role=Role.admin, password=PASSWORD, actor="admin:cli")
    session.commit()
    return user


def attempt(session: Session, name: str, password: str, at: datetime, client: str = "10.0.0.1"):
    outcome = sign_in(session, name=name, password=password, client=client, now=at, limits=LIMITS)
    session.commit()
    return outcome


def test_roles_are_named_in_chinese_or_english_and_hold_their_powers() -> None:
    assert (
        role_of("管理员") is Role.admin
        and role_of("只读") is Role.reader
        and role_of("finance") is Role.finance
    )
    assert role_of("boss") is None
    assert ROLE_POWERS[Role.admin] == frozenset(Power)
    assert Power.act not in ROLE_POWERS[Role.finance] and Power.payments in ROLE_POWERS[Role.finance]
    assert ROLE_POWERS[Role.reader] == {Power.read, Power.download}


@pytest.mark.parametrize(
    ("name", "password", "says"),
    [
        ("", PASSWORD, "用户名须为"),
        ("a b", PASSWORD, "用户名须为"),
        ("x" * 33, PASSWORD, "用户名须为"),
        ("12345", PASSWORD, "不能全为数字"),
        ("cli", PASSWORD, "系统保留"),
        ("wang", "short", "至少 10 个字符"),
        ("wang", "WANG", "至少 10 个字符"),
        ("wangwangwang", "WangWangWang", "不能与用户名相同"),
    ],
)
def test_a_bad_name_or_password_is_refused_naming_what_is_wrong(
    session: Session, name: str, password: str, says: str
) -> None:
    with pytest.raises(InputError, match=says):
        add_user(session, name=name, role=Role.reader, password=password, actor="admin:cli")
    assert session.exec(select(User)).all() == []


def test_a_name_is_unique_whatever_its_case_and_chinese_names_are_fine(session: Session, lin: User) -> None:
    with pytest.raises(Conflict, match="已存在"):
        add_user(session, name="LIN", role=Role.reader, password=PASSWORD, actor="admin:cli")
    session.rollback()
    assert add_user(session, name="林老师", role=Role.finance, password=PASSWORD, actor="admin:cli").id
    assert lin.password_hash.startswith("$argon2id$") and PASSWORD not in lin.password_hash
    assert verify_password(lin.password_hash, PASSWORD) and not verify_password(lin.password_hash, "wrong")
    assert not verify_password("not a hash", PASSWORD) and not verify_password(None, PASSWORD)


def test_a_sign_in_is_recorded_and_audited(session: Session, lin: User) -> None:
    now = utcnow()
    outcome = attempt(session, "Lin", PASSWORD, now)
    assert outcome.user is not None and outcome.user.id == lin.id and outcome.refused is None
    assert session.exec(select(LoginAttempt.succeeded, LoginAttempt.name)).all() == [(True, "lin")]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert event.actor == "admin:lin" and event.entity == "user" and event.entity_id == lin.id


def test_repeated_failures_lock_the_name_until_the_window_passes(session: Session, lin: User) -> None:
    start = utcnow()
    for minute in range(LIMITS.max_failures):
        assert (
            attempt(session, "lin", "wrong-password!", start + timedelta(minutes=minute)).refused
            is Refusal.password
        )
    locked = attempt(session, "lin", PASSWORD, start + timedelta(minutes=5))
    assert locked.user is None and locked.refused is Refusal.locked
    assert locked.until == start + LIMITS.lockout  # the oldest counted failure leaves the window then
    assert attempt(session, "lin", PASSWORD, start + LIMITS.lockout + timedelta(seconds=1)).user is not None
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "user"))]
    assert actions == ["create", *["login_failed"] * LIMITS.max_failures, "lockout", "login"]


def test_a_new_password_lifts_the_lock(session: Session, lin: User) -> None:
    start = utcnow() - timedelta(minutes=1)
    for second in range(LIMITS.max_failures):
        attempt(session, "lin", "wrong-password!", start + timedelta(seconds=second))
    set_password(session, name="lin", password="another-long-secret", actor="admin:cli")
    session.commit()
    assert attempt(session, "lin", "another-long-secret", utcnow()).user is not None


def test_a_name_without_an_account_is_locked_the_same_way(session: Session, lin: User) -> None:
    start = utcnow()
    outcomes = [attempt(session, "ghost", "whatever-it-is", start + timedelta(seconds=i)) for i in range(4)]
    assert [o.refused for o in outcomes] == [Refusal.password] * 3 + [Refusal.locked]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).all() == []


def test_one_address_guessing_many_names_is_throttled(session: Session, lin: User) -> None:
    start = utcnow()
    limit = LIMITS.max_failures * 4
    for i in range(limit):
        attempt(session, f"name{i}", "whatever-it-is", start + timedelta(seconds=i), client="10.9.9.9")
    throttled = attempt(session, "lin", PASSWORD, start + timedelta(seconds=limit), client="10.9.9.9")
    assert throttled.refused is Refusal.throttled and throttled.user is None
    assert (
        attempt(session, "lin", PASSWORD, start + timedelta(seconds=limit), client="10.1.1.1").user
        is not None
    )


def test_a_disabled_account_cannot_sign_in_and_gets_the_same_answer(session: Session, lin: User) -> None:
    assert set_active(session, name="lin", active=False, actor="admin:cli")
    assert not set_active(session, name="lin", active=False, actor="admin:cli")
    session.commit()
    assert attempt(session, "lin", PASSWORD, utcnow()).refused is Refusal.password
    with pytest.raises(NotFound):
        set_active(session, name="nobody", active=True, actor="admin:cli")


def test_sessions_end_idle_old_at_logout_and_with_a_new_password(session: Session, lin: User) -> None:
    now = utcnow()
    token = open_session(session, user=lin, client="10.0.0.1", now=now)
    session.commit()
    assert session.exec(select(ConsoleSession.token_sha256)).one() != token  # only its digest is kept
    assert resume_session(session, token=token, now=now + timedelta(minutes=29), limits=LIMITS) is not None
    assert resume_session(session, token=token, now=now + timedelta(minutes=58), limits=LIMITS) is not None
    assert (
        resume_session(session, token=token, now=now + timedelta(minutes=89), limits=LIMITS) is None
    )  # idle
    old = open_session(session, user=lin, client="10.0.0.1", now=now)
    awake = replace(LIMITS, idle=timedelta(days=1))  # seen often enough, but signed in too long ago
    assert resume_session(session, token=old, now=now + timedelta(hours=13), limits=awake) is None
    newer = open_session(session, user=lin, client="10.0.0.1", now=utcnow(), previous=token)
    assert end_session(session, token=newer, now=utcnow()) and not end_session(
        session, token=newer, now=utcnow()
    )
    kept = open_session(session, user=lin, client="10.0.0.1", now=utcnow())
    set_password(session, name="lin", password="another-long-secret", actor="admin:cli")
    assert resume_session(session, token=kept, now=utcnow(), limits=LIMITS) is None
    assert resume_session(session, token="never-issued", now=utcnow(), limits=LIMITS) is None
    session.commit()
    why = sorted(session.exec(select(ConsoleSession.ended_why)).all())
    assert why == ["expired", "idle", "logout", "password"]


def test_doctor_checks_that_an_administrator_can_sign_in(session: Session) -> None:
    missing = check_administrator(session)
    assert not missing.ok and "grantflow admin add" in missing.fix
    add_user(session, name="du", role=Role.reader, password=PASSWORD, actor="admin:cli")
    assert not check_administrator(session).ok  # a reader is no administrator
    add_user(session, name="lin", role=Role.admin, password=PASSWORD, actor="admin:cli")
    assert check_administrator(session).ok
    set_active(session, name="lin", active=False, actor="admin:cli")
    assert not check_administrator(session).ok
