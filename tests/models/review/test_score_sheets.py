"""Score sheets from the portal and paper sheets from a roadshow (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent, history
from models.errors import AccessDenied, Conflict, InputError
from models.review.reviewing import (
    assign_reviews,
    decline,
)
from models.review.score_sheets import import_paper_sheets, load_sheet, save_sheet, sheet_points
from models.review.tables import ReviewAssignment, Score
from models.states import ApplicationState, AssignmentState
from tests.support.review_data import CRITERIA, NAMES, NOW, points_for, setup_review, sheets

# ---- score sheets -------------------------------------------------------------------------------


def _one_sheet(session: Session) -> ReviewAssignment:
    competition, _ = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    return sheets(session)[0]


def test_save_sheet_draft_then_submit(session):
    sheet = _one_sheet(session)
    save_sheet(
        session,
        assignment_id=sheet.id,
        points={"need": "18", "design": ""},
        comment="初稿",
        submit=False,
        actor="expert",
        now=NOW,
    )
    assert sheet.state is AssignmentState.draft
    assert sheet_points(session, assignment_id=sheet.id) == {"need": Decimal(18)}
    save_sheet(
        session,
        assignment_id=sheet.id,
        points=points_for("86.5"),
        comment="  需求调研扎实  ",
        submit=True,
        actor="expert",
        now=NOW,
    )
    assert sheet.state is AssignmentState.submitted and sheet.submitted_at == NOW
    assert sheet.comment == "需求调研扎实"
    view = load_sheet(session, assignment_id=sheet.id)
    assert sum(view.points.values()) == Decimal("86.5") and len(view.criteria) == 6


def test_save_sheet_reports_every_field_problem_and_changes_nothing(session):
    sheet = _one_sheet(session)
    bad = points_for(80) | {"need": "", "design": "30", "capacity": "17.3", "budget": "abc", "bogus": "1"}
    with pytest.raises(InputError) as caught:
        save_sheet(
            session,
            assignment_id=sheet.id,
            points=bad,
            comment="x" * 5001,
            submit=True,
            actor="expert",
            now=NOW,
        )
    assert sorted(p.field for p in caught.value.problems) == [
        "bogus",
        "budget",
        "capacity",
        "comment",
        "design",
        "need",
    ]
    assert all(p.where == f"评分表 #{sheet.id}" for p in caught.value.problems)
    assert sheet.state is AssignmentState.invited
    assert session.exec(select(Score)).all() == []


def test_save_sheet_change_after_submit_is_audited(session):
    sheet = _one_sheet(session)
    save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="expert", now=NOW)
    later = NOW + timedelta(days=2)
    save_sheet(
        session,
        assignment_id=sheet.id,
        points=points_for(82),
        comment="复核后调整",
        submit=True,
        actor="expert",
        now=later,
    )
    save_sheet(
        session,
        assignment_id=sheet.id,
        points=points_for(82),
        comment="复核后调整",
        submit=True,
        actor="expert",
        now=later + timedelta(hours=1),
    )  # nothing changed: no audit row
    edits = [e for e in history(session, entity="assignment", entity_id=sheet.id) if e.action == "score"]
    assert len(edits) == 2
    assert edits[1].data["before"]["innovation"] == "0" and edits[1].data["after"]["innovation"] == "2"
    assert edits[1].data["comment_after"] == "复核后调整"
    assert sheet.submitted_at == later


def test_save_sheet_after_deadline_refused(session):
    sheet = _one_sheet(session)
    with pytest.raises(AccessDenied, match="2025-03-21 17:00"):
        save_sheet(
            session,
            assignment_id=sheet.id,
            points=points_for(80),
            submit=True,
            actor="expert",
            now=datetime(2025, 3, 21, 9, 0, 1, tzinfo=UTC),
        )
    assert sheet.state is AssignmentState.invited


def test_save_sheet_on_withdrawn_sheet_refused(session):
    sheet = _one_sheet(session)
    decline(session, assignment_id=sheet.id, reason="忙", actor="expert")
    with pytest.raises(AccessDenied, match="withdrawn"):
        save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)


def test_save_sheet_draft_on_a_submitted_sheet_refused_and_keeps_it_submitted(session):
    sheet = _one_sheet(session)
    save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="expert", now=NOW)
    submitted_at = sheet.submitted_at
    with pytest.raises(Conflict, match="提交修改"):
        save_sheet(
            session,
            assignment_id=sheet.id,
            points=points_for(70),
            submit=False,
            actor="expert",
            now=NOW + timedelta(hours=1),
        )
    assert sheet.state is AssignmentState.submitted and sheet.submitted_at == submitted_at
    assert sum(sheet_points(session, assignment_id=sheet.id).values()) == 80
    # changed and resubmitted: still submitted, with the new points
    save_sheet(
        session,
        assignment_id=sheet.id,
        points=points_for(70),
        submit=True,
        actor="expert",
        now=NOW + timedelta(hours=2),
    )
    assert sheet.state is AssignmentState.submitted
    assert sum(sheet_points(session, assignment_id=sheet.id).values()) == 70


@pytest.mark.parametrize(
    ("typed", "stored"), [("1E+1", "10"), ("-0", "0"), ("8.50", "8.5"), ("0.0", "0"), ("2e0", "2")]
)
def test_save_sheet_stores_the_normalised_number(session, typed, stored):
    sheet = _one_sheet(session)
    save_sheet(session, assignment_id=sheet.id, points={"need": typed}, submit=False, actor="expert", now=NOW)
    session.expire_all()
    value = sheet_points(session, assignment_id=sheet.id)["need"]
    assert str(value) == stored
    score = session.exec(select(Score)).one()
    assert str(score.points) == stored


# ---- paper sheets -------------------------------------------------------------------------------


def _paper(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["评审专家", "申报编号", *NAMES.values(), "评语"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _paper_row(expert: str, ref: str, total: int, comment: str = "") -> list[object]:
    points = points_for(total)
    return [expert, ref, *(float(points[c]) for c, _ in CRITERIA), comment]


def test_import_paper_sheets_submits_every_row(session, tmp_path):
    competition, apps = setup_review(session, apps=2)  # no assignment run: a roadshow only
    rows = [
        _paper_row("陈慧敏", "JT2025-002", 85, "很好"),
        _paper_row("wang.jianhua@experts.example.org", "JT2025-002", 78),
    ]
    path = _paper(tmp_path / "路演.xlsx", rows)
    written = import_paper_sheets(session, competition_id=competition.id, path=path, actor="admin", now=NOW)
    assert [s.state for s in written] == [AssignmentState.submitted] * 2
    assert written[0].source == "路演.xlsx:第2行" and written[0].comment == "很好"
    assert sum(sheet_points(session, assignment_id=written[1].id).values()) == 78
    assert apps[1].state is ApplicationState.in_review
    again = import_paper_sheets(
        session, competition_id=competition.id, path=tmp_path / "路演.xlsx", actor="admin", now=NOW
    )
    assert [s.id for s in again] == [s.id for s in written]
    assert len([e for e in session.exec(select(AuditEvent)) if e.action == "score"]) == 2


def test_import_paper_sheets_bad_file_writes_nothing(session, tmp_path):
    competition, _ = setup_review(session, apps=2)
    rows = [
        _paper_row("陈慧敏", "JT2025-002", 85),
        ["黄志强", "JT2025-002", 18, 30, 15, 10, 5, 5, ""],  # 项目设计 30 > 25
        _paper_row("无名氏", "JT2025-002", 80),
        _paper_row("林雅琴", "JT2025-099", 80),
        _paper_row("蔡美玲", "JT2025-001", 80),  # 吕岭: same community
        _paper_row("陈慧敏", "JT2025-002", 70),  # repeats row 2
    ]
    path = _paper(tmp_path / "sheets.xlsx", rows)
    with pytest.raises(InputError) as caught:
        import_paper_sheets(session, competition_id=competition.id, path=path, actor="admin", now=NOW)
    found = [(p.where, p.field) for p in caught.value.problems]
    assert found == [
        ("sheets.xlsx:第3行 D列 (row 3, column D)", "项目设计"),
        ("sheets.xlsx:第4行 A列 (row 4, column A)", "评审专家"),
        ("sheets.xlsx:第5行 B列 (row 5, column B)", "申报编号"),
        ("sheets.xlsx:第6行 A列 (row 6, column A)", "评审专家"),
        ("sheets.xlsx:第7行 A列 (row 7, column A)", "评审专家"),
    ]
    assert "同社区回避" in caught.value.problems[3].zh and "repeats row 2" in caught.value.problems[4].en
    assert sheets(session) == []


def test_import_paper_sheets_missing_criterion_column_refused(session, tmp_path):
    competition, _ = setup_review(session, apps=1)
    book = openpyxl.Workbook()
    book.active.append(["专家", "申报编号", "需求分析"])
    book.save(tmp_path / "short.xlsx")
    with pytest.raises(InputError) as caught:
        import_paper_sheets(
            session, competition_id=competition.id, path=tmp_path / "short.xlsx", actor="admin", now=NOW
        )
    assert "项目设计" in caught.value.problems[0].field and "missing" in caught.value.problems[0].en


def test_import_paper_sheets_stores_numbers_typed_as_1e1_or_minus_zero_normalised(session, tmp_path):
    competition, _ = setup_review(session, apps=2)
    # 需求分析 "1E+1" (10), 项目设计 "-0" (0), 执行能力 "18.50", the others as numbers
    row = ["陈慧敏", "JT2025-002", "1E+1", "-0", "18.50", 15.0, 10.0, "0E+2", ""]
    path = _paper(tmp_path / "路演.xlsx", [row])
    [written] = import_paper_sheets(session, competition_id=competition.id, path=path, actor="admin", now=NOW)
    stored = {code: str(value) for code, value in sheet_points(session, assignment_id=written.id).items()}
    assert stored == {
        "need": "10",
        "design": "0",
        "capacity": "18.5",
        "budget": "15",
        "innovation": "10",
        "sustainability": "0",
    }
    raw = (
        session.connection().exec_driver_sql("SELECT points FROM score ORDER BY criterion_id").scalars().all()
    )
    assert sorted(raw) == sorted(["10", "0", "18.5", "15", "10", "0"])
