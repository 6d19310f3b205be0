"""``grantflow review sheet-template`` writes the workbook ``review import-sheets`` reads, and the
text report shows every missing value as "—" and names the panel's design and formulas."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlmodel import select

from models.db import dispose_engines, get_engine, session_scope, upgrade_database
from models.review.reviewing import assign_reviews
from models.review.tables import ReviewAssignment
from models.states import AssignmentState
from tests.cli.test_cli import run
from tests.support.review_data import CRITERIA, NAMES, points_for, setup_review


def prepare(data_dir: Path) -> int:
    """A competition with 3 applications in review and every expert's sheet open; returns the count."""
    engine = get_engine(f"sqlite:///{data_dir / 'grantflow.db'}")
    upgrade_database(engine)
    with session_scope(engine) as session:
        competition, _ = setup_review(session, apps=3)
        assign_reviews(session, competition_id=competition.id, actor="admin")
        count = len(list(session.exec(select(ReviewAssignment))))
    dispose_engines()
    return count


def states(data_dir: Path) -> list[AssignmentState]:
    engine = get_engine(f"sqlite:///{data_dir / 'grantflow.db'}")
    with session_scope(engine) as session:
        found = [sheet.state for sheet in session.exec(select(ReviewAssignment))]
    dispose_engines()
    return found


def test_sheet_template_filled_in_imports_through_import_sheets(tmp_path):
    open_sheets = prepare(tmp_path)
    path = tmp_path / "路演评分表.xlsx"
    written = run(["review", "sheet-template", str(path), "--competition", "jiangtou-2025"], tmp_path)
    assert written.returncode == 0, written.stderr
    assert f"{open_sheets} 份未提交的评分表 open sheets" in written.stdout

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["评分表", "说明 Instructions"]
    sheet = book["评分表"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["评审专家（姓名或电子邮箱）", "申报编号", "项目名称"]
    assert header[3:-1] == [f"{NAMES[code]}（满分{top}）" for code, top in CRITERIA] and header[-1] == "评语"
    assert sheet.freeze_panes == "D2" and sheet.column_dimensions["C"].width == 40
    assert len(sheet.data_validations.dataValidation) == len(CRITERIA)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == open_sheets and all(row[0] and row[1].startswith("JT2025-") for row in rows)
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)
    instructions = " ".join(str(c.value) for row in book["说明 Instructions"].iter_rows() for c in row)
    assert "grantflow review import-sheets" in instructions and "all or nothing" in instructions

    # fill it in as an administrator would, typing the points off the paper
    for number, total in zip(range(2, 2 + open_sheets), range(70, 70 + open_sheets), strict=True):
        points = points_for(total)
        for offset, (code, _) in enumerate(CRITERIA):
            sheet.cell(row=number, column=4 + offset, value=float(points[code]))
        sheet.cell(row=number, column=4 + len(CRITERIA), value="现场答辩清楚")
    book.save(path)

    imported = run(["review", "import-sheets", str(path), "--competition", "jiangtou-2025"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert f"已导入 / imported {open_sheets} 份评分表" in imported.stdout
    assert states(tmp_path) == [AssignmentState.submitted] * open_sheets

    # nothing open any more: a blank template with the same header
    blank = run(
        ["review", "sheet-template", str(tmp_path / "blank.xlsx"), "--competition", "jiangtou-2025"], tmp_path
    )
    assert blank.returncode == 0 and "blank template" in blank.stdout
    empty = openpyxl.load_workbook(tmp_path / "blank.xlsx")["评分表"]
    assert [c.value for c in empty[1]] == header and empty.max_row == 1

    # the report before closing: no rank, no aggregate yet — shown as "—", never None / null
    report = run(["review", "report", "--competition", "jiangtou-2025"], tmp_path)
    assert report.returncode == 0, report.stderr
    assert "None" not in report.stdout and "null" not in report.stdout
    assert "incomplete design: 3 applications, 7 experts" in report.stdout
    assert "ICC(1,1) = " in report.stdout and "[适用 / applies]" in report.stdout
    assert "公式 / formula: ICC(1,1) = (MSB − MSW) / (MSB + (k₀ − 1)·MSW)" in report.stdout


def test_sheet_template_refuses_a_file_that_is_not_xlsx(tmp_path):
    prepare(tmp_path)
    refused = run(
        ["review", "sheet-template", str(tmp_path / "sheets.xls"), "--competition", "jiangtou-2025"], tmp_path
    )
    assert refused.returncode == 1 and ".xlsx" in refused.stderr and "Traceback" not in refused.stderr
