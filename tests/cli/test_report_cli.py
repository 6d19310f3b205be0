"""``grantflow report`` (text and --json), ``grantflow export`` and ``grantflow status`` on the
example year, as an administrator runs them: a real process on a copy of the year's database."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session

from models.db import dispose_engines, get_engine
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from tests.cli.test_cli import run
from tests.support.year import Year, year_template

__all__ = ["year_template"]


@pytest.fixture
def data_dir(year_template: Path, tmp_path: Path) -> Path:
    """A data folder whose database is the example year, evaluated on 20 October."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(year_template, data / "grantflow.db")
    engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
    with Session(engine, expire_on_commit=False) as session:
        year = Year.load(session)
        open_evaluation(session, competition=year.competition, actor="admin:test")
        evaluate_grants(
            session, competition_id=year.competition_id, actor="admin:test", on=date(2025, 10, 20)
        )
        session.commit()
    dispose_engines()
    return data


def test_report_json_and_text_agree(data_dir):
    result = run(["report", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["applications"]["funded"] == 11 and len(figures["by_community"]) == 11
    text = run(["report"], data_dir)
    assert text.returncode == 0, text.stderr
    assert f"资助 granted {figures['money_yuan']['granted']}" in text.stdout
    assert "忠仑" in text.stdout
    summary = figures["review_agreement"]["summary"]  # the figure the 评分汇总表 and the report print
    assert summary["value"] and f"专家评分一致性系数（组内相关系数）为{summary['value']}" in text.stdout


def test_export_writes_the_workbook_and_refuses_a_bad_name(data_dir, tmp_path):
    target = tmp_path / "year.xlsx"
    result = run(["export", str(target)], data_dir)
    assert result.returncode == 0, result.stderr
    assert "结项评估 11" in result.stdout
    assert openpyxl.load_workbook(target, read_only=True).sheetnames[0] == "申报项目"
    bad = run(["export", str(tmp_path / "year.csv")], data_dir)
    assert bad.returncode == 1 and "导出文件须以 .xlsx 结尾" in bad.stderr and "Traceback" not in bad.stderr


def test_status_shows_the_final_result(data_dir):
    data = json.loads(run(["status", "--json"], data_dir).stdout)
    finals = [row["final"] for row in data["applications"] if row["final"]]
    assert len(finals) == 11 and {f["grade"] for f in finals} == {"良好", "不合格"}
    text = run(["status"], data_dir).stdout
    for final in finals:  # every final result, whole on its line (the column never wraps)
        assert f"{final['score']} {final['grade']}" in text
