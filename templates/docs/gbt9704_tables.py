"""Bordered tables for the templates: header rows, looped rows, label|value pairs, section boxes.

Page rules every table keeps (checked on the rendered pages by ``tests/models/documents``): a data row
never splits across pages (``cantSplit``); header rows repeat on every page and stay with the first
data row; a table never leaves one row alone on a page. A row keeps with the next (``keepNext`` on
its paragraphs) by ``keeps``: every row but the last of a short table (``SHORT`` rows or fewer: it
never splits), else the first two and the last but one — so a page holds at least three rows of
the table's start and two of its end. A looped row's rule is written as the condition of
``{%tr if … %}`` and chosen as it renders. The paragraph that introduces a table stays on its page.
(Not the first row alone: LibreOffice 7.4 then sometimes lays the rows after it out past the page's
end and loses them — measured on the 申报书's 预算明细.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from columns import PORTRAIT_MM, Column
from columns import widths_mm as column_widths
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Mm, Twips
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from wordml import BODY, FANGSONG, HEITI, TABLE, child, keep_with_next, twips

SHORT = 8  # data rows: a table this short is kept on one page


def keeps(position: int, rows: int) -> bool:
    """Whether the data row at ``position`` (1 …) of a table of ``rows`` keeps with the next."""
    return position < rows and (rows <= SHORT or position <= 2 or position == rows - 1)


def keeps_condition(fixed_after: int, *, closing: bool = False) -> str:
    """``keeps`` for a looped row followed by ``fixed_after`` fixed rows, as a Jinja condition
    (``loop.index`` is its position, ``loop.length + fixed_after`` the table's rows); in a closing
    block the table's last rows keep with the block as well."""
    rest = f" + {fixed_after}" if fixed_after else ""
    if closing:
        return f"loop.revindex{rest} <= 2 or loop.length{rest} <= {SHORT} or loop.index <= 2"
    return (
        f"loop.revindex{rest} > 1 and (loop.length{rest} <= {SHORT} or loop.index <= 2 "
        f"or loop.revindex{rest} == 2)"
    )


class TablesMixin:
    """Table helpers of ``OfficialDocument`` (which provides ``doc``, ``run`` and ``paragraph``)."""

    doc: Any
    run: Any
    paragraph: Any
    _tables: list[tuple[Table, list[float]]]
    text_width_mm: float = PORTRAIT_MM

    def table(
        self,
        widths_mm: Sequence[float | Column],
        header: Sequence[str] | None = None,
        *,
        rows: Sequence[Sequence[str]] = (),
        loop: str | None = None,
        loop_row: Sequence[str] | None = None,
        title: str | None = None,
        size: float = TABLE,
        aligns: Sequence[int] | None = None,
        row_height_mm: float | None = None,
    ) -> Table:
        """A bordered table: optional merged title row, header row, a looped row, then fixed rows.

        ``loop`` is the body of ``{%tr for … %}``; ``loop_row`` the cells of the repeated row (at least
        ``row_height_mm`` high, when given: room to sign). ``widths_mm`` gives each column in mm, or by
        what it holds (``columns.py``: a Column's width comes from its content class and its header;
        cells of codes, amounts and numbers do not wrap). See the module docstring for its page rules.
        """
        self._introduce_next()
        classes = [w for w in widths_mm if isinstance(w, Column)]
        if classes:
            if len(classes) != len(widths_mm):
                raise ValueError("give every column as a Column, or every column in mm")
            headers = list(header) if header is not None else [""] * len(classes)
            widths_mm = column_widths(classes, headers, size, self.text_width_mm)
        no_wrap = [index for index, column in enumerate(classes) if column.no_wrap]
        table = self.doc.add_table(rows=0, cols=len(widths_mm))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        self._grid(table, widths_mm)
        aligns = aligns or [1] * len(widths_mm)
        if title is not None:
            cells = self.row(table, [title] + [""] * (len(widths_mm) - 1), size=size, bold=True, font=HEITI)
            cells[0].merge(cells[-1])
            self._repeat_header(table.rows[-1])
        if header is not None:
            self.row(table, header, size=size, bold=True, font=HEITI)
            self._repeat_header(table.rows[-1])
        blank = [""] * (len(widths_mm) - 1)
        if loop is not None and loop_row is not None:
            self.row(table, ["{%tr for " + loop + " %}", *blank], size=size)
            self.row(table, ["{%tr if " + keeps_condition(len(rows)) + " %}", *blank], size=size)
            for keep in (True, False):
                if not keep:
                    self.row(table, ["{%tr else %}", *blank], size=size)
                cells = self.row(table, loop_row, size=size, aligns=aligns, height_mm=row_height_mm)
                self._no_wrap(cells, no_wrap)
                if keep:
                    self.keep_row_with_next(cells)
            self.row(table, ["{%tr endif %}", *blank], size=size)
            self.row(table, ["{%tr endfor %}", *blank], size=size)
        for index, texts in enumerate(rows, start=1):
            cells = self.row(table, texts, size=size, aligns=aligns)
            self._no_wrap(cells, no_wrap)
            # after a loop the fixed rows' positions are unknown here: only the last but one keeps
            if keeps(index, len(rows)) if loop is None else index == len(rows) - 1:
                self.keep_row_with_next(cells)
        spacer = self.paragraph("", indent=False, size=8)  # Word needs a paragraph between tables
        # off the line grid: 8 pt high, not a 10 mm grid line (which pushed a last, empty page out)
        ppr = spacer._p.get_or_add_pPr()
        child(ppr, "w:snapToGrid").set(qn("w:val"), "0")
        child(child(ppr, "w:rPr"), "w:sz").set(qn("w:val"), "16")  # the paragraph mark: 8 pt too
        return table

    def pairs(
        self, pairs: Sequence[tuple[str, str]], widths_mm: Sequence[float] = (46, 110), *, size: float = TABLE
    ) -> Table:
        """A 2-column ``label | value`` table (labels in 黑体, values left-aligned), kept by the
        rules of ``table``."""
        table = self.table(widths_mm, size=size)
        for index, (label, value) in enumerate(pairs, start=1):
            cells = self.row(table, [label, ""], size=size, font=HEITI)
            self.cell_text(cells[1], value, size=size)
            self._no_wrap(cells, [])
            if keeps(index, len(pairs)):
                self.keep_row_with_next(cells)
        return table

    @staticmethod
    def keep_row_with_next(cells: Sequence[_Cell]) -> None:
        """The row stays on the page of the row (or paragraph) after it."""
        for cell in cells:
            for paragraph in cell.paragraphs:
                keep_with_next(paragraph._p.get_or_add_pPr())

    def _introduce_next(self) -> None:
        """The paragraph just before a new table (a sentence ending "…分期拨付：") stays on its page:
        its last lines keep with the table's first rows. Not a heading (kept already), not a
        template tag, not an empty spacer."""
        body = self.doc.element.body
        last = body[-2] if len(body) > 1 else None  # the last element before the sectPr
        if last is None or last.tag != qn("w:p"):
            return
        text = "".join(t.text or "" for t in last.iter(qn("w:t"))).strip()
        if text and not text.startswith("{%"):
            ppr = last.get_or_add_pPr()
            child(ppr, "w:keepNext")
            child(ppr, "w:widowControl")

    def box(
        self,
        title: str,
        *lines: str,
        width_mm: float = 156,
        height_mm: float = 30,
        size: float = TABLE,
        whole: bool = False,
    ) -> Table:
        """A 1-column section table: the title row, then a tall row holding the text.

        ``whole``: fixed text with signature lines (承诺书) — the row never splits across pages, so the
        signature and date lines stay with the text they sign.
        """
        table = self.table([width_mm], size=size)
        self.row(table, [title], size=size, bold=True, font=HEITI)
        self._repeat_header(table.rows[-1])
        cells = self.row(table, [""], size=size, height_mm=height_mm)
        self.cell_text(cells[0], *lines, size=size)
        cells[0].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
        if whole:
            self.unsplit(table)
        return table

    @staticmethod
    def unsplit(table: Table) -> None:
        """Keep every row of the table whole and on the page of the next row."""
        rows = table._tbl.findall(qn("w:tr"))
        for index, tr in enumerate(rows):
            child(tr.get_or_add_trPr(), "w:cantSplit")
            if index < len(rows) - 1:
                for paragraph in tr.iter(qn("w:p")):
                    keep_with_next(paragraph.get_or_add_pPr())

    def unbordered(
        self, widths_mm: Sequence[float], rows: Sequence[Sequence[str]], *, size: float = BODY
    ) -> Table:
        """A table without borders, to set out signature blocks side by side."""
        table = self.table(widths_mm, size=size)
        table.style = self.doc.styles["Normal Table"]
        for cells in rows:
            self.row(table, cells, size=size, aligns=[0] * len(widths_mm))
        return table

    def row(
        self,
        table: Table,
        texts: Sequence[str],
        *,
        size: float = TABLE,
        bold: bool = False,
        font: str = FANGSONG,
        aligns: Sequence[int] | None = None,
        height_mm: float | None = None,
    ) -> list[_Cell]:
        row = table.add_row()
        if height_mm:
            row.height = Mm(height_mm)
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        cells = list(row.cells)
        for index, (cell, text) in enumerate(zip(cells, texts, strict=True)):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            self._cell_paragraph(paragraph, aligns[index] if aligns else 1, size)
            if text:
                self.run(paragraph, text, font=font, size=size, bold=bold)
        return cells

    def cell_text(
        self, cell: _Cell, *lines: str, size: float = TABLE, align: int = 0, font: str = FANGSONG
    ) -> None:
        """Write lines into a cell, one paragraph each (the first replaces the empty one)."""
        for index, line in enumerate(lines):
            paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
            self._cell_paragraph(paragraph, align, size)
            if line:
                self.run(paragraph, line, font=font, size=size)

    @staticmethod
    def merge(cells: Sequence[_Cell]) -> _Cell:
        """Merge a row's cells into one, keeping one paragraph (python-docx keeps each cell's empty one,
        which makes the row taller)."""
        merged = cells[0].merge(cells[-1])
        for paragraph in merged.paragraphs[1:]:
            if not paragraph.text:
                paragraph._p.getparent().remove(paragraph._p)
        return merged

    @staticmethod
    def _no_wrap(cells: list[_Cell], columns: Sequence[int]) -> None:
        """A data row: never split across pages (a cell's lines stay together), no wrap in ``columns``."""
        child(cells[0]._tc.getparent().get_or_add_trPr(), "w:cantSplit")
        for index in columns:
            child(cells[index]._tc.get_or_add_tcPr(), "w:noWrap")

    @staticmethod
    def _cell_paragraph(paragraph: Paragraph, align: int, size: float) -> None:
        """Cells sit off the line grid (else every row would be a grid line or two high); the paragraph
        mark has the cell's size, so that an empty cell is no taller than its neighbours."""
        paragraph.alignment = align
        ppr = paragraph._p.get_or_add_pPr()
        child(ppr, "w:snapToGrid").set(qn("w:val"), "0")
        spacing = child(ppr, "w:spacing")
        spacing.set(qn("w:before"), "40")
        spacing.set(qn("w:after"), "40")
        mark = child(ppr, "w:rPr")
        for tag in ("w:sz", "w:szCs"):
            child(mark, tag).set(qn("w:val"), str(round(size * 2)))

    def _grid(self, table: Table, widths_mm: Sequence[float]) -> None:
        self._tables.append((table, list(widths_mm)))
        tbl = table._tbl
        width = tbl.tblPr.find(qn("w:tblW"))
        width.set(qn("w:w"), str(sum(twips(w) for w in widths_mm)))
        width.set(qn("w:type"), "dxa")
        for column, mm in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
            column.set(qn("w:w"), str(twips(mm)))

    @staticmethod
    def _repeat_header(row: Any) -> None:
        """Repeat the row on every page the table spans, and keep it with the row after it."""
        child(row._tr.get_or_add_trPr(), "w:tblHeader")
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True

    @staticmethod
    def cell_widths(table: Table, widths_mm: list[float]) -> None:
        """Give every cell the width of the columns it spans (Word reads w:tcW)."""
        for tr in table._tbl.findall(qn("w:tr")):
            column = 0
            for tc in tr.findall(qn("w:tc")):
                span = tc.grid_span
                tc.width = Twips(sum(twips(w) for w in widths_mm[column : column + span]))
                column += span
