"""The review's spreadsheets: the experts list and the paper score sheets of a roadshow (路演).

``read_table`` finds the header row (within the first ten rows of the first sheet that has one)
by its marker labels, and hands back the rows as Excel numbers them, so every problem can name
the file, the row and the column. ``read_experts`` turns an experts sheet (姓名, 电子邮箱, 电话, 单位,
社区, 专长) into validated ``Person`` entries — every problem at once.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.competition.config import Person
from models.errors import InputError, Problem

MAX_ROWS = 5000  # a roadshow's sheets, an experts list, a signing list: a few hundred rows at most
MAX_COLUMNS = 200
MAX_UNPACKED = 50_000_000  # bytes, the workbook unzipped
_BRACKETED = re.compile(r"[（(].*?[)）]")


def normalise_label(value: object) -> str:
    """A header as written → its bare label: no spaces, no 必填 marks, no bracketed notes."""
    text = "" if value is None else str(value)
    text = _BRACKETED.sub("", text)
    return re.sub(r"[\s*＊:：]", "", text)


def cell_text(value: object) -> str:
    """A cell as text: '' for empty, 13805920101 rather than 13805920101.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass(frozen=True)
class Table:
    file: str
    header_row: int
    columns: dict[str, int]  # normalised label → 0-based column index (first occurrence)
    rows: list[tuple[int, list[Any]]]  # (row number as Excel shows it, cells); blank rows left out

    def where(self, row: int, label: str | None = None) -> str:
        if label is None or label not in self.columns:
            return f"{self.file}:第{row}行 (row {row})"
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(self.columns[label] + 1)
        return f"{self.file}:第{row}行 {letter}列 (row {row}, column {letter})"

    def value(self, cells: Sequence[Any], label: str) -> Any:
        index = self.columns.get(label)
        return cells[index] if index is not None and index < len(cells) else None


def read_table(path: Path | str, *, markers: Sequence[str]) -> Table:
    """The first sheet of ``path`` (.xlsx) whose header row names one of ``markers``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(path.name, "", "文件不存在", "file not found"))
    if path.suffix.lower() != ".xlsx":
        raise InputError(Problem(path.name, "", "须为 .xlsx 文件", "the file must be an .xlsx workbook"))
    _check_unpacked(path)
    import openpyxl  # imported when a workbook is read: the read commands never need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise InputError(
            Problem(path.name, "", "无法读取该 Excel 文件", f"cannot read this Excel file: {exc}")
        ) from exc
    try:
        for sheet in book.worksheets:
            records = _records(sheet, path.name)
            for index, (number, cells) in enumerate(records[:10]):
                labels = [normalise_label(c) for c in cells]
                if not any(m in labels for m in markers):
                    continue
                columns: dict[str, int] = {}
                for position, label in enumerate(labels):
                    if label:
                        columns.setdefault(label, position)
                rows = [(n, c) for n, c in records[index + 1 :] if any(cell_text(v) for v in c)]
                return Table(file=path.name, header_row=number, columns=columns, rows=rows)
    finally:
        book.close()
    wanted = "、".join(markers)
    raise InputError(
        Problem(path.name, "", f"找不到含“{wanted}”的表头", f"no header row naming {', '.join(markers)}")
    )


def _check_unpacked(path: Path) -> None:
    """Refuse a workbook that unzips to more than ``MAX_UNPACKED`` bytes (a zip bomb) before openpyxl
    reads its shared strings whole."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            Problem(
                path.name,
                "",
                "无法读取该 Excel 文件（是否为 .xlsx 格式？）",
                f"cannot read this Excel file: {exc}",
            )
        ) from None
    if unpacked > MAX_UNPACKED:
        raise InputError(
            Problem(
                path.name,
                "",
                f"文件解压后过大（{unpacked / 1_000_000:.0f} MB，上限 {MAX_UNPACKED // 1_000_000} MB）",
                f"the file unpacks to {unpacked / 1_000_000:.0f} MB (at most {MAX_UNPACKED // 1_000_000} MB)",
            )
        )


def _records(sheet: Any, file: str) -> list[tuple[int, list[Any]]]:
    """(row number, cells) of each row holding something, within ``MAX_ROWS`` × ``MAX_COLUMNS``: the
    dimensions a file declares are not trusted (one cell at XFD1048576 would pad every row to 16,384
    cells and a million rows); data beyond the last column or the last row refuses the file."""
    sheet.reset_dimensions()  # read-only mode: rows as stored, not padded to the declared size
    records = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = list(values[:MAX_COLUMNS])
        where = f"{file}:第{number}行 (row {number})"
        if any(cell_text(v) for v in values[MAX_COLUMNS:]):
            raise InputError(
                Problem(where, "", f"列数超过上限 {MAX_COLUMNS} 列", f"data beyond column {MAX_COLUMNS}")
            )
        if not any(cell_text(v) for v in cells):
            continue
        if number > MAX_ROWS:
            raise InputError(Problem(where, "", f"行数超过上限 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows"))
        records.append((number, cells))
    return records


EXPERT_COLUMNS = {
    "姓名": "name",
    "电子邮箱": "email",
    "电话": "phone",
    "单位": "organisation",
    "社区": "community",
    "专长": "expertise",
}
_EXPERT_ALIASES = {
    "邮箱": "电子邮箱",
    "email": "电子邮箱",
    "联系电话": "电话",
    "手机": "电话",
    "工作单位": "单位",
    "所在社区": "社区",
    "专业领域": "专长",
}


def read_experts(path: Path | str, *, communities: Sequence[str]) -> list[Person]:
    """The experts listed in an .xlsx sheet with Chinese headers, or ``InputError`` naming each cell."""
    table = read_table(path, markers=("姓名",))
    for alias, label in _EXPERT_ALIASES.items():
        if alias in table.columns and label not in table.columns:
            table.columns[label] = table.columns[alias]
    missing = [label for label in ("姓名", "电子邮箱") if label not in table.columns]
    if missing:
        raise InputError(
            Problem(
                table.where(table.header_row),
                "、".join(missing),
                "表头缺少必需的列",
                "required columns are missing",
            )
        )
    people: list[Person] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        data = {key: cell_text(table.value(cells, label)) for label, key in EXPERT_COLUMNS.items()}
        try:
            person = Person.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                key = str(err["loc"][0]) if err["loc"] else ""
                label = next((lab for lab, k in EXPERT_COLUMNS.items() if k == key), key)
                zh = "必填" if not data.get(key) else "格式不对"
                problems.append(Problem(table.where(number, label), label, zh, err["msg"]))
            continue
        if person.community and person.community not in communities:
            where = table.where(number, "社区")
            problems.append(
                Problem(
                    where,
                    "社区",
                    f"不在社区列表中：{person.community}",
                    f"not a community of the competition: {person.community}",
                )
            )
            continue
        email = str(person.email).casefold()
        if email in seen:
            problems.append(
                Problem(
                    table.where(number, "电子邮箱"),
                    "电子邮箱",
                    f"与第{seen[email]}行重复",
                    f"repeats row {seen[email]}",
                )
            )
            continue
        seen[email] = number
        people.append(person)
    if problems:
        raise InputError(problems)
    return people
