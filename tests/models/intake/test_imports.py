"""Intake from spreadsheets, CSV and JSON: validation messages, storage, duplicates, the deadline,
and an import that fails half-way."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.config_file import load_config
from models.competition.tables import Competition
from models.errors import InputError
from models.intake.imports import import_applications
from models.intake.rows import read_applications
from models.intake.tables import Application, BudgetLine, Organisation
from models.intake.template import template_headers, write_intake_template
from models.states import ApplicationState
from tests.support.factories import make_competition

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "jiangtou-2025"
BEFORE_DEADLINE = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
AFTER_DEADLINE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONFIG = load_config(EXAMPLE / "competition.yaml")
FORM_FILES = sorted((EXAMPLE / "forms").glob("*.docx"))
COMMUNITIES = "江头、吕厝、吕岭、园山、金尚、江村、蔡塘、后埔、祥店、江华、忠仑"
PHONE_HINT = "不是有效的电话号码（手机11位，固话须带区号，如0592-5512345）"

# Every mistake in examples/jiangtou-2025/broken.xlsx: (where, field, message), in file order.
BROKEN = [
    ("broken.xlsx:第2行 (row 2)", "项目名称", "必填项未填写"),
    ("broken.xlsx:第3行 (row 3)", "电子邮箱", "邮箱“zhang.wei@example”格式不正确"),
    ("broken.xlsx:第4行 (row 4)", "申请金额（元）", "申请金额 12,000.00 元超过单个项目上限 8,000.00 元"),
    ("broken.xlsx:第5行 (row 5)", "服务社区", f"“湖边”不在本次竞赛的服务社区内（{COMMUNITIES}）"),
    ("broken.xlsx:第6行 (row 6)", "预算明细", "预算明细合计 5,500.00 元与申请金额 6,000.00 元不一致"),
    (
        "broken.xlsx:第7行 (row 7)",
        "项目结束日期",
        "项目周期 2025-09-01至2025-12-31 须在项目执行期 2025-05-01至2025-09-30 之内",
    ),
    ("broken.xlsx:第8行 (row 8)", "联系电话", f"“0592-551”{PHONE_HINT}"),
    ("broken.xlsx:第9行 (row 9)", "申请金额（元）", "申请金额 1,500.00 元低于单个项目下限 2,000.00 元"),
    (
        "broken.xlsx:第10行 (row 10)",
        "单位性质",
        "“企业”无法识别，应为 社会组织、备案志愿服务团队 或 社区社工室",
    ),
    (
        "broken.xlsx:第11行 (row 11)",
        "项目类别",
        "“助残”不是本次竞赛的项目类别（可选：一老、一小、公益服务），只能选一项",
    ),
    ("broken.xlsx:第12行 (row 12)", "项目结束日期", "结束日期 2025-05-31 早于开始日期 2025-09-01"),
    ("broken.xlsx:第13行 (row 13)", "联系电话", f"“12345”{PHONE_HINT}"),
    ("broken.xlsx:第13行 (row 13)", "电子邮箱", "邮箱“李明@”格式不正确"),
    ("broken.xlsx:第13行 (row 13)", "项目简介", "不能少于20字（现有3字）"),
    ("broken.xlsx:第14行 (row 14)", "申请金额（元）", "金额“八千多”无法识别，应如 6000、6,000.00 或 陆仟元"),
    (
        "broken.xlsx:预算明细表第27行 (sheet 预算明细, row 27)",
        "预算明细",
        "金额 500.00 元不等于 单价×数量 600.00 元",
    ),
    ("broken.xlsx:第16行 (row 16)", "项目名称", "不能超过60字（现有74字）"),
    ("broken.xlsx:第17行 (row 17)", "预算明细", "必填项未填写（至少一行预算）"),
    ("broken.xlsx:第18行 (row 18)", "项目开始日期", "日期“明年春天”无法识别，应如 2025-03-01"),
    ("broken.xlsx:第19行 (row 19)", "直接受益人数", "必填项未填写（本次竞赛要求填写直接受益人数）"),
    (
        "broken.xlsx:第19行 (row 19)",
        "活动安排",
        "必填项未填写（本次竞赛要求填写活动安排，每项：时间|活动内容|场次|预计人次）",
    ),
    (
        "broken.xlsx:第20行 (row 20) 活动安排第1项 (activity 1)",
        "活动安排",
        "“每周|社区探访”应写作 时间|活动内容|场次|预计人次",
    ),
    ("broken.xlsx:第20行 (row 20) 活动安排第2项 (activity 2)", "活动安排", "场次“两场”应为整数，如 120"),
    (
        "broken.xlsx:预算明细表第36行 (sheet 预算明细, row 36)",
        "项目名称",
        "找不到项目名称为“不存在的项目”的申报",
    ),
]


def _counts(session: Session) -> dict[str, int]:
    return {
        table.__name__: session.exec(select(func.count()).select_from(table)).one()
        for table in (Organisation, Application, BudgetLine, AuditEvent)
    }


def _import(session: Session, competition: Competition, name: str | Path, **kwargs: object):
    assert competition.id is not None
    path = name if isinstance(name, Path) else EXAMPLE / name
    return import_applications(
        session,
        competition_id=competition.id,
        path=path,
        actor="admin:test",
        now=kwargs.pop("now", BEFORE_DEADLINE),
        **kwargs,
    )  # type: ignore[arg-type]


# ---- the example files ----------------------------------------------------------------------------


def test_import_example_xlsx_stores_every_application(session: Session) -> None:
    competition = make_competition(session)
    report = _import(session, competition, "applications.xlsx")
    session.commit()

    assert (len(report.accepted), report.duplicates, report.refused) == (24, [], [])
    applications = list(session.exec(select(Application)))
    assert {c for a in applications for c in a.communities} == set(CONFIG.communities)
    assert {a.category for a in applications} == {"elderly", "children", "public_service"}
    assert {a.pool for a in applications} == {"registered", "volunteer"}
    assert sorted(a.ref for a in applications) == [f"2025-{n:03d}" for n in range(1, 25)]
    assert all(
        a.state is ApplicationState.submitted and a.source.startswith("applications.xlsx:第")
        for a in applications
    )
    for application in applications:
        lines = session.exec(select(BudgetLine).where(BudgetLine.application_id == application.id)).all()
        assert sum(line.amount_fen for line in lines) == application.amount_fen
        assert 200_000 <= application.amount_fen <= 800_000
    first = session.exec(select(Application).where(Application.ref == "2025-001")).one()
    assert first.title == "银龄共膳——吕岭敬老餐厅助餐陪伴计划"
    assert (first.amount_fen, first.self_funded_fen) == (600_000, 100_000)
    assert (first.period_start, first.period_end) == (date(2025, 5, 1), date(2025, 9, 30))
    assert first.contact_phone == "13859201001" and first.contact_email == "lelingsw@example.org"
    # the plan, from the 活动安排 sheet (first) or the row's cell (every fourth): rows of whole numbers
    assert first.details["activities"][0] == {
        "period": "2025年5月",
        "content": "助餐志愿者招募与培训",
        "sessions": 2,
        "participants": 40,
    }
    assert all(a.details["activities"] and a.beneficiaries > 0 for a in applications)
    inline = session.exec(select(Application).where(Application.ref == "2025-004")).one()
    assert inline.details["activities_text"].startswith("2025年5月—9月|邻里共餐日|6|600")
    assert [row["sessions"] for row in inline.details["activities"]] == [6, 2]
    assert first.details["need_analysis"].startswith("吕岭社区60岁以上老人")
    # 乐龄 applied twice: one organisation, two applications
    assert _counts(session)["Organisation"] == 23
    created = session.exec(
        select(AuditEvent).where(AuditEvent.action == "create", AuditEvent.entity == "application")
    ).all()
    assert len(created) == 24


def test_import_same_file_again_changes_nothing(session: Session) -> None:
    competition = make_competition(session)
    first = _import(session, competition, "applications.xlsx")
    session.commit()
    before = _counts(session)

    again = _import(session, competition, "applications.xlsx")
    session.commit()

    assert again.accepted == [] and again.refused == []
    assert sorted(d.application_id for d in again.duplicates) == sorted(first.accepted)
    assert _counts(session) == before


def test_import_broken_file_reports_every_expected_problem(session: Session) -> None:
    competition = make_competition(session)
    report = _import(session, competition, "broken.xlsx")
    session.commit()

    assert report.accepted == [] and report.duplicates == [] and report.held == {}  # each row its own rule
    assert [(p.where, p.field, p.zh) for p in report.problems] == BROKEN
    assert all(p.en and p.en != p.zh for p in report.problems)
    assert _counts(session)["Application"] == 0
    # a refusal letter can go wherever the address is usable
    emails = {row.where: row.email for row in report.refused}
    assert emails["broken.xlsx:第2行 (row 2)"] == "broken02@example.org"
    assert emails["broken.xlsx:第3行 (row 3)"] is None
    assert emails["broken.xlsx:第13行 (row 13)"] is None
    row15 = next(row for row in report.refused if row.where == "broken.xlsx:第15行 (row 15)")
    assert (row15.title, row15.email) == ("示例项目第15行", "broken15@example.org")
    assert row15.organisation == "厦门市湖里区示例社会服务中心15"
    assert row15.reasons == ["预算明细：金额 500.00 元不等于 单价×数量 600.00 元"]
    assert row15.reasons_en == ["预算明细: the amount 500.00 is not unit price × quantity = 600.00"]


def test_import_gbk_csv_reads_header_variants_and_inline_budget(session: Session) -> None:
    competition = make_competition(session)
    report = _import(session, competition, "applications-gbk.csv")

    assert len(report.accepted) == 3 and report.refused == []
    stored = session.get(Application, report.accepted[0])
    assert stored is not None
    assert stored.title == "江头社区“小候鸟”暑期陪伴计划"
    assert (stored.amount_fen, stored.beneficiaries) == (540_000, 60)
    assert (stored.period_start, stored.period_end) == (date(2025, 5, 19), date(2025, 8, 31))
    assert stored.details["activities"] == [  # the 活动计划 column: a line per activity
        {
            "period": "2025年5月—6月",
            "content": "志愿者招募培训与留守家庭走访",
            "sessions": 3,
            "participants": 90,
        },
        {"period": "2025年7月—8月", "content": "暑期陪伴活动", "sessions": 20, "participants": 600},
    ]
    lines = session.exec(
        select(BudgetLine).where(BudgetLine.application_id == stored.id).order_by(col(BudgetLine.position))
    ).all()
    assert [(line.item, line.unit_price_fen, line.quantity) for line in lines] == [
        ("活动物资", 4_000, 60),
        ("讲师费", 30_000, 6),
        ("保险", 2_000, 60),
    ]
    organisation = session.get(Organisation, stored.organisation_id)
    assert organisation is not None and organisation.founded_on == date(2018, 5, 1)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_read_applications_csv_in_each_encoding_gives_same_rows(tmp_path: Path, encoding: str) -> None:
    text = (EXAMPLE / "applications-gbk.csv").read_bytes().decode("gb18030")
    path = tmp_path / "applications.csv"
    path.write_bytes(text.encode(encoding))

    rows = read_applications(path)

    assert [r.text("title") for r in rows] == [
        r.text("title") for r in read_applications(EXAMPLE / "applications-gbk.csv")
    ]
    assert rows[1].text("organisation") == "蔡塘社区巾帼志愿服务队"
    assert rows[0].where == "applications.csv:第2行 (row 2)"


def test_import_json_reads_budget_objects(session: Session, tmp_path: Path) -> None:
    competition = make_competition(session)
    item = {
        "项目名称": "江村“童心护河”环保小分队",
        "申报单位": "江村社区社工室",
        "单位性质": "社区社工室",
        "统一社会信用代码或登记证号": "江头社工站备〔2023〕01号",
        "联系人": "蔡雅婷",
        "联系电话": "0592-5712201",
        "电子邮箱": "jiangcun.sgs@example.org",
        "项目类别": "public_service",
        "服务社区": "江村社区",
        "项目周期": "2025.05-2025.08",
        "申请金额（元）": "3,000.00",
        "项目简介": "组织儿童和家长巡护社区河道，开展水环境科普和清洁行动，培养环保意识。",
        "预算明细": [
            {"科目": "巡河物资", "用途": "垃圾钳、手套", "单价": 15, "数量": 100},
            {"科目": "科普讲师", "用途": "水环境科普", "单价（元）": "750", "数量": "2", "金额": 1500},
        ],
        "受益人数": "40人",
        "活动计划": [
            {"时间": "2025年5月", "活动内容": "护河小分队招募", "场次": 1, "人次": "40"},
            {"日期": "2025年6月—8月", "活动": "周末巡河与科普", "场次": "8场", "预计人次": 320},
        ],
    }
    path = tmp_path / "web.json"
    path.write_text(json.dumps({"applications": [item]}, ensure_ascii=False), encoding="utf-8")

    report = _import(session, competition, path)

    assert report.refused == [] and len(report.accepted) == 1
    stored = session.get(Application, report.accepted[0])
    assert stored is not None
    assert (stored.category, stored.communities, stored.amount_fen) == ("public_service", ["江村"], 300_000)
    assert (stored.period_start, stored.period_end) == (date(2025, 5, 1), date(2025, 8, 31))
    assert stored.beneficiaries == 40
    assert stored.details["activities"] == [
        {"period": "2025年5月", "content": "护河小分队招募", "sessions": 1, "participants": 40},
        {"period": "2025年6月—8月", "content": "周末巡河与科普", "sessions": 8, "participants": 320},
    ]


def test_example_files_are_what_make_examples_writes(tmp_path: Path) -> None:
    """Regenerate with `.venv/bin/python examples/jiangtou-2025/make_examples.py` when this fails."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "make_examples.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 4 + len(FORM_FILES)
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (EXAMPLE / relative).read_bytes(), f"{relative} is stale"


# ---- deadline, duplicates, transactions -----------------------------------------------------------


def test_import_after_deadline_is_refused_without_reason(session: Session) -> None:
    competition = make_competition(session)

    with pytest.raises(InputError) as raised:
        _import(session, competition, "applications.xlsx", now=AFTER_DEADLINE)

    problem = raised.value.problems[0]
    assert problem.where == "applications.xlsx"
    assert problem.zh.startswith("申报已于 2025-02-28 17:00（北京时间）截止，不再受理")
    assert _counts(session)["Application"] == 0


def test_import_after_deadline_with_reason_is_audited(session: Session) -> None:
    competition = make_competition(session)
    reason = "申报单位因系统故障于截止前发送失败，经主任同意补录"

    report = _import(session, competition, "applications-gbk.csv", now=AFTER_DEADLINE, override_reason=reason)
    session.commit()

    assert report.late and len(report.accepted) == 3
    late = session.exec(select(AuditEvent).where(AuditEvent.action == "late_import")).one()
    assert (late.actor, late.entity, late.entity_id) == ("admin:test", "competition", competition.id)
    assert late.reason == reason
    assert late.data["applications"] == report.accepted
    created = session.exec(
        select(AuditEvent).where(AuditEvent.action == "create", AuditEvent.entity == "application")
    ).all()
    assert {e.data["late_override"] for e in created} == {reason}


def test_import_crash_midway_leaves_database_as_before(session: Session) -> None:
    competition = make_competition(session)
    session.commit()
    before = _counts(session)
    stored: list[int] = []

    def fail_on_fifth(application: Application) -> None:
        stored.append(application.id or 0)
        if len(stored) == 5:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _import(session, competition, "applications.xlsx", on_stored=fail_on_fifth)
    session.commit()  # even committing what is left stores nothing of the file

    assert len(stored) == 5
    assert _counts(session) == before
    report = _import(session, competition, "applications.xlsx")  # and the file imports cleanly after
    assert len(report.accepted) == 24


def test_import_recognises_same_applicant_number_as_duplicate(session: Session, tmp_path: Path) -> None:
    competition = make_competition(session)
    path = tmp_path / "numbered.xlsx"
    write_intake_template(path, CONFIG)
    _fill(path, [_row(ref="JT2025-101")])
    first = _import(session, competition, path)
    _fill(path, [_row(ref="JT2025-101"), _row(ref="JT2025-101", title="另一个项目占用同一编号")])

    second = _import(session, competition, path)

    assert [d.application_id for d in second.duplicates] == first.accepted
    assert [(p.field, p.zh) for p in second.problems] == [
        ("申报编号", "申报编号“JT2025-101”已用于另一项申报“江头社区“小候鸟”暑期陪伴计划”")
    ]
    stored = session.get(Application, first.accepted[0])
    assert stored is not None and stored.ref == "JT2025-101"


# ---- the template ---------------------------------------------------------------------------------


def test_write_intake_template_round_trips_through_import(session: Session, tmp_path: Path) -> None:
    competition = make_competition(session)
    path = write_intake_template(tmp_path / "template.xlsx", CONFIG)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["申报信息", "预算明细", "活动安排", "填写说明"]
    assert [c.value for c in book["活动安排"][1]] == [
        "申报编号",
        "项目名称",
        "申报单位",
        "时间",
        "活动内容",
        "场次",
        "预计人次",
    ]
    assert [c.value for c in book["申报信息"][1]] == template_headers()
    lists = {v.formula1 for v in book["申报信息"].data_validations.dataValidation}
    assert lists == {'"社会组织,备案志愿服务团队,社区社工室"', '"一老,一小,公益服务"'}
    instructions = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "2,000.00 元 至 8,000.00 元" in instructions and "2025年02月28日 17:00" in instructions
    assert "须在项目执行期 2025-05-01 至 2025-09-30 之内" in instructions
    assert "每个项目至少一项活动" in instructions  # the competition requires the plan

    _fill(path, [_row()])
    report = _import(session, competition, path)

    assert report.refused == [] and len(report.accepted) == 1
    stored = session.get(Application, report.accepted[0])
    assert stored is not None and stored.details["activities"] == [
        {"period": "2025年7月—8月", "content": "暑期陪伴活动", "sessions": 20, "participants": 600}
    ]


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "申报编号": None,
        "项目名称": "江头社区“小候鸟”暑期陪伴计划",
        "申报单位": "厦门市湖里区慈航社会工作服务中心",
        "单位性质": "社会组织",
        "联系人": "庄雅文",
        "联系电话": 13859201025,
        "电子邮箱": "cihang.sw@example.org",
        "项目类别": "一小",
        "服务社区": "江头",
        "项目开始日期": datetime(2025, 5, 19),
        "项目结束日期": datetime(2025, 8, 31),
        "直接受益人数": 60,
        "申请金额（元）": 5400,
        "项目简介": "为暑期来厦与父母团聚的“小候鸟”儿童提供陪伴、安全教育和城市探索活动。",
    }
    row.update({"申报编号" if k == "ref" else "项目名称": v for k, v in changes.items()})
    return row


def _fill(path: Path, rows: list[dict[str, object]]) -> None:
    book = openpyxl.load_workbook(path)
    sheet, budget, plan = book["申报信息"], book["预算明细"], book["活动安排"]
    columns = {c.value: c.column for c in sheet[1]}
    for each in (sheet, budget, plan):
        each.delete_rows(2, each.max_row)
    for number, row in enumerate(rows, start=2):
        for label, value in row.items():
            sheet.cell(row=number, column=columns[label], value=value)
        budget.append([row["申报编号"], row["项目名称"], None, "活动物资", "手工、绘本", 90, 60, 5400])
        plan.append([row["申报编号"], row["项目名称"], None, "2025年7月—8月", "暑期陪伴活动", 20, 600])
    book.save(path)


# ---- a rule that refuses most of a file: its letters wait ------------------------------------------


def test_a_rule_refusing_most_of_a_file_holds_its_letters_as_drafts(session: Session, tmp_path: Path) -> None:
    """The example created relative to another day, its files not: every row is refused for its period.
    Those letters wait in the outbox for the administrator; a refusal for another rule (broken.xlsx's
    rows without a usable period) goes out as before."""
    from models.competition.shift import start_on
    from models.intake.notices import queue_refusals, refused_summary
    from models.mail.outbox import OutboxLetter
    from models.settings import Settings
    from models.states import LetterState
    from tests.support.factories import example_config_text

    competition = make_competition(session, text=start_on(example_config_text(), date(2026, 1, 5)))
    at = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
    report = _import(session, competition, "applications.xlsx", now=at)
    broken = _import(session, competition, "broken.xlsx", now=at)

    assert report.accepted == [] and len(report.refused) == 24
    (rule,) = report.held
    assert rule.startswith("项目结束日期：项目周期 … 须在项目执行期 … 之内") and report.held[rule] == 24
    assert {row.held for row in report.refused} == {rule}
    assert broken.held == {rule: 17}  # of 20 rows; the other 3 are refused for other rules only
    not_held = [row for row in broken.refused if not row.held]
    assert [row.where for row in not_held] == [
        "broken.xlsx:第12行 (row 12)",  # its end before its start: no period to compare
        "broken.xlsx:第18行 (row 18)",  # its start unreadable
        "broken.xlsx:预算明细表第36行 (sheet 预算明细, row 36)",  # a budget line without its application
    ]

    settings = Settings(data_dir=tmp_path / "data")
    rows = [refused_summary(row) for row in (*report.refused, *broken.refused)]
    letters = queue_refusals(session, competition=competition, refused=rows, settings=settings)
    held = [letter for letter in letters if letter.state is LetterState.draft]
    sent = [letter for letter in letters if letter.state is LetterState.queued]
    assert len(held) == 24 + 15 and all(letter.extra["held"] == rule for letter in held)
    assert len(sent) == 2 and len(letters) == len(held) + len(sent)  # row 36 has no address
    again = queue_refusals(session, competition=competition, refused=rows, settings=settings)
    assert again == [] and len(session.exec(select(OutboxLetter)).all()) == len(letters)
