"""Write the example application files of the 江头街道 competition, deterministically, from the data
in ``examples/jiangtou-2025/applications.yaml`` (``cli.demo.example.applications``).

    .venv/bin/python examples/jiangtou-2025/make_examples.py [OUTPUT_FOLDER]   # the committed files
    grantflow example write DIR --start-on today                               # the same, moved in time

Into the folder it writes (the same bytes on every run):

- ``intake-template.xlsx`` — the blank intake workbook (what ``grantflow intake template`` writes);
- ``applications.xlsx`` — 24 applications across the 11 communities, the three categories and both
  pools, budget lines in the 预算明细 sheet, the plan (活动安排) in its sheet — or, for every fourth
  application, in the row's 活动安排 cell; three of them fail eligibility (the barred
  厦门市某某失信社会服务中心, a second application of 乐龄, a volunteer team with no 备案号);
- ``applications-gbk.csv`` — three more, GB18030-encoded as Chinese Excel saves CSV, with header
  variants, a 项目周期 column, budget lines written inline (科目|用途|单价|数量；…) and the plan
  inline (时间|活动内容|场次|预计人次, a line each);
- ``broken.xlsx`` — rows with one deliberate mistake each (and one with several), checked message
  by message by ``tests/models/intake/test_imports.py``;
- ``forms/*.docx`` — four filled-in 申报书, rendered from ``templates/docs/application_form.docx``.

``days`` moves every date the samples carry (``cli.demo.example.dates``), as
``models.competition.shift.start_on`` moves the competition's: the files then fit a competition
created relative to another day.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from cli.demo.example.applications import APPLICATIONS, CSV_APPLICATIONS, FORM_APPLICATIONS, Sample
from cli.demo.example.dates import moved_sample
from models.competition.config import CompetitionConfig
from models.competition.config_file import load_config
from models.intake.fields import ACTIVITY_SHEET, BUDGET_SHEET
from models.intake.template import write_intake_template
from models.settings import EXAMPLES_DIR, PROJECT_ROOT

EXAMPLE = EXAMPLES_DIR / "jiangtou-2025"
FORM_TEMPLATE = PROJECT_ROOT / "templates" / "docs" / "application_form.docx"
FIXED_TIME = (2025, 1, 6, 9, 0, 0)
FORM_DATE = date(2025, 2, 20)  # the day the Word 申报书 are signed
INLINE_PLAN_EVERY = 4  # every fourth application of applications.xlsx writes its plan in its cell


def plan_lines(sample: Sample) -> str:
    """The plan as the 活动安排 cell holds it: 时间|活动内容|场次|预计人次, a line each."""
    return "\n".join(f"{t}|{c}|{n}|{p}" for t, c, n, p in sample.activities)


def row_of(sample: Sample, *, inline_plan: bool = True) -> dict[str, Any]:
    """The sample as a row of the intake sheet, keyed by its Chinese headers."""
    return {
        "项目名称": sample.title,
        "申报单位": sample.organisation,
        "单位性质": sample.kind,
        "统一社会信用代码或登记证号": sample.registration or None,
        "成立时间": date.fromisoformat(sample.founded),
        "年检结论/评估等级": sample.rating or None,
        "法定代表人或负责人": sample.leader,
        "单位地址": sample.address,
        "联系人": sample.contact,
        "联系电话": sample.phone,
        "电子邮箱": sample.email,
        "项目类别": sample.category,
        "服务社区": "、".join(sample.communities),
        "服务对象": sample.target,
        "直接受益人数": sample.beneficiaries,
        "项目开始日期": date.fromisoformat(sample.start),
        "项目结束日期": date.fromisoformat(sample.end),
        "申请金额（元）": sample.amount,
        "自筹/配套金额（元）": sample.self_funded or None,
        "项目简介": sample.summary,
        "需求分析": sample.need,
        "项目目标": sample.goal,
        "活动安排": plan_lines(sample) if inline_plan else None,
    }


def fill_workbook(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> None:
    """Fill the template at ``path``: records under the headers of each sheet ('' = the first)."""
    book = openpyxl.load_workbook(path)
    for name, records in sheets.items():
        sheet = book[name] if name else book.worksheets[0]
        columns = {cell.value: cell.column for cell in sheet[1]}
        for number, record in enumerate(records, start=2):
            for label, value in record.items():
                sheet.cell(row=number, column=columns[label], value=value)
    book.save(path)


def budget_rows(sample: Sample, *, with_amount: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "项目名称": sample.title,
            "科目": item,
            "用途": purpose,
            "单价（元）": price,
            "数量": quantity,
            **({"金额（元）": price * quantity} if with_amount else {}),
        }
        for item, purpose, price, quantity in sample.budget
    ]


def activity_rows(sample: Sample) -> list[dict[str, Any]]:
    return [
        {"项目名称": sample.title, "时间": t, "活动内容": c, "场次": n, "预计人次": p}
        for t, c, n, p in sample.activities
    ]


def write_applications(config: CompetitionConfig, out: Path, samples: tuple[Sample, ...]) -> None:
    path = write_intake_template(out / "applications.xlsx", config)
    inline = {index for index in range(len(samples)) if index % INLINE_PLAN_EVERY == INLINE_PLAN_EVERY - 1}
    # every third application leaves 金额 empty: it is optional, 单价 × 数量 decides
    budget = [line for index, s in enumerate(samples) for line in budget_rows(s, with_amount=index % 3 != 2)]
    plans = [line for index, s in enumerate(samples) if index not in inline for line in activity_rows(s)]
    rows = [row_of(s, inline_plan=index in inline) for index, s in enumerate(samples)]
    fill_workbook(path, {"": rows, BUDGET_SHEET: budget, ACTIVITY_SHEET: plans})
    freeze(path)


BROKEN_BUDGET = (("活动物资", "活动材料", 500, 10), ("宣传", "海报", 1000, 1))  # 6,000


def broken_rows(base: Sample, days: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows with deliberate mistakes (Excel rows 2…) and the budget lines that go with them."""
    long_title = (
        "关于在江头街道江头、吕厝、吕岭、园山、金尚、江村、蔡塘、后埔、祥店、江华、忠仑十一个社区"
        "全面开展长者助餐、儿童托管和公益市集的综合性社区服务示范项目"
    )

    def day(year: int, month: int, dom: int) -> date:
        return date(year, month, dom) + timedelta(days=days)

    cases: list[tuple[dict[str, Any], tuple[tuple[str, str, int, int], ...] | None]] = [
        ({"申报编号": "JT2025-B01", "项目名称": None}, BROKEN_BUDGET),  # 2 missing title
        ({"电子邮箱": "zhang.wei@example"}, BROKEN_BUDGET),  # 3 bad email
        ({"申请金额（元）": 12000}, (("活动物资", "活动材料", 6000, 2),)),  # 4 over the cap
        ({"服务社区": "江头、湖边"}, BROKEN_BUDGET),  # 5 unknown community
        ({}, (("活动物资", "活动材料", 500, 9), ("宣传", "海报", 1000, 1))),  # 6 budget 5,500 ≠ 6,000
        ({"项目开始日期": day(2025, 9, 1), "项目结束日期": day(2025, 12, 31)}, BROKEN_BUDGET),  # 7 period
        ({"联系电话": "0592-551"}, BROKEN_BUDGET),  # 8 bad phone
        ({"申请金额（元）": 1500}, (("活动物资", "活动材料", 500, 3),)),  # 9 below the minimum
        ({"单位性质": "企业"}, BROKEN_BUDGET),  # 10 unknown kind
        ({"项目类别": "助残"}, BROKEN_BUDGET),  # 11 unknown category
        ({"项目开始日期": day(2025, 9, 1), "项目结束日期": day(2025, 5, 31)}, BROKEN_BUDGET),  # 12 reversed
        ({"电子邮箱": "李明@", "联系电话": "12345", "项目简介": "太短了"}, BROKEN_BUDGET),  # 13 several
        ({"申请金额（元）": "八千多"}, BROKEN_BUDGET),  # 14 unreadable amount
        ({}, (("活动物资", "活动材料", 500, 10), ("宣传", "海报", 300, 2))),  # 15 line 金额 ≠ 单价×数量
        ({"项目名称": long_title}, BROKEN_BUDGET),  # 16 title too long
        ({}, None),  # 17 no budget lines
        ({"项目开始日期": "明年春天"}, BROKEN_BUDGET),  # 18 unreadable date
        ({"活动安排": None, "直接受益人数": None}, BROKEN_BUDGET),  # 19 no plan
        ({"活动安排": "每周|社区探访\n2025年6月|邻里茶话会|两场|60"}, BROKEN_BUDGET),  # 20 plan lines
    ]
    rows, budget = [], []
    for number, (changes, lines) in enumerate(cases, start=2):
        row = (
            row_of(base)
            | {
                "申报单位": f"厦门市湖里区示例社会服务中心{number:02d}",
                "项目名称": f"示例项目第{number:02d}行",
                "申请金额（元）": 6000,
                "自筹/配套金额（元）": None,
                "电子邮箱": f"broken{number:02d}@example.org",
            }
            | changes
        )
        rows.append(row)
        key = {"申报编号": row["申报编号"]} if row.get("申报编号") else {"项目名称": row["项目名称"]}
        for item, purpose, price, quantity in lines or ():
            line = key | {"科目": item, "用途": purpose, "单价（元）": price, "数量": quantity}
            if number == 15 and item == "宣传":
                line["金额（元）"] = 500  # 300 × 2 is 600
            budget.append(line)
    budget.append(
        {"项目名称": "不存在的项目", "科目": "活动物资", "用途": "无主的预算行", "单价（元）": 100, "数量": 1}
    )
    return rows, budget


def write_broken(config: CompetitionConfig, out: Path, base: Sample, days: int) -> None:
    path = write_intake_template(out / "broken.xlsx", config)
    rows, budget = broken_rows(base, days)
    fill_workbook(path, {"": rows, BUDGET_SHEET: budget})
    freeze(path)


CSV_HEADERS = (
    "项目名称",
    "申报单位",
    "单位性质",
    "统一社会信用代码",
    "成立日期",
    "评估等级",
    "负责人",
    "地址",
    "联系人",
    "联系电话 ",
    "电子邮箱*",
    "项目类别",
    "服务社区",
    "服务对象",
    "受益人数",
    "项目周期",
    "申请金额(元)",
    "自筹金额(元)",
    "项目简介",
    "需求分析",
    "项目目标",
    "活动计划",
    "预算明细",
)


def write_gbk_csv(out: Path, samples: tuple[Sample, ...]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_HEADERS)
    for s in samples:
        start, end = date.fromisoformat(s.start), date.fromisoformat(s.end)
        writer.writerow(
            [
                s.title,
                s.organisation,
                s.kind,
                s.registration,
                f"{s.founded[:4]}年{int(s.founded[5:7])}月",
                s.rating,
                s.leader,
                s.address,
                s.contact,
                s.phone,
                s.email,
                s.category,
                "、".join(s.communities),
                s.target,
                f"{s.beneficiaries}人",
                f"{start:%Y年%m月%d日}至{end:%Y年%m月%d日}",
                f"{s.amount:,}.00",
                s.self_funded or "",
                s.summary,
                s.need,
                s.goal,
                plan_lines(s),
                "；".join(
                    f"{item}|{purpose}|{price}|{quantity}" for item, purpose, price, quantity in s.budget
                ),
            ]
        )
    (out / "applications-gbk.csv").write_bytes(text.getvalue().encode("gb18030"))


def form_context(sample: Sample, config: CompetitionConfig, *, signed_on: date = FORM_DATE) -> dict[str, Any]:
    """The 申报书 context (models.documents.application_form keys) of a sample."""
    return {
        "competition_name": config.competition.name,
        "organiser": config.competition.organiser,
        "per_project_cap_fen": config.budget.per_project_cap,
        "applications_close": config.deadlines.applications_close,
        "application_ref": "",
        "application_date": signed_on,
        "project_title": sample.title,
        "organisation_name": sample.organisation,
        "org_kind": sample.kind,
        "registration_number": sample.registration,
        "founded_on": date.fromisoformat(sample.founded),
        "rating": sample.rating,
        "legal_representative": sample.leader,
        "contact_name": sample.contact,
        "contact_phone": sample.phone,
        "contact_email": sample.email,
        "address": sample.address,
        "categories": [c.name for c in config.categories],
        "category": sample.category,
        "communities": list(config.communities),
        "served_communities": list(sample.communities),
        "target_group": sample.target,
        "beneficiaries": sample.beneficiaries,
        "period_start": date.fromisoformat(sample.start),
        "period_end": date.fromisoformat(sample.end),
        "amount_fen": sample.amount * 100,
        "self_funded_fen": sample.self_funded * 100,
        "summary": sample.summary,
        "need_analysis": sample.need,
        "objectives": sample.goal,
        "activities": [
            {"period": t, "content": c, "sessions": n, "participants": p} for t, c, n, p in sample.activities
        ],
        "outcomes": f"{sample.goal}\n评估方式：签到表、服务记录、满意度问卷、督导走访。",
        "team": [{"name": n, "duty": d, "contact": c} for n, d, c in sample.team],
        "risks": "活动受天气影响：提前准备室内备用场地；志愿者流失：建立积分激励与轮班制度。",
        "sustainability": "项目结束后由社区和志愿者骨干继续开展服务，并链接社区慈善基金持续支持。",
        "budget_lines": [
            {"item": i, "purpose": p, "unit_price_fen": u * 100, "quantity": q, "amount_fen": u * q * 100}
            for i, p, u, q in sample.budget
        ],
        "budget_total_fen": sample.amount * 100,
        "community_opinion": "情况属实，同意申报。",
    }


def write_forms(config: CompetitionConfig, out: Path, samples: tuple[Sample, ...], days: int) -> None:
    from models.documents.engine.docx import render_docx

    folder = out / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.docx"):
        old.unlink()
    for number, sample in enumerate(samples, start=1):
        path = folder / f"申报书-{number:02d}-{sample.organisation}.docx"
        context = form_context(sample, config, signed_on=FORM_DATE + timedelta(days=days))
        path.write_bytes(render_docx(FORM_TEMPLATE, context))
        freeze(path)


def freeze(path: Path) -> None:
    """Make an Office file byte-for-byte reproducible: fixed zip times and document dates."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-06T09:00:00Z", data
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    path.write_bytes(out.getvalue())


def write_example_files(out: Path, *, config: CompetitionConfig | None = None, days: int = 0) -> list[Path]:
    """Write every example application file into ``out`` for ``config`` (default: the example's own
    competition.yaml), each sample's dates moved by ``days``; returns the files written."""
    config = config or load_config(EXAMPLE / "competition.yaml")
    out.mkdir(parents=True, exist_ok=True)

    def moved(samples: tuple[Sample, ...]) -> tuple[Sample, ...]:
        return tuple(moved_sample(s, days) for s in samples)

    freeze(write_intake_template(out / "intake-template.xlsx", config))
    write_applications(config, out, moved(APPLICATIONS))
    write_broken(config, out, moved_sample(APPLICATIONS[0], days), days)
    write_gbk_csv(out, moved(CSV_APPLICATIONS))
    write_forms(config, out, moved(FORM_APPLICATIONS), days)
    forms = sorted((out / "forms").glob("*.docx"))
    return [out / "applications.xlsx", out / "applications-gbk.csv", *forms, out / "broken.xlsx"]


def main(out: Path = EXAMPLE) -> None:
    """Write every example file into ``out`` (the example's folder by default)."""
    write_example_files(out)
    print(
        f"wrote {len(APPLICATIONS)} + {len(CSV_APPLICATIONS)} applications, broken.xlsx, "
        f"{len(FORM_APPLICATIONS)} forms (rendered from {FORM_TEMPLATE.relative_to(PROJECT_ROOT)})"
    )
