"""Passwords: Argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended option),
never the password itself; a hash made with older parameters is replaced at the next sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.errors import InputError, Problem

MIN_LENGTH = 10
MAX_LENGTH = 256
_hasher = PasswordHasher()
# compared against when the name has no account, so that a missing name takes as long as a wrong password
_NOBODY = _hasher.hash("no such account, no such password")


def check_password(password: str, *, name: str) -> None:
    """``InputError`` when ``password`` is too short, too long, or the name itself."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            Problem(
                "",
                "密码",
                f"密码至少 {MIN_LENGTH} 个字符",
                f"a password has at least {MIN_LENGTH} characters",
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append(
            Problem(
                "", "密码", f"密码最多 {MAX_LENGTH} 个字符", f"a password has at most {MAX_LENGTH} characters"
            )
        )
    if password.strip().lower() == name.strip().lower():
        problems.append(Problem("", "密码", "密码不能与用户名相同", "the password may not be the name"))
    if problems:
        raise InputError(problems)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing or damaged hash never matches (and takes as long)."""
    try:
        return _hasher.verify(password_hash or _NOBODY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
