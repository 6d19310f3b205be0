"""The second year, as an administrator runs it on a copy of the finished 2025 year: the example
year through the real stages (tests/support/year.py; the tenth-best project fails its 结项 and,
under ``on_fail: terminate``, its grant ends), closed; then ``competition copy``, ``competition
create --as-of`` and the 2026 call, intake and screening through the real ``grantflow`` command."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlmodel import Session, select

from models.competition.tables import get_competition
from models.db import dispose_engines, get_engine, upgrade_database
from models.evaluation.annual import annual_figures
from models.evaluation.barred import barred_organisations
from models.evaluation.evaluating import close_competition, evaluate_grants, open_evaluation
from models.intake.tables import Application, Organisation
from models.settings import override_settings, reset_settings
from models.states import GrantState
from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import example_config_text
from tests.support.year import evaluated_year

BEIJING = timezone(timedelta(hours=8))
TERMINATED_CODE = "52350206MJ01123110"  # 厦门市湖里区公益伙伴发展中心, 2025-011 (applications.xlsx row 12)


@pytest.fixture(scope="module")
def finished_2025(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the example's 2025 year, evaluated on 20 October and closed."""
    data = tmp_path_factory.mktemp("year-2025")
    override_settings(data_dir=data)
    try:
        engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
        upgrade_database(engine)
        with Session(engine, expire_on_commit=False) as session:
            text = example_config_text(**{"on_fail: rectify_once": "on_fail: terminate"})
            year = evaluated_year(session, final_scores={9: ("55", "58")}, config_text=text)
            open_evaluation(session, competition=year.competition, actor="admin:test")
            evaluate_grants(
                session, competition_id=year.competition_id, actor="admin:test", on=date(2025, 10, 20)
            )
            assert close_competition(session, competition=year.competition, actor="admin:test")
            terminated = year.grants[year.refs()[9]]
            assert terminated.state is GrantState.terminated
            application = session.get(Application, terminated.application_id)
            organisation = session.get(Organisation, application.organisation_id)
            assert organisation.registration_number == TERMINATED_CODE
            session.commit()
        dispose_engines()
    finally:
        reset_settings()
    return data


@pytest.fixture
def data(finished_2025: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(finished_2025, copy)
    return copy


def copied_and_created(data: Path) -> tuple[Path, str]:
    """``competition copy`` (no -c: the only competition) and ``competition create --as-of``."""
    target = data / "jiangtou-2026.yaml"
    copied = run(["competition", "copy", str(target)], data)
    assert copied.returncode == 0, copied.stderr
    created = run(["competition", "create", str(target), "--as-of", "2025-12-15T09:00"], data)
    assert created.returncode == 0, created.stderr
    return target, copied.stdout


def test_copy_moves_the_year_everywhere_and_dates_off_weekends(data: Path) -> None:
    target, said = copied_and_created(data)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# 2026年江头街道“江头公益圈”微公益创投大赛")  # the first comment
    assert "2025年" not in text and text.count("assignment_seed: 2026") == 2
    assert "screening_by: 2026-03-09" in text and "review_close: 2026-03-23T17:00:00+08:00" in text
    assert (
        "deadlines.screening_by: 2026-03-07（周六，非工作日 / not a working day） → 2026-03-09（周一）"
        in said
    )
    assert "deadlines.review_close: 2026-03-21（周六" in said
    assert "deadlines.applications_close: 2026-02-28（周六）是调休工作日" in said  # the 2026 calendar
    assert "holidays" not in said  # the file has no holiday keys: no word about them
    listed = json.loads(run(["competition", "list", "--json"], data).stdout)
    assert [(c["slug"], c["stage"]) for c in listed] == [
        ("jiangtou-2026", "draft"),
        ("jiangtou-2025", "closed"),
    ]


def test_without_c_a_command_names_the_competition_it_chose(data: Path) -> None:
    copied_and_created(data)
    newest = run(["tranches"], data)
    assert newest.returncode == 0, newest.stderr
    assert "竞赛 / competition: jiangtou-2026（未给 -c，取最新一届" in newest.stderr
    shown = run(["competition", "show"], data)
    assert "jiangtou-2026（未给 -c" in shown.stderr and "(jiangtou-2026) — 筹备 (draft)" in shown.stdout
    chosen = run(["competition", "show", "-c", "jiangtou-2025", "--json"], data)
    assert chosen.stderr == "" and json.loads(chosen.stdout)["competition"]["slug"] == "jiangtou-2025"


def column(table: str, index: int) -> str:
    """A printed table's column read top to bottom: each row's cell, folded over its lines, joined."""
    rows = [line.split("│") for line in table.splitlines() if line.count("│") > 3]
    return "".join(cells[index + 1].strip() for cells in rows)


def test_tranches_speak_chinese_and_tables_wrap_at_80_columns(data: Path) -> None:
    copied_and_created(data)
    tranches = run(["tranches", "-c", "jiangtou-2025"], data, COLUMNS="80")
    assert tranches.returncode == 0, tranches.stderr
    assert "…" not in tranches.stdout  # every cell folds onto the next line, none is cut
    gates, states = column(tranches.stdout, 4), column(tranches.stdout, 5)  # narrow: no 协议编号, 比例
    assert "说明 / notes:" in tranches.stdout and "2025-005 首期拨付（50%）：" in tranches.stdout
    assert "资助协议签订后" in gates and "中期评估合格后" in gates and "signing" not in gates
    assert "已拨付" in states and "已取消" in states  # the terminated grant's last
    status = run(["status", "-c", "jiangtou-2025"], data, COLUMNS="80")
    assert status.returncode == 0, status.stderr
    assert "…" not in status.stdout
    titles = column(status.stdout, 1).replace(" ", "")
    for row in json.loads(run(["status", "-c", "jiangtou-2025", "--json"], data).stdout)["applications"]:
        assert row["title"].replace(" ", "") in titles, row["title"]


def _file_of_the_terminated_organisation(data: Path) -> Path:
    """The 2025 spreadsheet cut to the terminated organisation's row, a year later: its name written
    without 厦门市 and its credit code typed in lower case."""
    book = openpyxl.load_workbook(EXAMPLE_DIR / "applications.xlsx")
    sheet = book["申报信息"]
    title = sheet.cell(12, 2).value
    assert sheet.cell(12, 5).value == TERMINATED_CODE
    sheet.cell(12, 3).value = "湖里区公益伙伴发展中心"
    sheet.cell(12, 5).value = TERMINATED_CODE.lower()
    for column in (17, 18):  # 项目开始日期, 项目结束日期
        day = sheet.cell(12, column).value
        sheet.cell(12, column).value = day.replace(year=day.year + 1)
    sheet.delete_rows(13, sheet.max_row)
    sheet.delete_rows(2, 10)
    budget = book["预算明细"]
    for row in range(budget.max_row, 1, -1):
        if budget.cell(row, 2).value != title:
            budget.delete_rows(row)
    target = data / "申报汇总表-2026.xlsx"
    book.save(target)
    return target


@pytest.mark.slow
def test_the_terminated_organisation_is_refused_in_2026_by_its_code_in_lower_case(data: Path) -> None:
    copied_and_created(data)
    published = run(["call", "publish", "-c", "jiangtou-2026", "--as-of", "2026-01-06T09:00"], data)
    assert published.returncode == 0, published.stderr
    file = _file_of_the_terminated_organisation(data)
    imported = run(
        ["intake", "import", str(file), "-c", "jiangtou-2026", "--as-of", "2026-02-27T10:00"], data
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "受理 / accepted 1" in imported.stdout
    assert "never awaited" not in imported.stderr and imported.stderr == ""
    screened = run(["screening", "run", "-c", "jiangtou-2026", "--as-of", "2026-03-02T09:00"], data)
    assert screened.returncode == 0, screened.stderr
    assert "通过 / eligible: 0；未通过 / ineligible: 1" in screened.stdout
    assert "（湖里区公益伙伴发展中心）: 禁止申报名单：申报单位在禁止申报名单中：2025年项目" in screened.stdout
    assert "被终止资助，2027年（含）以前不得申报，2028年起可再申报" in screened.stdout

    engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
    with Session(engine) as session:
        # the rule the sentence states: barred in 2027, free in 2028
        assert TERMINATED_CODE in [b.registration_number for b in barred_organisations(session, year=2027)]
        assert barred_organisations(session, year=2028) == []
        # the year's timeline starts at the setup's --as-of, then the stages as of their runs
        competition = get_competition(session, slug="jiangtou-2026")
        timeline = annual_figures(session, competition_id=competition.id or 0)["timeline"]
        assert [(t["label"], t["date"]) for t in timeline] == [
            ("筹备", "2025-12-15"),
            ("征集中", "2026-01-06"),
            ("资格审查", "2026-03-02"),
        ]
        stored = session.exec(select(Organisation).where(Organisation.name == "湖里区公益伙伴发展中心")).one()
        assert stored.registration_number == TERMINATED_CODE.lower()  # stored as typed
    dispose_engines()

    # the result letter is dated by the screening's moment, not the machine's clock
    letters = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in (data / "mail").glob("*.eml")
    ]
    (result,) = [m for m in letters if "资格审查" in str(m["subject"]) and "2026" in str(m["subject"])]
    assert parsedate_to_datetime(str(result["Date"])) == datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
    # the 资格审查表 is signed by the configuration's operator, not by the account that ran it
    (sheet,) = (data / "documents" / "jiangtou-2026").rglob("资格审查表*.docx")
    cells = [c.text for table in docx.Document(str(sheet)).tables for row in table.rows for c in row.cells]
    assert cells[cells.index("审查人（签字）") + 1] == "江头街道社会工作服务站"
    assert not any("admin:" in text for text in cells)
