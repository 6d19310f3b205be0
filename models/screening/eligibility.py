"""Eligibility screening (资格审查): the configured rules, one stored result per rule and application.

``check_application`` is pure: it applies ``config.eligibility`` (organisation kind, registration
number, founding date, communities, amount, one application per organisation, the barred list,
required attachments) and returns one ``RuleResult`` per rule — passed or not, with its reason in
Chinese and English — so that the 资格审查表 shows why. ``screen_applications`` stores those results
(``EligibilityCheck``) and moves each submitted application to eligible or ineligible through
``set_state``; it is idempotent. ``override_check`` lets an administrator overturn one result with a
reason (audited) and re-decides the application.

Long by design: the rule table, the screening run and the audited overrides read the same rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.errors import IllegalTransition, InputError, NotFound, Problem
from models.intake.tables import Application, EligibilityCheck, Organisation
from models.lifecycle import allowed_moves, set_state
from models.money import format_yuan
from models.states import ORGANISATION_KIND_LABELS, ApplicationState, OrganisationKind
from models.types import utcnow

RULE_LABELS: Mapping[str, str] = {
    "organisation_kind": "单位性质",
    "registration": "登记或备案",
    "founded": "成立时间",
    "community": "服务社区",
    "amount": "申请金额",
    "one_per_organisation": "一个单位一个项目",
    "barred": "禁止申报名单",
    "attachments": "必备附件",
}
RULES: tuple[str, ...] = tuple(RULE_LABELS)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class BarredRecord(Protocol):
    """An organisation barred by an earlier year's outcome (given by the caller, e.g. the screening
    task passes ``models.evaluation.barred.barred_organisations``; screening imports no later stage)."""

    @property
    def name(self) -> str: ...
    @property
    def registration_number(self) -> str: ...
    @property
    def reason_zh(self) -> str: ...
    @property
    def reason_en(self) -> str: ...


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    zh: str
    en: str

    @property
    def label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule)

    @property
    def reason(self) -> str:
        return f"{self.zh} / {self.en}"


def uscc_is_valid(code: str) -> bool:
    """Whether an 18-character 统一社会信用代码 has the right check character (GB 32100-2015)."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def _folded(text: str) -> str:
    """A name or code as it is compared: width-folded (NFKC), case-folded, spaces dropped — so
    ``52350206MJ01123110``, ``52350206mj01123110`` and its full-width form are one code."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _identity(organisation: Organisation) -> str:
    """Who an organisation is for the rules: its registration number (folded) when it has one —
    the same organisation stored twice under two spellings of its name is still one — else its row."""
    number = _folded(organisation.registration_number)
    return f"code:{number}" if number else f"row:{organisation.id}"


def check_application(
    application: Application,
    organisation: Organisation,
    *,
    config: CompetitionConfig,
    earlier: Sequence[Application] = (),
    barred: Sequence[BarredRecord] = (),
) -> list[RuleResult]:
    """Every eligibility rule's result for one application (pure).

    ``earlier`` are the same organisation's applications to this competition that came before it
    (withdrawn ones excluded): with ``one_application_per_organisation`` only the first may pass.
    ``barred`` are organisations barred by earlier years' outcomes, besides the configured list.
    """
    rules = config.eligibility
    ok = RuleResult
    results = []

    kinds = "、".join(ORGANISATION_KIND_LABELS[k] for k in rules.organisation_kinds)
    label = ORGANISATION_KIND_LABELS.get(organisation.kind, str(organisation.kind))
    results.append(
        ok("organisation_kind", True, f"{label}，可以申报", f"{organisation.kind} may apply")
        if organisation.kind in rules.organisation_kinds
        else ok(
            "organisation_kind",
            False,
            f"{label}不在本次申报主体范围内（{kinds}）",
            f"{organisation.kind} may not apply (allowed: {kinds})",
        )
    )

    results.append(_registration(organisation, required=rules.require_registration_number))
    results.append(
        _founded(
            organisation, months=rules.min_founded_months, as_of=config.deadlines.applications_close.date()
        )
    )

    outside = [c for c in application.communities or [application.community] if c not in config.communities]
    if not rules.within_communities:
        results.append(ok("community", True, "本次不限服务社区", "communities are not restricted"))
    elif outside:
        results.append(
            ok(
                "community",
                False,
                f"服务社区“{'、'.join(outside)}”不在本街道辖区内",
                f"{', '.join(outside)} is outside the competition's communities",
            )
        )
    else:
        results.append(ok("community", True, "服务社区在辖区内", "communities are within the street"))

    results.append(_amount(application, config))

    if rules.one_application_per_organisation and earlier:
        first = earlier[0]
        results.append(
            ok(
                "one_per_organisation",
                False,
                f"同一单位只能申报一个项目，本单位已申报 {first.ref}“{first.title}”",
                f"one application per organisation: {first.ref} {first.title!r} came first",
            )
        )
    else:
        results.append(
            ok("one_per_organisation", True, "本单位仅此一项申报", "the organisation's only application")
        )

    configured = {_folded(name) for name in rules.barred_organisations}
    number = _folded(organisation.registration_number)
    record = next(
        (
            b
            for b in barred
            if _folded(b.name) == _folded(organisation.name)
            or (number and _folded(b.registration_number) == number)
        ),
        None,
    )
    if record is not None:
        results.append(
            ok(
                "barred",
                False,
                f"申报单位在禁止申报名单中：{record.reason_zh}",
                f"the organisation is on the barred list: {record.reason_en}",
            )
        )
    elif _folded(organisation.name) in configured or (number and number in configured):
        results.append(
            ok(
                "barred",
                False,
                "申报单位在禁止申报名单中（失信或违约记录）",
                "the organisation is on the barred list (breach or dishonesty record)",
            )
        )
    else:
        results.append(ok("barred", True, "不在禁止申报名单中", "not on the barred list"))

    given = {_folded(str(a)) for a in application.details.get("attachments", [])}
    missing = [a for a in rules.required_attachments if _folded(a) not in given]
    if missing:
        results.append(
            ok(
                "attachments",
                False,
                f"缺少必备附件：{'、'.join(missing)}",
                f"missing required attachments: {', '.join(missing)}",
            )
        )
    elif rules.required_attachments:
        results.append(ok("attachments", True, "必备附件齐全", "required attachments present"))
    else:
        results.append(ok("attachments", True, "本次无必备附件", "no attachments required"))
    return results


def _registration(organisation: Organisation, *, required: bool) -> RuleResult:
    number = organisation.registration_number.strip()
    if not required:
        return RuleResult("registration", True, "本次不要求登记证号", "no registration number required")
    if not number:
        return RuleResult(
            "registration",
            False,
            "未填写统一社会信用代码或登记证号（备案号）",
            "no registration number (统一社会信用代码, 登记证号 or 备案号) given",
        )
    looks_like_uscc = len(number) == 18 and number.isalnum() and number.isascii()
    if organisation.kind == OrganisationKind.registered and looks_like_uscc and not uscc_is_valid(number):
        return RuleResult(
            "registration",
            False,
            f"统一社会信用代码 {number} 校验位不正确",
            f"the credit code {number} fails its check character",
        )
    return RuleResult("registration", True, f"已登记或备案（{number}）", f"registered as {number}")


def _founded(organisation: Organisation, *, months: int | None, as_of: date) -> RuleResult:
    if months is None:
        return RuleResult("founded", True, "本次无成立时间要求", "no minimum age required")
    founded = organisation.founded_on
    if founded is None:
        return RuleResult("founded", False, "未填写成立时间", "the founding date is missing")
    age = (as_of.year - founded.year) * 12 + as_of.month - founded.month - (as_of.day < founded.day)
    if age < months:
        return RuleResult(
            "founded",
            False,
            f"成立不满{months}个月（{founded} 成立）",
            f"founded {founded}: less than {months} months before the deadline",
        )
    return RuleResult("founded", True, f"成立已满{months}个月", f"founded at least {months} months ago")


def _amount(application: Application, config: CompetitionConfig) -> RuleResult:
    low, cap = config.budget.per_project_min, config.budget.per_project_cap
    category = config.category(application.category)
    if category is not None and category.max_amount is not None:
        cap = min(cap, category.max_amount)
    amount = application.amount_fen
    text, span = format_yuan(amount), f"{format_yuan(low)}–{format_yuan(cap)}"
    if low <= amount <= cap:
        return RuleResult("amount", True, f"申请金额 {text} 元在 {span} 元之间", f"{text} is within {span}")
    return RuleResult("amount", False, f"申请金额 {text} 元不在 {span} 元之间", f"{text} is outside {span}")


# ---- storing and deciding ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningOutcome:
    """One application's screening result; the reasons of the failed rules, for the result letter."""

    application_id: int
    passed: bool
    reasons: list[str] = field(default_factory=list)  # Chinese: "登记或备案：未填写…"
    reasons_en: list[str] = field(default_factory=list)


def screen_applications(
    session: Session, *, competition_id: int, actor: str, barred: Sequence[BarredRecord] = ()
) -> list[ScreeningOutcome]:
    """Screen every submitted application; store each rule's result; move it to eligible/ineligible.

    ``barred``: organisations barred by earlier years' outcomes (the screening task passes them).

    Idempotent: screened applications are left alone, and a result an administrator overrode is kept.
    The caller commits.
    """
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    config = competition_config(competition)
    applications = list(
        session.exec(
            select(Application)
            .where(
                Application.competition_id == competition_id, Application.state != ApplicationState.withdrawn
            )
            .order_by(col(Application.submitted_at), col(Application.id))
        )
    )
    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({a.organisation_id for a in applications}))
        )
    }
    seen: dict[str, list[Application]] = {}
    outcomes = []
    for application in applications:
        earlier = seen.setdefault(_identity(organisations[application.organisation_id]), [])
        if application.state == ApplicationState.submitted:
            results = check_application(
                application,
                organisations[application.organisation_id],
                config=config,
                earlier=list(earlier),
                barred=barred,
            )
            outcomes.append(_decide(session, application, _store(session, application, results), actor=actor))
        earlier.append(application)
    return outcomes


def _store(session: Session, application: Application, results: list[RuleResult]) -> list[EligibilityCheck]:
    assert application.id is not None
    stored = {c.rule: c for c in checks_of(session, application_id=application.id)}
    now = utcnow()
    for result in results:
        check = stored.get(result.rule)
        if check is None:
            check = EligibilityCheck(application_id=application.id, rule=result.rule, passed=result.passed)
            stored[result.rule] = check
        elif check.overridden_by or (check.passed, check.reason) == (result.passed, result.reason):
            continue
        check.passed, check.reason, check.checked_at = result.passed, result.reason, now
        session.add(check)
    session.flush()
    return [stored[rule] for rule in RULES if rule in stored]


def _decide(
    session: Session, application: Application, checks: list[EligibilityCheck], *, actor: str
) -> ScreeningOutcome:
    assert application.id is not None
    failed = [c for c in checks if not c.passed]
    reasons = [f"{RULE_LABELS.get(c.rule, c.rule)}：{_halves(c.reason)[0]}" for c in failed]
    reasons_en = [f"{c.rule}: {_halves(c.reason)[1]}" for c in failed]
    if failed:
        set_state(
            session,
            application,
            ApplicationState.ineligible,
            actor=actor,
            reason="资格审查未通过："
            + "；".join(reasons)
            + " / failed eligibility screening: "
            + "; ".join(reasons_en),
            data={"failed": [c.rule for c in failed]},
        )
    else:
        set_state(
            session,
            application,
            ApplicationState.eligible,
            actor=actor,
            reason="资格审查通过 / passed eligibility screening",
        )
    return ScreeningOutcome(application.id, not failed, reasons, reasons_en)


def _halves(reason: str) -> tuple[str, str]:
    """A stored reason "中文 / English" as its two halves."""
    zh, _, en = reason.partition(" / ")
    return zh, en or zh


def checks_of(session: Session, *, application_id: int) -> list[EligibilityCheck]:
    rows = session.exec(select(EligibilityCheck).where(EligibilityCheck.application_id == application_id))
    order = {rule: i for i, rule in enumerate(RULES)}
    return sorted(rows, key=lambda c: (order.get(c.rule, len(order)), c.rule))


def override_check(
    session: Session, *, application_id: int, rule: str, passed: bool, reason: str, actor: str
) -> EligibilityCheck:
    """An administrator overturns one rule's result, with a reason (audited); the application's
    state follows: eligible when every rule now passes, ineligible otherwise. The caller commits."""
    reason = reason.strip()
    if not reason:
        raise InputError(Problem("", "改判理由", "改判须填写理由", "an override needs a reason"))
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"没有申报 #{application_id} / no application #{application_id}")
    checks = checks_of(session, application_id=application_id)
    check = next((c for c in checks if c.rule == rule), None)
    if check is None:
        raise NotFound(
            f"申报 #{application_id} 尚无“{RULE_LABELS.get(rule, rule)}”审查结果 / "
            f"application #{application_id} has no result for rule {rule!r}"
        )
    all_pass = passed and all(c.passed for c in checks if c is not check)
    target = ApplicationState.eligible if all_pass else ApplicationState.ineligible
    decided = (ApplicationState.eligible, ApplicationState.ineligible)
    move = application.state in decided and application.state != target
    if application.state not in (*decided, ApplicationState.submitted) and not all_pass:
        # past screening (in review, funded …): a failing rule cannot take the application back
        raise IllegalTransition(
            "application",
            application_id,
            str(application.state),
            str(target),
            sorted(str(s) for s in allowed_moves(application)),
        )
    before = check.passed
    check.passed, check.overridden_by, check.override_reason = passed, actor, reason
    check.checked_at = utcnow()
    session.add(check)
    session.flush()
    record(
        session,
        actor=actor,
        entity="application",
        entity_id=application_id,
        action="eligibility_override",
        reason=reason,
        data={"rule": rule, "from": before, "to": passed},
    )
    if move:
        label = RULE_LABELS.get(rule, rule)
        set_state(
            session,
            application,
            target,
            actor=actor,
            reason=f"管理员改判“{label}”：{reason} / override of {rule}: {reason}",
        )
    session.flush()
    return check


def rule_requirements(config: CompetitionConfig) -> dict[str, str]:
    """What each rule asks, in the words of the 资格审查表 (from the configuration)."""
    rules, budget = config.eligibility, config.budget
    number = "须提供统一社会信用代码、登记证号或备案号"
    return {
        "organisation_kind": "、".join(ORGANISATION_KIND_LABELS[k] for k in rules.organisation_kinds),
        "registration": number if rules.require_registration_number else "不要求",
        "founded": f"成立满{rules.min_founded_months}个月" if rules.min_founded_months else "不要求",
        "community": f"{len(config.communities)}个社区内" if rules.within_communities else "不限",
        "amount": f"{format_yuan(budget.per_project_min)}元至{format_yuan(budget.per_project_cap)}元",
        "one_per_organisation": "每个单位限报1个项目" if rules.one_application_per_organisation else "不限",
        "barred": "不在禁止申报名单内",
        "attachments": "、".join(rules.required_attachments) or "无",
    }


def sheet_rows(checks: Sequence[EligibilityCheck], config: CompetitionConfig) -> list[dict[str, str]]:
    """The rows of the 资格审查表: rule, requirement, 符合/不符合, and the reason (with any override)."""
    requirements = rule_requirements(config)
    rows = []
    for check in checks:
        note = _halves(check.reason)[0]
        if check.overridden_by:
            note = f"{note}（管理员改判：{check.override_reason}）"
        rows.append(
            {
                "rule": RULE_LABELS.get(check.rule, check.rule),
                "requirement": requirements.get(check.rule, ""),
                "result": "符合" if check.passed else "不符合",
                "note": note,
            }
        )
    return rows
