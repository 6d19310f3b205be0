"""Read applications from a file into raw rows, each with where it came from.

- ``.xlsx``: the sheet whose header row (within its first ten rows) names 项目名称; rows are numbered
  as Excel shows them. Budget lines come from the sheet 预算明细 (one line a row, matched to its
  application by 申报编号, else by 项目名称 — and 申报单位 when titles repeat), or from the 预算明细
  column, written ``科目|用途|单价|数量`` one line per line (or separated by ；).
- ``.csv``: the same columns; UTF-8 (with or without BOM) or GBK/GB18030 as Chinese Excel saves it.
- ``.json``: a list of objects (or ``{"applications": [...]}``) keyed by the Chinese headers;
  ``预算明细`` may be a list of objects with 科目/用途/单价/数量/金额.
- ``.docx``: a filled-in 申报书 (``models.intake.word_form``).

File-level problems (unreadable file, no header row, missing columns) raise ``InputError``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from models.errors import InputError, Problem
from models.intake.fields import (
    BUDGET_LABELS,
    BUDGET_SHEET,
    BY_KEY,
    INSTRUCTIONS_SHEET,
    RawBudgetLine,
    RawRow,
    budget_column_for,
    field_for,
    normalise_label,
)

SUFFIXES = (".xlsx", ".csv", ".json", ".docx")
_REQUIRED_COLUMNS = ("title", "organisation", "kind", "amount")
_INLINE_SPLIT = re.compile(r"[\n；;]+")
_INLINE_CELLS = re.compile(r"[|｜]")


def read_applications(path: Path | str) -> list[RawRow]:
    """Every application in ``path`` as a raw row (not yet validated)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(Problem(path.name, "", "文件不存在", "file not found"))
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".csv":
        return _table_rows(path.name, _csv_records(path), budget_records=[], budget_sheet="")
    if suffix == ".json":
        return _read_json(path)
    if suffix == ".docx":
        from models.intake.word_form import parse_application_form

        return [parse_application_form(path)]
    raise InputError(
        Problem(
            path.name,
            "",
            f"不支持的文件类型 {suffix or '（无扩展名）'}，可导入 .xlsx .csv .json .docx",
            f"unsupported file type {suffix!r}: import .xlsx, .csv, .json or .docx",
        )
    )


# ---- spreadsheets -------------------------------------------------------------------------------

Record = tuple[int, list[Any]]  # (row number as shown to people, cell values)


def _read_xlsx(path: Path) -> list[RawRow]:
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise InputError(
            Problem(
                path.name,
                "",
                "无法读取该 Excel 文件（是否为 .xlsx 格式？）",
                f"cannot read this Excel file: {exc}",
            )
        ) from exc
    budget_sheet = next((ws for ws in book.worksheets if normalise_label(ws.title) == BUDGET_SHEET), None)
    candidates = [
        ws
        for ws in book.worksheets
        if ws is not budget_sheet and normalise_label(ws.title) != INSTRUCTIONS_SHEET
    ]
    main = next((ws for ws in candidates if _header_index(_records(ws)) is not None), None)
    if main is None:
        raise InputError(
            Problem(
                path.name,
                "",
                "找不到表头含“项目名称”的工作表",
                "no sheet has a header row with 项目名称 (project title)",
            )
        )
    budget_records = _records(budget_sheet) if budget_sheet is not None else []
    return _table_rows(
        path.name,
        _records(main),
        budget_records=budget_records,
        budget_sheet=budget_sheet.title if budget_sheet is not None else "",
    )


def _records(ws: Worksheet) -> list[Record]:
    return [(number, list(values)) for number, values in enumerate(ws.iter_rows(values_only=True), start=1)]


def _csv_records(path: Path) -> list[Record]:
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
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [(number, row) for number, row in enumerate(reader, start=1)]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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
            if position < len(values) and not _is_blank(values[position]):
                row.values[key] = values[position]
        row.budget = inline_budget(row)
        rows.append(row)
    if budget_records:
        orphans = _attach_budget_sheet(name, budget_sheet, budget_records, rows)
        rows.extend(orphans)
    return rows


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


def _attach_budget_sheet(name: str, sheet: str, records: list[Record], rows: list[RawRow]) -> list[RawRow]:
    """Give each application its lines from the 预算明细 sheet; unmatched lines become rows of their own."""
    header_at = next(
        (
            i
            for i, (_, vals) in enumerate(records[:10])
            if any(budget_column_for(v) == "item" for v in vals if not _is_blank(v))
        ),
        None,
    )
    if header_at is None:
        raise InputError(
            Problem(
                f"{name}:{sheet}",
                "科目",
                "预算明细表找不到表头（须有“科目”列）",
                "the budget sheet has no header row with 科目 (item)",
            )
        )
    columns = {
        pos: key
        for pos, label in enumerate(records[header_at][1])
        if (key := budget_column_for(label)) is not None
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
        if str(cells.get("item", "")).strip() in ("合计", "总计"):
            continue
        where = f"{name}:{sheet}表第{number}行 (sheet {sheet}, row {number})"
        ref, title = str(cells.get("ref", "")).strip(), str(cells.get("title", "")).strip()
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
        line = RawBudgetLine(where=where, values={k: v for k, v in cells.items() if k in BUDGET_LABELS})
        if len(candidates) == 1:
            candidates[0].budget.append(line)
            candidates[0].values.setdefault("budget", "（见预算明细表）")
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


def _read_json(path: Path) -> list[RawRow]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            Problem(path.name, "", "不是有效的 JSON（UTF-8）文件", f"not valid UTF-8 JSON: {exc}")
        ) from exc
    if isinstance(data, dict):
        data = data.get("applications", data.get("申报", [data]))
    if not isinstance(data, list):
        raise InputError(
            Problem(path.name, "", "JSON 须为申报对象的列表", "JSON must be a list of applications")
        )
    rows = []
    for index, item in enumerate(data, start=1):
        row = RawRow(where=f"{path.name}:第{index}条 (item {index})")
        if not isinstance(item, dict):
            row.problems.append(Problem(row.where, "", "应为一组字段（对象）", "must be an object of fields"))
            rows.append(row)
            continue
        for label, value in item.items():
            key = field_for(label) or (label if label in BY_KEY else None)
            if key is not None and not _is_blank(value):
                row.values[key] = value
        budget = row.values.get("budget")
        if isinstance(budget, list):
            row.budget = list(_json_budget(row.where, budget))
            row.values["budget"] = "（见预算明细）" if row.budget else ""
        else:
            row.budget = inline_budget(row)
        rows.append(row)
    return rows


def _json_budget(where: str, lines: Iterable[Any]) -> Iterable[RawBudgetLine]:
    for index, line in enumerate(lines, start=1):
        values: dict[str, object] = {}
        if isinstance(line, dict):
            for label, value in line.items():
                key = budget_column_for(label) or (label if label in BUDGET_LABELS else None)
                if key in BUDGET_LABELS and not _is_blank(value):
                    values[key] = value
        yield RawBudgetLine(
            where=f"{where} 预算明细第{index}项 (budget line {index})",
            values=values,
            malformed="" if isinstance(line, dict) else str(line),
        )
