"""Validate a raw row into an ``ApplicationCreate``, listing every problem at once.

Each problem names where (file and row, or table cell), the field (its Chinese header) and what is
wrong, in Chinese with English beside it. The checks: required fields, text lengths, organisation
kind (and a pool that takes it), category, communities among the configured ones, dates and the
project period inside the project period the call sets (or the service period), the amount between
the per-project minimum and cap, budget lines (单价 × 数量 = 金额) adding up to the amount, the
活动安排 (each line 时间|活动内容|场次|预计人次: a content, whole numbers; with ``intake.require_plan``
at least one line and the 直接受益人数), a plausible email and phone.

Long by design: every field rule of an application in one place, the 申报书's checklist in the order of
the form.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.competition.config import MONEY_LIMIT_FEN, CompetitionConfig
from models.errors import InputError, Problem
from models.intake.fields import BY_KEY, FIELDS, RawActivity, RawBudgetLine, RawRow
from models.intake.values import (
    KIND_WORDS,
    WIDE_DIGITS,
    normalise_phone,
    parse_date,
    parse_period,
    split_list,
    split_names,
    whole_number,
)
from models.money import Fen, MoneyError, format_yuan, parse_yuan
from models.states import ORGANISATION_KIND_LABELS, OrganisationKind

# Application.details: these texts by key, plus "activities" (rows: period, content, sessions and
# participants as whole numbers — the plan, from whichever channel), "team" (rows: name, duty,
# contact) and "attachments" (names) — the keys of the 申报书.
DETAIL_TEXTS = ("need_analysis", "objectives", "outcomes", "risks", "sustainability", "community_opinion")
_TEXT_AS = {"activities": "activities_text", "team": "team_text"}
_PHONE_LENGTH = 32  # Application.contact_phone
_QUOTES = re.compile(r"[“”\"'‘’「」《》]")
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")
_INTEGER = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"[-−－](?=\s*[0-9０-９])")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
# The largest counts a form may give (the columns are 32-bit integers): more is a typing mistake.
MAX_BENEFICIARIES = 10_000_000
MAX_QUANTITY = 1_000_000
MAX_ACTIVITY_LINES = 200
_INLINE_LINES = re.compile(r"[\n；;]+")
_INLINE_CELLS = re.compile(r"[|｜]")
_LOOSE_CELLS = re.compile(r"[\s、，,]+")
_COUNTED = re.compile(r"[约共]?[0-9０-９][0-9０-９,]*\s*(场|次|人次|人|期|节|课)?")
ACTIVITY_NAMES = {"period": "时间", "content": "活动内容", "sessions": "场次", "participants": "预计人次"}


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    registration_number: str = ""
    founded_on: date | None = None
    rating: str = ""
    legal_representative: str = ""
    address: str = ""


class BudgetLineCreate(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: str = Field(min_length=1, max_length=100)
    purpose: str = Field(default="", max_length=300)
    unit_price_fen: Fen = Field(ge=0, le=MONEY_LIMIT_FEN)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    amount_fen: Fen = Field(ge=0, le=MONEY_LIMIT_FEN)


class ApplicationCreate(BaseModel):
    """A valid application, ready to store (money in fen, codes as configured)."""

    model_config = ConfigDict(frozen=True)

    ref: str = ""  # applicant-supplied 申报编号; empty means "number it for me"
    title: str = Field(min_length=1, max_length=200)
    organisation: OrganisationCreate
    category: str  # configured category code
    pool: str  # configured pool code
    communities: list[str] = Field(min_length=1)
    target_group: str = ""
    beneficiaries: int = Field(default=0, ge=0, le=MAX_BENEFICIARIES)
    period_start: date
    period_end: date
    amount_fen: Fen = Field(gt=0, le=MONEY_LIMIT_FEN)
    self_funded_fen: Fen = Field(default=0, ge=0, le=MONEY_LIMIT_FEN)
    contact_name: str
    contact_phone: str
    contact_email: str
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    budget: list[BudgetLineCreate] = Field(min_length=1)
    source: str = ""  # where it came from: "applications.xlsx:第5行 (row 5)"

    @property
    def community(self) -> str:
        return self.communities[0]


def validate_row(row: RawRow, *, config: CompetitionConfig, today: date | None = None) -> ApplicationCreate:
    """The application in ``row``, or ``InputError`` listing everything wrong with it.

    ``today`` is the day it is received (default: the application deadline's day); an organisation
    cannot be founded after it.
    """
    if row.problems and not row.values and not row.formulas:  # a budget line without its application
        raise InputError(row.problems)
    check = _Check(row, config, today or config.deadlines.applications_close.date())
    values = check.run()
    if check.problems:
        order = {f.label: i for i, f in enumerate(FIELDS)}
        raise InputError(sorted(check.problems, key=lambda p: order.get(p.field, len(order))))
    try:
        return ApplicationCreate.model_validate(values)
    except ValidationError as exc:  # a limit the checks above missed: still a refusal, never a crash
        raise InputError(
            [
                Problem(row.where, ".".join(str(part) for part in error["loc"]), "取值无效", error["msg"])
                for error in exc.errors(include_url=False)
            ]
        ) from exc


BUDGET_NAMES = {"item": "科目", "purpose": "用途", "unit_price": "单价", "quantity": "数量", "amount": "金额"}


def _activity_cells(line: str) -> list[str]:
    """A 活动安排 line's four parts: split at ``|``; else at spaces, 、 or commas when its last two
    parts are counts (the content keeps what lies between: 剪纸、漆线雕)."""
    if _INLINE_CELLS.search(line):
        return [c.strip() for c in _INLINE_CELLS.split(line)]
    words = [w for w in _LOOSE_CELLS.split(line.strip()) if w]
    if len(words) >= 4 and all(_COUNTED.fullmatch(w) for w in words[-2:]):
        return [words[0], "、".join(words[1:-2]), words[-2], words[-1]]
    return [line.strip()]


def _nfkc(value: object) -> object:
    """Text as its plain forms (full-width ６０００ → 6000); other values as they are."""
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def usable_email(row: RawRow) -> str | None:
    """The row's email address if it is plausible (so that a refusal letter can reach it)."""
    try:
        return validate_email(row.text("contact_email"), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


class _Check:
    def __init__(self, row: RawRow, config: CompetitionConfig, today: date) -> None:
        self.row, self.config, self.today = row, config, today
        self.problems: list[Problem] = list(row.problems)

    def add(self, key: str, zh: str, en: str, *, where: str | None = None) -> None:
        self.problems.append(Problem(where or self.row.at(key), BY_KEY[key].label, zh, en))

    def run(self) -> dict[str, Any]:
        texts = {f.key: self.text(f.key) for f in FIELDS if f.key not in ("budget", "period")}
        kind = self.kind(texts["kind"])
        amount = self.money("amount", texts["amount"])
        start, end = self.period()
        email = self.email(texts["contact_email"])
        phone = self.phone(texts["contact_phone"])
        category = self.category(texts["category"], amount)
        budget = self.budget(amount)
        return {
            "ref": texts["ref"],
            "title": texts["title"],
            "organisation": {
                "name": texts["organisation"],
                "kind": kind,
                "registration_number": texts["registration_number"],
                "founded_on": self.founded_on(),
                "rating": texts["rating"],
                "legal_representative": texts["legal_representative"],
                "address": texts["address"],
            },
            "category": category,
            "pool": self.pool(kind),
            "communities": self.communities(texts["communities"]),
            "target_group": texts["target_group"],
            "beneficiaries": self.beneficiaries(texts["beneficiaries"]),
            "period_start": start,
            "period_end": end,
            "amount_fen": amount,
            "self_funded_fen": self.money("self_funded", texts["self_funded"]) or 0,
            "contact_name": texts["contact_name"],
            "contact_phone": phone,
            "contact_email": email,
            "summary": texts["summary"],
            "details": {
                **{key: texts[key] for key in DETAIL_TEXTS},
                **{name: texts[key] for key, name in _TEXT_AS.items()},
                "activities": self.activities(),
                "team": self.row.team_members,
                "attachments": split_names(texts["attachments"]),
            },
            "budget": budget,
            "source": self.row.where,
        }

    def text(self, key: str) -> str:
        spec = BY_KEY[key]
        value = self.row.text(key)
        if key in self.row.formulas:
            self.add(
                key,
                "单元格是公式，但 Excel 尚未计算出结果（请在 Excel 中打开、保存后再导入，或填写数值）",
                "the cell holds a formula Excel has not calculated (open and save the file in Excel, "
                "or type the value)",
            )
            return ""
        if not value:
            if spec.required:
                self.add(key, "必填项未填写", "required, but empty")
            return ""
        if spec.max_length is not None and len(value) > spec.max_length:
            self.add(
                key,
                f"不能超过{spec.max_length}字（现有{len(value)}字）",
                f"at most {spec.max_length} characters ({len(value)} given)",
            )
        elif len(value) < spec.min_length:
            self.add(
                key,
                f"不能少于{spec.min_length}字（现有{len(value)}字）",
                f"at least {spec.min_length} characters ({len(value)} given)",
            )
        return value

    def kind(self, text: str) -> OrganisationKind | None:
        if not text:
            return None
        parts = split_list(_QUOTES.sub("", text))
        kinds = [KIND_WORDS.get(p) for p in parts]
        if len(parts) > 1 and all(kinds):
            self.add("kind", f"只能选择一项（填写了“{text}”）", f"choose one kind, not {text!r}")
        elif len(parts) != 1 or kinds[0] is None:
            self.add(
                "kind",
                f"“{text}”无法识别，应为 社会组织、备案志愿服务团队 或 社区社工室",
                f"{text!r} is not an organisation kind: 社会组织 (registered organisation), "
                "备案志愿服务团队 (registered volunteer team) or 社区社工室 (community office)",
            )
        else:
            return kinds[0]
        return None

    def pool(self, kind: OrganisationKind | None) -> str:
        if kind is None:
            return ""
        pool = self.config.pool_for(kind)
        if pool is None:
            label = ORGANISATION_KIND_LABELS[kind]
            self.add(
                "kind",
                f"本次竞赛不受理“{label}”的申报（没有对应的评审组）",
                f"this competition has no pool for {kind.value} applicants",
            )
            return ""
        return pool.code

    def category(self, text: str, amount: Fen | None) -> str:
        if not text:
            return ""
        parts = split_list(_QUOTES.sub("", _BRACKETED.sub("", text)))
        found = self.config.category(parts[0]) if len(parts) == 1 else None
        names = "、".join(c.name for c in self.config.categories)
        if found is None:
            self.add(
                "category",
                f"“{text}”不是本次竞赛的项目类别（可选：{names}），只能选一项",
                f"{text!r} is not one category of this competition (choose one of: {names})",
            )
            return ""
        if found.max_amount is not None and amount is not None and amount > found.max_amount:
            self.add(
                "amount",
                f"申请金额 {format_yuan(amount)} 元超过“{found.name}”类上限 "
                f"{format_yuan(found.max_amount)} 元",
                f"the amount exceeds the cap of the {found.code} category",
            )
        return found.code

    def communities(self, text: str) -> list[str]:
        names = [re.sub(r"(社区|居委会|社区居委会)$", "", p) for p in split_list(_QUOTES.sub("", text))]
        configured = self.config.communities
        for name in names:
            if name not in configured:
                self.add(
                    "communities",
                    f"“{name}”不在本次竞赛的服务社区内（{'、'.join(configured)}）",
                    f"{name!r} is not one of the competition's communities",
                )
        return [n for n in names if n in configured]

    def date_of(self, key: str, *, month_ok: bool = False) -> date | None:
        value = self.row.values.get(key)
        if value is None or not self.row.text(key):
            return None
        parsed = parse_date(value, month_ok=month_ok)
        if parsed is None:
            self.add(
                key,
                f"日期“{self.row.text(key)}”无法识别，应如 2025-03-01",
                f"{self.row.text(key)!r} is not a date like 2025-03-01",
            )
        return parsed

    def founded_on(self) -> date | None:
        founded = self.date_of("founded_on", month_ok=True)
        if founded is not None and founded > self.today:
            self.add(
                "founded_on",
                f"成立时间 {founded} 晚于申报日期 {self.today}",
                f"the founding date {founded} is after the application date {self.today}",
            )
            return None
        return founded

    def period(self) -> tuple[date | None, date | None]:
        key = "period"
        if self.row.text("period_start") or self.row.text("period_end"):
            start, end = self.date_of("period_start"), self.date_of("period_end")
            for part in ("period_start", "period_end"):
                if not self.row.text(part):
                    self.add(part, "必填项未填写", "required, but empty")
            key = "period_end"
        elif text := self.row.text("period"):
            found = parse_period(text)
            if found is None:
                self.add(
                    "period",
                    f"“{text}”无法识别，应如 2025-03-01至2025-09-30",
                    f"{text!r} is not a period like 2025-03-01至2025-09-30",
                )
                return None, None
            start, end = found
        else:
            self.add(
                "period",
                "必填项未填写（项目周期，或项目开始日期和项目结束日期）",
                "required, but empty (the project period, or its start and end dates)",
            )
            return None, None
        if start is None or end is None:
            return start, end
        info = self.config.competition
        allowed = info.projects_run
        name, name_en = (
            ("项目执行期", "project period") if info.project_period else ("服务期", "service period")
        )
        if end < start:
            self.add(
                key, f"结束日期 {end} 早于开始日期 {start}", f"the end {end} is before the start {start}"
            )
        elif start < allowed.start or end > allowed.end:
            self.add(
                key,
                f"项目周期 {start}至{end} 须在{name} {allowed.start}至{allowed.end} 之内",
                f"the project's period {start}..{end} must lie within the competition's {name_en} "
                f"{allowed.start}..{allowed.end}",
            )
        return start, end

    def money(self, key: str, text: str) -> Fen | None:
        if not text:
            return None
        written = _nfkc(self.row.values[key])
        if isinstance(written, int | float | Decimal) and not isinstance(written, bool):
            number: Decimal | None = Decimal(str(written)) if math.isfinite(written) else None
        else:
            plain = str(written).replace(",", "").strip()
            number = Decimal(plain) if _PLAIN_NUMBER.fullmatch(plain) else None
        if number is not None and abs(number) * 100 > MONEY_LIMIT_FEN:
            limit = format_yuan(MONEY_LIMIT_FEN)  # checked as written, before any conversion
            self.add(key, f"金额过大（上限 {limit} 元）", f"the amount is too large (at most {limit} yuan)")
            return None
        try:
            fen = parse_yuan(written)
        except MoneyError:
            self.add(
                key,
                f"金额“{text}”无法识别，应如 6000、6,000.00 或 陆仟元",
                f"{text!r} is not an amount like 6000, 6,000.00 or 陆仟元",
            )
            return None
        if fen < 0 or (key == "amount" and fen == 0):
            self.add(
                key,
                "金额须大于0" if key == "amount" else "金额不能为负数",
                "the amount must be above 0" if key == "amount" else "the amount must not be negative",
            )
            return None
        if fen > MONEY_LIMIT_FEN:
            limit = format_yuan(MONEY_LIMIT_FEN)
            self.add(key, f"金额过大（上限 {limit} 元）", f"the amount is too large (at most {limit} yuan)")
            return None
        if key == "amount":
            budget = self.config.budget
            low, cap = format_yuan(budget.per_project_min), format_yuan(budget.per_project_cap)
            if fen < budget.per_project_min:
                self.add(
                    key,
                    f"申请金额 {format_yuan(fen)} 元低于单个项目下限 {low} 元",
                    f"the amount {format_yuan(fen)} is below the per-project minimum {low} yuan",
                )
            elif fen > budget.per_project_cap:
                self.add(
                    key,
                    f"申请金额 {format_yuan(fen)} 元超过单个项目上限 {cap} 元",
                    f"the amount {format_yuan(fen)} exceeds the per-project cap {cap} yuan",
                )
        return fen

    def count(self, key: str, text: str, *, where: str | None = None, name: str = "") -> int | None:
        """A count, also within words (``约120人``, ``10场``), read by the one strict rule; None
        when it is not one (the problem is added at ``where``, naming ``name`` when given)."""
        if not text:
            return 0
        plain = text.translate(WIDE_DIGITS)  # full-width digits read as ASCII; ² and the like are not digits
        numbers = _INTEGER.findall(plain)
        if len(numbers) != 1 or "." in plain:
            self.add(
                key,
                f"{name}“{text}”应为整数，如 120",
                f"{text!r} must be a whole number such as 120",
                where=where,
            )
            return None
        if _NEGATIVE.search(plain):
            self.add(key, f"{name}“{text}”不能为负数", f"{text!r} must not be negative", where=where)
            return None
        if len(numbers[0]) > 9 or int(numbers[0]) > MAX_BENEFICIARIES:
            self.add(
                key,
                f"{name}“{text}”过大（上限 {MAX_BENEFICIARIES:,}）",
                f"{text!r} is too large (at most {MAX_BENEFICIARIES:,})",
                where=where,
            )
            return None
        return int(numbers[0])

    def beneficiaries(self, text: str) -> int:
        found = self.count("beneficiaries", text)
        if found == 0 and not text and self.config.intake.require_plan:
            self.add(
                "beneficiaries",
                "必填项未填写（本次竞赛要求填写直接受益人数）",
                "required, but empty (this competition asks for the number of direct beneficiaries)",
            )
        return found or 0

    def activities(self) -> list[dict[str, Any]]:
        """The 活动安排 as rows of whole numbers: the lines of the row's own cell (``时间|活动内容|场次|
        预计人次`` a line), then those given apart (a sheet, a Word table, JSON, the web form)."""
        lines = [*self.inline_activities(), *self.row.activity_plan]
        if len(lines) > MAX_ACTIVITY_LINES:
            self.add(
                "activities",
                f"活动安排不能超过{MAX_ACTIVITY_LINES}项（现有{len(lines)}项）",
                f"at most {MAX_ACTIVITY_LINES} activities ({len(lines)} given)",
            )
            return []
        if not lines and self.config.intake.require_plan and not self.row.text("activities"):
            self.add(
                "activities",
                "必填项未填写（本次竞赛要求填写活动安排，每项：时间|活动内容|场次|预计人次）",
                "required, but empty (this competition asks for the plan: one activity a line, "
                "time|content|sessions|expected person-times)",
            )
        rows = [self.activity(line) for line in lines]
        return [row for row in rows if row is not None]

    def inline_activities(self) -> list[RawActivity]:
        """The lines of the row's 活动安排 cell: ``时间|活动内容|场次|预计人次``, or the same four parts
        written with spaces or 、 (``2025年5月 启动仪式 1场 80人次``) when no line uses ``|``."""
        text = self.row.text("activities") if "activities" not in self.row.formulas else ""
        if BY_KEY["activities"].max_length is not None and len(text) > BY_KEY["activities"].max_length:
            return []  # reported once by text()
        found = []
        for index, part in enumerate(p for p in _INLINE_LINES.split(text) if p.strip()):
            cells = _activity_cells(part)
            found.append(
                RawActivity(
                    where=f"{self.row.at('activities')} 活动安排第{index + 1}项 (activity {index + 1})",
                    values={k: c for k, c in zip(ACTIVITY_NAMES, cells, strict=False) if c},
                    malformed=part.strip() if len(cells) != 4 else "",
                )
            )
        return found

    def unreadable(
        self, key: str, line: RawBudgetLine | RawActivity, names: Mapping[str, str], shape: tuple[str, str]
    ) -> bool:
        """Whether a budget or 活动安排 line cannot be read — a formula Excel never calculated, an
        inline line not of ``shape`` (zh, en) — each said at the line."""
        for name in sorted(line.formulas):
            self.add(
                key,
                f"{names.get(name, name)}单元格是公式，但 Excel 尚未计算出结果"
                "（请在 Excel 中打开、保存后再导入）",
                f"the {name} cell holds a formula Excel has not calculated (open and save the file in Excel)",
                where=line.where,
            )
        if line.malformed and not line.formulas:
            self.add(
                key,
                f"“{line.malformed}”应写作 {shape[0]}",
                f"{line.malformed!r} must read {shape[1]}",
                where=line.where,
            )
        return bool(line.formulas or line.malformed)

    def activity(self, line: RawActivity) -> dict[str, Any] | None:
        def problem(zh: str, en: str) -> None:
            self.add("activities", zh, en, where=line.where)

        shape = ("时间|活动内容|场次|预计人次", "time|content|sessions|expected person-times")
        if self.unreadable("activities", line, ACTIVITY_NAMES, shape):
            return None
        text = {k: str(_nfkc(v)).strip() for k, v in line.values.items()}
        ok = True
        if not text.get("content"):
            problem("活动内容未填写", "the activity's content is empty")
            ok = False
        for key, longest in (("period", 60), ("content", 200)):
            if len(text.get(key, "")) > longest:
                problem(
                    f"{ACTIVITY_NAMES[key]}不能超过{longest}字", f"{key} is longer than {longest} characters"
                )
                ok = False
        counts: dict[str, int] = {}
        for key in ("sessions", "participants"):
            if not text.get(key):
                problem(f"{ACTIVITY_NAMES[key]}未填写", f"{key} is empty")
                ok = False
                continue
            value = self.count("activities", text[key], where=line.where, name=ACTIVITY_NAMES[key])
            if value is None:
                ok = False
            elif key == "sessions" and value == 0:
                problem("场次应至少为1", "sessions must be at least 1")
                ok = False
            else:
                counts[key] = value
        if not ok:
            return None
        return {
            "period": text.get("period", ""),
            "content": text["content"],
            "sessions": counts["sessions"],
            "participants": counts["participants"],
        }

    def email(self, text: str) -> str:
        if not text:
            return ""
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            self.add(
                "contact_email", f"邮箱“{text}”格式不正确", f"{text!r} is not a valid email address ({exc})"
            )
            return ""

    def phone(self, text: str) -> str:
        if not text:
            return ""
        phone = normalise_phone(unicodedata.normalize("NFKC", text))
        if phone is None:
            self.add(
                "contact_phone",
                f"“{text}”不是有效的电话号码（手机11位，固话须带区号，如0592-5512345）",
                f"{text!r} is not a valid phone number (11-digit mobile, or landline with area code)",
            )
            return ""
        if len(phone) > _PHONE_LENGTH:
            self.add("contact_phone", "最多填写两个电话号码", "give at most two phone numbers")
            return ""
        return phone

    def budget(self, amount: Fen | None) -> list[dict[str, Any]]:
        if not self.row.budget:
            self.add("budget", "必填项未填写（至少一行预算）", "required: at least one budget line")
            return []
        lines = [self.budget_line(line) for line in self.row.budget]
        if amount is not None and all(lines):
            total = sum(line["amount_fen"] for line in lines if line)
            if total != amount:
                self.add(
                    "budget",
                    f"预算明细合计 {format_yuan(total)} 元与申请金额 {format_yuan(amount)} 元不一致",
                    f"the budget lines add up to {format_yuan(total)} yuan, "
                    f"but the amount asked is {format_yuan(amount)} yuan",
                )
        return [line for line in lines if line]

    def budget_line(self, line: RawBudgetLine) -> dict[str, Any] | None:
        def problem(zh: str, en: str) -> None:
            self.add("budget", zh, en, where=line.where)

        shape = ("科目|用途|单价|数量", "item|purpose|unit price|quantity")
        if self.unreadable("budget", line, BUDGET_NAMES, shape):
            return None
        text = {k: str(v).strip() for k, v in line.values.items()}
        ok = True
        if not text.get("item"):
            problem("科目未填写", "the item (科目) is empty")
            ok = False
        for key, label, longest in (("item", "科目", 100), ("purpose", "用途", 300)):
            if len(text.get(key, "")) > longest:
                problem(f"{label}不能超过{longest}字", f"{key} is longer than {longest} characters")
                ok = False
        unit_text, quantity_text = text.get("unit_price", ""), text.get("quantity", "")
        try:
            unit = parse_yuan(_nfkc(line.values.get("unit_price", "")))
        except MoneyError:
            unit = -1
        if unit < 0 or unit > MONEY_LIMIT_FEN:
            problem(f"单价“{unit_text}”无法识别", f"unit price {unit_text!r} is not an amount")
            unit, ok = 0, False
        quantity = whole_number(line.values.get("quantity"))
        if quantity is None or quantity <= 0 or quantity > MAX_QUANTITY:
            problem(
                f"数量“{quantity_text}”应为正整数",
                f"quantity {quantity_text!r} must be a whole number above 0",
            )
            ok = False
        if not ok or quantity is None:
            return None
        amount = unit * quantity
        if amount > MONEY_LIMIT_FEN:
            problem("金额过大", "the amount is too large")
            return None
        if "amount" in line.values:
            try:
                given = parse_yuan(_nfkc(line.values["amount"]))
            except MoneyError:
                problem(f"金额“{text['amount']}”无法识别", f"amount {text['amount']!r} is not an amount")
                return None
            if given > MONEY_LIMIT_FEN:
                problem("金额过大", "the amount is too large")
                return None
            if given != amount:
                problem(
                    f"金额 {format_yuan(given)} 元不等于 单价×数量 {format_yuan(amount)} 元",
                    f"the amount {format_yuan(given)} is not unit price × quantity = {format_yuan(amount)}",
                )
                return None
        return {
            "item": text["item"],
            "purpose": text.get("purpose", ""),
            "unit_price_fen": unit,
            "quantity": quantity,
            "amount_fen": amount,
        }
