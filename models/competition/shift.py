"""Move a competition's dates: the example set up relative to today, next year's copy of this one.

Pure functions over the YAML text. Every configured date and datetime (the service period, the
deadlines, the checkpoints' due days …) is rewritten in place, by its position in the text (the
YAML parser's marks), so comments, quoting, layout and the time and offset of a datetime stay as
they were. The holiday calendar (``holidays``, ``make_up_workdays``) is a fact of the year, not of
the competition: it is never moved.

    shift_dates(text, days=n)       every date n days later (negative: earlier)
    shift_dates(text, years=n)      every date n years later, month and day kept (29 Feb → 28 Feb)
    start_on(text, day)             shifted by whole days so that the call is published on ``day``
    next_year(text, slug=…)         a year later, with a new slug and year (and the year in the name)

The result is validated like any competition file; a mistake raises ``ConfigError`` naming the
file and field.
"""

from __future__ import annotations

import re
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


def _date_scalars(node: yaml.Node, path: tuple[str, ...] = ()) -> list[yaml.ScalarNode]:
    """Every scalar holding a date or datetime, outside the holiday calendar."""
    if isinstance(node, yaml.ScalarNode):
        is_date = node.tag == TIMESTAMP or (
            node.style in ("'", '"') and DATE_TEXT.match(node.value) is not None
        )
        return [node] if is_date else []
    found: list[yaml.ScalarNode] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            if not path and name in CALENDAR_FIELDS:
                continue
            found += _date_scalars(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _date_scalars(item, path)
    return found


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


def next_year(text: str, *, slug: str, years: int = 1, source: str = "<text>") -> str:
    """Next year's competition from this one: dates ``years`` later, the new ``slug``, the year
    (``competition.year`` and the year written in ``competition.name``) moved with them."""
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
    edits = _date_edits(text, root, 0, years)
    old_year, new_year = config.competition.year, config.competition.year + years
    slug_node = _competition_field(root, "slug", source)
    edits.append((slug_node.start_mark.index, slug_node.end_mark.index, _plain_or_quoted(slug)))
    year_node = _competition_field(root, "year", source)
    edits.append((year_node.start_mark.index, year_node.end_mark.index, str(new_year)))
    name_node = _competition_field(root, "name", source)
    start, end = name_node.start_mark.index, name_node.end_mark.index
    name_text = text[start:end]
    if str(old_year) in name_text:
        edits.append((start, end, name_text.replace(str(old_year), str(new_year))))
    copied = _apply(text, edits)
    _validated(copied, source)
    return copied


def _plain_or_quoted(value: str) -> str:
    """``value`` as a YAML scalar: plain when it reads back as the same string, else quoted."""
    if yaml.safe_load(value) == value and "\n" not in value and "#" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
