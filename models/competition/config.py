"""The competition configuration: a YAML file, validated here, stored with the competition.

Weights, thresholds, bands, tranche splits, quotas and deadlines differ from one street and one
year to the next, so they live in this file, never in code. This module is its schema; reading
and parsing the file — every mistake a ``Problem`` naming the file, the field path and the reason,
in Chinese and English — is ``config_file`` (``load_config``, ``parse_config``).

Long by design: the whole schema of the competition file with its cross-field checks, so one file
says every rule a competition may set.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.money import Fen, MoneyError, format_yuan, parse_yuan
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


# The largest amount any money field may hold: 一万亿元 (10^12 yuan), far inside a BIGINT of fen.
MONEY_LIMIT_FEN: Fen = 10**14
# A competition file is a page of settings: anything bigger is refused before it is read whole.


class FieldProblems(ValueError):
    """Problems a validator found across fields, each at its own path below the model that found
    them (``""`` is the model itself): ``[("pools.0.amount", zh, en), …]``."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{zh} / {en}" for _, zh, en in problems))


def _money(value: Any) -> Fen:
    """Money in a configuration: an amount in yuan, never negative, never absurdly large
    (full-width digits read as plain ones). The bounds are checked on the number as written, before
    ``parse_yuan`` (which refuses amounts far larger still with its own words), so every money
    field says the same thing about the same number."""
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value)
    _within_bounds(_as_number(value), value)
    try:
        fen = parse_yuan(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc
    _within_bounds(Decimal(fen) / 100, value)
    return fen


# A plain number as people write one in YAML: digits, separators, an optional 元.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_SEPARATORS = re.compile(r"[\s,，¥￥]|人民币|元$")


def _as_number(value: Any) -> Decimal | None:
    """The amount in yuan of a number or a plain numeric text; None for anything else (words,
    ``2万``, markup), which ``parse_yuan`` reads or refuses."""
    amount: Decimal | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 100:
        text = _SEPARATORS.sub("", value)
        amount = Decimal(text) if _PLAIN_NUMBER.fullmatch(text) else None
    return amount if amount is not None and amount.is_finite() else None


def _within_bounds(amount: Decimal | None, value: Any) -> None:
    if amount is None:
        return
    if amount < 0:
        huge = len(amount.as_tuple().digits) > 24  # an integer of 5,000 digits is not shown whole
        typed, quoted = (f"{amount:.6g}",) * 2 if huge else (str(value), repr(value))
        raise ValueError(f"金额不能为负数（填写了 {typed}） / an amount must not be negative: {quoted}")
    if amount * 100 > MONEY_LIMIT_FEN:
        limit = format_yuan(MONEY_LIMIT_FEN)
        raise ValueError(f"金额超过上限 {limit} 元 / an amount must not exceed {limit} yuan")


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(
            f"“{value}”不是有效的电子邮箱地址 / {value!r} is not a valid email address: {exc}"
        ) from None


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
EmailStr = Annotated[str, AfterValidator(_email)]


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
    service_period: ServicePeriod  # the social work service contract the competition is part of
    # 项目执行期: when the funded projects run (the call prints it, intake checks every project's period
    # against it); inside the service period, after the agreements are signed. Default: the service period.
    project_period: ServicePeriod | None = None

    @property
    def projects_run(self) -> ServicePeriod:
        """The period every project must lie in: the 项目执行期, else the service period."""
        return self.project_period or self.service_period

    contact: str = ""  # 联系人及电话, printed on notices
    submit_email: EmailStr  # where applicants send their 申报书 (printed on the call and its letter)
    address: str = ""
    prepared_by: str = ""  # 经办人: who signs the working papers (资格审查表 审查人, 评分汇总表 制表人)

    @property
    def signer(self) -> str:
        """Who signs a working paper when the run names nobody: ``prepared_by``, else the 承办
        (operator), else the 主办 — never an account name such as ``admin:cli``."""
        return self.prepared_by or self.operator or self.organiser


class Budget(_Strict):
    service_budget: Money = Field(description="the social work service project's budget (元)")
    pool: Money = Field(description="the part of it the competition may grant (元)")
    per_project_cap: Money
    per_project_min: Money = 0

    @model_validator(mode="after")
    def _consistent(self) -> Budget:
        problems = []
        if self.pool > self.service_budget:
            problems.append(
                ("pool", "创投资金池不能超过服务项目总经费", "the pool exceeds the service budget")
            )
        if self.per_project_cap > self.pool:
            problems.append(
                ("per_project_cap", "单个项目上限不能超过资金池", "per_project_cap exceeds the pool")
            )
        if self.per_project_min > self.per_project_cap:
            problems.append(
                ("per_project_min", "单个项目下限高于上限", "per_project_min exceeds per_project_cap")
            )
        if problems:
            raise FieldProblems(problems)
        return self


class Pool(_Strict):
    """A ranking pool: registered organisations and volunteer teams are often ranked apart."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    organisation_kinds: list[OrganisationKind] = Field(min_length=1)
    amount: Money | None = None  # this pool's share of the competition pool (元)
    share: Dec | None = Field(default=None, gt=0, le=100)  # … or as a percentage of budget.pool


class Category(_Strict):
    """A service dimension: 一老, 一小, 公益服务."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    max_projects: int | None = Field(default=None, ge=0)
    max_amount: Money | None = None
    min_projects: int | None = Field(default=None, ge=0)  # 至少资助的项目数 (when one reaches 合格线)


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


class RemainderRule(StrEnum):
    """The project that does not fit in what is left of its pool."""

    skip = "skip"  # 跳过，继续资助下一个放得下的项目
    offer = "offer"  # 剩余资金不低于单项下限时，以剩余资金资助


class UnspentRule(StrEnum):
    """Money a pool cannot use (no project left that reaches the threshold)."""

    returned = "returned"  # 退回资金池
    other_pool = "other_pool"  # 调剂给其他组


class LapsedRule(StrEnum):
    """The money of an agreement not signed in time."""

    returned = "returned"  # 退回资金池
    next_in_line = "next_in_line"  # 递补给本组排名下一位、放得下的项目


class RequestShare(_Strict):
    """Fund ``percent`` of the request of a project scoring at least ``min_score``."""

    min_score: Dec = Field(ge=0)
    percent: Dec = Field(gt=0, le=100)


class FundingRules(_Strict):
    min_aggregate: Dec = Decimal(60)  # below this no project is funded
    partial_funding: bool = False  # fund the next project with what is left of a pool
    publicity_working_days: int = Field(default=5, ge=1)
    # how the project that does not fit is treated; unset: offer when partial_funding, else skip
    remainder: RemainderRule | None = None
    request_shares: list[RequestShare] = Field(default_factory=list)  # empty: the whole request
    unspent: UnspentRule = UnspentRule.returned
    community_minimum: int = Field(default=0, ge=0)  # projects per community that reached 合格线
    # ties at the cut after these rules are decided by the administrator (grantflow funding decide-tie)
    tie_break: list[TieBreak] = Field(default_factory=lambda: [TieBreak.criterion, TieBreak.lower_amount])
    publicity_ends_at: time = time(17, 30)  # the window ends at this time of its last working day
    objection_contact: str = ""  # where to object (default: competition.contact)
    expert_comments_in_rejection: bool = False  # anonymised expert comments in the 未入选通知
    lapsed: LapsedRule = LapsedRule.returned
    finance_office: str = "街道财政所"  # addressee of the 拨款通知
    doc_number_prefix: str = "创投"  # 文号: 创投〔2025〕3号
    successor_sign_days: int = Field(default=10, ge=1)  # working days a 递补 project has to sign
    payment_days: int = Field(default=10, ge=1)  # 拨付 within this many working days of its condition

    @property
    def remainder_rule(self) -> RemainderRule:
        if self.remainder is not None:
            return self.remainder
        return RemainderRule.offer if self.partial_funding else RemainderRule.skip

    @model_validator(mode="after")
    def _shares_distinct(self) -> FundingRules:
        scores = [s.min_score for s in self.request_shares]
        if len(set(scores)) != len(scores):
            raise ValueError("按比例资助的分数段重复 / request_shares repeat a min_score")
        return self


class GradeBand(_Strict):
    name: str
    min_score: Dec = Field(ge=0)
    passed: bool = True


class FailRule(StrEnum):
    """What a failed 结项评估 leads to."""

    withhold = "withhold"  # 不拨付尾款，项目按“不合格”结项
    rectify_once = "rectify_once"  # 限期整改一次，复评仍不合格则终止
    terminate = "terminate"  # 终止资助协议


class ExpertPanel(_Strict):
    """结项专家评审 (optional): experts from the competition's pool score each grant's 结项 too.

    The panel's aggregate weighs ``weight`` in the final score, the supervisors' ``1 − weight``.
    Each grant whose final checkpoint is in gets ``experts_per_grant`` experts (the review's
    assignment: conflicts excluded, loads balanced); their sheets are due ``due_days`` days after
    the panel is assigned; an expert with open sheets is reminded ``reminder_days_before`` days
    before (each offset once).
    """

    experts_per_grant: int = Field(default=3, ge=1, le=15)
    weight: Dec = Field(gt=0, le=1)  # the panel's share of the final score, e.g. "0.5"
    due_days: int = Field(default=7, ge=1, le=90)
    aggregation: Aggregation | None = None  # over the panel's scores; None: evaluation.aggregation
    reminder_days_before: list[Annotated[int, Field(ge=0, le=90)]] = Field(
        default_factory=lambda: [2], max_length=10
    )  # days before the sheets' due day an expert with open sheets is reminded


class EvaluationRules(_Strict):
    """结项评估: how the evaluators' scores combine, what a fail leads to, how long it counts."""

    aggregation: Aggregation = Aggregation.weighted_mean  # over the final checkpoint's reports
    expert_panel: ExpertPanel | None = None  # off unless configured
    on_fail: FailRule = FailRule.rectify_once
    barred_years: int = Field(
        default=2, ge=0, le=20
    )  # years a failed or terminated grant bars its organisation


class SettlementRule(StrEnum):
    """How a grant's money is settled at its end (结项): the final tranche and the balance together."""

    # 据实结算: the final tranche is what the verified spending exceeds the tranches paid before,
    # at most its planned amount (planned − underspend, never below 0); when the tranches paid
    # exceed the verified spending, no final tranche and the difference is returned (结余退回通知).
    # Never "pay the 尾款 and return the balance" at once.
    net = "net"


class Settlement(_Strict):
    """结算: the one rule for a grant's money at 结项 and at termination, printed in every paper.

    Spending above a budget line or above the grant is refused at the grantee's report and the
    supervisor's record (the excess is the organisation's own money, 自筹, never the grant's).
    """

    rule: SettlementRule = SettlementRule.net
    return_days: int = Field(default=15, ge=1, le=90)  # days to return a balance or a claw-back
    return_to: str = Field(default="", max_length=100)  # where it goes back; "": funding.finance_office


class NumberedKind(StrEnum):
    """The official papers that carry a 文号, numbered from one registry
    (``models.documents.numbering``): 代字〔年份〕序号号, per 代字 and year, assigned once."""

    award_notice = "award_notice"  # 立项通知书
    payment_notice = "payment_notice"  # 拨款通知
    rectification_notice = "rectification_notice"  # 整改通知
    termination_notice = "termination_notice"  # 终止通知
    refund_notice = "refund_notice"  # 结余资金退回通知


# a 机关代字: plain characters, no spaces or brackets (the 〔年份〕 and 号 are added)
DocPrefix = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[^\s〔〕\[\]()（）{}]+$")]


class Numbering(_Strict):
    """文号: ``prefix``〔year〕n号 for every numbered paper, or a kind's own 代字 in ``kinds``.
    Papers sharing a 代字 share its numbers, so a 文号 is never printed twice."""

    prefix: DocPrefix | None = None  # None: funding.doc_number_prefix
    kinds: dict[NumberedKind, DocPrefix] = Field(default_factory=dict)


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


class IntakeLimits(_Strict):
    """How much one imported file may hold, and what an application must carry. A file beyond a
    limit is refused with a message naming it, before it is read whole (the size on disk and, for
    .xlsx, unpacked).

    ``require_plan``: every application gives its 活动安排 (at least one activity: 时间, 活动内容,
    场次, 预计人次) and its 直接受益人数; without them it is refused at that field.
    ``hold_refusals_share`` / ``hold_refusals_min_rows``: when one rule would refuse more than that
    share of a file's rows (and at least that many rows), its refusal letters wait in the outbox as
    drafts for the administrator (``grantflow outbox release``) — a wrong file or a wrong
    configuration mails nobody."""

    max_file_mb: int = Field(default=20, ge=1, le=500)  # the file as it lies on disk
    max_unpacked_mb: int = Field(default=200, ge=1, le=2000)  # an .xlsx/.docx once unzipped
    max_rows: int = Field(default=5000, ge=1, le=1_000_000)  # rows of one sheet (or items of a JSON)
    max_columns: int = Field(default=100, ge=1, le=16384)  # columns of one sheet
    require_plan: bool = False
    hold_refusals_share: Dec = Field(default=Decimal("0.5"), ge=0, le=1)
    hold_refusals_min_rows: int = Field(default=3, ge=1, le=1_000_000)


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
    evaluation: EvaluationRules = Field(default_factory=EvaluationRules)
    settlement: Settlement = Field(default_factory=Settlement)
    numbering: Numbering = Field(default_factory=Numbering)
    tranches: list[TranchePlanItem] = Field(min_length=1)
    checkpoints: list[CheckpointPlan] = Field(default_factory=list)
    supervision: SupervisionRules = Field(default_factory=SupervisionRules)
    deadlines: Deadlines
    intake: IntakeLimits = Field(default_factory=IntakeLimits)
    require_letter_release: bool = False  # letters wait as drafts until an administrator releases them
    mailing_list: list[MailingListEntry] = Field(default_factory=list)
    experts: list[Person] = Field(default_factory=list)
    supervisors: list[Person] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)  # extra non-working days
    make_up_workdays: list[date] = Field(default_factory=list)  # 调休 working weekends

    @field_validator("grade_bands")
    @classmethod
    def _bands_cover_the_scale(cls, bands: list[GradeBand], info: ValidationInfo) -> list[GradeBand]:
        """Listed from the highest down, each band from its min_score (inclusive) up to the next
        band's min_score (exclusive), the top one up to the rubric's total: ordered, never
        overlapping, covering 0..total; passing bands above the failing ones."""
        rubric = info.data.get("rubric")
        total = rubric.total if isinstance(rubric, Rubric) else None
        problems = []
        names = [b.name for b in bands]
        if len(set(names)) != len(names):
            problems.append("等级名称重复 / grade names repeat")
        for i, (higher, lower) in enumerate(itertools.pairwise(bands)):
            if lower.min_score >= higher.min_score:
                problems.append(
                    f"第{i + 2}个等级“{lower.name}”的下限 {lower.min_score} 不低于上一等级“{higher.name}”的"
                    f"下限 {higher.min_score}：等级须从高到低排列、不能重叠 / grade_bands[{i + 1}] "
                    f"{lower.name!r} starts at {lower.min_score}, not below {higher.name!r} "
                    f"({higher.min_score}): list the bands from the highest down, without overlap"
                )
            if lower.passed and not higher.passed:
                problems.append(
                    f"合格等级“{lower.name}”低于不合格等级“{higher.name}” / passing band {lower.name!r} "
                    f"is below failing band {higher.name!r}"
                )
        # that the lowest band starts at 0 is checked with the other cross-field rules (its own path)
        if total is not None and bands and max(b.min_score for b in bands) > total:
            problems.append(
                f"最高等级的下限 {bands[0].min_score} 超过满分 {total} / the top band starts above "
                f"the rubric's total {total}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return bands

    @model_validator(mode="after")
    def _cross_checks(self) -> CompetitionConfig:
        problems: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for index, community in enumerate(self.communities):
            if community in seen:
                problems.append((f"communities.{index}", f"社区“{community}”重复", f"{community!r} repeats"))
            seen.add(community)
        pool_cap = format_yuan(self.budget.pool)
        pools_total = sum(p.amount for p in self.pools if p.amount is not None)
        for index, pool in enumerate(self.pools):
            if pool.amount is not None and pool.amount > self.budget.pool:
                problems.append(
                    (
                        f"pools.{index}.amount",
                        f"“{pool.name}”的资金 {format_yuan(pool.amount)} 元超过资金池 {pool_cap} 元",
                        f"the amount of pool {pool.code!r} exceeds budget.pool ({pool_cap} yuan)",
                    )
                )
        if pools_total > self.budget.pool:
            problems.append(
                (
                    "pools",
                    f"各组资金之和 {format_yuan(pools_total)} 元超过资金池 {pool_cap} 元",
                    f"the pool amounts add up to {format_yuan(pools_total)} yuan, more than budget.pool",
                )
            )
        kinds: dict[str, str] = {}
        for index, pool in enumerate(self.pools):
            for position, kind in enumerate(pool.organisation_kinds):
                if kind in kinds:
                    problems.append(
                        (
                            f"pools.{index}.organisation_kinds.{position}",
                            f"单位性质 {kind.value} 已属于“{kinds[kind]}”，一种单位性质只能属于一个组",
                            f"the organisation kind {kind.value!r} is in two pools",
                        )
                    )
                kinds.setdefault(kind, pool.name)
        cap = format_yuan(self.budget.per_project_cap)
        for index, category in enumerate(self.categories):
            if category.max_amount is not None and category.max_amount > self.budget.per_project_cap:
                problems.append(
                    (
                        f"categories.{index}.max_amount",
                        f"“{category.name}”类的单项上限 {format_yuan(category.max_amount)} 元"
                        f"超过单个项目上限 {cap} 元",
                        f"the cap of category {category.code!r} exceeds budget.per_project_cap ({cap} yuan)",
                    )
                )
        percents = sum((t.percent for t in self.tranches), Decimal(0))
        if percents != 100:
            problems.append(
                (
                    "tranches",
                    f"拨付比例之和为 {percents}%，应为 100%",
                    f"tranche percents add up to {percents}, not 100",
                )
            )
        checkpoint_codes = {c.code for c in self.checkpoints}
        for index, t in enumerate(self.tranches):
            if t.gate != "signing" and t.gate not in checkpoint_codes:
                problems.append(
                    (
                        f"tranches.{index}.gate",
                        f"拨付“{t.label}”的条件 {t.gate} 不是已配置的检查点",
                        f"tranche {t.label!r} is gated on unknown checkpoint {t.gate!r}",
                    )
                )
        problems += self._project_period_problems()
        lowest = min(range(len(self.grade_bands)), key=lambda i: self.grade_bands[i].min_score)
        if self.grade_bands[lowest].min_score != 0:
            problems.append(
                (
                    f"grade_bands.{lowest}.min_score",
                    "等级须覆盖到0分（最低一档的 min_score 应为 0）",
                    "the lowest grade band must start at 0",
                )
            )
        for index, person in enumerate(self.experts):
            if person.community and person.community not in self.communities:
                problems.append(
                    (
                        f"experts.{index}.community",
                        f"专家 {person.name} 的社区 {person.community} 不在社区列表中",
                        f"unknown community {person.community!r} of expert {person.name!r}",
                    )
                )
        for section, codes in (
            ("categories", [c.code for c in self.categories]),
            ("pools", [p.code for p in self.pools]),
        ):
            for index, code in enumerate(codes):
                if code in codes[:index]:
                    problems.append(
                        (f"{section}.{index}.code", f"代码 {code} 重复", f"the code {code!r} repeats")
                    )
        if problems:
            raise FieldProblems(problems)
        return self

    def _project_period_problems(self) -> list[tuple[str, str, str]]:
        """The 项目执行期 lies in the service period and starts after the agreements are signed."""
        period, service = self.competition.project_period, self.competition.service_period
        if period is None:
            return []
        problems = []
        if period.start < service.start or period.end > service.end:
            problems.append(
                (
                    "competition.project_period",
                    f"项目执行期 {period.start}至{period.end} 须在服务期 {service.start}至{service.end} 之内",
                    "the project period must lie within the service period",
                )
            )
        signed_by = self.deadlines.agreements_by or self.deadlines.review_close.date()
        if period.start <= signed_by:
            problems.append(
                (
                    "competition.project_period.start",
                    f"项目执行期须在协议签订截止日 {signed_by} 之后开始（先签协议，后实施项目）",
                    f"the project period must start after the agreements are signed (by {signed_by})",
                )
            )
        return problems

    @model_validator(mode="after")
    def _funding_checks(self) -> CompetitionConfig:
        problems: list[str] = []
        for pool in self.pools:
            if pool.amount is not None and pool.share is not None:
                problems.append(
                    f"组 {pool.code} 同时配置了 amount 和 share / "
                    f"pool {pool.code}: give amount or share, not both"
                )
        shared = sum(
            (int(Decimal(self.budget.pool) * p.share / 100) for p in self.pools if p.share is not None), 0
        )
        fixed = sum(p.amount for p in self.pools if p.amount is not None)
        if shared + fixed > self.budget.pool:
            problems.append("各组资金（含比例）之和超过资金池 / pool amounts and shares exceed budget.pool")
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

    def doc_prefix(self, kind: NumberedKind) -> str:
        """The 代字 of a numbered paper: its own, else ``numbering.prefix``, else the funding one."""
        return self.numbering.kinds.get(kind) or self.numbering.prefix or self.funding.doc_number_prefix

    @property
    def return_to(self) -> str:
        """Where a balance or a claw-back goes back to."""
        return self.settlement.return_to or self.funding.finance_office

    def grade_for(self, score: Decimal) -> GradeBand:
        for band in sorted(self.grade_bands, key=lambda b: b.min_score, reverse=True):
            if score >= band.min_score:
                return band
        raise ValueError(f"score {score} is below every grade band")
