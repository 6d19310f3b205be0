"""Working days (工作日) in mainland China, for the 公示 window and payment deadlines.

A day is a working day when the competition's ``make_up_workdays`` lists it (调休 working weekends),
not when its ``holidays`` list it, and otherwise as ``chinesecalendar`` says (official holidays
and their make-up days, from the State Council's yearly notice); for a year that library does not
know yet, Monday to Friday. The configured lists always win, so a new year's notice can be typed
into the competition YAML before the library knows it.

The 公示 window: it opens at the moment of publication; the day of publication counts as its first
working day when it is a working day and the notice went out before noon (Beijing time), otherwise
counting starts with the next working day. The window ends on its N-th working day at the
configured time (``funding.publicity_ends_at``, 17:30 by default), Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")
NOON = time(12, 0)


def is_working_day(day: date, *, holidays: Collection[date] = (), make_up: Collection[date] = ()) -> bool:
    if day in make_up:
        return True
    if day in holidays:
        return False
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the library does not cover yet
        return day.weekday() < 5


def calendar_knows(year: int) -> bool:
    """Whether ``chinesecalendar`` holds the State Council's holidays of ``year`` (else only
    weekends are known, until the configured lists or a newer library say more)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def add_working_days(
    start: date, count: int, *, holidays: Collection[date] = (), make_up: Collection[date] = ()
) -> date:
    """The ``count``-th working day counting ``start`` itself as the first when it is one."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start
    seen = 0
    while True:
        if is_working_day(day, holidays=holidays, make_up=make_up):
            seen += 1
            if seen == count:
                return day
        day += timedelta(days=1)


def publicity_window(
    published_at: datetime,
    working_days: int,
    *,
    ends_at: time,
    holidays: Collection[date] = (),
    make_up: Collection[date] = (),
) -> tuple[date, datetime]:
    """The first counted day and the end of the 公示 window (aware, Asia/Shanghai)."""
    local = published_at.astimezone(BEIJING)
    first = local.date()
    if local.time() >= NOON or not is_working_day(first, holidays=holidays, make_up=make_up):
        first += timedelta(days=1)
    while not is_working_day(first, holidays=holidays, make_up=make_up):
        first += timedelta(days=1)
    last = add_working_days(first, working_days, holidays=holidays, make_up=make_up)
    return first, datetime.combine(last, ends_at, tzinfo=BEIJING)
