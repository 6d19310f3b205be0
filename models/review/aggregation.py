"""Score sheets to a ranking, as pure rules (no database): check a sheet, total it, aggregate, rank.

- ``check_points``: one score per criterion, a number within 0 … max_points on the criterion's step;
  every problem at once, each naming its criterion code as the field.
- ``expert_total``: Σ points × weight (exact Decimal). Because the rubric's Σ max_points × weight
  equals its total, an expert's total lies in 0 … total.
- ``aggregate``: the configured method over the experts' totals —
  ``weighted_mean`` the arithmetic mean of the (already weighted) totals; ``median``; ``trimmed_mean``
  drops one highest and one lowest total (去掉一个最高分和一个最低分) when at least ``trimmed_min``
  totals exist, and is a plain mean below that. Which totals were dropped is kept. Among equal
  totals, the expert with the larger id is dropped as highest and the smaller id as lowest (the
  mean is the same either way; the choice is only made stable).
- The standard deviation is the **population** one (divide by n) over all totals of an application,
  dropped ones included: the panel of an application is all its experts, not a sample of them,
  and it is defined for a single score (0). The spread is max − min of all totals.
- Aggregates and deviations are rounded half-up to 0.01, as printed on the 评分汇总表; equal rounded
  aggregates are ties, ordered by the configured tie-break rules (``rank_entries``), each tie
  explained in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Protocol

from models.competition.config import Aggregation, TieBreak
from models.errors import InputError, Problem
from models.money import format_yuan

CENT = Decimal("0.01")


class CriterionRule(Protocol):
    """A rubric criterion (``models.competition.config.Criterion`` or the ``RubricCriterion`` table row)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def max_points(self) -> Decimal: ...
    @property
    def weight(self) -> Decimal: ...
    @property
    def step(self) -> Decimal: ...


def round_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def plain_number(value: Decimal) -> Decimal:
    """A score as it should be stored: normalised, without an exponent or a sign on zero.

    ``1E+1`` → ``10``, ``18.50`` → ``18.5``, ``-0`` / ``0.00`` / ``0E+3`` → ``0`` (a paper sheet's
    cells hold what people typed, and Decimal keeps the form: equal values, different text).
    """
    if not value.is_finite():
        return value
    if value.is_zero():
        return Decimal(0)
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


def _parse(value: object) -> Decimal | None:
    """A number from a form field or a spreadsheet cell; None for an empty one."""
    if value is None or isinstance(value, bool):
        return None if value is None else Decimal("NaN")
    if isinstance(value, float):
        value = repr(value)  # spreadsheet cells arrive as floats; 18.5 → "18.5"
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        return Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("NaN")


def check_points(
    values: Mapping[str, object],
    criteria: Sequence[CriterionRule],
    *,
    where: str,
    require_all: bool = True,
) -> dict[str, Decimal]:
    """The validated points per criterion code, or ``InputError`` listing every problem.

    ``require_all`` (a submitted sheet) demands a score for each criterion; a draft may leave some
    empty, but what it gives must be valid. Empty strings and None count as not given.
    """
    problems: list[Problem] = []
    known = {c.code for c in criteria}
    for code in values:
        if code not in known:
            problems.append(Problem(where, code, "没有这一评分项", f"no criterion {code!r} in the rubric"))
    points: dict[str, Decimal] = {}
    for criterion in criteria:
        raw = values.get(criterion.code)
        value = _parse(raw)
        name, top, step = criterion.name, criterion.max_points, criterion.step
        problem: tuple[str, str] | None = None
        if value is None:
            if require_all:
                problem = (f"“{name}”未评分", f"{name}: not scored")
        elif not value.is_finite():
            problem = (f"“{name}”须为数字：{raw!r}", f"{name}: not a number: {raw!r}")
        elif not Decimal(0) <= value <= top:
            problem = (
                f"“{name}”须在 0 到 {top} 分之间（填写了 {value}）",
                f"{name}: must be between 0 and {top} (got {value})",
            )
        elif value % step != 0:
            problem = (
                f"“{name}”须为 {step} 分的整数倍（填写了 {value}）",
                f"{name}: must be a multiple of {step} (got {value})",
            )
        else:
            points[criterion.code] = value
        if problem is not None:
            problems.append(Problem(where, criterion.code, *problem))
    if problems:
        raise InputError(problems)
    return points


def expert_total(points: Mapping[str, Decimal], criteria: Sequence[CriterionRule]) -> Decimal:
    """Σ points × weight over every criterion (exact). A missing criterion is a ``ValueError``."""
    missing = [c.code for c in criteria if c.code not in points]
    if missing:
        raise ValueError(f"sheet lacks criteria {missing}")
    return sum((points[c.code] * c.weight for c in criteria), Decimal(0))


@dataclass(frozen=True)
class Aggregate:
    """The aggregate of one application's expert totals, and how it was reached."""

    method: Aggregation
    value: Decimal  # rounded to 0.01
    totals: Mapping[int, Decimal]  # expert id -> total
    dropped_high: int | None = None
    dropped_low: int | None = None
    std: Decimal = Decimal(0)
    spread: Decimal = Decimal(0)

    @property
    def trimmed(self) -> bool:
        return self.dropped_high is not None

    @property
    def dropped(self) -> tuple[int, ...]:
        return tuple(k for k in (self.dropped_low, self.dropped_high) if k is not None)

    @property
    def kept(self) -> tuple[int, ...]:
        return tuple(k for k in sorted(self.totals) if k not in self.dropped)


def _mean(values: Sequence[Decimal]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 34
        return sum(values, Decimal(0)) / len(values)


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return _mean([ordered[middle - 1], ordered[middle]])


def population_std(values: Sequence[Decimal]) -> Decimal:
    """√(Σ(x − mean)² / n), exact to 34 digits before rounding."""
    with localcontext() as ctx:
        ctx.prec = 34
        mean = _mean(values)
        variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / len(values)
        return variance.sqrt()


def aggregate(totals: Mapping[int, Decimal], *, method: Aggregation, trimmed_min: int = 5) -> Aggregate:
    """Aggregate the experts' totals (keyed by expert id) with ``method``."""
    if not totals:
        raise ValueError("no totals to aggregate")
    values = list(totals.values())
    high = low = None
    if method is Aggregation.median:
        value = _median(values)
    elif method is Aggregation.trimmed_mean and len(totals) >= max(trimmed_min, 3):
        ordered = sorted(totals, key=lambda k: (totals[k], k))
        low, high = ordered[0], ordered[-1]
        value = _mean([totals[k] for k in ordered[1:-1]])
    else:  # weighted_mean, or trimmed_mean with too few totals
        value = _mean(values)
    return Aggregate(
        method=method,
        value=round_cent(value),
        totals=dict(totals),
        dropped_high=high,
        dropped_low=low,
        std=round_cent(population_std(values)),
        spread=max(values) - min(values),
    )


FLAG_LABELS: Mapping[str, tuple[str, str]] = {
    "disagreement": ("专家评分分歧较大", "experts disagree beyond the configured spread"),
    "incomplete": ("评分表未收齐", "fewer score sheets than experts assigned"),
    "not_trimmed": ("评分不足，未去掉最高分和最低分", "too few scores to drop the highest and lowest"),
}


def flags_for(result: Aggregate, *, spread_limit: Decimal, expected: int) -> list[str]:
    """Flag codes (see ``FLAG_LABELS``) for one application's aggregate."""
    flags = []
    if result.spread > spread_limit:
        flags.append("disagreement")
    if len(result.totals) < expected:
        flags.append("incomplete")
    if result.method is Aggregation.trimmed_mean and not result.trimmed:
        flags.append("not_trimmed")
    return flags


@dataclass(frozen=True)
class RankEntry:
    """What the ranking needs to know about one application."""

    key: int  # application id
    ref: str
    aggregate: Decimal
    criterion_means: tuple[Decimal, ...]  # mean points per criterion over the kept sheets, rubric order
    amount_fen: int
    submitted_at: datetime


@dataclass(frozen=True)
class Ranked:
    key: int
    rank: int  # 1, 2, 3 … (the tie-break rules make the order total)
    tie_note: str = ""  # why it stands where it does among equal aggregates (zh / en); "" when untied


def _rules(tie_break: Sequence[TieBreak]) -> list[TieBreak]:
    rules = list(dict.fromkeys(tie_break))
    if TieBreak.ref not in rules:
        rules.append(TieBreak.ref)  # 申报编号 always ends the order
    return rules


def _sort_key(entry: RankEntry, rules: Sequence[TieBreak]) -> tuple[object, ...]:
    parts: list[object] = [-entry.aggregate]
    for rule in rules:
        if rule is TieBreak.criterion:
            parts.append(tuple(-m for m in entry.criterion_means))
        elif rule is TieBreak.lower_amount:
            parts.append(entry.amount_fen)
        elif rule is TieBreak.earlier_submission:
            parts.append(entry.submitted_at)
        else:
            parts.append(entry.ref)
    parts.append(entry.key)
    return tuple(parts)


def _decider(a: RankEntry, b: RankEntry, rules: Sequence[TieBreak], names: Sequence[str]) -> tuple[str, str]:
    """Why ``a`` ranks before ``b`` (equal aggregates): (zh, en)."""
    for rule in rules:
        if rule is TieBreak.criterion:
            for name, x, y in zip(names, a.criterion_means, b.criterion_means, strict=False):
                if x != y:
                    return (
                        f"“{name}”平均分较高（{round_cent(x)} > {round_cent(y)}）",
                        f"a higher mean on {name}: {round_cent(x)} > {round_cent(y)}",
                    )
        elif rule is TieBreak.lower_amount and a.amount_fen != b.amount_fen:
            x_yuan, y_yuan = format_yuan(a.amount_fen), format_yuan(b.amount_fen)
            return (
                f"申请金额较少（{x_yuan} 元 < {y_yuan} 元）",
                f"a smaller request: {x_yuan} < {y_yuan} yuan",
            )
        elif rule is TieBreak.earlier_submission and a.submitted_at != b.submitted_at:
            x_at = a.submitted_at.isoformat(timespec="seconds")
            y_at = b.submitted_at.isoformat(timespec="seconds")
            return (f"申报时间较早（{x_at} 早于 {y_at}）", f"an earlier submission: {x_at} before {y_at}")
        elif rule is TieBreak.ref and a.ref != b.ref:
            return (f"申报编号在前（{a.ref} 先于 {b.ref}）", f"an earlier reference: {a.ref} before {b.ref}")
    return ("内部编号在前", "a lower internal id")


def rank_entries(
    entries: Sequence[RankEntry], *, tie_break: Sequence[TieBreak], criterion_names: Sequence[str]
) -> list[Ranked]:
    """Rank by aggregate (highest first), equal aggregates ordered by ``tie_break`` then 申报编号.

    Every entry of a tie gets a note naming the tied applications and, for each neighbour in the
    tie, the first rule that separated them.
    """
    rules = _rules(tie_break)
    ordered = sorted(entries, key=lambda e: _sort_key(e, rules))
    ties: dict[Decimal, list[RankEntry]] = {}  # grouped once: a scan per entry made 9,000 take 11 s
    for entry in ordered:
        ties.setdefault(entry.aggregate, []).append(entry)
    result: list[Ranked] = []
    for position, entry in enumerate(ordered):
        tied = ties[entry.aggregate]
        note = ""
        if len(tied) > 1:
            index = tied.index(entry)
            refs = "、".join(e.ref for e in tied)
            zh = [f"与 {refs} 同为 {entry.aggregate} 分，按并列规则排第 {index + 1}/{len(tied)}"]
            tied_en = ", ".join(e.ref for e in tied)
            en = [f"tied at {entry.aggregate} among {tied_en}: {index + 1} of {len(tied)}"]
            if index > 0:
                why_zh, why_en = _decider(tied[index - 1], entry, rules, criterion_names)
                zh.append(f"排在 {tied[index - 1].ref} 之后：对方{why_zh}")
                en.append(f"after {tied[index - 1].ref}, which has {why_en}")
            if index + 1 < len(tied):
                why_zh, why_en = _decider(entry, tied[index + 1], rules, criterion_names)
                zh.append(f"排在 {tied[index + 1].ref} 之前：{why_zh}")
                en.append(f"before {tied[index + 1].ref}, having {why_en}")
            note = "；".join(zh) + " / " + "; ".join(en)
        result.append(Ranked(key=entry.key, rank=position + 1, tie_note=note))
    return result
