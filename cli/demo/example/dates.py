"""The example's applications moved in time, for ``grantflow example write --start-on``: every date a
sample carries (founded, the project's start and end, the months of its 活动安排) moved by the same
number of days as the competition's own dates (``models.competition.shift.start_on``), so that the
files a new user imports today fit the competition they created today.

Kept apart from ``models.competition.shift``, which moves a competition file's text; here the data
of the samples is moved before the files are written.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

from cli.demo.example.applications import Sample

# 2025年5月, 2025年5月—9月, 2025年12月—2026年2月: a month with its year, or a month after a dash
_MONTH = re.compile(r"(?:(\d{4})年)?(\d{1,2})月")


def moved_day(text: str, days: int) -> str:
    """An ISO date (2025-05-01) ``days`` later, as ISO text."""
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def _month_end(day: date) -> date:
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


def moved_months(text: str, days: int) -> str:
    """``2025年5月—9月`` moved by ``days``: the span it names (1 May to 30 September) moved, then
    named again by its months (``2026年6月—11月``), the year written where it changes. Text
    without a year (每季度) stays as it is."""
    found = list(_MONTH.finditer(text))
    if not days or not found or not found[0].group(1) or len(found) > 2:
        return text
    year, months = int(found[0].group(1)), []
    for match in found:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            return text
        if match.group(1):
            year = int(match.group(1))
        elif months and month < months[-1][1]:  # 2025年11月—2月: the year turned
            year += 1
        months.append((year, month))
    first = date(*months[0], 1) + timedelta(days=days)
    last = _month_end(date(*months[-1], 1)) + timedelta(days=days)
    named = f"{first.year}年{first.month}月"
    if (last.year, last.month) != (first.year, first.month):
        named += f"—{last.month}月" if last.year == first.year else f"—{last.year}年{last.month}月"
    return text[: found[0].start()] + named + text[found[-1].end() :]


def moved_sample(sample: Sample, days: int) -> Sample:
    """The sample with every date it carries ``days`` later (the same sample when ``days`` is 0)."""
    if not days:
        return sample
    return dataclasses.replace(
        sample,
        founded=moved_day(sample.founded, days),
        start=moved_day(sample.start, days),
        end=moved_day(sample.end, days),
        activities=tuple(
            (moved_months(period, days), content, sessions, people)
            for period, content, sessions, people in sample.activities
        ),
    )
