"""Every error of a posted form at its field and in a summary that links to it, in the page's language.

A room turns the domain's ``Problem``s into ``FieldError``s — the field's own name as the page shows
it (``label``), what is wrong (``text``, one side of the bilingual problem), the control to fix
(``anchor``: its element id) and the key of the message beside it (``error-<key>``). ``FieldErrors``
keeps them in page order; the templates' ``forms.html`` macros print the summary (each item a link
to its control), the message beside each field, and mark the first control with ``autofocus`` so
that the page opens scrolled to it (no script: the CSP allows none inline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from models.errors import Problem
from portal.i18n import in_language, problem_text


@dataclass(frozen=True)
class FieldError:
    key: str  # the message's id is error-<key>
    anchor: str  # the id of the control to fix (the summary links to it)
    label: str  # the field's name, as the page shows it
    text: str  # what is wrong, in the page's language


@dataclass
class FieldErrors:
    items: list[FieldError] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def of(self, key: str) -> str:
        """The message beside field ``key`` ('' when it has none)."""
        return "；".join(e.text for e in self.items if e.key == key)

    @property
    def first(self) -> str:
        """The anchor of the first control to fix, in page order ('' when none)."""
        return self.items[0].anchor if self.items else ""

    def ordered(self, keys: Sequence[str]) -> FieldErrors:
        """The same errors in the order of ``keys`` (the page's), the rest after them."""
        place = {key: i for i, key in enumerate(keys)}
        return FieldErrors(sorted(self.items, key=lambda e: place.get(e.key, len(place))))


def problem_line(problem: Problem, language: str) -> str:
    """A problem as the page says it: its place (a file's name, one side) before what is wrong."""
    text = problem_text(problem, language)
    where = in_language(problem.where, language) if problem.where else ""
    return f"{where}：{text}" if where and language != "en" else (f"{where}: {text}" if where else text)


def field_errors(
    problems: Iterable[Problem],
    language: str,
    *,
    place: dict[str, tuple[str, str, str]],
    general: tuple[str, str, str],
    shown_where: frozenset[str] = frozenset(),
) -> FieldErrors:
    """``problems`` at their fields: ``place`` maps a problem's field to (key, anchor, label); a field
    it does not know goes to ``general`` (key, anchor, label: the form as a whole). A problem whose
    field is in ``shown_where`` keeps its place (a file's name) before its text."""
    items = []
    for problem in problems:
        key, anchor, label = place.get(problem.field, general)
        text = (
            problem_line(problem, language)
            if problem.field in shown_where
            else problem_text(problem, language)
        )
        items.append(FieldError(key, anchor, label, text))
    return FieldErrors(items)
