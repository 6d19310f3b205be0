"""The errors of grantflow, drawn as a tree.

    GrantflowError                 every error the product raises on purpose
    ├── ConfigError                a competition file or a setting is wrong (names file, field, reason)
    ├── InputError                 an application, a score or an import row is wrong (names where)
    ├── IllegalTransition          a state move that the state machine does not allow
    │   └── StateChanged           … because another run moved it meanwhile (already done)
    ├── NotFound                   an id, slug or reference that does not exist
    ├── Conflict                   the thing exists already, or was changed by someone else
    ├── AccessDenied               a personal link that is forged, expired or someone else's
    ├── DeliveryError              a letter could not be delivered (the SMTP answer is kept)
    └── StorageFull                a folder we write to has no space left (nothing of the step kept)

Messages are Chinese first, English beside it. The CLI prints one line and exits 1; the portal maps
them to 4xx pages.
"""

from __future__ import annotations

from dataclasses import dataclass


class GrantflowError(Exception):
    """Base of every error grantflow raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong, in both languages."""

    where: str
    field: str
    zh: str
    en: str

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        field = f"{self.field}: " if self.field else ""
        return f"{place}{field}{self.zh} / {self.en}"


class _ProblemsError(GrantflowError):
    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", "", problems, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigError(_ProblemsError):
    """A competition configuration or a setting is wrong."""


class InputError(_ProblemsError):
    """An application, score sheet or import row is wrong."""


class IllegalTransition(GrantflowError):
    """A state move the state machine does not allow."""

    def __init__(self, entity: str, entity_id: object, current: str, target: str, allowed: list[str]):
        self.entity, self.entity_id, self.current, self.target = entity, entity_id, current, target
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "无 / none"
        super().__init__(
            f"{entity} #{entity_id} 不能从 {current} 变为 {target}（允许：{allowed_text}） / "
            f"{entity} #{entity_id} cannot move from {current} to {target} (allowed: {allowed_text})"
        )


class StateChanged(IllegalTransition):
    """The move was allowed from the state we read, but another run changed the state meanwhile."""

    def __init__(self, entity: str, entity_id: object, expected: str, current: str, target: str):
        self.expected = expected
        GrantflowError.__init__(
            self,
            f"{entity} #{entity_id} 已被另一操作从 {expected} 改为 {current}，未改为 {target}"
            f"（已完成或正在进行） / {entity} #{entity_id} was moved from {expected} to {current} by "
            f"another run meanwhile, not to {target} (already done or under way)",
        )
        self.entity, self.entity_id, self.current, self.target = entity, entity_id, current, target
        self.allowed: list[str] = []


class NotFound(GrantflowError):
    """An id, slug or reference that does not exist."""


class Conflict(GrantflowError):
    """The thing exists already, or was changed by someone else meanwhile."""


class AccessDenied(GrantflowError):
    """A personal link that is forged, expired, or someone else's."""


class DeliveryError(GrantflowError):
    """A letter could not be delivered; the SMTP answer is kept on the outbox row."""


class StorageFull(GrantflowError):
    """The disk under a folder we write to is full (or over quota): the step keeps nothing."""
