"""The console's tables: its users, their sessions, and every sign-in attempt.

The table is ``user_account``, not ``user``: ``user`` is a reserved word in PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.accounts.roles import Role
from models.types import UtcDateTime, enum_column, utcnow

NAME_MAX = 32


class User(SQLModel, table=True):
    """One person who signs in to the console (管理后台)."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX, sa_column_kwargs={"unique": True})  # the sign-in name
    role: Role = Field(sa_type=enum_column(Role))
    password_hash: str = Field(max_length=200)  # Argon2id, PHC string
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table only its sha256."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_why: str = Field(default="", max_length=20)  # logout | idle | expired | password | disabled | login
    client: str = Field(default="", max_length=64)


class LoginAttempt(SQLModel, table=True):
    """One try to sign in, kept whatever the name (also one no account has): the throttle counts
    the failures of a name and of an address within the lock-out window."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_name_at", "name", "at"),
        sa.Index("ix_login_attempt_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    name: str = Field(max_length=NAME_MAX)  # as typed, folded (stripped, lower case, cut to the limit)
    client: str = Field(default="", max_length=64)  # the client's address
    succeeded: bool = False
    refused: str = Field(default="", max_length=20)  # password | locked | throttled | disabled
