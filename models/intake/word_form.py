"""Read a filled-in Word 申报书 back into a raw application row, by its labels (never by position).

The form's tables (``models.documents.application_form`` describes the layout) hold every value:

- ``label | value`` rows (two or four cells a row): the label is matched through the intake field
  catalogue, so 申请金额（元）, 申请金额(元) and 一、申请金额 all read the same;
- checkbox cells — ``☑社会组织　☐备案志愿服务团队`` — give the options ticked with ☑ ■ √ ✓ ☒ ✔ (or
  Wingdings check symbols); a cell with no box at all is read as plain text;
- section tables: a row holding only a section name (项目简介 …) followed by a row of text, or by a
  header row (时间|活动内容|场次|预计人次, 姓名|职务/分工|联系方式, 科目|用途|单价|数量|金额) and one
  row per line; empty rows and the 合计 row are skipped.

Cover paragraphs such as ``申报编号：JT2025-003`` fill what the tables left empty. Each value
remembers its cell: ``申报书.docx:表2第7行 (table 2, row 7)``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from models.errors import InputError, Problem
from models.intake.fields import (
    RawActivity,
    RawBudgetLine,
    RawRow,
    budget_column_for,
    field_for,
    normalise_label,
)

CHECKED = frozenset("☑■√✓☒✔▣")
UNCHECKED = frozenset("☐□◻")
_BOX = re.compile(f"([{''.join(CHECKED | UNCHECKED)}])")
_CHECKBOX_FIELDS = ("kind", "category", "communities")
# Wingdings check boxes typed through Insert > Symbol (font, character code) → the box they show
_SYMBOLS = {
    ("wingdings 2", "f052"): "☑",
    ("wingdings 2", "f053"): "☒",
    ("wingdings 2", "f054"): "☒",
    ("wingdings 2", "f0a3"): "☐",
    ("wingdings 2", "f02a"): "☐",
    ("wingdings", "f0fe"): "☑",
    ("wingdings", "f0fd"): "☒",
    ("wingdings", "f078"): "☒",
    ("wingdings", "f0a8"): "☐",
    ("wingdings", "f06f"): "☐",
}
_TABLES = {  # a section table's columns → (where the rows go, their keys)
    "activities": (
        ("时间", "活动内容", "场次", "预计人次"),
        ("period", "content", "sessions", "participants"),
    ),
    "team": (("姓名", "职务/分工", "联系方式"), ("name", "duty", "contact")),
}
_COLUMN_ALIASES = {
    "职务": "职务/分工",
    "分工": "职务/分工",
    "活动": "活动内容",
    "日期": "时间",
    "人次": "预计人次",
    "联系电话": "联系方式",
    "电话": "联系方式",
}
_HINT = re.compile(r"^\s*[（(][^）)]*[）)]\s*$")  # "（由主办方填写）": a blank's hint, not a value
_COVER_FIELDS = ("ref", "title", "organisation")  # the cover only; instructions may look like labels too
_COVER = re.compile(r"^\s*([^:：]{2,20})[:：]\s*(.*?)\s*$")


def parse_application_form(path: Path | str) -> RawRow:
    """The application in a filled-in 申报书 (.docx), each value with the table cell it came from."""
    path = Path(path)
    try:
        document = Document(str(path))
    except Exception as exc:  # python-docx raises several kinds for a file that is not a .docx
        raise InputError(
            Problem(
                path.name,
                "",
                "无法读取该 Word 文件（须为 .docx 格式）",
                f"cannot read this Word file (it must be .docx): {exc}",
            )
        ) from exc
    body = document.element.body
    row = RawRow(where=path.name)
    tables = body.xpath("./w:tbl | ./w:sdt/w:sdtContent/w:tbl")
    for number, table in enumerate(tables, start=1):
        _read_table(row, path.name, number, table)
    for paragraph in body.xpath("./w:p | ./w:sdt/w:sdtContent/w:p"):
        _read_cover_line(row, path.name, _text(paragraph))
    if row.budget:
        row.values.setdefault("budget", "（见预算明细表）")
    if not row.values:
        raise InputError(
            Problem(
                path.name,
                "",
                "没有找到申报书的表格（是否为本次竞赛的申报书模板？）",
                "no application form tables found (is this the competition's 申报书?)",
            )
        )
    return row


def _read_table(row: RawRow, name: str, number: int, table: etree._Element) -> None:
    section: str | None = None  # the section named by the row before, waiting for its content
    columns: dict[int, str] = {}  # the open table section's columns
    kind = ""  # "budget", "activities", "team" while inside such a table
    for index, tr in enumerate(table.iterchildren(qn("w:tr")), start=1):
        where = f"{name}:表{number}第{index}行 (table {number}, row {index})"
        cells = [_text(tc) for tc in _cells(tr)]
        if not any(cells):
            continue
        single = len([c for c in cells if c]) == 1 and len(set(cells)) == 1
        key = _field(cells[0]) if single else None
        header = _header(cells)
        if header is not None:
            kind, columns = header
            if section is not None:
                row.cells.setdefault(section, where)
            section = None
            continue
        if key is not None and len(cells[0]) <= 20:
            section, kind, columns = key, "", {}
            row.cells.setdefault(key, where)
            continue
        if kind:
            _read_line(row, kind, columns, cells, where)
            continue
        if section is not None and single:
            _set(row, section, cells[0], where)
            section = None
            continue
        section = None
        _read_pairs(row, cells, where)


def _read_pairs(row: RawRow, cells: list[str], where: str) -> None:
    index = 0
    while index < len(cells) - 1:
        key = _field(cells[index])
        if key is None:
            index += 1
            continue
        value = cells[index + 1]
        if _field(value) is not None and value:  # the next cell is another label
            index += 1
            continue
        _set(row, key, value, where)
        index += 2


def _set(row: RawRow, key: str, text: str, where: str) -> None:
    text = _HINT.sub("", text)
    if key in _CHECKBOX_FIELDS:
        ticked = ticked_options(text)
        text = "、".join(ticked) if ticked is not None else text
    text = text.strip()
    if row.values.get(key):
        return  # the first filled place wins (a cover table may repeat a label)
    if text or key not in row.values:
        row.values[key] = text
        row.cells[key] = where


def _header(cells: list[str]) -> tuple[str, dict[int, str]] | None:
    labels = [_COLUMN_ALIASES.get(_label(c), _label(c)) for c in cells]
    budget = {
        i: k
        for i, c in enumerate(cells)
        if (k := budget_column_for(without_format_characters(c))) is not None
    }
    if {"item", "unit_price", "quantity"} <= set(budget.values()):
        return "budget", budget
    for kind, (titles, keys) in _TABLES.items():
        wanted = {_label(t): k for t, k in zip(titles, keys, strict=True)}
        found = {i: wanted[label] for i, label in enumerate(labels) if label in wanted}
        if len(set(found.values())) >= 2:
            return kind, found
    return None


def _read_line(row: RawRow, kind: str, columns: dict[int, str], cells: list[str], where: str) -> None:
    values = {key: cells[i].strip() for i, key in columns.items() if i < len(cells) and cells[i].strip()}
    if not values:
        return
    if kind == "budget":
        first = _label(cells[0])
        if first in ("合计", "总计", "小计"):
            return
        row.budget.append(RawBudgetLine(where=where, values=dict(values)))
    elif kind == "activities":
        if _label(cells[0]) in ("合计", "总计", "小计"):
            return
        row.activity_plan.append(RawActivity(where=where, values=dict(values)))
    else:
        row.team_members.append(values)


def _read_cover_line(row: RawRow, name: str, text: str) -> None:
    match = _COVER.match(text)
    if match is None:
        return
    key = _field(match[1])
    value = _HINT.sub("", match[2]).strip("_ 　")
    if key in _COVER_FIELDS and value and not row.values.get(key):
        row.values[key] = value
        row.cells[key] = f"{name}:封面「{_label(match[1])}」 (cover)"


def _field(text: str) -> str | None:
    """The intake field a label names, format characters dropped first."""
    return field_for(without_format_characters(text), loose=True)


def _label(text: str) -> str:
    """A label folded for matching, format characters dropped first."""
    return normalise_label(without_format_characters(text))


def without_format_characters(text: str) -> str:
    """``text`` without Unicode format characters (category Cf: U+2060 WORD JOINER, zero-width
    spaces, BOMs, bidi marks), which a form may hold to keep an option on one line; they are
    invisible, so ``☐蔡\u2060塘`` and ``☐蔡塘`` are the same option."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def ticked_options(text: str) -> list[str] | None:
    """The options ticked in a checkbox cell; None when the cell has no checkbox at all."""
    parts = _BOX.split(without_format_characters(text))
    if len(parts) == 1:
        return None
    ticked = []
    for mark, label in zip(parts[1::2], parts[2::2], strict=True):
        option = label.strip(" \t\n\u3000、，,;；")
        if mark in CHECKED and option:
            ticked.append(option)
    return ticked


def _cells(tr: etree._Element) -> Iterator[etree._Element]:
    """The row's own cells, once each (a cell spanning columns is one cell; a merged-down one is skipped)."""
    for tc in tr.iterchildren(qn("w:tc"), qn("w:sdt")):
        if tc.tag == qn("w:sdt"):
            yield from tc.iter(qn("w:tc"))
            continue
        merge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
        if merge is not None and merge.get(qn("w:val")) in (None, "continue"):
            continue
        yield tc


def _text(element: etree._Element) -> str:
    """The text a reader sees: runs, breaks, tabs and Wingdings check symbols, paragraphs on lines."""
    lines = []
    paragraphs = [element] if element.tag == qn("w:p") else list(element.iter(qn("w:p")))
    for paragraph in paragraphs:
        parts = []
        for node in paragraph.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:sym")):
            if node.tag == qn("w:t"):
                parts.append(node.text or "")
            elif node.tag == qn("w:tab"):
                parts.append(" ")
            elif node.tag == qn("w:sym"):
                font = (node.get(qn("w:font")) or "").lower()
                parts.append(_SYMBOLS.get((font, (node.get(qn("w:char")) or "").lower()), ""))
            else:
                parts.append("\n")
        lines.append("".join(parts))
    return "\n".join(lines).strip()
