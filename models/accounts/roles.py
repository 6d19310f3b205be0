"""The console's roles and what each may do: one table, read by every page and action.

    管理员 admin    everything: every stage, decision and setting
    财务   finance  reads everything; records signing dates and payments
    只读   reader   reads and downloads (街道 leaders, oversight)

A page or action names the ``Power`` it needs; ``ROLE_POWERS`` says which role holds it. A new
kind of action adds a power here and grants it to the roles that may take it — nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"  # 管理员
    finance = "finance"  # 财务
    reader = "reader"  # 只读


class Power(StrEnum):
    read = "read"  # open every page of the console
    download = "download"  # documents, evidence, letters' attachments, exports
    payments = "payments"  # signing dates, payments (tranches)
    act = "act"  # every stage, decision, override and setting


ROLE_LABELS: Mapping[Role, str] = {Role.admin: "管理员", Role.finance: "财务", Role.reader: "只读"}
ROLE_LABELS_EN: Mapping[Role, str] = {
    Role.admin: "administrator",
    Role.finance: "finance",
    Role.reader: "read-only",
}

ROLE_POWERS: Mapping[Role, frozenset[Power]] = {
    Role.admin: frozenset(Power),
    Role.finance: frozenset({Power.read, Power.download, Power.payments}),
    Role.reader: frozenset({Power.read, Power.download}),
}


def role_of(text: str) -> Role | None:
    """The role named ``text``: its code (admin, finance, reader) or its Chinese label."""
    value = text.strip()
    for role in Role:
        if value in (role.value, ROLE_LABELS[role], ROLE_LABELS_EN[role]):
            return role
    return None


def may(role: Role, power: Power) -> bool:
    return power in ROLE_POWERS[role]
