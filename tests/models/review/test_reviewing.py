"""Experts, assignment, declines and conflicts in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlmodel import select

from models.audit import AuditEvent, history
from models.errors import AccessDenied, Conflict, InputError
from models.lifecycle import set_state
from models.review.assignment import InfeasibleAssignment
from models.review.reviewing import (
    assign_reviews,
    declare_conflict,
    decline,
    load_experts,
    record_conflict,
)
from models.review.score_sheets import save_sheet
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment
from models.states import ApplicationState, AssignmentState
from tests.support.factories import make_competition
from tests.support.review_data import NOW, points_for, setup_review, sheets

# ---- experts and assignment ---------------------------------------------------------------------


def test_load_experts_from_xlsx_with_chinese_headers(session, tmp_path):
    competition = make_competition(session)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["专家名单"])
    sheet.append(["姓名", "电子邮箱", "电话", "单位", "社区", "专长"])
    sheet.append(["陈慧敏", "chen.huimin@experts.example.org", 13805920999, "厦门大学", "", "社会工作"])
    sheet.append(["李新", "li.xin@experts.example.org", "13805920108", "江头街道", "江头", "社区治理"])
    book.save(tmp_path / "experts.xlsx")
    path = tmp_path / "experts.xlsx"
    experts = load_experts(session, competition_id=competition.id, actor="admin", path=path)
    by_email = {e.email: e for e in experts}
    assert len(experts) == 8  # 7 from the configuration, one new
    assert by_email["li.xin@experts.example.org"].community == "江头"
    assert by_email["chen.huimin@experts.example.org"].phone == "13805920999"
    assert by_email["chen.huimin@experts.example.org"].organisation_name == "厦门大学"


def test_load_experts_bad_rows_name_file_row_and_column(session, tmp_path):
    competition = make_competition(session)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "电子邮箱", "社区"])
    sheet.append(["李新", "not-an-email", "江头"])
    sheet.append(["王五", "wang.wu@example.org", "鼓浪屿"])
    book.save(tmp_path / "experts.xlsx")
    with pytest.raises(InputError) as caught:
        load_experts(session, competition_id=competition.id, actor="admin", path=tmp_path / "experts.xlsx")
    wheres = [(p.where, p.field) for p in caught.value.problems]
    assert wheres == [
        ("experts.xlsx:第2行 B列 (row 2, column B)", "电子邮箱"),
        ("experts.xlsx:第3行 C列 (row 3, column C)", "社区"),
    ]


def test_assign_reviews_k_experts_balanced_and_community_excluded(session):
    competition, apps = setup_review(session)
    run = assign_reviews(session, competition_id=competition.id, actor="admin")
    assert len(run.created) == 30 and sorted(run.moved) == sorted(a.id for a in apps)
    per_app = Counter(s.application_id for s in sheets(session))
    assert set(per_app.values()) == {5}
    loads = Counter(s.expert_id for s in sheets(session))
    assert len(loads) == 7 and max(loads.values()) - min(loads.values()) <= 1
    cai = session.exec(select(Expert).where(Expert.name == "蔡美玲")).one()
    assert all(s.expert_id != cai.id for s in sheets(session, apps[0].id))  # JT2025-001 serves 吕岭
    assert all(a.state is ApplicationState.in_review for a in apps)
    assert all(s.deadline == datetime(2025, 3, 21, 9, 0, tzinfo=UTC) for s in run.created)
    assert len({s.token_nonce for s in run.created}) == 30
    assert [e.to_state for e in history(session, entity="application", entity_id=apps[0].id)] == ["in_review"]


def test_assign_reviews_rerun_creates_nothing(session):
    competition, _ = setup_review(session)
    first = assign_reviews(session, competition_id=competition.id, actor="admin")
    again = assign_reviews(session, competition_id=competition.id, actor="admin")
    assert (again.created, again.moved) == ([], [])
    assert len(sheets(session)) == len(first.created) == 30


def test_assign_reviews_infeasible_explains_and_stores_nothing(session):
    competition, apps = setup_review(session, apps=2)
    experts = session.exec(select(Expert).order_by(Expert.id)).all()
    for expert in experts[:3]:
        record_conflict(session, expert_id=expert.id, application_id=apps[1].id, reason="亲属", actor="admin")
    with pytest.raises(InfeasibleAssignment) as caught:
        assign_reviews(session, competition_id=competition.id, actor="admin")
    assert [p.where for p in caught.value.problems] == ["申报 JT2025-002"]
    assert "只有 4 位可选" in str(caught.value) and experts[0].name in str(caught.value)
    session.rollback()
    assert sheets(session) == []


# ---- declines and conflicts ---------------------------------------------------------------------


def test_decline_invites_a_new_expert(session):
    competition, apps = setup_review(session)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    first = sheets(session, apps[2].id)[0]
    before = {s.expert_id for s in sheets(session, apps[2].id)}
    result = decline(session, assignment_id=first.id, reason="出差", actor=f"expert:{first.expert_id}")
    assert first.state is AssignmentState.declined
    assert result.replacement is not None and result.replacement.expert_id not in before
    assert result.replacement.deadline == first.deadline
    assert result.replacement.state is AssignmentState.invited
    active = [s for s in sheets(session, apps[2].id) if s.state is AssignmentState.invited]
    assert len(active) == 5


def test_declare_conflict_records_declaration_and_replaces(session):
    competition, apps = setup_review(session)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session, apps[3].id)[1]
    result = declare_conflict(
        session, assignment_id=sheet.id, reason="曾任该机构顾问", actor="expert", now=NOW
    )
    assert sheet.state is AssignmentState.conflicted
    declared = session.exec(select(ConflictDeclaration)).one()
    assert (declared.expert_id, declared.application_id, declared.reason) == (
        sheet.expert_id,
        apps[3].id,
        "曾任该机构顾问",
    )
    assert result.replacement is not None and result.problem == ""


def test_decline_with_nobody_left_keeps_the_withdrawal_and_says_why(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    target = apps[0]  # serves 吕岭: 6 of 7 experts may review it, 5 are assigned
    first = decline(session, assignment_id=sheets(session, target.id)[0].id, reason="忙", actor="expert")
    assert first.replacement is not None
    second = decline(session, assignment_id=first.replacement.id, reason="忙", actor="expert")
    assert second.replacement is None
    assert "同社区回避 1 人（蔡美玲）" in second.problem and "already assigned" in second.problem
    events = history(session, entity="application", entity_id=target.id)
    assert events[-1].action == "no_replacement"


def test_record_conflict_on_submitted_sheet_refused_and_records_nothing(session):
    competition, apps = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session)[0]
    save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    with pytest.raises(Conflict, match="cannot be withdrawn"):
        record_conflict(session, expert_id=sheet.expert_id, application_id=apps[0].id, reason="x", actor="a")
    assert session.exec(select(ConflictDeclaration)).all() == []
    assert sheet.state is AssignmentState.submitted


def test_record_conflict_on_open_sheet_withdraws_and_replaces(session):
    competition, apps = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session)[0]
    result = record_conflict(
        session,
        expert_id=sheet.expert_id,
        application_id=apps[0].id,
        reason="配偶在该机构任职",
        actor="admin",
        now=NOW,
    )
    assert result is not None and result.withdrawn.id == sheet.id
    assert sheet.state is AssignmentState.conflicted and result.replacement is not None
    assert len(session.exec(select(ConflictDeclaration)).all()) == 1


def _counts(session):
    return (
        len(session.exec(select(ReviewAssignment)).all()),
        len(session.exec(select(ConflictDeclaration)).all()),
        len(session.exec(select(AuditEvent)).all()),
    )


def test_declare_conflict_after_the_deadline_refused_and_changes_nothing(session):
    competition, _ = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session)[0]
    before = _counts(session)
    late = sheet.deadline + timedelta(seconds=1)
    with pytest.raises(AccessDenied, match="2025-03-21 17:00"):
        declare_conflict(session, assignment_id=sheet.id, reason="曾任该机构顾问", actor="expert", now=late)
    assert sheet.state is AssignmentState.invited and _counts(session) == before


def test_declare_conflict_after_the_review_closed_refused_and_changes_nothing(session):
    competition, apps = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session)[0]
    set_state(session, apps[0], ApplicationState.scored, actor="admin", reason="评审结束 / closed")
    before = _counts(session)
    with pytest.raises(Conflict, match="评审已结束"):
        declare_conflict(session, assignment_id=sheet.id, reason="曾任该机构顾问", actor="expert", now=NOW)
    assert sheet.state is AssignmentState.invited and _counts(session) == before


def test_declare_conflict_on_a_submitted_sheet_refused_in_plain_words(session):
    competition, _ = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    sheet = sheets(session)[0]
    save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    before = _counts(session)
    with pytest.raises(Conflict) as refused:
        declare_conflict(session, assignment_id=sheet.id, reason="x", actor="expert", now=NOW)
    assert "已提交" in str(refused.value) and "submitted" not in str(refused.value).split(" / ")[0]
    assert "#" not in str(refused.value)  # no internal ids for the expert
    assert sheet.state is AssignmentState.submitted and _counts(session) == before


def test_load_experts_from_configuration_rerun_changes_nothing(session):
    competition = make_competition(session)
    before = len(session.exec(select(AuditEvent)).all())
    experts = load_experts(session, competition_id=competition.id, actor="admin")
    assert len(experts) == 7
    assert len(session.exec(select(AuditEvent)).all()) == before
