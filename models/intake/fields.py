"""The fields of an application as people write them: Chinese headers, their variants, and limits.

One catalogue serves every way an application arrives — a spreadsheet row (.xlsx, .csv), a JSON
object, a filled-in Word 申报书 — and the template we hand out. A header is recognised after
``normalise_label``: full-width and half-width brackets and slashes are the same, spaces, ``*`` and
``（必填）`` are ignored, and ``（元）`` is optional. ``RawRow`` is what a reader returns: the raw
values by field key and where each came from, so that every problem names the file, the row or
table cell, and the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from models.errors import Problem


@dataclass(frozen=True)
class IntakeField:
    key: str
    label: str  # the canonical Chinese header, used in messages and in the template
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    min_length: int = 0
    hint: str = ""  # shown in the template's 填写说明


FIELDS: tuple[IntakeField, ...] = (
    IntakeField(
        "ref",
        "申报编号",
        ("编号", "项目编号", "受理编号"),
        max_length=40,
        hint="选填。由受理单位统一编号时填写，如 JT2025-001；不填则系统自动编号",
    ),
    IntakeField(
        "title", "项目名称", ("项目名", "服务需求"), required=True, min_length=4, max_length=60, hint="4–60字"
    ),
    IntakeField(
        "organisation",
        "申报单位",
        ("单位名称", "申报单位名称", "申报主体"),
        required=True,
        min_length=2,
        max_length=100,
        hint="与登记证书或备案名称一致",
    ),
    IntakeField(
        "kind",
        "单位性质",
        ("组织类型", "单位类型"),
        required=True,
        hint="社会组织 / 备案志愿服务团队 / 社区社工室，选一项",
    ),
    IntakeField(
        "registration_number",
        "统一社会信用代码或登记证号",
        (
            "统一社会信用代码",
            "登记证号",
            "信用代码",
            "统一社会信用代码/登记证号",
            "备案号",
            "登记证号或备案号",
        ),
        max_length=64,
        hint="社会组织填18位统一社会信用代码；志愿服务团队填备案号",
    ),
    IntakeField(
        "founded_on", "成立时间", ("成立日期", "登记时间", "备案时间"), hint="如 2019-05-20 或 2019年5月"
    ),
    IntakeField(
        "rating",
        "年检结论/评估等级",
        ("年检结论", "评估等级", "年检情况"),
        max_length=64,
        hint="如 合格 / 3A",
    ),
    IntakeField(
        "legal_representative",
        "法定代表人或负责人",
        ("法定代表人", "负责人", "法定代表人/负责人", "法人代表"),
        max_length=32,
    ),
    IntakeField("address", "单位地址", ("地址", "通讯地址", "办公地址"), max_length=200),
    IntakeField("contact_name", "联系人", ("项目联系人",), required=True, max_length=32),
    IntakeField(
        "contact_phone",
        "联系电话",
        ("电话", "手机", "手机号码", "联系方式"),
        required=True,
        hint="11位手机号，或带区号的固话如 0592-5512345",
    ),
    IntakeField(
        "contact_email",
        "电子邮箱",
        ("邮箱", "email", "e-mail", "电子邮件", "联系邮箱"),
        required=True,
        max_length=254,
        hint="受理回执和审查结果将发送到此邮箱",
    ),
    IntakeField(
        "category",
        "项目类别",
        ("类别", "服务领域", "服务类别"),
        required=True,
        hint="一老 / 一小 / 公益服务，选一项",
    ),
    IntakeField(
        "communities",
        "服务社区",
        ("社区", "服务社区(可多选)"),
        required=True,
        hint="一个或多个，用顿号或逗号分隔，如 江头、吕厝",
    ),
    IntakeField("target_group", "服务对象", (), max_length=200),
    IntakeField("beneficiaries", "直接受益人数", ("受益人数", "服务人数"), hint="整数，如 120"),
    IntakeField("period_start", "项目开始日期", ("开始日期", "开始时间")),
    IntakeField("period_end", "项目结束日期", ("结束日期", "结束时间")),
    IntakeField(
        "period",
        "项目周期",
        ("项目期限", "实施周期", "实施时间", "服务期限"),
        hint="或只填此列：2025-03-01至2025-09-30",
    ),
    IntakeField(
        "amount",
        "申请金额（元）",
        ("申请资助金额（元）", "申请资金（元）", "申请经费（元）"),
        required=True,
        hint="如 6000 或 6,000.00；须在资助上下限之内",
    ),
    IntakeField(
        "self_funded",
        "自筹/配套金额（元）",
        ("自筹金额（元）", "配套金额（元）", "自筹资金（元）", "配套资金（元）"),
    ),
    IntakeField(
        "summary", "项目简介", ("项目概述",), required=True, min_length=20, max_length=1500, hint="20–1500字"
    ),
    IntakeField("need_analysis", "需求分析", ("需求评估", "项目背景"), max_length=3000),
    IntakeField("objectives", "项目目标", ("目标", "预期目标"), max_length=2000),
    IntakeField(
        "activities",
        "活动安排",
        ("活动计划", "实施计划"),
        max_length=3000,
        hint="在“活动安排”表中逐行填写；或在本列每行写“时间|活动内容|场次|预计人次”，"
        "如 2025年5月|助餐志愿者培训|2|40",
    ),
    IntakeField("outcomes", "预期成效与评估方式", ("预期成效", "评估方式"), max_length=2000),
    IntakeField("team", "执行团队", ("项目团队", "团队成员"), max_length=2000),
    IntakeField("risks", "风险与应对", ("风险应对", "风险管理"), max_length=2000),
    IntakeField("sustainability", "可持续性", ("可持续发展",), max_length=2000),
    IntakeField("community_opinion", "社区意见", ("社区居委会意见",), max_length=500),
    IntakeField(
        "attachments", "附件清单", ("附件",), max_length=500, hint="附件名称，每行一个，或用顿号、分号分隔"
    ),
    IntakeField(
        "budget",
        "预算明细",
        ("预算", "经费预算"),
        required=True,
        hint="在“预算明细”表中逐行填写；或在本列每行写“科目|用途|单价|数量”，多行用换行或；分隔",
    ),
)

BY_KEY: dict[str, IntakeField] = {f.key: f for f in FIELDS}

# Columns of the budget: in the 预算明细 sheet, in the Word form's table, and in an inline cell.
BUDGET_COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("申报编号", "编号"),
    "title": ("项目名称",),
    "organisation": ("申报单位", "单位名称"),
    "item": ("科目", "预算科目", "支出科目", "费用科目"),
    "purpose": ("用途", "用途说明", "明细", "说明", "测算依据"),
    "unit_price": ("单价（元）", "单价"),
    "quantity": ("数量",),
    "amount": ("金额（元）", "金额", "小计（元）", "小计"),
}
BUDGET_LABELS = {
    "item": "科目",
    "purpose": "用途",
    "unit_price": "单价（元）",
    "quantity": "数量",
    "amount": "金额（元）",
}
BUDGET_SHEET = "预算明细"
# Columns of the 活动安排 (the plan): in the 活动安排 sheet, in the Word form's table, and in an inline
# cell (时间|活动内容|场次|预计人次 a line).
ACTIVITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("申报编号", "编号"),
    "title": ("项目名称",),
    "organisation": ("申报单位", "单位名称"),
    "period": ("时间", "活动时间", "日期", "时间安排"),
    "content": ("活动内容", "活动", "内容", "活动名称"),
    "sessions": ("场次", "活动场次", "次数"),
    "participants": ("预计人次", "人次", "服务人次", "预计服务人次"),
}
ACTIVITY_LABELS = {"period": "时间", "content": "活动内容", "sessions": "场次", "participants": "预计人次"}
ACTIVITY_SHEET = "活动安排"
INSTRUCTIONS_SHEET = "填写说明"
APPLICATIONS_SHEET = "申报信息"

_SPACES = re.compile(r"\s+")
_HINTS = re.compile(r"\((?:必填|选填|可选|可多选|单选|多选)\)")
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+[.、)]|\(\d+\)|\([一二三四五六七八九十]+\))")


def normalise_label(text: object) -> str:
    """Fold a header or label to the form the catalogue is keyed by."""
    folded = unicodedata.normalize("NFKC", str(text or "")).lower()
    folded = _SPACES.sub("", folded).replace("*", "").rstrip(":")
    folded = _HINTS.sub("", folded)
    folded = _NUMBERING.sub("", folded)
    return folded.replace("(元)", "")


def _lookup(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for key, labels in names.items():
        for label in labels:
            table.setdefault(normalise_label(label), key)
    return table


_FIELD_LOOKUP = _lookup({f.key: (f.label, *f.aliases) for f in FIELDS})
_BUDGET_LOOKUP = _lookup(BUDGET_COLUMNS)
_ACTIVITY_LOOKUP = _lookup(ACTIVITY_COLUMNS)
_PARENTHESES = re.compile(r"\([^)]*\)")


def field_for(label: object, *, loose: bool = False) -> str | None:
    """The field key of a header or form label, or None. ``loose`` also drops notes in brackets."""
    text = normalise_label(label)
    key = _FIELD_LOOKUP.get(text)
    if key is None and loose:
        key = _FIELD_LOOKUP.get(_PARENTHESES.sub("", text))
    return key


def budget_column_for(label: object) -> str | None:
    text = normalise_label(label)
    return _BUDGET_LOOKUP.get(text) or _BUDGET_LOOKUP.get(_PARENTHESES.sub("", text))


def activity_column_for(label: object) -> str | None:
    """The 活动安排 column a header names (时间, 活动内容, 场次, 预计人次 and their variants), or None."""
    text = normalise_label(label)
    return _ACTIVITY_LOOKUP.get(text) or _ACTIVITY_LOOKUP.get(_PARENTHESES.sub("", text))


class _Uncalculated:
    """A spreadsheet cell holding a formula that Excel never calculated (no cached value)."""

    def __repr__(self) -> str:
        return "UNCALCULATED"


UNCALCULATED = _Uncalculated()


@dataclass(frozen=True)
class RawBudgetLine:
    where: str
    values: dict[str, object]  # item, purpose, unit_price, quantity, amount (raw)
    malformed: str = ""  # an inline line that is not 科目|用途|单价|数量, as written
    formulas: frozenset[str] = frozenset()  # keys whose cell is a formula Excel has not calculated


@dataclass(frozen=True)
class RawActivity:
    """One line of the 活动安排 as read: a sheet row, a Word table row, a line of a cell or the web form."""

    where: str
    values: dict[str, object]  # period, content, sessions, participants (raw)
    malformed: str = ""  # an inline line that is not 时间|活动内容|场次|预计人次, as written
    formulas: frozenset[str] = frozenset()  # keys whose cell is a formula Excel has not calculated


@dataclass
class RawRow:
    """One application as read from a file, before validation."""

    where: str  # "applications.xlsx:第5行 (row 5)"
    values: dict[str, object] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # field key → its own location, when finer
    budget: list[RawBudgetLine] = field(default_factory=list)
    # the 活动安排 lines given apart from the row's own cell: the 活动安排 sheet, the Word form's table,
    # a JSON list, the web form's rows (an inline cell's lines are read by validation)
    activity_plan: list[RawActivity] = field(default_factory=list)
    team_members: list[dict[str, str]] = field(default_factory=list)  # Word: the 执行团队 table
    problems: list[Problem] = field(default_factory=list)  # found while reading (an unmatched budget line)
    formulas: set[str] = field(default_factory=set)  # keys whose cell is a formula never calculated

    def at(self, key: str) -> str:
        return self.cells.get(key, self.where)

    def text(self, key: str) -> str:
        """The value of ``key`` as stripped text ('' when empty)."""
        value = self.values.get(key)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()
