"""Text for two audiences in one string: ``中文 / English``.

A stored reason (a tranche's note, a checkpoint's outcome, an audit row's why) is read by staff in
the CLI and by applicants in bilingual letters, and printed in official papers, which are Chinese.
It is stored as one string, Chinese first, English after the first ``" / "`` (``SEPARATOR``).
``Bilingual`` composes such texts so that the Chinese half is whole — every Chinese part before the
separator, none holding it — and ``chinese`` reads the half a paper prints. A text without the
separator is the same in both languages (a reason typed by a person).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEPARATOR = " / "
_STANDS_IN = "／"  # a full-width solidus where a Chinese part held the separator


@dataclass(frozen=True)
class Bilingual:
    """A Chinese text and its English counterpart; ``str()`` is the stored form."""

    zh: str
    en: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "zh", self.zh.replace(SEPARATOR, _STANDS_IN))

    def __str__(self) -> str:
        return self.zh if self.en in ("", self.zh) else f"{self.zh}{SEPARATOR}{self.en}"

    def __add__(self, other: Bilingual) -> Bilingual:
        return Bilingual(self.zh + other.zh, self.en + other.en)

    @classmethod
    def parse(cls, text: str) -> Bilingual:
        """A stored text as its two halves (the whole text for both when it has no separator)."""
        zh, separator, en = text.partition(SEPARATOR)
        return cls(zh, en if separator else zh)

    @classmethod
    def join(cls, parts: Iterable[Bilingual]) -> Bilingual:
        """Parts one after another: ``；`` between the Chinese ones, ``; `` between the English."""
        items = list(parts)
        return cls("；".join(p.zh for p in items), "; ".join(p.en for p in items))


def chinese(text: str) -> str:
    """The Chinese half of a stored text: what an official paper prints."""
    return Bilingual.parse(text).zh


def english(text: str) -> str:
    """The English half of a stored text (the whole text when it has none)."""
    return Bilingual.parse(text).en
