"""Moving a competition's dates: the example relative to today, and next year's copy."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from models.competition.config_file import parse_config
from models.competition.shift import next_year, shift_dates, start_on
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
CONFIG = parse_config(TEXT)


def _dates(config) -> list[date | datetime]:
    d = config.deadlines
    return [
        config.competition.service_period.start,
        config.competition.service_period.end,
        d.call_published,
        d.applications_close,
        d.screening_by,
        d.review_close,
        d.agreements_by,
        *(c.due for c in config.checkpoints),
    ]


def test_start_on_moves_every_date_by_the_same_days_and_keeps_the_text():
    moved_text = start_on(TEXT, date(2026, 12, 7))
    moved = parse_config(moved_text)
    assert moved.deadlines.call_published == date(2026, 12, 7)
    days = (date(2026, 12, 7) - CONFIG.deadlines.call_published).days
    assert _dates(moved) == [value + timedelta(days=days) for value in _dates(CONFIG)]
    # the wall-clock time and the offset of a datetime are kept
    assert moved.deadlines.applications_close.utcoffset() == CONFIG.deadlines.applications_close.utcoffset()
    assert moved.deadlines.applications_close.time() == CONFIG.deadlines.applications_close.time()
    # comments and layout survive: only the dates changed, line by line
    before, after = TEXT.splitlines(), moved_text.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 9  # service and project periods (a line each), 5 deadlines, 2 checkpoints
    assert "# 资格审查结果通知日期" in moved_text and moved_text.startswith("# 2025年江头街道")
    # everything else is the same configuration
    assert moved.model_dump(exclude={"competition", "deadlines", "checkpoints"}) == CONFIG.model_dump(
        exclude={"competition", "deadlines", "checkpoints"}
    )


def test_the_holiday_calendar_is_not_moved():
    text = TEXT + "\nholidays: [2025-05-01, '2025-05-02']\nmake_up_workdays: [2025-04-27]\n"
    moved = parse_config(shift_dates(text, days=30))
    assert moved.holidays == [date(2025, 5, 1), date(2025, 5, 2)]
    assert moved.make_up_workdays == [date(2025, 4, 27)]
    assert moved.deadlines.call_published == date(2025, 2, 5)


def test_quoted_dates_are_moved_too():
    text = TEXT.replace("due: 2025-06-30", "due: '2025-06-30'")
    moved = parse_config(shift_dates(text, days=1))
    assert moved.checkpoints[0].due == date(2025, 7, 1)


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=-3000, max_value=3000))
def test_shift_by_days_round_trips(days: int):
    assert shift_dates(shift_dates(TEXT, days=days), days=-days) == TEXT


def test_next_year_moves_by_a_year_keeping_month_and_day():
    copied_text = next_year(TEXT, slug="jiangtou-2026").text
    copied = parse_config(copied_text)
    assert copied.competition.slug == "jiangtou-2026" and copied.competition.year == 2026
    assert copied.competition.name.startswith("2026年江头街道")
    for old, new in zip(_dates(CONFIG), _dates(copied), strict=True):
        assert (new.year, new.month, new.day) == (old.year + 1, old.month, old.day)
    assert "# 资格审查结果通知日期" in copied_text


def test_next_year_keeps_29_february_as_the_28th():
    text = TEXT.replace("call_published: 2025-01-06", "call_published: 2024-02-29")
    text = text.replace("service_period: {start: 2024-11-01", "service_period: {start: 2024-01-01")
    copied = parse_config(next_year(text, slug="jiangtou-next").text)
    assert copied.deadlines.call_published == date(2025, 2, 28)


def test_next_year_refuses_the_same_or_a_bad_slug():
    with pytest.raises(ConfigError, match=r"competition\.slug"):
        next_year(TEXT, slug="jiangtou-2025", source="competition.yaml")
    with pytest.raises(ConfigError, match=r"competition\.slug"):
        next_year(TEXT, slug="含 空格 与: 冒号", source="competition.yaml")


def test_a_broken_file_is_named():
    with pytest.raises(ConfigError, match=r"competition\.yaml:2"):
        shift_dates("a: 1\n b: [\n", days=1, source="competition.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        shift_dates(yaml.safe_dump([1, 2]), days=1, source="competition.yaml")


def test_next_year_moves_the_year_everywhere_but_the_holiday_calendar():
    text = TEXT + "holidays: [2025-05-02]  # 2025年五一调休\nmake_up_workdays: [2025-04-27]\n"
    copied = next_year(text, slug="jiangtou-2026")
    assert copied.text.splitlines()[0].startswith("# 2026年江头街道")  # the first comment
    assert "assignment_seed: 2025" not in copied.text and copied.text.count("assignment_seed: 2026") == 2
    assert copied.text.endswith("holidays: [2025-05-02]  # 2025年五一调休\nmake_up_workdays: [2025-04-27]\n")
    assert copied.calendar_fields == ["holidays", "make_up_workdays"]
    assert next_year(TEXT, slug="jiangtou-2026").calendar_fields == []  # the example has none


def test_next_year_moves_dates_off_non_working_days_but_not_the_service_period():
    weekdays = {date(2026, 2, 28)}  # a make-up working Saturday (调休) in this stand-in calendar

    def working_day(day: date) -> bool:
        return day.weekday() < 5 or day in weekdays

    copied = next_year(TEXT, slug="jiangtou-2026", working_day=working_day)
    config = parse_config(copied.text)
    assert [(m.field, m.fell_on, m.moved_to) for m in copied.moved] == [
        ("deadlines.screening_by", date(2026, 3, 7), date(2026, 3, 9)),
        ("deadlines.review_close", date(2026, 3, 21), date(2026, 3, 23)),
    ]
    assert copied.weekend_workdays == [("deadlines.applications_close", date(2026, 2, 28))]
    assert config.deadlines.review_close == datetime(
        2026, 3, 23, 17, 0, tzinfo=config.deadlines.review_close.tzinfo
    )
    assert config.competition.service_period.end == date(2026, 10, 31)  # a Saturday, a bound: kept
    assert "screening_by: 2026-03-09          # 资格审查结果通知日期" in copied.text
