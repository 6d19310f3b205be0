"""Expert review in the database (SQLite and PostgreSQL): experts, assignment, declines and
conflicts, score sheets, paper sheets, closing the review and its report."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from models.application import Application
from models.assignment import InfeasibleAssignment
from models.audit import AuditEvent, history
from models.competition import Competition
from models.errors import AccessDenied, Conflict, InputError
from models.review import ConflictDeclaration, Expert, ReviewAssignment, ReviewResult, Score
from models.review_results import close_review, review_report
from models.reviewing import (
    assign_reviews,
    declare_conflict,
    decline,
    load_experts,
    record_conflict,
    unfinished_assignments,
)
from models.score_sheets import import_paper_sheets, load_sheet, save_sheet, sheet_points
from models.states import ApplicationState, AssignmentState, OrganisationKind
from tests.support.factories import make_application, make_competition, make_organisation

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # before the example's review_close (2025-03-21)
CRITERIA = [
    ("need", 20),
    ("design", 25),
    ("capacity", 20),
    ("budget", 15),
    ("innovation", 10),
    ("sustainability", 10),
]
NAMES = {
    "need": "需求分析",
    "design": "项目设计",
    "capacity": "执行能力",
    "budget": "预算合理性",
    "innovation": "创新性",
    "sustainability": "可持续性",
}


def points_for(total: Decimal | int | str) -> dict[str, str]:
    """Points per criterion adding up to ``total`` (weights are 1), filled in rubric order."""
    left = Decimal(total)
    points = {}
    for code, top in CRITERIA:
        points[code] = str(min(Decimal(top), left))
        left -= min(Decimal(top), left)
    return points


def setup_review(session: Session, *, apps: int = 6) -> tuple[Competition, list[Application]]:
    competition = make_competition(session)
    volunteer = OrganisationKind.volunteer_team
    made = [
        make_application(
            session,
            competition=competition,
            ref=f"JT2025-{i:03d}",
            organisation=make_organisation(session, kind=OrganisationKind.registered if i % 2 else volunteer),
            community="吕岭" if i == 1 else "江头",
        )
        for i in range(1, apps + 1)
    ]
    return competition, made


def sheets(session: Session, application_id: int | None = None) -> list[ReviewAssignment]:
    query = select(ReviewAssignment)
    if application_id is not None:
        query = query.where(ReviewAssignment.application_id == application_id)
    return list(session.exec(query))


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
    result = declare_conflict(session, assignment_id=sheet.id, reason="曾任该机构顾问", actor="expert")
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
    )
    assert result is not None and result.withdrawn.id == sheet.id
    assert sheet.state is AssignmentState.conflicted and result.replacement is not None
    assert len(session.exec(select(ConflictDeclaration)).all()) == 1


def test_load_experts_from_configuration_rerun_changes_nothing(session):
    competition = make_competition(session)
    before = len(session.exec(select(AuditEvent)).all())
    experts = load_experts(session, competition_id=competition.id, actor="admin")
    assert len(experts) == 7
    assert len(session.exec(select(AuditEvent)).all()) == before


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


# ---- closing the review -------------------------------------------------------------------------


def _score_all(session: Session, totals: dict[str, list[int]]) -> None:
    """Submit each application's sheets (by expert id order) with the given totals."""
    for application in session.exec(select(Application)):
        for sheet, total in zip(
            sorted(sheets(session, application.id), key=lambda s: s.expert_id),
            totals[application.ref],
            strict=True,
        ):
            save_sheet(
                session,
                assignment_id=sheet.id,
                points=points_for(total),
                submit=True,
                actor="expert",
                now=NOW,
            )


TOTALS = {
    "JT2025-001": [70, 80, 85, 90, 99],  # trimmed: 85.00, spread 29 > 20 → disagreement
    "JT2025-002": [80, 82, 84, 86, 88],  # 84.00
    "JT2025-003": [60, 65, 70, 75, 80],  # 70.00
    "JT2025-004": [90, 91, 92, 93, 94],  # 92.00
}


def test_close_review_trimmed_mean_ranks_pools_and_flags(session):
    competition, apps = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    results = close_review(session, competition_id=competition.id, actor="admin")
    by_app = {r.application_id: r for r in results}
    first = by_app[apps[0].id]
    assert (first.method, first.aggregate, first.spread) == ("trimmed_mean", Decimal("85.00"), Decimal(29))
    dropped = {v["dropped"]: Decimal(v["total"]) for v in first.totals.values() if v["dropped"]}
    assert dropped == {"low": Decimal(70), "high": Decimal(99)}
    # mean 84.8, squared deviations 219.04 + 23.04 + 0.04 + 27.04 + 201.64 = 470.8; √(470.8 / 5) = 9.7036
    assert first.flags == ["disagreement"] and first.std == Decimal("9.70")
    assert [(r.application_id, r.rank) for r in results] == [
        (apps[3].id, 1),
        (apps[0].id, 2),
        (apps[1].id, 3),
        (apps[2].id, 4),
    ]
    # pools: 001 and 003 are registered organisations, 002 and 004 volunteer teams
    assert {a.ref: by_app[a.id].pool_rank for a in apps} == {
        "JT2025-001": 1,
        "JT2025-003": 2,
        "JT2025-002": 2,
        "JT2025-004": 1,
    }
    assert all(a.state is ApplicationState.scored for a in apps)


def test_close_review_rerun_changes_nothing(session):
    competition, _ = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    first = [
        (r.id, r.rank, r.aggregate, r.computed_at)
        for r in close_review(session, competition_id=competition.id, actor="admin")
    ]
    events = len(session.exec(select(AuditEvent)).all())
    again = close_review(session, competition_id=competition.id, actor="admin")
    assert [(r.id, r.rank, r.aggregate, r.computed_at) for r in again] == first
    assert len(session.exec(select(AuditEvent)).all()) == events
    assert len(session.exec(select(ReviewResult)).all()) == 4


def test_close_review_tie_broken_by_configured_rule_with_note(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, {"JT2025-001": [80] * 5, "JT2025-002": [80] * 5})
    apps[0].amount_fen = 700_000  # equal on every criterion: the smaller request (JT2025-002) wins
    results = close_review(session, competition_id=competition.id, actor="admin")
    assert [r.application_id for r in results] == [apps[1].id, apps[0].id]
    assert "申请金额较少（5,000.00 元 < 7,000.00 元）" in results[0].tie_note
    assert "a smaller request" in results[1].tie_note


def test_close_review_without_submitted_sheet_refused(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    for sheet in sheets(session, apps[0].id):
        save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    with pytest.raises(Conflict, match="JT2025-002"):
        close_review(session, competition_id=competition.id, actor="admin")
    assert apps[0].state is ApplicationState.in_review


def test_close_review_flags_unfinished_sheets_incomplete(session):
    competition, _ = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    for sheet in sheets(session)[:4]:
        save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    [result] = close_review(session, competition_id=competition.id, actor="admin")
    assert result.flags == ["incomplete", "not_trimmed"]
    assert result.aggregate == Decimal("80.00")


def test_unfinished_assignments_lists_open_sheets(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    done = sheets(session, apps[0].id)[0]
    save_sheet(session, assignment_id=done.id, points=points_for(80), submit=True, actor="e", now=NOW)
    draft = sheets(session, apps[1].id)[0]
    save_sheet(session, assignment_id=draft.id, points={"need": "10"}, submit=False, actor="e", now=NOW)
    open_sheets = unfinished_assignments(session, competition_id=competition.id)
    assert len(open_sheets) == 9
    assert done.id not in {o.assignment.id for o in open_sheets}
    assert draft.id in {o.assignment.id for o in open_sheets}
    assert [o.expert.id for o in open_sheets] == sorted(o.expert.id for o in open_sheets)


def test_review_report_json_has_totals_dropped_ranks_and_panel(session):
    competition, _ = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    close_review(session, competition_id=competition.id, actor="admin")
    report = json.loads(json.dumps(review_report(session, competition_id=competition.id)))
    refs = [a["ref"] for a in report["applications"]]
    assert refs == ["JT2025-004", "JT2025-001", "JT2025-002", "JT2025-003"]
    second = report["applications"][1]
    assert second["aggregate"] == "85.00" and second["rank"] == 2 and second["pool_rank"] == 1
    assert sorted(e["total"] for e in second["experts"] if e["dropped"]) == ["70", "99"]
    assert len(second["dropped"]) == 2 and second["flags"][0]["code"] == "disagreement"
    for name in ("icc2_1", "icc2_k", "kendall_w"):
        stat = report["panel"][name]
        assert (stat["value"] is None) == bool(stat["reason"])
    # 4 applications × 5 of 7 experts: incomplete, computed on the largest complete block
    assert "largest complete block" in report["panel"]["icc2_1"]["basis"]
