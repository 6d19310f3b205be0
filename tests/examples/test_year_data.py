"""The example's year after the applications is data (examples/jiangtou-2025/year.yaml), read by a
typed loader (cli/demo/example/year.py) that checks what a real year must hold — every project's
dates in order, spending within each budget line, points on the rubric — and names the file, the
project and the field of any mistake."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from cli.demo.example.year import DATA_FILE, YearError, load_year
from models.competition.config_file import load_config
from tests.conftest import EXAMPLE_DIR

CONFIG = load_config(EXAMPLE_DIR / "competition.yaml")
SMALL = "巾帼暖夕阳——蔡塘高龄老人理发助浴"


def edited(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "year.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _score(points: dict[str, Decimal]) -> Decimal:
    return sum(points.values(), Decimal(0))


def test_the_year_is_varied_and_in_order() -> None:
    year = load_year(config=CONFIG)
    assert len(year.projects) == 11
    finals = [p.final_recheck or p.final for p in year.projects.values() if p.final is not None]
    grades = {CONFIG.grade_for(_score(v.record.points)).name for v in finals if v is not None}
    assert grades == {"优秀", "良好", "合格", "不合格"}
    midterms = [_score(p.midterm.record.points) for p in year.projects.values()]
    assert len(set(midterms)) == len(midterms)  # no two mid-terms alike
    failing = [p for p in year.projects.values() if _score(p.midterm.record.points) < 60]
    assert len(failing) == 2 and all(p.midterm_recheck is not None for p in failing)
    assert len({p.midterm.record.findings for p in year.projects.values()}) == 11
    for project in year.projects.values():
        if project.final is not None:
            assert project.final.report.spent != project.midterm.report.spent


def test_spending_beyond_its_budget_line_is_named(tmp_path: Path) -> None:
    path = edited(
        tmp_path, lambda d: d["projects"][SMALL]["final"]["report"]["spent"].update({"理发工具": 900})
    )
    with pytest.raises(YearError) as refused:
        load_year(path)
    assert f"projects.{SMALL}.final.report.spent.理发工具: 900 元超出预算 800 元" in str(refused.value)


def test_a_visit_before_the_project_starts_is_named(tmp_path: Path) -> None:
    from datetime import date

    path = edited(
        tmp_path, lambda d: d["projects"][SMALL]["midterm"]["report"].update(submitted=date(2025, 5, 2))
    )
    with pytest.raises(
        YearError, match=rf"projects\.{SMALL}\.midterm: 须 项目开始 2025-05-12 < 报告 2025-05-02"
    ):
        load_year(path)


def test_points_off_the_rubric_and_unknown_projects_are_named(tmp_path: Path) -> None:
    def change(data: dict) -> None:
        data["projects"][SMALL]["midterm"]["record"]["points"]["progress"] = 31
        data["projects"]["没有这个项目"] = data["projects"][SMALL]

    with pytest.raises(YearError) as refused:
        load_year(edited(tmp_path, change), config=CONFIG)
    message = str(refused.value)
    assert f"projects.{SMALL}.midterm.record.points.progress: 31 不在 0…30 的步长上" in message
    assert "projects.没有这个项目: 示例申报中没有该项目" in message


def test_a_number_where_text_belongs_names_the_field(tmp_path: Path) -> None:
    path = edited(tmp_path, lambda d: d["projects"][SMALL]["midterm"]["record"].update(findings=42))
    with pytest.raises(YearError, match=rf"projects\.{SMALL}\.midterm\.record\.findings"):
        load_year(path)
