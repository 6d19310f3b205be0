"""Dates and money printed the Chinese official way, as filters for document and letter templates.

``cn_date``: ``2025年3月1日`` (GB/T 9704 writes dates in full, Arabic numerals, no leading zeros);
``cn_datetime``: ``2025年2月28日17:00``; aware datetimes are shown in the configured time zone.
``yuan``: integer fen → ``12,000.00``; ``yuan_capitals``: integer fen → ``人民币壹万贰仟元整``.
An empty value (``""`` or None, as on a blank form) prints empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from models.documents.engine.templating import TemplateError
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


FILTERS: dict[str, Callable[..., str]] = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "yuan": yuan,
    "yuan_capitals": yuan_capitals,
}


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_moment(moment: datetime, timezone: str) -> str:
    """``2025年2月28日 17:00`` in ``timezone`` (letters take pre-formatted dates)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{cn_day(local.date())} {local:%H:%M}"
