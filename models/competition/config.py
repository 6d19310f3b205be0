"""The competition configuration: a YAML file, validated here, stored with the competition.

Weights, thresholds, bands, tranche splits, quotas and deadlines differ from one street and one
year to the next, so they live in this file, never in code. ``load_config(path)`` returns a
``CompetitionConfig`` or raises ``ConfigError`` whose problems name the file, the field path and
the reason, in Chinese and English.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from models.errors import ConfigError, Problem
from models.money import Fen, MoneyError, parse_yuan
from models.states import OrganisationKind

JIANGTOU_COMMUNITIES = (
    "江头",
    "吕厝",
    "吕岭",
    "园山",
    "金尚",
    "江村",
    "蔡塘",
    "后埔",
    "祥店",
    "江华",
    "忠仑",
)


def _money(value: Any) -> Fen:
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    try:
        return Decimal(value)
    except Exception as exc:
        raise ValueError(f"不是数字 / not a number: {value!r}") from exc


Money = Annotated[Fen, BeforeValidator(_money)]
Dec = Annotated[Decimal, BeforeValidator(_decimal)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServicePeriod(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> ServicePeriod:
        if self.end <= self.start:
            raise ValueError("结束日期须晚于开始日期 / end must be after start")
        return self


class CompetitionInfo(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=2, max_length=200)
    organiser: str = Field(min_length=2)  # 主办：江头街道办事处
    operator: str = ""  # 承办：江头街道社会工作服务站
    year: int = Field(ge=2000, le=2100)
    service_period: ServicePeriod
    contact: str = ""  # 联系人及电话, printed on notices
    submit_email: EmailStr  # where applicants send their 申报书 (printed on the call and its letter)
    address: str = ""


class Budget(_Strict):
    service_budget: Money = Field(description="the social work service project's budget (元)")
    pool: Money = Field(description="the part of it the competition may grant (元)")
    per_project_cap: Money
    per_project_min: Money = 0

    @model_validator(mode="after")
    def _consistent(self) -> Budget:
        for name in ("service_budget", "pool", "per_project_cap", "per_project_min"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} 不能为负数 / {name} must not be negative")
        if self.pool > self.service_budget:
            raise ValueError("创投资金池不能超过服务项目总经费 / pool exceeds the service budget")
        if self.per_project_cap > self.pool:
            raise ValueError("单个项目上限不能超过资金池 / per_project_cap exceeds the pool")
        if self.per_project_min > self.per_project_cap:
            raise ValueError("单个项目下限高于上限 / per_project_min exceeds per_project_cap")
        return self


class Pool(_Strict):
    """A ranking pool: registered organisations and volunteer teams are often ranked apart."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    organisation_kinds: list[OrganisationKind] = Field(min_length=1)
    amount: Money | None = None  # this pool's share of the competition pool (元)


class Category(_Strict):
    """A service dimension: 一老, 一小, 公益服务."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    max_projects: int | None = Field(default=None, ge=0)
    max_amount: Money | None = None


class EligibilityRules(_Strict):
    organisation_kinds: list[OrganisationKind] = Field(
        default_factory=lambda: [OrganisationKind.registered, OrganisationKind.volunteer_team]
    )
    require_registration_number: bool = True
    within_communities: bool = True
    one_application_per_organisation: bool = True
    barred_organisations: list[str] = Field(default_factory=list)
    required_attachments: list[str] = Field(default_factory=list)
    min_founded_months: int | None = Field(default=None, ge=0)


class Criterion(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    max_points: Dec = Field(gt=0)
    weight: Dec = Field(ge=0)
    step: Dec = Field(default=Decimal("0.5"), gt=0)


class Rubric(_Strict):
    total: Dec = Decimal(100)
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _adds_up(self) -> Rubric:
        codes = [c.code for c in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError("评分标准代码重复 / criterion codes repeat")
        weighted = sum((c.max_points * c.weight for c in self.criteria), Decimal(0))
        if weighted != self.total:
            raise ValueError(
                f"各项满分×权重之和为 {weighted}，应为 {self.total} / "
                f"weights don't add up: sum of max_points × weight is {weighted}, expected {self.total}"
            )
        return self


class Aggregation(StrEnum):
    weighted_mean = "weighted_mean"
    trimmed_mean = "trimmed_mean"  # 去掉一个最高分和一个最低分 (≥ 5 scores)
    median = "median"


class TieBreak(StrEnum):
    """How equal aggregates are ordered, in the configured order."""

    criterion = "criterion"  # higher points on the first listed criterion, then the next …
    lower_amount = "lower_amount"  # the smaller request first
    earlier_submission = "earlier_submission"
    ref = "ref"  # finally by 申报编号, so the order is always total


class ReviewRules(_Strict):
    experts_per_application: int = Field(default=3, ge=1, le=15)
    aggregation: Aggregation = Aggregation.trimmed_mean
    trimmed_min_scores: int = Field(default=5, ge=3)
    blind: bool = False
    exclude_same_organisation: bool = True
    exclude_same_community: bool = False
    disagreement_spread: Dec = Decimal(15)  # flag when max − min of totals exceeds this
    reminder_days_before: list[int] = Field(default_factory=lambda: [3, 1])
    tie_break: list[TieBreak] = Field(
        default_factory=lambda: [TieBreak.criterion, TieBreak.lower_amount, TieBreak.ref]
    )
    assignment_seed: int = 2025


class FundingRules(_Strict):
    min_aggregate: Dec = Decimal(60)  # below this no project is funded
    partial_funding: bool = False  # fund the next project with what is left of a pool
    publicity_working_days: int = Field(default=5, ge=1)


class GradeBand(_Strict):
    name: str
    min_score: Dec = Field(ge=0)
    passed: bool = True


class TranchePlanItem(_Strict):
    label: str
    percent: Dec = Field(gt=0, le=100)
    gate: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")  # "signing" or a checkpoint code


class CheckpointIndicator(_Strict):
    """One line of a checkpoint's rubric: the supervisor scores it from 0 to ``max_points``."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    max_points: Dec = Field(gt=0)
    weight: Dec = Field(default=Decimal(1), ge=0)
    step: Dec = Field(default=Decimal("0.5"), gt=0)


class CheckpointPlan(_Strict):
    """A supervision checkpoint (督导检查点): when it is due, how it is scored, what failing means."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: str
    due: date | None = None  # an absolute day …
    due_after_signing_days: int | None = Field(default=None, ge=1)  # … or so many days after signing
    pass_score: Dec = Decimal(60)
    rectification_days: int = Field(default=15, ge=1)
    indicators: list[str] = Field(default_factory=list)  # what the 督导记录表 compares with the plan
    rubric: list[CheckpointIndicator] = Field(default_factory=list)  # the supervisor's scores
    opens_days_before: int = Field(default=30, ge=0)  # when the links go out
    reminder_days_before: list[int] = Field(default_factory=lambda: [7, 1])
    report_name: str = "进度报告"  # the grantee's own report: 中期报告 / 结项报告
    report_days_before: int = Field(default=3, ge=0)  # the grantee's report is due so many days earlier
    missing_report_fails: bool = True  # no grantee report by its due day fails the checkpoint

    @model_validator(mode="after")
    def _consistent(self) -> CheckpointPlan:
        if (self.due is None) == (self.due_after_signing_days is None):
            raise ValueError(
                "检查点须写明 due（日期）或 due_after_signing_days（签约后天数），二选一 / "
                "give exactly one of due (a date) or due_after_signing_days"
            )
        codes = [i.code for i in self.rubric]
        if len(set(codes)) != len(codes):
            raise ValueError("检查点指标代码重复 / rubric indicator codes repeat")
        if self.rubric:
            top = sum((i.max_points * i.weight for i in self.rubric), Decimal(0))
            if self.pass_score > top:
                raise ValueError(
                    f"合格分 {self.pass_score} 高于满分 {top} / pass_score {self.pass_score} exceeds "
                    f"the rubric's maximum {top}"
                )
        if any(d < 0 for d in self.reminder_days_before):
            raise ValueError("提醒天数不能为负数 / reminder_days_before must not be negative")
        return self

    def due_for(self, signed_on: date | None) -> date | None:
        """The checkpoint's due day for a grant signed on ``signed_on`` (None: not yet signed)."""
        if self.due is not None:
            return self.due
        if signed_on is None or self.due_after_signing_days is None:
            return None
        return signed_on + timedelta(days=self.due_after_signing_days)


class UploadRules(_Strict):
    """Evidence uploads (签到表, photos, receipts): checked by content, re-encoded, limited."""

    max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_files: int = Field(default=8, ge=1, le=50)
    max_pixels: int = Field(default=40_000_000, ge=10_000)  # a decompression bomb is refused
    image_max_side: int = Field(default=1600, ge=200)  # images are re-encoded no larger than this


class SupervisionRules(_Strict):
    supervisors_per_grant: int = Field(default=1, ge=1, le=5)
    exclude_same_organisation: bool = True
    assignment_seed: int = 2025
    uploads: UploadRules = Field(default_factory=UploadRules)


class Deadlines(_Strict):
    call_published: date
    applications_close: datetime
    screening_by: date  # applicants hear the screening result by this day
    review_close: datetime
    agreements_by: date | None = None

    @field_validator("applications_close", "review_close", mode="before")
    @classmethod
    def _local_time(cls, value: Any) -> Any:
        # A date alone means the end of that day, Beijing time.
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(23, 59, 59), tzinfo=ZoneInfo("Asia/Shanghai"))
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Deadlines:
        if self.applications_close.date() < self.call_published:
            raise ValueError("申报截止早于征集发布 / applications_close is before call_published")
        if self.review_close <= self.applications_close:
            raise ValueError("评审截止须晚于申报截止 / review_close must be after applications_close")
        if self.screening_by < self.applications_close.date():
            raise ValueError("资格审查通知日期早于申报截止 / screening_by is before applications_close")
        return self


class Person(_Strict):
    name: str
    email: EmailStr
    phone: str = ""
    organisation: str = ""
    community: str = ""
    expertise: str = ""


class MailingListEntry(_Strict):
    name: str = ""
    email: EmailStr


class CompetitionConfig(_Strict):
    competition: CompetitionInfo
    budget: Budget
    communities: list[str] = Field(min_length=1)
    pools: list[Pool] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    eligibility: EligibilityRules = Field(default_factory=EligibilityRules)
    rubric: Rubric
    review: ReviewRules = Field(default_factory=ReviewRules)
    funding: FundingRules = Field(default_factory=FundingRules)
    grade_bands: list[GradeBand] = Field(min_length=1)
    tranches: list[TranchePlanItem] = Field(min_length=1)
    checkpoints: list[CheckpointPlan] = Field(default_factory=list)
    supervision: SupervisionRules = Field(default_factory=SupervisionRules)
    deadlines: Deadlines
    require_letter_release: bool = False  # letters wait as drafts until an administrator releases them
    mailing_list: list[MailingListEntry] = Field(default_factory=list)
    experts: list[Person] = Field(default_factory=list)
    supervisors: list[Person] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)  # extra non-working days
    make_up_workdays: list[date] = Field(default_factory=list)  # 调休 working weekends

    @model_validator(mode="after")
    def _cross_checks(self) -> CompetitionConfig:
        problems: list[str] = []
        if len(set(self.communities)) != len(self.communities):
            problems.append("社区重复 / communities repeat")
        pools_total = sum(p.amount for p in self.pools if p.amount is not None)
        if pools_total > self.budget.pool:
            problems.append("各组资金之和超过资金池 / pool amounts exceed budget.pool")
        kinds = [k for p in self.pools for k in p.organisation_kinds]
        if len(set(kinds)) != len(kinds):
            problems.append("一种单位性质只能属于一个组 / an organisation kind is in two pools")
        percents = sum((t.percent for t in self.tranches), Decimal(0))
        if percents != 100:
            problems.append(
                f"拨付比例之和为 {percents}%，应为 100% / tranche percents add up to {percents}, not 100"
            )
        checkpoint_codes = {c.code for c in self.checkpoints}
        for t in self.tranches:
            if t.gate != "signing" and t.gate not in checkpoint_codes:
                problems.append(
                    f"拨付“{t.label}”的条件 {t.gate} 不是已配置的检查点 / "
                    f"tranche {t.label!r} is gated on unknown checkpoint {t.gate!r}"
                )
        bands = sorted(self.grade_bands, key=lambda b: b.min_score, reverse=True)
        if bands[-1].min_score != 0:
            problems.append("等级须覆盖到0分 / the lowest grade band must start at 0")
        for person in self.experts:
            if person.community and person.community not in self.communities:
                problems.append(
                    f"专家 {person.name} 的社区 {person.community} 不在社区列表中 / unknown community"
                )
        for cat_codes in ([c.code for c in self.categories], [p.code for p in self.pools]):
            if len(set(cat_codes)) != len(cat_codes):
                problems.append("代码重复 / codes repeat")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _checkpoint_codes(self) -> CompetitionConfig:
        codes = [c.code for c in self.checkpoints]
        if len(set(codes)) != len(codes):
            raise ValueError("检查点代码重复 / checkpoint codes repeat")
        return self

    # convenient look-ups for the rules
    def pool_for(self, kind: OrganisationKind) -> Pool | None:
        return next((p for p in self.pools if kind in p.organisation_kinds), None)

    def category(self, code_or_name: str) -> Category | None:
        return next((c for c in self.categories if code_or_name in (c.code, c.name)), None)

    def checkpoint(self, code: str) -> CheckpointPlan | None:
        return next((c for c in self.checkpoints if c.code == code), None)

    def grade_for(self, score: Decimal) -> GradeBand:
        for band in sorted(self.grade_bands, key=lambda b: b.min_score, reverse=True):
            if score >= band.min_score:
                return band
        raise ValueError(f"score {score} is below every grade band")


_MESSAGES_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_from_datetime_parsing": "应为日期，如 2025-03-01",
    "date_parsing": "应为日期，如 2025-03-01",
    "date_type": "应为日期，如 2025-03-01",
    "datetime_parsing": "应为时间，如 2025-03-01T17:00",
    "datetime_type": "应为时间，如 2025-03-01T17:00",
    "string_type": "应为文字",
    "string_too_short": "太短",
    "list_type": "应为列表",
    "too_short": "至少需要一项",
    "enum": "不是允许的取值",
    "string_pattern_mismatch": "格式不对（小写字母、数字、连字符）",
    "greater_than": "须大于下限",
    "greater_than_equal": "不能小于下限",
    "less_than_equal": "超过上限",
    "value_error": "取值无效",
    "model_type": "应为一组字段（映射）",
    "dict_type": "应为一组字段（映射）",
    "decimal_parsing": "应为数字",
}


def _problems_from(exc: ValidationError, source: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "(文件顶层 / top level)"
        kind = err["type"]
        en = err["msg"]
        if kind == "value_error":
            en = en.removeprefix("Value error, ")
            zh, _, en_part = en.partition(" / ")
            problems.append(Problem(source, path, zh, en_part or en))
            continue
        zh = _MESSAGES_ZH.get(kind, "取值无效")
        problems.append(Problem(source, path, zh, en))
    return problems


def parse_config(text: str, *, source: str = "<text>") -> CompetitionConfig:
    """Parse and validate YAML text; every problem at once, each naming source, field and reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(Problem(where, "", "YAML 格式错误", f"not valid YAML: {exc}")) from exc
    if not isinstance(data, dict):
        raise ConfigError(Problem(source, "", "文件须为字段映射", "the file must be a mapping of fields"))
    try:
        return CompetitionConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems_from(exc, source)) from exc


def load_config(path: Path | str) -> CompetitionConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), "", "文件不存在", "file not found")) from None
    except UnicodeDecodeError:
        raise ConfigError(Problem(str(path), "", "文件须为 UTF-8 编码", "the file must be UTF-8")) from None
    return parse_config(text, source=str(path))


def config_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
