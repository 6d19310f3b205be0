"""Column widths from what a column holds, so that no word, code, amount or phone number is broken in a cell.

A table's columns are declared by their content class — a serial number, a short label of n characters,
a code (JT2025-003), an amount (80,000.00), a phone number, a small number, or free text — and
``widths_mm`` gives each fixed column the width of its widest content and of its header (whichever is
wider) at the table's font size, plus the cell padding; free-text columns share what is left of the
text area. Cells of codes, amounts, phone numbers and numbers also get ``w:noWrap``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models.documents.engine.titles import text_em

PT_MM = 25.4 / 72
PADDING_MM = 2 * 108 / 1440 * 25.4  # "Table Grid": 0.19 cm left and right of the text
SLACK_MM = 1.2  # rounding, and a glyph a little wider than its em
HALF_WIDTH = 0.56  # digits, Latin letters and ASCII punctuation, in em of a CJK character
PORTRAIT_MM, LANDSCAPE_MM = 210 - 28 - 26, 297 - 37 - 35  # the width of the text area


@dataclass(frozen=True)
class Column:
    """What a column holds: ``kind``, the widest content in em (CJK characters), a share of free width."""

    kind: str
    em: float = 0.0
    weight: float = 1.0

    @property
    def free(self) -> bool:
        return self.kind == "text"

    @property
    def no_wrap(self) -> bool:
        return self.kind in {"serial", "code", "amount", "phone", "number"}


SERIAL = Column("serial", 2 * HALF_WIDTH)  # 1 … 99
CODE = Column("code", 10 * HALF_WIDTH)  # JT2025-003
AMOUNT = Column("amount", 10 * HALF_WIDTH)  # 800,000.00
PHONE = Column("phone", 12 * HALF_WIDTH)  # 0592-5512345, 13950012345
TEXT = Column("text")


def label(chars: float) -> Column:
    """A short label of up to ``chars`` CJK characters (公益服务: 4), never broken."""
    return Column("label", chars)


def number(chars: int = 3) -> Column:
    """A small number or percentage of up to ``chars`` half-width characters (100%: 4)."""
    return Column("number", chars * HALF_WIDTH)


def text(weight: float = 1.0) -> Column:
    """Free text, wrapping; free columns share the width left in proportion to their weight."""
    return Column("text", 0.0, weight)


def em(value: str) -> float:
    """The printed width of a text in em: CJK characters 1, half-width characters about a half, and the
    quarter em of space between Latin and CJK."""
    return text_em(value)


# A header may wrap before a bracket or after a slash (资助金额 / （元）), never inside a word.
_HEADER_BREAK = re.compile(r"(?=[（(])|(?<=/)")


def header_em(header: str) -> float:
    return max((em(part) for part in _HEADER_BREAK.split(header) if part), default=0.0)


def width_mm(column: Column, header: str, size: float) -> float:
    """The width a fixed column needs at ``size`` pt: its widest content or header, and the padding."""
    return max(column.em, header_em(header)) * size * PT_MM + PADDING_MM + SLACK_MM


def widths_mm(columns: Sequence[Column], headers: Sequence[str], size: float, total_mm: float) -> list[float]:
    """Each column's width: fixed columns as they need, free text sharing the rest of ``total_mm``.

    Without a free column the fixed ones are widened in proportion to fill the width. A table whose
    fixed columns leave a free column less than six characters raises ``ValueError`` (a builder bug).
    """
    needs = [width_mm(c, h, size) for c, h in zip(columns, headers, strict=True)]
    fixed = sum(n for c, n in zip(columns, needs, strict=True) if not c.free)
    weights = sum(c.weight for c in columns if c.free)
    left = total_mm - fixed
    if not weights:
        if left < 0:
            raise ValueError(f"columns need {fixed:.1f} mm, the page has {total_mm:.1f} mm: {headers}")
        return [round(n * total_mm / fixed, 1) for n in needs]
    result = []
    for column, need in zip(columns, needs, strict=True):
        if not column.free:
            result.append(round(need, 1))
            continue
        share = left * column.weight / weights
        if share < max(need, 6 * size * PT_MM + PADDING_MM):
            raise ValueError(f"free column too narrow ({share:.1f} mm) in {headers}")
        result.append(round(share, 1))
    return result
