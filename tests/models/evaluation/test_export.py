"""The .xlsx export: every table a sheet, Chinese frozen headers, yuan as numbers, dates as dates,
user text never a formula — and LibreOffice opens it (converted to csv with soffice)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import func, select

from models.errors import InputError
from models.evaluation.annual import annual_figures
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.evaluation.export import SHEETS, export_workbook
from models.funding.tables import Grant
from models.intake.tables import Application

ACTOR = "admin:test"


def _export(session, year, path: Path) -> dict[str, int]:
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=date(2025, 10, 20))
    return export_workbook(session, competition_id=year.competition_id, path=path, timezone="Asia/Shanghai")


def test_every_table_is_a_sheet_with_all_its_rows(year_session, year, tmp_path):
    path = tmp_path / "year.xlsx"
    counts = _export(year_session, year, path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [spec.title for spec in SHEETS] + ["资金结算"]
    for spec in SHEETS:
        sheet = workbook[spec.title]
        assert sheet.max_row - 1 == counts[spec.title], spec.title
        assert sheet.freeze_panes == "A2"
        if spec.table is not SHEETS[-1].table:  # the audit trail spans rows of many tables
            stored = year_session.exec(select(func.count()).select_from(spec.table)).one()
            assert counts[spec.title] == stored, spec.title
    assert counts["审计记录"] > 0


def test_amounts_are_yuan_numbers_and_dates_are_dates(year_session, year, tmp_path):
    path = tmp_path / "year.xlsx"
    _export(year_session, year, path)
    sheet = openpyxl.load_workbook(path)["资助"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["序号", "竞赛", "申报序号", "金额（元）"]
    grant = year_session.exec(select(Grant).order_by(Grant.id)).first()
    amount, signed = (
        sheet.cell(2, headers.index("金额（元）") + 1),
        sheet.cell(2, headers.index("签订日期") + 1),
    )
    assert (
        Decimal(str(amount.value)) == Decimal(grant.amount_fen) / 100 and amount.number_format == "#,##0.00"
    )
    assert isinstance(signed.value, datetime) and signed.value.date() == grant.signed_on
    assert signed.number_format == "yyyy-mm-dd"
    width = sheet.column_dimensions["D"].width
    assert 8 <= width <= 60


def test_user_text_is_never_a_formula(year_session, year, tmp_path):
    application = year_session.exec(select(Application).order_by(Application.id)).first()
    application.summary = '=HYPERLINK("http://evil.example","点我")\x07'
    year_session.add(application)
    year_session.flush()
    path = tmp_path / "year.xlsx"
    _export(year_session, year, path)
    sheet = openpyxl.load_workbook(path)["申报项目"]
    column = [c.value for c in sheet[1]].index("项目简介") + 1
    cell = sheet.cell(2, column)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example","点我")'


def test_bad_target_is_a_clear_error(year_session, year, tmp_path):
    with pytest.raises(InputError) as caught:
        export_workbook(
            year_session, competition_id=year.competition_id, path=tmp_path / "x.csv", timezone="UTC"
        )
    assert caught.value.problems[0].zh == "导出文件须以 .xlsx 结尾"
    with pytest.raises(InputError):
        export_workbook(
            year_session,
            competition_id=year.competition_id,
            path=tmp_path / "none" / "x.xlsx",
            timezone="UTC",
        )


@pytest.mark.slow
def test_libreoffice_opens_every_sheet(year_session, year, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice is missing: run `make sysdeps` (libreoffice-calc-nogui)")
    path = tmp_path / "year.xlsx"
    counts = _export(year_session, year, path)
    out = tmp_path / "csv"
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
            "--outdir",
            str(out),
            str(path),
        ],
        env={**os.environ, "HOME": str(tmp_path)},
        check=True,
        capture_output=True,
        timeout=300,
    )
    files = {p.stem.removeprefix("year-"): p for p in out.glob("*.csv")}
    assert set(files) == {spec.title for spec in SHEETS} | {"资金结算"}
    with files["资助"].open(encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[0][3] == "金额（元）" and len(rows) - 1 == counts["资助"]
    grant = year_session.exec(select(Grant).order_by(Grant.id)).first()
    assert rows[1][3] == f"{Decimal(grant.amount_fen) / 100:,.2f}"  # formatted as yuan with two decimals
    assert rows[1][6] == grant.signed_on.isoformat()


def test_the_money_sheet_prints_the_years_own_figures(year_session, year, tmp_path):
    """资金结算: every grant's parts and their total are annual_figures' numbers, in yuan."""
    path = tmp_path / "year.xlsx"
    counts = _export(year_session, year, path)
    figures = annual_figures(year_session, competition_id=year.competition_id)
    sheet = openpyxl.load_workbook(path)["资金结算"]
    rows = list(sheet.iter_rows(values_only=True))
    headers, body, total = rows[0], rows[1:-1], rows[-1]
    assert counts["资金结算"] == len(body) == len(figures["grants"]) == len(year.grants)
    paid = headers.index("已拨付（元）")
    assert total[0] == "合计" and Decimal(str(total[paid])) == Decimal(figures["money"]["paid_fen"]) / 100
    assert sum(Decimal(str(row[paid])) for row in body) == Decimal(str(total[paid]))
    granted = headers.index("立项资助（元）")
    parts = [
        headers.index(h)
        for h in (
            "已拨付（元）",
            "据实结算核减（元）",
            "终止不再拨付（元）",
            "暂缓或不予拨付（元）",
            "尚待拨付（元）",
        )
    ]
    for row in [*body, total]:
        assert Decimal(str(row[granted])) == sum(Decimal(str(row[i])) for i in parts), row[0]
