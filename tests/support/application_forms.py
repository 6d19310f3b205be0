"""Filled-in 申报书 drawn with python-docx in the layout ``models/application_form.py`` documents,
with the variations people produce by hand: other tick marks (■ ✓ √), Wingdings check symbols,
amounts in words (贰万元), label|value|label|value rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table, _Cell

from models.money import format_yuan

KINDS = ("社会组织", "备案志愿服务团队", "社区社工室")
ORGANISATION_ROWS = (
    ("申报单位", "organisation_name"),
    ("单位性质", "org_kind"),
    ("统一社会信用代码或登记证号", "registration_number"),
    ("成立时间", "founded_on"),
    ("年检结论/评估等级", "rating"),
    ("法定代表人或负责人", "legal_representative"),
    ("联系人", "contact_name"),
    ("联系电话", "contact_phone"),
    ("电子邮箱", "contact_email"),
    ("单位地址", "address"),
)
PROJECT_ROWS = (
    ("项目名称", "project_title"),
    ("项目类别", "category"),
    ("服务社区", "served_communities"),
    ("服务对象", "target_group"),
    ("直接受益人数", "beneficiaries"),
    ("项目周期", "period"),
    ("申请金额（元）", "amount_fen"),
    ("自筹/配套金额（元）", "self_funded_fen"),
)
TEXT_SECTIONS = (("项目简介", "summary"), ("需求分析", "need_analysis"), ("项目目标", "objectives"))
LATER_SECTIONS = (("预期成效与评估方式", "outcomes"),)
CLOSING_SECTIONS = (("风险与应对", "risks"), ("可持续性", "sustainability"))


def _cn(value: Any) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if isinstance(value, date) else str(value or "")


def _boxes(options: list[str], chosen: list[str], mark: str) -> str:
    return "　".join(f"{mark if o in chosen else '☐'}{o}" for o in options)


def _put(cell: _Cell, text: str, *, symbols: bool = False) -> None:
    """Write ``text`` into ``cell``; with ``symbols`` the boxes become Wingdings 2 check symbols."""
    paragraph = cell.paragraphs[0]
    if not symbols:
        paragraph.add_run(text)
        return
    for char in text:
        run = paragraph.add_run()
        if char in "☑☐":
            sym = OxmlElement("w:sym")
            sym.set(qn("w:font"), "Wingdings 2")
            sym.set(qn("w:char"), "F052" if char == "☑" else "F0A3")
            run._r.append(sym)
        else:
            run.text = char


def _values(context: dict[str, Any], *, mark: str, amount_text: str | None) -> dict[str, str]:
    values = {key: _cn(context.get(key)) for _, key in ORGANISATION_ROWS + PROJECT_ROWS}
    values["org_kind"] = _boxes(list(KINDS), [context["org_kind"]], mark)
    values["category"] = _boxes(context["categories"], [context["category"]], mark)
    values["served_communities"] = _boxes(context["communities"], context["served_communities"], mark)
    values["period"] = f"{_cn(context['period_start'])}至{_cn(context['period_end'])}"
    values["amount_fen"] = amount_text or format_yuan(context["amount_fen"])
    values["self_funded_fen"] = format_yuan(context["self_funded_fen"])
    return values


def _pairs_table(
    document: Any,
    rows: tuple[tuple[str, str], ...],
    values: dict[str, str],
    *,
    four_columns: bool,
    symbols: bool,
) -> Table:
    per_row = 2 if four_columns else 1
    table = document.add_table(rows=0, cols=2 * per_row)
    for start in range(0, len(rows), per_row):
        cells = table.add_row().cells
        for offset, (label, key) in enumerate(rows[start : start + per_row]):
            cells[2 * offset].text = label
            _put(cells[2 * offset + 1], values[key], symbols=symbols)
    return table


def _section(
    document: Any, title: str, header: tuple[str, ...] | None, lines: list[list[str]], text: str = ""
) -> None:
    columns = len(header) if header else 1
    table = document.add_table(rows=1, cols=columns)
    first = table.rows[0].cells
    title_cell = first[0].merge(first[-1]) if columns > 1 else first[0]
    title_cell.text = title
    if header is None:
        table.add_row().cells[0].text = text
        return
    for cell, label in zip(table.add_row().cells, header, strict=True):
        cell.text = label
    for line in [*lines, [""] * columns]:  # one empty row left for handwriting
        for cell, value in zip(table.add_row().cells, line, strict=True):
            cell.text = value


def write_form(
    path: Path,
    context: dict[str, Any],
    *,
    mark: str = "☑",
    amount_text: str | None = None,
    four_columns: bool = False,
    symbols: bool = False,
) -> Path:
    """A filled-in 申报书 at ``path`` from an ``application_form`` context."""
    document = Document()
    document.core_properties.author = "grantflow tests"
    document.add_paragraph(f"{context['competition_name']}项目申报书")
    if context.get("application_ref"):
        document.add_paragraph(f"申报编号：{context['application_ref']}")
    document.add_paragraph(f"项目名称：{context['project_title']}")
    document.add_paragraph(f"申报单位（盖章）：{context['organisation_name']}")
    document.add_paragraph(f"申报日期：{_cn(context.get('application_date'))}")
    document.add_paragraph("填写说明")
    document.add_paragraph(f"1. 申请金额：不超过{format_yuan(context['per_project_cap_fen'])}元。")
    values = _values(context, mark=mark, amount_text=amount_text)
    document.add_paragraph("申报单位信息")
    _pairs_table(document, ORGANISATION_ROWS, values, four_columns=four_columns, symbols=symbols)
    document.add_paragraph("项目信息")
    _pairs_table(document, PROJECT_ROWS, values, four_columns=four_columns, symbols=symbols)
    for title, key in TEXT_SECTIONS:
        _section(document, title, None, [], context.get(key, ""))
    activities = [
        [a["period"], a["content"], str(a["sessions"]), str(a["participants"])] for a in context["activities"]
    ]
    _section(document, "活动安排", ("时间", "活动内容", "场次", "预计人次"), activities)
    for title, key in LATER_SECTIONS:
        _section(document, title, None, [], context.get(key, ""))
    _section(
        document,
        "执行团队",
        ("姓名", "职务/分工", "联系方式"),
        [[t["name"], t["duty"], t["contact"]] for t in context["team"]],
    )
    for title, key in CLOSING_SECTIONS:
        _section(document, title, None, [], context.get(key, ""))
    lines = [
        [
            b["item"],
            b["purpose"],
            format_yuan(b["unit_price_fen"]),
            str(b["quantity"]),
            format_yuan(b["amount_fen"]),
        ]
        for b in context["budget_lines"]
    ]
    lines.append(["合计", "", "", "", format_yuan(context["budget_total_fen"])])
    _section(document, "预算明细", ("科目", "用途", "单价（元）", "数量", "金额（元）"), lines)
    _section(document, "社区意见", None, [], context.get("community_opinion", ""))
    document.save(str(path))
    return path
