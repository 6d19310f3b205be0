"""The console's users: add, list, change a password, disable — each audited on the ``user``
entity — and the check ``grantflow doctor`` makes that someone can sign in as 管理员.

A name is 1–32 letters (Chinese too), digits, ``.``, ``_`` or ``-``, unique whatever its case. The
audit actor of a user's actions is ``admin:<name>`` (``actor_of``); a few names the product itself
uses as actors are refused, so that a person can never be confused with a command.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.accounts.passwords import check_password, hash_password
from models.accounts.roles import ROLE_LABELS, Role
from models.accounts.tables import NAME_MAX, ConsoleSession, User
from models.audit import record
from models.errors import Conflict, InputError, NotFound, Problem
from models.health import Check
from models.types import utcnow

NAME_PATTERN = re.compile(rf"^[\w.\-]{{1,{NAME_MAX}}}$")
RESERVED_NAMES = frozenset({"cli", "system", "web", "test", "server-test", "screening", "review"})


def actor_of(user: User) -> str:
    """Who the audit trail names for what ``user`` does in the console."""
    return f"admin:{user.name}"


def fold_name(name: str) -> str:
    """The name as compared: stripped, lower case, cut to the column's length."""
    return name.strip().lower()[:NAME_MAX]


def check_name(name: str) -> str:
    """The name as stored, or ``InputError`` naming what is wrong with it."""
    value = name.strip()
    if not NAME_PATTERN.fullmatch(value) or value.isdigit():
        raise InputError(
            Problem(
                "",
                "用户名",
                f"用户名须为 1–{NAME_MAX} 个字母、汉字、数字或 . _ -，且不能全为数字：{value!r}",
                f"a name is 1–{NAME_MAX} letters, digits, '.', '_' or '-', not digits only: {value!r}",
            )
        )
    if value.lower() in RESERVED_NAMES:
        raise InputError(
            Problem(
                "", "用户名", f"用户名 {value} 为系统保留", f"the name {value!r} is reserved for the system"
            )
        )
    return value


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(func.lower(col(User.name)) == fold_name(name))).first()


def get_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound(f"没有用户 {name} / no user {name!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def add_user(session: Session, *, name: str, role: Role, password: str, actor: str) -> User:
    """A new user with ``role``; ``Conflict`` when the name is taken (whatever its case)."""
    name = check_name(name)
    check_password(password, name=name)
    if find_user(session, name) is not None:
        raise Conflict(f"用户 {name} 已存在 / the user {name!r} exists already")
    user = User(name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    assert user.id is not None
    record(
        session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action="create",
        to_state=str(role),
        reason=f"新用户 {name}（{ROLE_LABELS[role]}）/ new user {name} ({role})",
    )
    return user


def end_sessions(session: Session, *, user_id: int, why: str, now: datetime | None = None) -> int:
    """End every open session of a user (a new password, a disabled account); returns how many."""
    result = session.execute(
        sa.update(ConsoleSession)
        .where(col(ConsoleSession.user_id) == user_id, col(ConsoleSession.ended_at).is_(None))
        .values(ended_at=now or utcnow(), ended_why=why)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_password(session: Session, *, name: str, password: str, actor: str) -> User:
    """A new password: every session of the user ends, and a lock-out on the name is lifted."""
    user = get_user(session, name)
    check_password(password, name=user.name)
    assert user.id is not None
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.add(user)
    ended = end_sessions(session, user_id=user.id, why="password")
    record(
        session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action="password",
        reason=f"密码已更改，{ended} 个会话已结束 / password changed, {ended} sessions ended",
    )
    session.flush()
    return user


def set_active(session: Session, *, name: str, active: bool, actor: str) -> bool:
    """Disable (every session ends) or enable a user; False when it already was so."""
    user = get_user(session, name)
    if user.active is active:
        return False
    assert user.id is not None
    user.active = active
    session.add(user)
    ended = 0 if active else end_sessions(session, user_id=user.id, why="disabled")
    record(
        session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action="enable" if active else "disable",
        from_state="disabled" if active else "active",
        to_state="active" if active else "disabled",
        reason="" if active else f"{ended} 个会话已结束 / {ended} sessions ended",
    )
    session.flush()
    return True


def administrators(session: Session) -> int:
    """How many active 管理员 can sign in."""
    count = session.exec(
        select(func.count()).select_from(User).where(User.role == Role.admin, col(User.active).is_(True))
    ).one()
    return int(count)


def check_administrator(session: Session) -> Check:
    """``grantflow doctor``: an active 管理员 exists, else the command that adds one."""
    name = "管理后台 console administrator"
    count = administrators(session)
    if count:
        return Check(name, True, f"{count} 名管理员 / {count} administrator(s)")
    return Check(
        name,
        False,
        "没有可登录的管理员 / no administrator can sign in to /admin",
        "运行 grantflow admin add NAME --role 管理员 / run `grantflow admin add NAME --role admin`",
    )
