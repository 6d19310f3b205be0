"""The paper score sheet workbook (路演纸质评分表): the .xlsx that ``import_paper_sheets`` reads.

``write_sheet_template`` writes one sheet to fill in — a header row (评审专家, 申报编号, 项目名称, one
column per rubric criterion with its full marks, 评语), frozen panes, column widths, a number check
on every score cell — with one row per open sheet (invited or saved as a draft, by 申报编号 and
expert), or empty rows when none is open; and a second sheet of instructions in Chinese and English.
The importer finds the header by its labels, so the 项目名称 column is for the reader only, and the
bracketed full marks in a header are ignored (``workbook.normalise_label``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session, col, select

from models.competition.tables import Competition, RubricCriterion, list_criteria
from models.errors import InputError, NotFound, Problem
from models.intake.tables import Application
from models.review.score_sheets import MAX_COMMENT
from models.review.tables import Expert, ReviewAssignment
from models.states import ASSIGNMENTS_OPEN

EXPERT_LABEL = "评审专家"  # read by score_sheets.import_paper_sheets (also 专家 / 专家姓名)
REF_LABEL = "申报编号"
TITLE_LABEL = "项目名称"  # for the reader; the import ignores it
COMMENT_LABEL = "评语"
BLANK_ROWS = 30  # rows prepared (with number checks) when no sheet is open
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class TemplateRow:
    expert: str  # the name, or the email when two experts share the name
    ref: str
    title: str


def open_sheet_rows(session: Session, *, competition_id: int) -> list[TemplateRow]:
    """One row per open sheet (invited or draft), by 申报编号 then expert."""
    experts = list(session.exec(select(Expert).where(Expert.competition_id == competition_id)))
    names = Counter(e.name.strip() for e in experts)
    label = {e.id: e.name.strip() if names[e.name.strip()] == 1 else e.email for e in experts}
    found = session.exec(
        select(ReviewAssignment, Application)
        .join(Application, col(Application.id) == col(ReviewAssignment.application_id))
        .where(
            ReviewAssignment.competition_id == competition_id,
            col(ReviewAssignment.state).in_(list(ASSIGNMENTS_OPEN)),
        )
        .order_by(col(Application.ref), col(ReviewAssignment.expert_id))
    ).all()
    return [
        TemplateRow(label[sheet.expert_id], application.ref, application.title)
        for sheet, application in found
    ]


def _points(value: Decimal) -> str:
    return f"{value.normalize():f}"


def write_sheet_template(session: Session, *, competition_id: int, path: Path | str) -> int:
    """Write the paper score sheet workbook to ``path`` (.xlsx); returns the number of open sheets listed."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(Problem(path.name, "", "须为 .xlsx 文件", "the file must end in .xlsx"))
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有评审 {competition_id} / no competition #{competition_id}")
    criteria = list_criteria(session, competition_id=competition_id)
    rows = open_sheet_rows(session, competition_id=competition_id)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "评分表"
    headers = [
        f"{EXPERT_LABEL}（姓名或电子邮箱）",
        REF_LABEL,
        TITLE_LABEL,
        *(f"{c.name}（满分{_points(c.max_points)}）" for c in criteria),
        COMMENT_LABEL,
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in rows:
        sheet.append([row.expert, row.ref, row.title])
    last = max(len(rows), BLANK_ROWS if not rows else 0) + 1
    for offset, criterion in enumerate(criteria):
        letter = get_column_letter(4 + offset)
        top, step = _points(criterion.max_points), _points(criterion.step)
        check = DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2=top,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="分值超出范围 / out of range",
            error=(f"{criterion.name}：0 到 {top} 分，步长 {step} / 0 to {top}, in steps of {step}"),
        )
        check.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(check)
    widths = [24, 14, 40, *(max(12, len(c.name) * 2 + 8) for c in criteria), 40]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[1].height = 36
    sheet.freeze_panes = "D2"  # the expert, the 申报编号 and the title stay in view
    _instructions(book, competition, criteria, listed=len(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return len(rows)


def _instructions(
    book: openpyxl.Workbook, competition: Competition, criteria: list[RubricCriterion], *, listed: int
) -> None:
    sheet = book.create_sheet("说明 Instructions")
    rubric = "；".join(f"{c.name} 0–{_points(c.max_points)}（步长 {_points(c.step)}）" for c in criteria)
    rubric_en = "; ".join(f"{c.name} 0–{_points(c.max_points)} (step {_points(c.step)})" for c in criteria)
    lines = [
        (f"{competition.name} · 路演纸质评分表", f"{competition.name} · paper score sheets (roadshow)"),
        (
            f"“评分表”一页每行是一位专家对一个申报的评分；已列出 {listed} 份尚未提交的评分表。",
            f"Each row of the sheet 评分表 is one expert's sheet for one application; {listed} open "
            "sheets are listed.",
        ),
        (
            "评审专家：填姓名；同名的专家请填电子邮箱。",
            "评审专家 (expert): the name; the email when two experts share a name.",
        ),
        (
            "申报编号：如 JT2025-001。项目名称一栏仅供核对，导入时不读。",
            "申报编号: e.g. JT2025-001. 项目名称 is for checking only.",
        ),
        (f"各评分项（满分）：{rubric}。", f"Criteria (full marks): {rubric_en}."),
        (
            f"评语：可不填，最多 {MAX_COMMENT} 字。",
            f"评语 (comment): optional, at most {MAX_COMMENT} characters.",
        ),
        (
            "每行须填齐全部评分项；整个文件全部正确才导入，有错时逐一列出文件、行、列和原因，不导入任何一行。",
            "Every criterion must be scored; the file is imported all or nothing — each mistake is listed "
            "with its row and column, and nothing is stored until all are fixed.",
        ),
        (
            "导入：grantflow review import-sheets 本文件.xlsx（由管理员导入；再次导入同一文件不会重复）。",
            "Import: grantflow review import-sheets THIS-FILE.xlsx (importing the same file again stores "
            "nothing new).",
        ),
    ]
    sheet.append(["说明", "Instructions"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for zh, en in lines:
        sheet.append([zh, en])
    for letter in ("A", "B"):
        sheet.column_dimensions[letter].width = 70
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
