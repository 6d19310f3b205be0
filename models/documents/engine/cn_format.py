"""Dates and money printed the Chinese official way, as filters for document and letter templates.

``cn_date``: ``2025年3月1日`` (GB/T 9704 writes dates in full, Arabic numerals, no leading zeros);
``cn_datetime``: ``2025年2月28日17:00``; aware datetimes are shown in the configured time zone.
``yuan``: integer fen → ``12,000.00``; ``yuan_capitals``: integer fen → ``人民币壹万贰仟元整``;
``cn_number``: ``12`` → ``十二`` (the （一） of second-level headings); ``nobreak``: a phone number
or code in running text that must not break at its hyphen; ``percent``: a share in whole percent,
rounded half-up (8 of 12 → ``67%``), the one rounding of every percentage printed.
An empty value (``""`` or None, as on a blank form) prints empty. ``title_lines`` (``titles.py``)
breaks a title between phrases into balanced lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from models.documents.engine.templating import TemplateError
from models.documents.engine.titles import title_lines
from models.money import format_yuan, yuan_in_capitals


@lru_cache(maxsize=1)
def _zone() -> ZoneInfo:
    from models.settings import get_settings

    return ZoneInfo(get_settings().timezone)


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value.astimezone(_zone()) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise TemplateError(f"不是日期 / cn_date needs a date, got {value!r}")


def cn_date(value: Any) -> str:
    """``date(2025, 3, 1)`` → ``2025年3月1日`` (aware datetimes in the configured time zone)."""
    day = _as_date(value)
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(value: Any) -> str:
    """``2025-02-28T09:00Z`` → ``2025年2月28日17:00`` in the configured time zone."""
    if not isinstance(value, datetime):
        return cn_date(value)
    local = value.astimezone(_zone()) if value.tzinfo else value
    return f"{cn_date(local)}{local:%H:%M}"


def _fen(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateError(f"{name} 需要整数分 / the {name} filter needs integer fen, got {value!r}")
    return value


def yuan(value: Any) -> str:
    """Integer fen → ``12,000.00`` (empty for an empty value, as on a blank form)."""
    fen = _fen(value, "yuan")
    return "" if fen is None else format_yuan(fen)


def yuan_capitals(value: Any) -> str:
    """Integer fen → ``人民币壹万贰仟元整``."""
    fen = _fen(value, "yuan_capitals")
    return "" if fen is None else yuan_in_capitals(fen)


_HYPHEN_IN_WORD = re.compile(r"(?<=[0-9A-Za-z])-(?=[0-9A-Za-z])")


def nobreak(value: Any) -> str:
    """A phone number or code that must not break at its hyphen in running text (0592-5512345):
    the hyphen between letters or digits becomes U+2011, the non-breaking hyphen."""
    return _HYPHEN_IN_WORD.sub("\u2011", "" if value is None else str(value))


def percent(part: int | Decimal, whole: int | Decimal) -> str:
    """``part`` of ``whole`` in whole percent, rounded half-up: 8 of 12 → ``67%``, 3,240 of 4,920
    (65.85…) → ``66%``, 1 of 8 → ``13%``; ``—`` when ``whole`` is zero (nothing was planned)."""
    if not whole:
        return "—"
    share = Decimal(part) * 100 / Decimal(whole)  # exact wherever it ends in .5 (a finite fraction)
    return f"{share.quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


_DIGITS = "〇一二三四五六七八九"


def cn_number(value: Any) -> str:
    """``12`` → ``十二`` (1–99, for the （一） of a second-level heading); other numbers as digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateError(f"cn_number 需要整数 / the cn_number filter needs an integer, got {value!r}")
    if not 0 < value < 100:
        return str(value)
    tens, units = divmod(value, 10)
    prefix = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return prefix + (_DIGITS[units] if units else "")


FILTERS: dict[str, Callable[..., str]] = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "yuan": yuan,
    "yuan_capitals": yuan_capitals,
    "title_lines": title_lines,
    "cn_number": cn_number,
    "nobreak": nobreak,
}


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_moment(moment: datetime, timezone: str) -> str:
    """``2025年2月28日 17:00`` in ``timezone`` (letters take pre-formatted dates)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{cn_day(local.date())} {local:%H:%M}"
