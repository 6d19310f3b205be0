"""The demo's evaluation steps (not yet in STEPS) on the example year: each runs, says what it did,
and leaves the report, the workbook and the letters where the demo's output says."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cli.demo.evaluation import show_results, step_annual_report, step_export, step_final_evaluation
from cli.demo.run import EXAMPLE, DemoRun
from models.db import default_engine, session_scope, upgrade_database
from tests.support.year import evaluated_year

pytestmark = pytest.mark.flows


def test_demo_evaluation_steps(prefect_harness, settings_env: Path, tmp_path: Path, capsys):
    upgrade_database(default_engine())
    with session_scope() as session:
        year = evaluated_year(session)
    run = DemoRun(
        out=tmp_path, example=EXAMPLE, competition_id=year.competition_id, slug=year.competition.slug
    )
    line = step_final_evaluation(run)
    assert "11 个项目" in line and "通过 passed 10" in line and "letters 11" in line
    assert "（良好 10、不合格 1）" in line  # the grades, best first
    assert "人次" in step_annual_report(run)
    exported = step_export(run)
    assert "17 张表" in exported  # 结项专家评分 (empty without a panel), 文号 and 资金结算 among them
    workbook = openpyxl.load_workbook(tmp_path / "jiangtou-2025.xlsx", read_only=True)
    assert "结项评估" in workbook.sheetnames
    assert any("年度总结报告" in note for note in run.notes)
    show_results(run)
    out = capsys.readouterr().out
    assert "结项评估 / final evaluation" in out and "良好" in out and "不合格" in out
