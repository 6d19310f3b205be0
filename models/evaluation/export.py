"""``grantflow export FILE.xlsx``: every table of one competition as a sheet, for the archive.

One sheet per table (applications … audit), Chinese headers on a frozen first row, column widths
that fit the longest value of a sheet's first ``WIDTH_SAMPLE`` rows (one pass: those rows are
measured, then written with the rest; openpyxl's write-only mode streams them, so memory stays
bounded for any number of rows). Amounts are numbers in yuan
with two decimals (``#,##0.00``) made from integer fen through ``Decimal``; dates are dates and
times are local times (Excel has no time zones); scores are exact decimals. User text is written as
text, never as a formula (``=…`` stays a string), with the characters Excel forbids removed.
A 资金结算 sheet adds each grant's money in parts and the year's total, from ``annual_figures``.
The file is written beside its target and renamed, so a reader never sees half a workbook.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from itertools import chain, islice
from pathlib import Path
from re import Pattern
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.documents.tables import DocumentNumber
from models.errors import InputError, NotFound, Problem
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.funding.tables import FundingDecision, Grant, Tranche
from models.intake.tables import Application, BudgetLine, EligibilityCheck
from models.mail.outbox import OutboxLetter
from models.review.tables import ReviewAssignment, ReviewResult, Score
from models.supervision.tables import Checkpoint, CheckpointReport
from models.types import DecimalText, UtcDateTime

if TYPE_CHECKING:
    from openpyxl import Workbook

YUAN = "#,##0.00"
BATCH = 500
MAX_WIDTH = 60
WIDTH_SAMPLE = 1000  # rows a sheet's column widths are measured on
HEADERS: dict[str, str] = {
    "id": "序号",
    "competition_id": "竞赛",
    "application_id": "申报序号",
    "organisation_id": "申报单位序号",
    "ref": "申报编号",
    "title": "项目名称",
    "category": "服务领域",
    "pool": "组别",
    "community": "服务社区",
    "communities": "全部服务社区",
    "target_group": "服务对象",
    "beneficiaries": "受益人数",
    "period_start": "执行开始",
    "period_end": "执行结束",
    "amount_fen": "金额（元）",
    "self_funded_fen": "自筹（元）",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "contact_email": "电子邮箱",
    "summary": "项目简介",
    "details": "申报详情",
    "state": "状态",
    "source": "来源",
    "submitted_at": "提交时间",
    "position": "行号",
    "item": "科目",
    "purpose": "用途",
    "unit_price_fen": "单价（元）",
    "quantity": "数量",
    "rule": "审查规则",
    "passed": "是否通过",
    "reason": "原因",
    "overridden_by": "改判人",
    "override_reason": "改判理由",
    "checked_at": "审查时间",
    "expert_id": "专家序号",
    "deadline": "截止时间",
    "comment": "评语",
    "token_nonce": "链接随机码",
    "assignment_id": "评分表序号",
    "criterion_id": "评分项序号",
    "points": "得分",
    "method": "汇总方式",
    "aggregate": "综合得分",
    "totals": "各专家总分",
    "spread": "极差",
    "flags": "提示",
    "rank": "总排名",
    "pool_rank": "组内排名",
    "std": "标准差",
    "tie_note": "同分说明",
    "computed_at": "计算时间",
    "funded": "是否资助",
    "explanation": "说明",
    "released": "是否已发布",
    "decided_at": "决定时间",
    "agreement_no": "协议编号",
    "signed_on": "签订日期",
    "created_at": "创建时间",
    "grant_id": "资助序号",
    "seq": "期次",
    "label": "名称",
    "percent": "比例（%）",
    "gate": "拨付条件",
    "released_on": "拨付日期",
    "supervisor_id": "督导序号",
    "code": "代码",
    "round": "轮次",
    "due_on": "截止日期",
    "checkpoint_id": "检查点序号",
    "activities_held": "活动场次",
    "person_times": "服务人次",
    "spent_fen": "已支出（元）",
    "indicators": "指标",
    "score": "得分",
    "findings": "发现的问题",
    "evidence": "佐证材料",
    "grade": "等级",
    "evaluated_at": "评估时间",
    "outcome": "结论",
    "idempotency_key": "幂等键",
    "role": "信件类型",
    "stage": "阶段",
    "recipient_email": "收件地址",
    "recipient_name": "收件人",
    "subject_entity": "关于",
    "subject_id": "关于序号",
    "subject": "主题",
    "body_text": "正文",
    "body_html": "HTML正文",
    "attachments": "附件",
    "message_id": "Message-ID",
    "attempts": "发送次数",
    "last_error": "最近错误",
    "sent_at": "发送时间",
    "at": "时间",
    "actor": "操作人",
    "entity": "对象",
    "entity_id": "对象序号",
    "action": "操作",
    "from_state": "原状态",
    "to_state": "新状态",
    "data": "数据",
    "supervisor_score": "督导评分",
    "panel_score": "专家组评分",
    "panel_weight": "专家组权重",
    "panel_counted": "计入的专家评分",
    "panel_assigned": "应交专家评分",
    "paid_fen": "实拨（元）",
    "reduced_fen": "据实结算核减（元）",
    "kind": "文书",
    "prefix": "代字",
    "year": "年份",
    "number": "文号",
    "assigned_at": "编号时间",
}
# the 资金结算 sheet: each grant's money in the parts annual_figures adds up (one function per figure)
MONEY_COLUMNS = (
    ("ref", "申报编号"),
    ("title", "项目名称"),
    ("granted_fen", "立项资助（元）"),
    ("paid_fen", "已拨付（元）"),
    ("reduced_fen", "据实结算核减（元）"),
    ("cancelled_fen", "终止不再拨付（元）"),
    ("withheld_fen", "暂缓或不予拨付（元）"),
    ("due_fen", "尚待拨付（元）"),
    ("spent_fen", "核定支出（元）"),
    ("used_fen", "用于项目（元）"),
    ("to_return_fen", "应退回（元）"),
    ("in_hand_fen", "执行中结存（元）"),
    ("borne_fen", "项目方自行承担（元）"),
    ("advanced_fen", "垫付待拨（元）"),
)
LEFT_OUT = {"body_html", "token_nonce"}  # HTML copies of letters; link secrets never leave the database


@dataclass(frozen=True)
class SheetSpec:
    title: str
    table: type[SQLModel]


SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("申报项目", Application),
    SheetSpec("预算明细", BudgetLine),
    SheetSpec("资格审查", EligibilityCheck),
    SheetSpec("评审分配", ReviewAssignment),
    SheetSpec("评分", Score),
    SheetSpec("评审结果", ReviewResult),
    SheetSpec("立项决定", FundingDecision),
    SheetSpec("资助", Grant),
    SheetSpec("拨付", Tranche),
    SheetSpec("检查点", Checkpoint),
    SheetSpec("督导报告", CheckpointReport),
    SheetSpec("结项评估", FinalEvaluation),
    SheetSpec("结项专家评分", PanelSheet),
    SheetSpec("文号", DocumentNumber),
    SheetSpec("信件", OutboxLetter),
    SheetSpec("审计记录", AuditEvent),
)


def _kind(column: sa.Column[Any]) -> str:
    if column.name.endswith("_fen"):
        return "money"
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return "datetime"
    if isinstance(kind, DecimalText):
        return "decimal"
    if isinstance(kind, sa.JSON):
        return "json"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, (sa.Integer, sa.BigInteger)):
        return "int"
    return "text"


def _columns(table: type[SQLModel]) -> list[sa.Column[Any]]:
    return [c for c in table.__table__.columns if c.name not in LEFT_OUT]  # type: ignore[attr-defined]


def _scope(session: Session, table: type[SQLModel], competition_id: int) -> Any:
    """The rows of ``table`` that belong to one competition, by id."""
    apps = select(Application.id).where(Application.competition_id == competition_id)
    grants = select(Grant.id).where(Grant.competition_id == competition_id)
    sheets = select(ReviewAssignment.id).where(ReviewAssignment.competition_id == competition_id)
    checkpoints = select(Checkpoint.id).where(col(Checkpoint.grant_id).in_(grants))
    if table is AuditEvent:
        letters = select(OutboxLetter.id).where(OutboxLetter.competition_id == competition_id)
        by_entity = {
            "competition": select(sa.literal(competition_id)),
            "application": apps,
            "assignment": sheets,
            "grant": grants,
            "tranche": select(Tranche.id).where(col(Tranche.grant_id).in_(grants)),
            "checkpoint": checkpoints,
            "letter": letters,
            "panel_sheet": select(PanelSheet.id).where(PanelSheet.competition_id == competition_id),
            "document_number": select(DocumentNumber.id).where(
                DocumentNumber.competition_id == competition_id
            ),
        }
        return sa.or_(
            *[
                sa.and_(col(AuditEvent.entity) == entity, col(AuditEvent.entity_id).in_(ids))
                for entity, ids in by_entity.items()
            ]
        )
    names = table.__table__.columns.keys()  # type: ignore[attr-defined]
    column = getattr(table, "competition_id", None)
    if "competition_id" in names and column is not None:
        return column == competition_id
    for key, ids in (
        ("application_id", apps),
        ("grant_id", grants),
        ("assignment_id", sheets),
        ("checkpoint_id", checkpoints),
    ):
        if key in names:
            return getattr(table, key).in_(ids)
    raise TypeError(f"{table.__name__} has no way to its competition")


def _rows(session: Session, spec: SheetSpec, competition_id: int) -> Iterator[Sequence[Any]]:
    columns = _columns(spec.table)
    query = (
        sa.select(*[spec.table.__table__.c[c.name] for c in columns])  # type: ignore[attr-defined]
        .where(_scope(session, spec.table, competition_id))
        .order_by(spec.table.__table__.c["id"])  # type: ignore[attr-defined]
        .execution_options(yield_per=BATCH)
    )
    yield from session.connection().execute(query)


@cache
def _illegal_characters() -> Pattern[str]:
    """The characters Excel forbids in a cell (openpyxl's own pattern, imported when a workbook is
    written: a flow run that writes none does not import openpyxl)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return _illegal_characters().sub("", str(value))


def _value(kind: str, value: Any, zone: ZoneInfo) -> Any:
    """The cell's value for a column kind (None stays empty)."""
    if value is None:
        return None
    if kind == "money":
        return Decimal(int(value)) / 100
    if kind == "datetime":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "bool":
        return "是" if value else "否"
    if kind == "int":
        return int(value)
    return _text(value)


def _width(kind: str, value: Any) -> int:
    if value is None:
        return 0
    if kind == "money":
        return len(f"{value:,.2f}") + 1
    if kind == "datetime":
        return 17
    if kind == "date":
        return 11
    text = str(value).split("\n", 1)[0][:MAX_WIDTH]  # wider is cut to MAX_WIDTH anyway
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK characters are twice as wide


NUMBER_FORMATS = {"money": YUAN, "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd", "decimal": "0.00"}


def _money_sheet(workbook: Workbook, session: Session, competition_id: int, timezone: str) -> int:
    """资金结算: every grant's money in parts and the year's total — ``annual_figures``' own figures,
    so the workbook, the 年度总结报告 and ``grantflow report`` print the same numbers."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    from models.evaluation.annual import annual_figures

    figures = annual_figures(session, competition_id=competition_id, timezone=timezone)
    sheet = workbook.create_sheet("资金结算")
    sheet.freeze_panes = "A2"
    for index, (key, header) in enumerate(MONEY_COLUMNS, start=1):
        wide = 40 if key == "title" else max(12, _width("text", header) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = wide
    sheet.append([header for _, header in MONEY_COLUMNS])
    total = {"ref": "合计", "title": "", **figures["money"]}
    for row in [*figures["grants"], total]:
        cells = []
        for key, _ in MONEY_COLUMNS:
            money = key.endswith("_fen")
            cell = WriteOnlyCell(
                sheet, value=_value("money" if money else "text", row[key], ZoneInfo(timezone))
            )
            if money:
                cell.number_format = YUAN
            else:
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    return len(figures["grants"])


def export_workbook(
    session: Session, *, competition_id: int, path: Path | str, timezone: str
) -> dict[str, int]:
    """Write every table of the competition to ``path`` (.xlsx); returns the rows per sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise InputError(
            Problem(str(target), "FILE", "导出文件须以 .xlsx 结尾", "the file name must end in .xlsx")
        )
    if session.get(Competition, competition_id) is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    if not target.parent.is_dir():
        raise InputError(Problem(str(target), "FILE", "文件夹不存在", f"no such folder: {target.parent}"))
    zone = ZoneInfo(timezone)
    workbook = Workbook(write_only=True)
    counts: dict[str, int] = {}
    for spec in SHEETS:
        columns = _columns(spec.table)
        kinds = [_kind(c) for c in columns]
        headers = [HEADERS.get(c.name, c.name) for c in columns]
        rows = (
            [_value(kind, raw, zone) for kind, raw in zip(kinds, row, strict=True)]
            for row in _rows(session, spec, competition_id)
        )
        head = list(islice(rows, WIDTH_SAMPLE))  # the widths fit the first rows: one pass, not two
        widths = [_width("text", h) + 2 for h in headers]
        for values in head:
            for i, (kind, value) in enumerate(zip(kinds, values, strict=True)):
                widths[i] = max(widths[i], _width(kind, value) + 2)
        sheet = workbook.create_sheet(spec.title)
        sheet.freeze_panes = "A2"
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(width, MAX_WIDTH)
        sheet.append(headers)
        count = 0
        for values in chain(head, rows):
            count += 1
            cells = []
            for kind, value in zip(kinds, values, strict=True):
                cell = WriteOnlyCell(sheet, value=value)
                if kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[kind]
                elif isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula
                cells.append(cell)
            sheet.append(cells)
        counts[spec.title] = count
    counts["资金结算"] = _money_sheet(workbook, session, competition_id, timezone)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".xlsx.part")
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return counts
