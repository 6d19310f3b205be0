"""The plan (活动安排 and 直接受益人数) through every channel, and the one reading of it every paper
uses: an Excel sheet or cell, CSV, JSON, the Word 申报书 and the web form give the same rows; a
competition that requires the plan refuses an application without it at its field; a paper never
promises zero — what the plan does not give reads 按申报书约定."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from models.competition.config_file import parse_config
from models.errors import InputError
from models.intake.plan import AS_AGREED, activity_plan
from models.intake.rows import read_application_file
from models.intake.template import write_intake_template
from models.intake.validation import validate_row
from tests.support.factories import example_config_text

CONFIG = parse_config(example_config_text())
OPTIONAL = parse_config(example_config_text(**{"  require_plan: true\n": "  require_plan: false\n"}))
ROW = {
    "项目名称": "江村“童心护河”环保小分队",
    "申报单位": "江村社区社工室",
    "单位性质": "社区社工室",
    "联系人": "蔡雅婷",
    "联系电话": "0592-5712201",
    "电子邮箱": "jiangcun.sgs@example.org",
    "项目类别": "公益服务",
    "服务社区": "江村",
    "项目开始日期": "2025-05-10",
    "项目结束日期": "2025-08-31",
    "申请金额（元）": 3000,
    "项目简介": "组织儿童和家长巡护社区河道，开展水环境科普和清洁行动，培养环保意识。",
}
BUDGET = {
    "项目名称": ROW["项目名称"],
    "科目": "巡河物资",
    "用途": "垃圾钳、手套",
    "单价（元）": 30,
    "数量": 100,
}


def _workbook(tmp_path: Path, *, row: dict[str, object], plan: list[dict[str, object]]) -> Path:
    """The intake template filled in as staff would: the row, its budget line, its 活动安排 lines."""
    path = write_intake_template(tmp_path / "申报汇总表.xlsx", CONFIG)
    book = openpyxl.load_workbook(path)
    for name, records in (("申报信息", [row]), ("预算明细", [BUDGET]), ("活动安排", plan)):
        sheet = book[name]
        columns = {cell.value: cell.column for cell in sheet[1]}
        for number, record in enumerate(records, start=2):
            for label, value in record.items():
                sheet.cell(row=number, column=columns[label], value=value)
    book.save(path)
    return path


def _only(path: Path, config=CONFIG):
    (row,) = [r for r in read_application_file(path).rows if r.values]
    return validate_row(row, config=config)


def test_plan_from_the_sheet_the_cell_json_is_the_same_rows(tmp_path: Path) -> None:
    lines = [("2025年5月", "护河小分队招募", 1, 40), ("2025年6月—8月", "周末巡河与科普", 8, 320)]
    expected = [{"period": p, "content": c, "sessions": n, "participants": m} for p, c, n, m in lines]
    sheet = _workbook(
        tmp_path,
        row=ROW | {"直接受益人数": 40},
        plan=[
            {"项目名称": ROW["项目名称"], "时间": p, "活动内容": c, "场次": n, "预计人次": m}
            for p, c, n, m in lines
        ],
    )
    assert _only(sheet).details["activities"] == expected

    cell = tmp_path / "cell"
    cell.mkdir()
    text = "\n".join(f"{p}|{c}|{n}场|{m}人次" for p, c, n, m in lines)  # units as people write them
    assert (
        _only(_workbook(cell, row=ROW | {"直接受益人数": "40人", "活动安排": text}, plan=[])).details[
            "activities"
        ]
        == expected
    )

    item = {k: v for k, v in ROW.items()} | {
        "直接受益人数": 40,
        "预算明细": [{"科目": "巡河物资", "用途": "垃圾钳、手套", "单价": 30, "数量": 100}],
        "活动安排": [{"时间": p, "活动内容": c, "场次": n, "预计人次": m} for p, c, n, m in lines],
    }
    path = tmp_path / "申报.json"
    path.write_text(json.dumps([item], ensure_ascii=False), encoding="utf-8")
    assert _only(path).details["activities"] == expected


def test_plan_missing_when_required_is_refused_at_its_fields(tmp_path: Path) -> None:
    path = _workbook(tmp_path, row=ROW, plan=[])
    with pytest.raises(InputError) as refused:
        _only(path)
    assert [(p.where, p.field) for p in refused.value.problems] == [
        ("申报汇总表.xlsx:第2行 (row 2)", "直接受益人数"),
        ("申报汇总表.xlsx:第2行 (row 2)", "活动安排"),
    ]
    optional = _only(path, OPTIONAL)  # a competition that does not require it stores none
    assert optional.details["activities"] == [] and optional.beneficiaries == 0


def test_plan_line_mistakes_name_the_sheet_row(tmp_path: Path) -> None:
    plan = [
        {"项目名称": ROW["项目名称"], "时间": "2025年5月", "活动内容": "招募", "场次": 0, "预计人次": 40},
        {
            "项目名称": ROW["项目名称"],
            "时间": "2025年6月",
            "活动内容": "巡河",
            "场次": "八场",
            "预计人次": 40,
        },
        {"项目名称": ROW["项目名称"], "时间": "2025年7月", "场次": 2, "预计人次": 40},
        {"项目名称": "没有这个项目", "时间": "2025年7月", "活动内容": "巡河", "场次": 2, "预计人次": 40},
    ]
    rows = read_application_file(_workbook(tmp_path, row=ROW | {"直接受益人数": 40}, plan=plan)).rows
    problems = []
    for row in rows:
        with pytest.raises(InputError) as refused:
            validate_row(row, config=CONFIG)
        problems += [(p.where, p.field, p.zh) for p in refused.value.problems]
    sheet = "申报汇总表.xlsx:活动安排表第{n}行 (sheet 活动安排, row {n})"
    assert problems == [
        (sheet.format(n=2), "活动安排", "场次应至少为1"),
        (sheet.format(n=3), "活动安排", "场次“八场”应为整数，如 120"),
        (sheet.format(n=4), "活动安排", "活动内容未填写"),
        (sheet.format(n=5), "项目名称", "找不到项目名称为“没有这个项目”的申报"),
    ]


def test_activity_plan_reads_rows_and_the_older_cell_text() -> None:
    rows = activity_plan(
        {
            "activities": [
                {"period": "5月", "content": "课堂", "sessions": "10场", "participants": "1,385人次"}
            ]
        },
        beneficiaries=90,
    )
    assert (rows.sessions, rows.participants, rows.beneficiaries) == (10, 1385, 90)
    assert rows.commitment == "活动不少于10场，服务不少于1,385人次"
    assert (rows.sessions_text, rows.participants_text, rows.beneficiaries_text) == (
        "10场",
        "1,385人次",
        "90人",
    )
    text = activity_plan({"activities": [], "activities_text": "2025年5月|课堂|4|80\n2025年6月|展示|1|40"})
    assert (text.sessions, text.participants) == (5, 120)


def test_no_plan_promises_nothing_it_reads_as_agreed() -> None:
    empty = activity_plan({})
    assert not empty.stated
    assert empty.commitment == f"活动场次和服务人次{AS_AGREED}"
    assert (empty.sessions_text, empty.participants_text, empty.beneficiaries_text) == (AS_AGREED,) * 3
    sessions_only = activity_plan({"activities": [{"content": "培训", "sessions": 2, "participants": 0}]})
    assert sessions_only.commitment == f"活动不少于2场，服务人次{AS_AGREED}"
    assert "0" not in sessions_only.commitment
