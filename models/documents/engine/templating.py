"""Templates are a registry: every document and mail template has a role.

A role names its template file, says in one line what it is for, and declares every context key it
needs with a sample value. ``tests/models/test_templating.py`` renders every role with its samples
and fails when a template uses a key the role does not declare.

Trust: everything in a context is untrusted user text. Templates run in Jinja's
``SandboxedEnvironment`` (an administrator-edited template cannot reach Python internals), with
``StrictUndefined`` (a missing key is an error naming key and template, never a blank) and
autoescape on. Characters that XML 1.0 forbids are stripped from every value by ``clean_text``.
Template syntax inside user text (``{{ 7*7 }}``) is data: it is printed, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jinja2 import StrictUndefined, meta
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from models.errors import GrantflowError

# XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """Remove the characters XML 1.0 forbids (control characters, lone surrogates, U+FFFE/U+FFFF)."""
    return _XML_FORBIDDEN.sub("", value)


class TemplateError(GrantflowError):
    """A template is missing, broken, or needs a key that the context does not give."""


@dataclass(frozen=True)
class TemplateRole:
    """One kind of document or letter, and the keys its template may use."""

    name: str  # e.g. "receipt"
    title: str  # 受理回执
    purpose: str  # one line: what it is for
    template: str  # path under templates/, e.g. "docs/receipt.docx" or "mail/receipt"
    keys: Mapping[str, Any] = field(default_factory=dict)  # key -> sample value
    kind: Literal["docx", "mail"] = "docx"

    def check_context(self, context: Mapping[str, Any]) -> None:
        missing = [k for k in self.keys if k not in context]
        if missing:
            raise TemplateError(
                f"模板 {self.template} 缺少字段 {', '.join(missing)} / "
                f"template {self.template} (role {self.name}) needs missing key(s): {', '.join(missing)}"
            )


class Registry:
    """The roles of one kind, by name."""

    def __init__(self, kind: Literal["docx", "mail"]) -> None:
        self.kind = kind
        self._roles: dict[str, TemplateRole] = {}

    def register(self, role: TemplateRole) -> TemplateRole:
        if role.kind != self.kind:
            raise ValueError(f"role {role.name} is a {role.kind} role, not {self.kind}")
        if role.name in self._roles:
            raise ValueError(f"role {role.name} is registered twice")
        self._roles[role.name] = role
        return role

    def get(self, name: str) -> TemplateRole:
        try:
            return self._roles[name]
        except KeyError:
            raise TemplateError(f"没有模板角色 {name} / no {self.kind} template role {name!r}") from None

    def __iter__(self) -> Iterator[TemplateRole]:
        return iter(self._roles.values())

    def __len__(self) -> int:
        return len(self._roles)


def sandbox(*, autoescape: bool = True) -> SandboxedEnvironment:
    """The one Jinja environment every template is compiled in."""
    env = SandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    return env


def undeclared_keys(env: SandboxedEnvironment, source: str, declared: Mapping[str, Any]) -> set[str]:
    """Top-level names a template source uses that the role does not declare."""
    used = meta.find_undeclared_variables(env.parse(source))
    return set(used) - set(declared) - set(env.globals)


def explain_undefined(exc: UndefinedError, template: str) -> TemplateError:
    return TemplateError(f"模板 {template} 使用了未提供的字段 / template {template}: {exc.message}")
