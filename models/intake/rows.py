"""Read applications from a file into raw rows, each with where it came from.

- ``.xlsx``: the sheet whose header row (within its first ten rows) names 项目名称; rows are numbered
  as Excel shows them. Budget lines come from the sheet 预算明细 (one line a row, matched to its
  application by 申报编号, else by 项目名称 — and 申报单位 when titles repeat), or from the 预算明细
  column, written ``科目|用途|单价|数量`` one line per line (or separated by ；). The plan's
  activities come the same way from the sheet 活动安排 (时间, 活动内容, 场次, 预计人次), or from the
  活动安排 column (``时间|活动内容|场次|预计人次`` a line, read by validation).
- ``.csv``: the same columns; UTF-8 (with or without BOM) or GBK/GB18030 as Chinese Excel saves it.
- ``.json``: a list of objects (or ``{"applications": [...]}``) keyed by the Chinese headers;
  ``预算明细`` may be a list of objects with 科目/用途/单价/数量/金额, ``活动安排`` a list of objects
  with 时间/活动内容/场次/预计人次.
- ``.docx``: a filled-in 申报书 (``models.intake.word_form``).

File-level problems (unreadable file, no header row, missing columns) raise ``InputError``. So does a
file beyond the competition's ``intake`` limits (size on disk, size unpacked, rows, columns): they
are checked before the file is read whole, and an .xlsx is streamed (only the cells present are
read, never the grid up to its last cell). Whatever a file holds — a number too big, a CSV field
over the csv module's limit, JSON nested past the stack — the answer is an ``InputError`` naming
the file (and the row when known), never another exception. What is imported but may surprise —
hidden sheets and rows — is listed in ``ApplicationFile.notices``.

Long by design: the readers of four formats share the building of RawRow and the bounds checked
before a file is read whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.competition.config import IntakeLimits
from models.errors import InputError, Problem
from models.intake.fields import (
    ACTIVITY_LABELS,
    ACTIVITY_SHEET,
    BUDGET_LABELS,
    BUDGET_SHEET,
    BY_KEY,
    INSTRUCTIONS_SHEET,
    UNCALCULATED,
    RawActivity,
    RawBudgetLine,
    RawRow,
    activity_column_for,
    budget_column_for,
    field_for,
    normalise_label,
)
from models.intake.workbook import Sheet, open_workbook

SUFFIXES = (".xlsx", ".csv", ".json", ".docx")
_REQUIRED_COLUMNS = ("title", "organisation", "kind", "amount")
_INLINE_SPLIT = re.compile(r"[\n；;]+")
_INLINE_CELLS = re.compile(r"[|｜]")


@dataclass
class ApplicationFile:
    """What a file holds: its rows (not yet validated) and notices about how it was read."""

    rows: list[RawRow]
    notices: list[Problem] = field(default_factory=list)


def check_file(path: Path | str, *, name: str | None = None) -> Path:
    """``path`` if it is a file one can read; else ``InputError``: not found, or a folder."""
    path = Path(path)
    shown = name or path.name
    if path.is_dir():
        raise InputError(
            Problem(
                shown, "", "这是一个文件夹，请给出其中的申报文件", "this is a folder: give the files in it"
            )
        )
    if not path.is_file():
        raise InputError(Problem(shown, "", "文件不存在", "file not found"))
    return path


def read_applications(path: Path | str, limits: IntakeLimits | None = None) -> list[RawRow]:
    """Every application in ``path`` as a raw row (not yet validated)."""
    return read_application_file(path, limits).rows


def read_application_file(path: Path | str, limits: IntakeLimits | None = None) -> ApplicationFile:
    """Every application in ``path`` (within ``limits``, default: the defaults), with notices."""
    path = check_file(path)
    limits = limits or IntakeLimits()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            Problem(
                path.name,
                "",
                f"不支持的文件类型 {suffix or '（无扩展名）'}，可导入 .xlsx .csv .json .docx",
                f"unsupported file type {suffix!r}: import .xlsx, .csv, .json or .docx",
            )
        )
    size = path.stat().st_size
    if size > limits.max_file_mb * 1_000_000:
        raise InputError(
            Problem(
                path.name,
                "",
                f"文件过大（{size / 1_000_000:.1f} MB，上限 {limits.max_file_mb} MB）",
                f"the file is too large ({size / 1_000_000:.1f} MB; at most {limits.max_file_mb} MB)",
            )
        )
    if suffix in (".xlsx", ".docx"):
        _check_unpacked(path, limits)
    try:
        if suffix == ".xlsx":
            return _read_xlsx(path, limits)
        if suffix == ".csv":
            records = _csv_records(path, limits)
            return ApplicationFile(_table_rows(path.name, records, budget_records=[], budget_sheet=""))
        if suffix == ".json":
            return ApplicationFile(_read_json(path, limits))
        from models.intake.word_form import parse_application_form

        return ApplicationFile([parse_application_form(path)])
    except RecursionError:
        raise InputError(
            Problem(path.name, "", "文件嵌套层次过深，无法读取", "the file is nested too deeply to read")
        ) from None


def _check_unpacked(path: Path, limits: IntakeLimits) -> None:
    """An .xlsx or .docx is a zip: refuse one that would unpack beyond the limit (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            Problem(
                path.name,
                "",
                f"文件已损坏或不是 {path.suffix} 格式",
                f"the file is damaged or not a real {path.suffix} file: {exc}",
            )
        ) from None
    if unpacked > limits.max_unpacked_mb * 1_000_000:
        raise InputError(
            Problem(
                path.name,
                "",
                f"文件解压后过大（{unpacked / 1_000_000:.0f} MB，上限 {limits.max_unpacked_mb} MB）",
                f"the file unpacks to {unpacked / 1_000_000:.0f} MB (at most {limits.max_unpacked_mb} MB)",
            )
        )


def _too_many_rows(where: str, limits: IntakeLimits) -> InputError:
    return InputError(
        Problem(
            where,
            "",
            f"行数超过上限 {limits.max_rows} 行（竞赛配置 intake.max_rows）",
            f"more than {limits.max_rows} rows (the competition's intake.max_rows)",
        )
    )


def _too_many_columns(where: str, count: int, limits: IntakeLimits) -> InputError:
    return InputError(
        Problem(
            where,
            "",
            f"第 {count} 列有内容，超过上限 {limits.max_columns} 列（竞赛配置 intake.max_columns）",
            f"column {count} holds data: more than {limits.max_columns} columns "
            "(the competition's intake.max_columns)",
        )
    )


# ---- spreadsheets -------------------------------------------------------------------------------

Record = tuple[int, list[Any]]  # (row number as shown to people, cell values)


def _read_xlsx(path: Path, limits: IntakeLimits) -> ApplicationFile:
    with open_workbook(path) as book:
        sheets = book.sheets
        budget_sheet = next((ws for ws in sheets if normalise_label(ws.title) == BUDGET_SHEET), None)
        activity_sheet = next((ws for ws in sheets if normalise_label(ws.title) == ACTIVITY_SHEET), None)
        candidates = [
            ws
            for ws in sheets
            if ws is not budget_sheet
            and ws is not activity_sheet
            and normalise_label(ws.title) != INSTRUCTIONS_SHEET
        ]
        main, records = None, []
        for ws in candidates:
            records = _sheet_records(path.name, ws, limits)
            if _header_index(records) is not None:
                main = ws
                break
        if main is None:
            raise InputError(
                Problem(
                    path.name,
                    "",
                    "找不到表头含“项目名称”的工作表",
                    "no sheet has a header row with 项目名称 (project title)",
                )
            )
        budget_records = _sheet_records(path.name, budget_sheet, limits) if budget_sheet is not None else []
        activity_records = (
            _sheet_records(path.name, activity_sheet, limits) if activity_sheet is not None else []
        )
        notices = [
            n
            for ws in (main, budget_sheet, activity_sheet)
            if ws is not None
            for n in _sheet_notices(path.name, ws)
        ]
    rows = _table_rows(
        path.name,
        records,
        budget_records=budget_records,
        budget_sheet=budget_sheet.title if budget_sheet is not None else "",
    )
    if activity_sheet is not None and activity_records:
        rows.extend(_attach_lines(path.name, activity_sheet.title, activity_records, rows, ACTIVITIES))
    return ApplicationFile(rows, notices)


def _sheet_records(name: str, ws: Sheet, limits: IntakeLimits) -> list[Record]:
    """The rows of a sheet that hold something, as (row number, values up to the last used column)."""
    records: list[Record] = []
    for number, cells in ws.rows(max_row=limits.max_rows + 1, max_column=limits.max_columns):
        if number > limits.max_rows:
            raise _too_many_rows(f"{name}:{ws.title}", limits)
        records.append((number, cells))
    if ws.wide_column:
        raise _too_many_columns(f"{name}:{ws.title}", ws.wide_column, limits)
    return records


def _sheet_notices(name: str, ws: Sheet) -> list[Problem]:
    notices = []
    if ws.hidden:
        notices.append(
            Problem(
                f"{name}:{ws.title}",
                "",
                "该工作表是隐藏的，其中的内容也已导入",
                "this sheet is hidden; what it holds was imported too",
            )
        )
    if ws.hidden_rows:
        shown = "、".join(str(n) for n in ws.hidden_rows[:10]) + ("…" if len(ws.hidden_rows) > 10 else "")
        notices.append(
            Problem(
                f"{name}:{ws.title}",
                "",
                f"第 {shown} 行是隐藏行，其中的内容也已导入",
                f"rows {shown} are hidden; what they hold was imported too",
            )
        )
    return notices


def _csv_records(path: Path, limits: IntakeLimits) -> list[Record]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any byte string
        raise InputError(
            Problem(
                path.name,
                "",
                "无法识别文件编码（应为 UTF-8 或 GBK）",
                "unknown text encoding (expected UTF-8 or GBK/GB18030)",
            )
        )
    header = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=header.count)  # Excel writes "," (or ";" in some locales); tab-separated too
    reader = csv.reader(io.StringIO(text.replace("\x00", "")), delimiter=delimiter)
    records: list[Record] = []
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if number > limits.max_rows:
                raise _too_many_rows(path.name, limits)
            used = len(row)
            while used and not row[used - 1].strip():
                used -= 1
            if used > limits.max_columns:
                raise _too_many_columns(f"{path.name}:第{number}行 (row {number})", used, limits)
            records.append((number, row[:used]))
    except csv.Error as exc:
        where = f"{path.name}:第{reader.line_num}行 (line {reader.line_num})"
        raise InputError(
            Problem(where, "", "CSV 格式错误（单元格过长或引号不配对）", f"not valid CSV: {exc}")
        ) from None
    return records


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _put(row: RawRow, key: str, value: Any) -> None:
    if value is UNCALCULATED:
        row.formulas.add(key)
    elif not _is_blank(value):
        row.values[key] = value


def _header_index(records: Sequence[Record]) -> int | None:
    for index, (_, values) in enumerate(records[:10]):
        if any(field_for(v) == "title" for v in values if not _is_blank(v)):
            return index
    return None


def _table_rows(
    name: str, records: list[Record], *, budget_records: list[Record], budget_sheet: str
) -> list[RawRow]:
    header_at = _header_index(records)
    if header_at is None:
        raise InputError(
            Problem(name, "", "找不到表头（须有“项目名称”列）", "no header row with 项目名称 (title)")
        )
    header_number, header = records[header_at]
    columns: dict[int, str] = {}
    for position, label in enumerate(header):
        key = field_for(label)
        if key is not None and key not in columns.values():
            columns[position] = key
    present = set(columns.values())
    missing = [BY_KEY[k].label for k in _REQUIRED_COLUMNS if k not in present]
    if not ({"period_start", "period_end"} <= present or "period" in present):
        missing.append("项目周期（或项目开始日期、项目结束日期）")
    if "budget" not in present and not budget_records:
        missing.append(f"预算明细（列或“{BUDGET_SHEET}”工作表）")
    if missing:
        where = f"{name}:第{header_number}行 (row {header_number})"
        raise InputError(
            Problem(where, "、".join(missing), "表头缺少必需的列", "required columns are missing")
        )
    rows: list[RawRow] = []
    for number, values in records[header_at + 1 :]:
        if all(_is_blank(v) for v in values):
            continue
        row = RawRow(where=f"{name}:第{number}行 (row {number})")
        for position, key in columns.items():
            if position < len(values):
                _put(row, key, values[position])
        row.budget = inline_budget(row)
        rows.append(row)
    if budget_records:
        orphans = _attach_lines(name, budget_sheet, budget_records, rows, BUDGET)
        rows.extend(orphans)
    return rows


def _plain(value: Any) -> str:
    return "" if value is None or value is UNCALCULATED else str(value).strip()


def inline_budget(row: RawRow) -> list[RawBudgetLine]:
    """The budget lines written in the row's 预算明细 cell: ``科目|用途|单价|数量[|金额]`` a line."""
    text = row.text("budget")
    if not text:
        return []
    lines = []
    for index, part in enumerate(p for p in _INLINE_SPLIT.split(text) if p.strip()):
        cells = [c.strip() for c in _INLINE_CELLS.split(part)]
        keys = ("item", "purpose", "unit_price", "quantity", "amount")
        values: dict[str, object] = {k: c for k, c in zip(keys, cells, strict=False) if c}
        lines.append(
            RawBudgetLine(
                where=f"{row.where} 预算明细第{index + 1}项 (budget line {index + 1})",
                values=values,
                malformed=part.strip() if len(cells) < 4 else "",
            )
        )
    return lines


@dataclass(frozen=True)
class _LineSheet:
    """A sheet of lines that belong to the applications: 预算明细 (budget) or 活动安排 (the plan)."""

    sheet: str  # its name in messages
    anchor: str  # the column every line has (科目 / 活动内容), which finds the header row
    anchor_label: str
    column_for: Callable[[object], str | None]
    labels: Mapping[str, str]  # the value columns
    attach: Callable[[RawRow, str, dict[str, object], frozenset[str]], None]


def _add_budget_line(row: RawRow, where: str, values: dict[str, object], formulas: frozenset[str]) -> None:
    row.budget.append(RawBudgetLine(where=where, values=values, formulas=formulas))
    row.values.setdefault("budget", "（见预算明细表）")


def _add_activity(row: RawRow, where: str, values: dict[str, object], formulas: frozenset[str]) -> None:
    row.activity_plan.append(RawActivity(where=where, values=values, formulas=formulas))


BUDGET = _LineSheet(BUDGET_SHEET, "item", "科目", budget_column_for, BUDGET_LABELS, _add_budget_line)
ACTIVITIES = _LineSheet(
    ACTIVITY_SHEET, "content", "活动内容", activity_column_for, ACTIVITY_LABELS, _add_activity
)


def _attach_lines(
    name: str, sheet: str, records: list[Record], rows: list[RawRow], kind: _LineSheet
) -> list[RawRow]:
    """Give each application its lines from the sheet; unmatched lines become rows of their own."""
    header_at = next(
        (
            i
            for i, (_, vals) in enumerate(records[:10])
            if any(kind.column_for(v) == kind.anchor for v in vals if not _is_blank(v))
        ),
        None,
    )
    if header_at is None:
        raise InputError(
            Problem(
                f"{name}:{sheet}",
                kind.anchor_label,
                f"{kind.sheet}表找不到表头（须有“{kind.anchor_label}”列）",
                f"the sheet {kind.sheet} has no header row with {kind.anchor_label} ({kind.anchor})",
            )
        )
    columns = {
        pos: key
        for pos, label in enumerate(records[header_at][1])
        if (key := kind.column_for(label)) is not None
    }
    by_ref: dict[str, list[RawRow]] = {}
    by_title: dict[str, list[RawRow]] = {}
    for row in rows:
        if row.text("ref"):
            by_ref.setdefault(row.text("ref"), []).append(row)
        by_title.setdefault(normalise_label(row.text("title")), []).append(row)
    orphans: list[RawRow] = []
    for number, values in records[header_at + 1 :]:
        if all(_is_blank(v) for v in values):
            continue
        cells = {
            key: values[pos]
            for pos, key in columns.items()
            if pos < len(values) and not _is_blank(values[pos])
        }
        if _plain(cells.get(kind.anchor)) in ("合计", "总计"):
            continue
        where = f"{name}:{sheet}表第{number}行 (sheet {sheet}, row {number})"
        ref, title = _plain(cells.get("ref")), _plain(cells.get("title"))
        organisation = normalise_label(cells.get("organisation", ""))
        if ref in by_ref:
            candidates = by_ref[ref]
            if len(candidates) > 1 and title:
                wanted = normalise_label(title)
                candidates = [r for r in candidates if normalise_label(r.text("title")) == wanted]
        else:
            candidates = by_title.get(normalise_label(title), []) if title else []
        if organisation and len(candidates) > 1:
            candidates = [r for r in candidates if normalise_label(r.text("organisation")) == organisation]
        if len(candidates) == 1:
            kind.attach(
                candidates[0],
                where,
                {k: v for k, v in cells.items() if k in kind.labels and v is not UNCALCULATED},
                frozenset(k for k, v in cells.items() if k in kind.labels and v is UNCALCULATED),
            )
            continue
        orphan = RawRow(where=where)
        if candidates:
            zh = f"项目名称“{title}”对应多项申报，请填写申报编号或申报单位"
            en = f"the title {title!r} matches several applications: give 申报编号 or 申报单位"
        elif ref:
            zh, en = f"找不到申报编号为“{ref}”的申报", f"no application numbered {ref!r} in this file"
        else:
            zh, en = f"找不到项目名称为“{title}”的申报", f"no application titled {title!r} in this file"
        orphan.problems.append(Problem(where, "项目名称", zh, en))
        orphans.append(orphan)
    return orphans


# ---- JSON ---------------------------------------------------------------------------------------


def _read_json(path: Path, limits: IntakeLimits) -> list[RawRow]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except RecursionError:
        raise InputError(
            Problem(path.name, "", "JSON 嵌套层次过深，无法读取", "the JSON is nested too deeply to read")
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of 5,000 digits
        raise InputError(
            Problem(path.name, "", "不是有效的 JSON（UTF-8）文件", f"not valid UTF-8 JSON: {exc}")
        ) from None
    if isinstance(data, dict):
        data = data.get("applications", data.get("申报", [data]))
    if not isinstance(data, list):
        raise InputError(
            Problem(path.name, "", "JSON 须为申报对象的列表", "JSON must be a list of applications")
        )
    if len(data) > limits.max_rows:
        raise _too_many_rows(path.name, limits)
    rows = []
    for index, item in enumerate(data, start=1):
        row = RawRow(where=f"{path.name}:第{index}条 (item {index})")
        if not isinstance(item, dict):
            row.problems.append(Problem(row.where, "", "应为一组字段（对象）", "must be an object of fields"))
            rows.append(row)
            continue
        for label, value in item.items():
            key = field_for(label) or (label if label in BY_KEY else None)
            if key is None or _is_blank(value):
                continue
            lines = key in ("budget", "activities")  # a list of objects, one per line
            if isinstance(value, list) and not lines and all(_scalar(v) for v in value):
                value = "、".join(str(v) for v in value)
            if isinstance(value, dict) or (isinstance(value, list) and not lines):
                row.problems.append(
                    Problem(row.where, BY_KEY[key].label, "应为文字或数字", "must be text or a number")
                )
                continue
            row.values[key] = value
        budget = row.values.get("budget")
        if isinstance(budget, list):
            if len(budget) > limits.max_rows:
                raise _too_many_rows(f"{row.where} 预算明细 (budget)", limits)
            row.budget = list(_json_budget(row.where, budget))
            row.values["budget"] = "（见预算明细）" if row.budget else ""
        else:
            row.budget = inline_budget(row)
        activities = row.values.get("activities")
        if isinstance(activities, list):
            if len(activities) > limits.max_rows:
                raise _too_many_rows(f"{row.where} 活动安排 (activities)", limits)
            row.activity_plan = list(_json_activities(row.where, activities))
            del row.values["activities"]
        rows.append(row)
    return rows


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _json_budget(where: str, lines: Iterable[Any]) -> Iterable[RawBudgetLine]:
    for index, line in enumerate(lines, start=1):
        values: dict[str, object] = {}
        if isinstance(line, dict):
            for label, value in line.items():
                key = budget_column_for(label) or (label if label in BUDGET_LABELS else None)
                if key in BUDGET_LABELS and not _is_blank(value) and not isinstance(value, dict | list):
                    values[key] = value
        yield RawBudgetLine(
            where=f"{where} 预算明细第{index}项 (budget line {index})",
            values=values,
            malformed="" if isinstance(line, dict) else str(line),
        )


def _json_activities(where: str, lines: Iterable[Any]) -> Iterable[RawActivity]:
    for index, line in enumerate(lines, start=1):
        values: dict[str, object] = {}
        if isinstance(line, dict):
            for label, value in line.items():
                key = activity_column_for(label) or (label if label in ACTIVITY_LABELS else None)
                if key in ACTIVITY_LABELS and not _is_blank(value) and not isinstance(value, dict | list):
                    values[key] = value
        yield RawActivity(
            where=f"{where} 活动安排第{index}项 (activity {index})",
            values=values,
            malformed="" if isinstance(line, dict) else str(line),
        )
