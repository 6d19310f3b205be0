"""The Excel intake template (`grantflow intake template`): what staff fill in and import.

Four sheets:

- 申报信息 — one application a row under the Chinese headers (required ones in red, each with a
  note); drop-down lists for 单位性质 and 项目类别; dates, phones and registration numbers as text
  so that Excel keeps leading zeros.
- 预算明细 — one budget line a row: 申报编号 or 项目名称 (and 申报单位 if two projects share a
  title) say which application it belongs to; 科目, 用途, 单价（元）, 数量, and optionally 金额（元）.
  One line per row is how people already keep budgets in Excel, and each cell stays a number.
- 活动安排 — the plan, one activity a row, matched the same way: 时间, 活动内容, 场次, 预计人次
  (required when the competition says ``intake.require_plan``).
- 填写说明 — the competition's rules for this file: who may apply, communities, categories,
  amount range, service period, deadline, and every column explained.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from models.competition.config import CompetitionConfig
from models.errors import InputError, Problem
from models.intake.fields import (
    ACTIVITY_SHEET,
    APPLICATIONS_SHEET,
    BUDGET_SHEET,
    FIELDS,
    INSTRUCTIONS_SHEET,
    IntakeField,
)
from models.money import format_yuan
from models.states import ORGANISATION_KIND_LABELS

TEMPLATE_FIELDS: tuple[IntakeField, ...] = tuple(f for f in FIELDS if f.key not in ("period", "budget"))
BUDGET_HEADERS = ("申报编号", "项目名称", "申报单位", "科目", "用途", "单价（元）", "数量", "金额（元）")
ACTIVITY_HEADERS = ("申报编号", "项目名称", "申报单位", "时间", "活动内容", "场次", "预计人次")
_TEXT_COLUMNS = ("ref", "registration_number", "contact_phone")
_DATE_COLUMNS = ("founded_on", "period_start", "period_end")
_WIDE = {
    "title": 30,
    "organisation": 30,
    "summary": 40,
    "need_analysis": 40,
    "objectives": 30,
    "activities": 40,
    "address": 30,
    "registration_number": 22,
    "contact_email": 26,
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED = Font(bold=True, color="C00000")
_OPTIONAL = Font(bold=True)


def template_headers() -> list[str]:
    return [f.label for f in TEMPLATE_FIELDS]


def write_intake_template(path: Path | str, config: CompetitionConfig) -> Path:
    """Write the blank intake workbook for ``config`` to ``path`` (.xlsx); returns the path."""
    path = Path(path)
    book = Workbook()
    main = book.active
    assert main is not None
    main.title = APPLICATIONS_SHEET
    _applications_sheet(main, config)
    _budget_sheet(book.create_sheet(BUDGET_SHEET))
    _activity_sheet(book.create_sheet(ACTIVITY_SHEET), required=config.intake.require_plan)
    _instructions_sheet(book.create_sheet(INSTRUCTIONS_SHEET), config)
    book.properties.creator = "grantflow"
    book.properties.title = f"{config.competition.name} 申报汇总表"[:255]
    if path.is_dir():
        raise InputError(
            Problem(str(path), "", "这是一个文件夹，请给出文件名", "this is a folder: give a file name")
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
    except OSError as exc:
        raise InputError(
            Problem(str(path), "", "无法写入该文件", f"cannot write the file: {exc.strerror or exc}")
        ) from None
    return path


def _header(ws: Worksheet, labels: list[str], required: set[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = ws.cell(row=1, column=column, value=label)
        cell.font = _REQUIRED if label in required else _OPTIONAL
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "C2" if ws.title == APPLICATIONS_SHEET else "A2"
    ws.row_dimensions[1].height = 32


_PLAN_FIELDS = ("beneficiaries",)  # required too when the competition requires the plan


def _required(spec: IntakeField, config: CompetitionConfig) -> bool:
    return spec.required or (config.intake.require_plan and spec.key in _PLAN_FIELDS)


def _applications_sheet(ws: Worksheet, config: CompetitionConfig) -> None:
    labels = template_headers()
    _header(ws, labels, {f.label for f in TEMPLATE_FIELDS if _required(f, config)})
    kinds = [ORGANISATION_KIND_LABELS[k] for k in config.eligibility.organisation_kinds]
    lists = {"kind": kinds, "category": [c.name for c in config.categories]}
    for column, spec in enumerate(TEMPLATE_FIELDS, start=1):
        letter = get_column_letter(column)
        ws.column_dimensions[letter].width = _WIDE.get(spec.key, 14)
        note = ("必填。" if _required(spec, config) else "选填。") + (spec.hint or "")
        ws.cell(row=1, column=column).comment = Comment(note, "grantflow")
        if spec.key in lists:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(lists[spec.key]) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=spec.label,
                error="请从下拉列表中选择",
            )
            validation.add(f"{letter}2:{letter}1000")
            ws.add_data_validation(validation)
        if spec.key in _TEXT_COLUMNS:
            ws.column_dimensions[letter].number_format = "@"  # keeps 0592-… and long numbers as typed
        elif spec.key in _DATE_COLUMNS:
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"


def _budget_sheet(ws: Worksheet) -> None:
    _header(ws, list(BUDGET_HEADERS), {"项目名称", "科目", "单价（元）", "数量"})
    for column, width in enumerate((14, 30, 26, 16, 30, 12, 8, 12), start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    note = "必填。与“申报信息”表的项目名称一致；两个项目同名时再填申报单位"
    ws.cell(row=1, column=2).comment = Comment(note, "grantflow")
    ws.cell(row=1, column=8).comment = Comment("选填。填写时须等于 单价×数量", "grantflow")


def _activity_sheet(ws: Worksheet, *, required: bool) -> None:
    marked = {"项目名称", "活动内容", "场次", "预计人次"} if required else {"项目名称"}
    _header(ws, list(ACTIVITY_HEADERS), marked)
    for column, width in enumerate((14, 30, 26, 18, 36, 8, 10), start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    note = "与“申报信息”表的项目名称一致；两个项目同名时再填申报单位。每行一项活动"
    ws.cell(row=1, column=2).comment = Comment(("必填。" if required else "") + note, "grantflow")
    ws.cell(row=1, column=4).comment = Comment("如 2025年5月 或 2025年5月—9月", "grantflow")
    ws.cell(row=1, column=6).comment = Comment("整数，至少为1", "grantflow")
    ws.cell(row=1, column=7).comment = Comment("整数：预计服务人次", "grantflow")


def _instructions_sheet(ws: Worksheet, config: CompetitionConfig) -> None:
    info, budget = config.competition, config.budget
    close = config.deadlines.applications_close.astimezone(ZoneInfo("Asia/Shanghai"))
    kinds = "、".join(ORGANISATION_KIND_LABELS[k] for k in config.eligibility.organisation_kinds)
    lines = [
        (f"{info.name} 申报汇总表 填写说明", ""),
        ("", ""),
        ("申报截止", f"{close:%Y年%m月%d日 %H:%M}（北京时间）"),
        ("申报主体", kinds),
        ("服务社区", "、".join(config.communities)),
        ("项目类别", "、".join(c.name for c in config.categories)),
        ("申请金额", f"{format_yuan(budget.per_project_min)} 元 至 {format_yuan(budget.per_project_cap)} 元"),
        (
            "项目周期",
            f"须在{'项目执行期' if info.project_period else '服务期'} "
            f"{info.projects_run.start} 至 {info.projects_run.end} 之内",
        ),
        (
            "填写方式",
            f"“{APPLICATIONS_SHEET}”表每行一个项目；“{BUDGET_SHEET}”表每行一条预算，"
            f"预算合计须等于申请金额；“{ACTIVITY_SHEET}”表每行一项活动"
            + ("（必填：每个项目至少一项活动，并填写直接受益人数）" if config.intake.require_plan else "")
            + "。红色表头为必填项。请勿修改表头。",
        ),
        ("", ""),
        ("字段", "说明"),
    ]
    lines += [(f.label, ("必填。" if _required(f, config) else "选填。") + f.hint) for f in TEMPLATE_FIELDS]
    lines += [(BUDGET_SHEET, "科目|用途|单价（元）|数量|金额（元），按项目名称（或申报编号）对应到申报信息")]
    lines += [(ACTIVITY_SHEET, "时间|活动内容|场次|预计人次，按项目名称（或申报编号）对应到申报信息")]
    for row, (label, text) in enumerate(lines, start=1):
        ws.cell(row=row, column=1, value=label or None).font = Font(bold=True)
        ws.cell(row=row, column=2, value=text or None).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 90
