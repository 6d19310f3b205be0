"""Move a competition's dates: the example set up relative to today, next year's copy of this one.

Pure functions over the YAML text. Every configured date and datetime (the service period, the
deadlines, the checkpoints' due days …) is rewritten in place, by its position in the text (the
YAML parser's marks), so comments, quoting, layout and the time and offset of a datetime stay as
they were. The holiday calendar (``holidays``, ``make_up_workdays``) is a fact of the year, not of
the competition: it is never moved.

    shift_dates(text, days=n)       every date n days later (negative: earlier)
    shift_dates(text, years=n)      every date n years later, month and day kept (29 Feb → 28 Feb)
    start_on(text, day)             shifted by whole days so that the call is published on ``day``
    next_year(text, slug=…)         a year later, with a new slug and the year moved everywhere but the
                                    holiday calendar; dates off non-working days (``working_day``)

The result is validated like any competition file; a mistake raises ``ConfigError`` naming the
file and field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import yaml

from models.competition.config import CompetitionConfig
from models.competition.config_file import parse_config
from models.errors import ConfigError, Problem

CALENDAR_FIELDS = frozenset({"holidays", "make_up_workdays"})
TIMESTAMP = "tag:yaml.org,2002:timestamp"
DATE_TEXT = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_Edit = tuple[int, int, str]  # start, end, replacement


def _moved(day: date, days: int, years: int) -> date:
    if years:
        try:
            day = day.replace(year=day.year + years)
        except ValueError:  # 29 February in a year without it
            day = day.replace(year=day.year + years, day=28)
    return day + timedelta(days=days)


def _compose(text: str, source: str) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(Problem(where, "", "YAML 格式错误", f"not valid YAML: {exc}")) from exc
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(Problem(source, "", "文件须为字段映射", "the file must be a mapping of fields"))
    return node


def _is_date(node: yaml.ScalarNode) -> bool:
    return node.tag == TIMESTAMP or (node.style in ("'", '"') and DATE_TEXT.match(node.value) is not None)


def _date_scalars(node: yaml.Node, path: tuple[str, ...] = ()) -> list[yaml.ScalarNode]:
    """Every scalar holding a date or datetime, outside the holiday calendar."""
    return [scalar for scalar, _ in _date_scalars_with_paths(node, path)]


def _date_edits(text: str, root: yaml.Node, days: int, years: int) -> list[_Edit]:
    edits: list[_Edit] = []
    for scalar in _date_scalars(root):
        start, end = scalar.start_mark.index, scalar.end_mark.index
        match = DATE_TEXT.search(text, start, end)
        if match is None:
            continue
        year, month, day = (int(g) for g in match.groups())
        moved = _moved(date(year, month, day), days, years)
        edits.append((match.start(), match.end(), moved.isoformat()))
    return edits


def _apply(text: str, edits: list[_Edit]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _validated(text: str, source: str) -> CompetitionConfig:
    return parse_config(text, source=source)


def shift_dates(text: str, *, days: int = 0, years: int = 0, source: str = "<text>") -> str:
    """``text`` with every configured date moved by ``years`` (month/day kept), then ``days``."""
    root = _compose(text, source)
    shifted = _apply(text, _date_edits(text, root, days, years))
    _validated(shifted, source)
    return shifted


def start_on(text: str, day: date, *, source: str = "<text>") -> str:
    """``text`` shifted by whole days so that ``deadlines.call_published`` is ``day``."""
    config = _validated(text, source)
    return shift_dates(text, days=(day - config.deadlines.call_published).days, source=source)


def _competition_field(root: yaml.Node, name: str, source: str) -> yaml.ScalarNode:
    assert isinstance(root, yaml.MappingNode)
    for key, value in root.value:
        if key.value == "competition" and isinstance(value, yaml.MappingNode):
            for inner_key, inner in value.value:
                if inner_key.value == name and isinstance(inner, yaml.ScalarNode):
                    return inner
    raise ConfigError(Problem(source, f"competition.{name}", "缺少此字段", "field required"))


@dataclass(frozen=True)
class MovedDay:
    """A date of next year's copy that fell on a weekend or holiday, and the working day it took."""

    field: str  # "deadlines.applications_close"
    fell_on: date
    moved_to: date


@dataclass(frozen=True)
class NextYear:
    """Next year's file, the dates moved off non-working days, and the holiday keys it carries over."""

    text: str
    moved: list[MovedDay]
    weekend_workdays: list[tuple[str, date]]  # kept on a Saturday or Sunday that is a working day (调休)
    calendar_fields: list[str]  # holidays / make_up_workdays present in the file (dates of the old year)


def next_year(
    text: str,
    *,
    slug: str,
    years: int = 1,
    source: str = "<text>",
    working_day: Callable[[date], bool] | None = None,
) -> NextYear:
    """Next year's competition from this one: dates ``years`` later, the new ``slug``, and the
    competition's year written anywhere in the file (``competition.year``, its name, comments,
    ``assignment_seed`` …) moved with them — never inside the holiday calendar.

    With ``working_day``, a date that lands on a non-working day (a weekend, a holiday) moves on to
    the next working day — every date but the service period's bounds — and is reported.
    """
    config = _validated(text, source)
    if slug == config.competition.slug:
        raise ConfigError(
            Problem(
                source,
                "competition.slug",
                f"新竞赛代码须不同于 {slug}",
                f"the new slug must differ from {slug!r}",
            )
        )
    root = _compose(text, source)
    assert isinstance(root, yaml.MappingNode)
    period = _node_span(root, ("competition", "service_period"))
    edits: list[_Edit] = []
    moved: list[MovedDay] = []
    weekend: list[tuple[str, date]] = []
    for scalar, path in _date_scalars_with_paths(root):
        start, end = scalar.start_mark.index, scalar.end_mark.index
        match = DATE_TEXT.search(text, start, end)
        if match is None:
            continue
        year, month, day = (int(g) for g in match.groups())
        new_day = _moved(date(year, month, day), 0, years)
        if working_day is not None and not (period and period[0] <= start < period[1]):
            kept = new_day
            while not working_day(new_day):
                new_day += timedelta(days=1)
            if new_day != kept:
                moved.append(MovedDay(".".join(path), kept, new_day))
            elif new_day.weekday() >= 5:
                weekend.append((".".join(path), new_day))
        edits.append((match.start(), match.end(), new_day.isoformat()))
    slug_node = _competition_field(root, "slug", source)
    edits.append((slug_node.start_mark.index, slug_node.end_mark.index, _plain_or_quoted(slug)))
    calendar = [  # from the key to the end of the value's last line (its comment included)
        (str(key.value), key.start_mark.index, _line_end(text, value.end_mark))
        for key, value in root.value
        if isinstance(key, yaml.ScalarNode) and key.value in CALENDAR_FIELDS
    ]
    kept_as_is = [(a, b) for a, b, _ in edits] + [(a, b) for _, a, b in calendar]
    old_year, new_year = config.competition.year, config.competition.year + years
    for match in re.finditer(rf"(?<!\d){old_year}(?!\d)", text):
        if not any(a <= match.start() < b for a, b in kept_as_is):
            edits.append((match.start(), match.end(), str(new_year)))
    copied = _apply(text, edits)
    _validated(copied, source)
    return NextYear(copied, moved, weekend, [name for name, _, _ in calendar])


def _date_scalars_with_paths(
    node: yaml.Node, path: tuple[str, ...] = ()
) -> list[tuple[yaml.ScalarNode, tuple[str, ...]]]:
    """Every date scalar outside the holiday calendar, with its field path ("deadlines.review_close",
    a list item's index in it)."""
    if isinstance(node, yaml.ScalarNode):
        return [(node, path)] if _is_date(node) else []
    found: list[tuple[yaml.ScalarNode, tuple[str, ...]]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            if not path and name in CALENDAR_FIELDS:
                continue
            found += _date_scalars_with_paths(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _date_scalars_with_paths(item, (*path, str(index)))
    return found


def _line_end(text: str, mark: yaml.Mark) -> int:
    """The end of the line a node ends on (a block ends at the next line's start: there)."""
    if mark.column == 0:
        return mark.index
    end = text.find("\n", mark.index)
    return len(text) if end < 0 else end


def _node_span(root: yaml.MappingNode, path: tuple[str, ...]) -> tuple[int, int] | None:
    """Where the value at ``path`` is in the text (start, end), or None when it is absent."""
    node: yaml.Node = root
    for name in path:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None)
        if found is None:
            return None
        node = found
    return node.start_mark.index, node.end_mark.index


def _plain_or_quoted(value: str) -> str:
    """``value`` as a YAML scalar: plain when it reads back as the same string, else quoted."""
    if yaml.safe_load(value) == value and "\n" not in value and "#" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
