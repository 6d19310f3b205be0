"""Working-day arithmetic across the 2025 Spring Festival and National Day holidays."""

from __future__ import annotations

from datetime import date, datetime, time

from models.funding.workdays import BEIJING, add_working_days, is_working_day, publicity_window


def test_spring_festival_2025_and_its_make_up_days():
    # 春节 28 Jan – 4 Feb 2025 off; Sunday 26 Jan and Saturday 8 Feb are make-up working days
    assert is_working_day(date(2025, 1, 26)) and is_working_day(date(2025, 2, 8))
    assert not any(is_working_day(date(2025, 1, 28 + i)) for i in range(4))
    assert not is_working_day(date(2025, 2, 4))
    # Friday 24 Jan + 5 working days: 24, 26 (Sun, make-up), 27, then 5 Feb, 6 Feb
    assert add_working_days(date(2025, 1, 24), 5) == date(2025, 2, 6)


def test_national_day_2025_and_its_make_up_days():
    # 国庆 + 中秋 1–8 Oct 2025 off; Sunday 28 Sep and Saturday 11 Oct are make-up working days
    assert is_working_day(date(2025, 9, 28)) and is_working_day(date(2025, 10, 11))
    assert not is_working_day(date(2025, 10, 8))
    # Friday 26 Sep: 26, 28 (Sun), 29, 30, then 9 Oct
    assert add_working_days(date(2025, 9, 26), 5) == date(2025, 10, 9)


def test_configured_lists_override_the_calendar():
    assert not is_working_day(date(2025, 3, 24), holidays=[date(2025, 3, 24)])
    assert is_working_day(date(2025, 3, 23), make_up=[date(2025, 3, 23)])
    assert add_working_days(date(2025, 3, 24), 5, holidays=[date(2025, 3, 26)]) == date(2025, 3, 31)


def test_publicity_window_counts_the_morning_of_publication():
    morning = datetime(2025, 3, 24, 9, 0, tzinfo=BEIJING)  # a Monday
    first, end = publicity_window(morning, 5, ends_at=time(17, 30))
    assert (first, end) == (date(2025, 3, 24), datetime(2025, 3, 28, 17, 30, tzinfo=BEIJING))
    afternoon = datetime(2025, 3, 24, 15, 0, tzinfo=BEIJING)
    assert publicity_window(afternoon, 5, ends_at=time(17, 30))[1].date() == date(2025, 3, 31)


def test_publicity_window_over_the_spring_festival():
    published = datetime(2025, 1, 25, 10, 0, tzinfo=BEIJING)  # a Saturday before the holiday
    first, end = publicity_window(published, 5, ends_at=time(17, 30))
    assert first == date(2025, 1, 26)  # the make-up Sunday
    assert end == datetime(2025, 2, 7, 17, 30, tzinfo=BEIJING)  # 26, 27, 5, 6, 7
