"""Stream an .xlsx, reading only the cells that are there.

``openpyxl.load_workbook`` in normal mode builds every cell up to the sheet's last one: a 27 KB file
with one cell at XFD1048576 asks for 17 billion of them. Even read-only mode pads each row to the
sheet's width and yields every missing row. Here each sheet's XML is parsed as a stream (openpyxl's
own ``WorkSheetParser``, in read-only mode) and only the cells present are kept: a row becomes its
values up to its last non-empty cell within ``max_column``; a value further right is remembered
(``wide_column``) so that the caller can refuse the file. Hidden sheets and hidden rows are noted,
and a formula without a cached value (a workbook saved by a program that does not calculate) reads
as ``UNCALCULATED``, not as an empty cell.

Every failure of the file itself — not a zip, damaged XML, a shared string that is not there —
becomes ``InputError`` naming the file.

openpyxl (and numpy, which it loads) is imported when a workbook is opened, not with this module:
an intake run of a .json or .csv file, or the web form's, does not pay for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.errors import InputError, Problem
from models.intake.fields import UNCALCULATED

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet._reader import WorkSheetParser


@cache
def _parser_class() -> type[WorkSheetParser]:
    """openpyxl's sheet parser, telling an uncalculated formula apart from an empty cell (the class
    made once, when the first sheet is read)."""
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    formula = f"{{{SHEET_MAIN_NS}}}f"

    class _Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if cell["value"] is None and element.find(formula) is not None:
                cell["value"] = UNCALCULATED
            return cell

    return _Parser


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Sheet:
    """One worksheet, read on demand."""

    title: str
    hidden: bool
    _ws: ReadOnlyWorksheet
    _file: str
    hidden_rows: list[int] = field(default_factory=list)  # rows holding data that are hidden
    wide_column: int = 0  # the first column beyond ``max_column`` found holding data (0: none)

    def rows(self, *, max_row: int, max_column: int) -> Iterator[tuple[int, list[Any]]]:
        """(row number, values) for each row holding something, up to the first row past ``max_row``
        holding something (the caller refuses the file then)."""
        book = self._ws.parent
        try:
            with self._ws._get_source() as source, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a date cell out of range reads as "#VALUE!"
                parser = _parser_class()(
                    source,
                    self._ws._shared_strings,
                    data_only=True,
                    epoch=book.epoch,
                    date_formats=book._date_formats,
                    timedelta_formats=book._timedelta_formats,
                )
                for number, cells in parser.parse():
                    values: list[Any] = []
                    for cell in cells:
                        column, value = cell["column"], cell["value"]
                        if _blank(value):
                            continue
                        if column > max_column:
                            self.wide_column = self.wide_column or column
                            continue
                        if column > len(values):
                            values.extend([None] * (column - len(values)))
                        values[column - 1] = value
                    if not values:
                        continue
                    attributes = parser.row_dimensions.get(str(number), {})
                    if attributes.get("hidden") in ("1", "true"):
                        self.hidden_rows.append(number)
                    yield number, values
                    if number > max_row:
                        return
        except InputError:
            raise
        except Exception as exc:  # damaged XML, a missing shared string, a bad row number …
            raise InputError(
                Problem(
                    f"{self._file}:{self.title}",
                    "",
                    "工作表已损坏，无法读取",
                    f"the sheet is damaged: {type(exc).__name__}: {exc}",
                )
            ) from None


@dataclass
class Workbook:
    sheets: list[Sheet]


@contextmanager
def open_workbook(path: Path) -> Iterator[Workbook]:
    """The workbook's sheets, streamed; ``InputError`` when the file is no readable .xlsx."""
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported" …
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise InputError(
            Problem(
                path.name,
                "",
                "无法读取该 Excel 文件（是否为 .xlsx 格式？）",
                f"cannot read this Excel file: {exc}",
            )
        ) from None
    try:
        sheets = [
            Sheet(ws.title, ws.sheet_state != "visible", ws, path.name)
            for ws in book.worksheets
            if isinstance(ws, ReadOnlyWorksheet)
        ]
        yield Workbook(sheets)
    finally:
        book.close()
