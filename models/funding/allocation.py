"""立项 allocation: pure rules from the ranking and the configuration to a funded amount per project.

Nothing here touches the database: ``allocate(candidates, rules)`` takes plain values and returns
an ``Allocation`` whose every outcome carries one sentence (Chinese, English beside it) naming the
project's ranks, its score, the rule that funded or cut it and the money left at that point. The
same inputs always give the same result, byte for byte.

The rules, in the order they apply:

1. **合格线.** A project below ``threshold`` (or excluded, e.g. by an upheld objection) gets nothing.
2. **Target amount.** The request, or the configured share of it for the project's score band
   (``request_shares``: the band with the highest ``min_score`` the score reaches; the share is
   rounded *down* to the whole yuan), capped at ``cap_fen``. Below ``min_fen`` it cannot be funded.
3. **Order.** Within its pool, by score (high first), then the configured tie-break values, then the
   administrator's decision for a tie, then 申报编号. Projects still tied after the configured rules
   whose outcomes differ are an *open tie* (``Allocation.ties``): the draft cannot be approved until
   the administrator decides their order.
4. **Quotas** (``Quota``: at least *n* projects of a category, or of each community that has a
   project reaching the threshold). After an allocation by score, the first quota not met reserves
   the money of its best-ranked unfunded project (its pool must hold it); the allocation is run
   again around the reserved projects, until every quota is met or cannot be.
5. **Pools**, in configured order, each with its own budget. A project that does not fit in what is
   left is skipped (``skip``: the next one that fits is funded) or, with ``offer``, funded with what
   is left when that is at least ``min_fen``. Category limits (projects, amount) apply across pools.
6. **Unspent money.** ``returned``: what a pool leaves returns to the competition pool. With
   ``other_pool`` a pool that has nobody left to fund hands what it leaves to the pools that do,
   in configured order (each is allocated again with the extra money); what none can use returns.

Totals reconcile exactly: funded + returned == the competition pool (``Allocation.reconciles``).

Long by design: one pure allocation walk with its rules (pools, quotas, remainder, share, unspent
money); split, the walk would be hard to follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from models.money import format_yuan

# the rules that decide an outcome (FundingDecision.rule)
FUNDED = "funded"  # 按得分顺序资助
QUOTA = "quota"  # 按配额保障资助
REMAINDER = "remainder"  # 以剩余资金资助
BELOW_THRESHOLD = "below_threshold"
EXCLUDED = "excluded"
BELOW_MINIMUM = "below_minimum"  # its target is under the per-project minimum
NO_MONEY = "no_money"  # did not fit in what was left (skip rule)
REMAINDER_TOO_SMALL = "remainder_too_small"  # what was left was under the minimum (offer rule)
CATEGORY_FULL = "category_full"
FUNDING_RULES = frozenset({FUNDED, QUOTA, REMAINDER})
WANTS_MONEY = frozenset({NO_MONEY, REMAINDER_TOO_SMALL, REMAINDER})


@dataclass(frozen=True)
class Candidate:
    """One ranked application as the allocation sees it."""

    key: int
    ref: str
    pool: str
    category: str
    community: str
    score: Decimal
    requested_fen: int
    rank: int | None = None
    pool_rank: int | None = None
    tie_keys: tuple[Any, ...] = ()  # the configured tie-break values, smaller first
    precedence: int | None = None  # the administrator's order within a tie (decide-tie)
    excluded: str = ""  # why it may not be funded, "zh / en" (an upheld objection)


@dataclass(frozen=True)
class PoolBudget:
    code: str
    name: str
    budget_fen: int


@dataclass(frozen=True)
class Quota:
    """At least ``minimum`` funded projects whose ``kind`` (category | community) is ``value``."""

    kind: str
    value: str
    label: str
    minimum: int


@dataclass(frozen=True)
class Rules:
    total_fen: int  # the competition pool
    pools: tuple[PoolBudget, ...]
    cap_fen: int
    min_fen: int
    threshold: Decimal
    remainder: str = "skip"  # skip | offer
    unspent: str = "returned"  # returned | other_pool
    shares: tuple[tuple[Decimal, Decimal], ...] = ()  # (min_score, percent)
    quotas: tuple[Quota, ...] = ()
    category_max_projects: Mapping[str, int] = field(default_factory=dict)
    category_max_fen: Mapping[str, int] = field(default_factory=dict)
    category_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    key: int
    ref: str
    pool: str
    funded_fen: int
    target_fen: int
    rule: str
    left_fen: int  # what its pool held after this project was decided
    zh: str
    en: str
    tie: tuple[str, ...] = ()  # the others it is tied with, when the tie is open

    @property
    def sentence(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class PoolResult:
    code: str
    name: str
    budget_fen: int
    received_fen: int  # moved in from other pools
    funded_fen: int
    left_fen: int
    moved_fen: int  # handed on to other pools
    returned_fen: int


@dataclass(frozen=True)
class Allocation:
    total_fen: int
    outcomes: tuple[Outcome, ...]
    pools: tuple[PoolResult, ...]
    unassigned_fen: int  # the part of the competition pool no pool was given
    ties: tuple[tuple[str, ...], ...]
    unmet_quotas: tuple[str, ...]

    @property
    def funded_fen(self) -> int:
        return sum(o.funded_fen for o in self.outcomes)

    @property
    def returned_fen(self) -> int:
        return self.unassigned_fen + sum(p.returned_fen for p in self.pools)

    @property
    def reconciles(self) -> bool:
        return self.funded_fen + self.returned_fen == self.total_fen

    def outcome(self, ref: str) -> Outcome:
        return next(o for o in self.outcomes if o.ref == ref)


def _yuan(fen: int) -> str:
    return f"{format_yuan(fen)}元"


def target_of(candidate: Candidate, rules: Rules) -> tuple[int, Decimal]:
    """The amount the project may get (its share of the request, capped) and the share applied."""
    percent = Decimal(100)
    for min_score, share in sorted(rules.shares, reverse=True):
        if candidate.score >= min_score:
            percent = share
            break
    amount = candidate.requested_fen
    if percent != 100:
        amount = int((Decimal(amount) * percent / 100 / 100).to_integral_value(rounding=ROUND_FLOOR)) * 100
    return min(amount, rules.cap_fen), percent


def order_key(candidate: Candidate) -> tuple[Any, ...]:
    precedence = candidate.precedence
    return (-candidate.score, candidate.tie_keys, precedence is None, precedence or 0, candidate.ref)


def _tie_group(candidate: Candidate) -> tuple[Any, ...]:
    return (candidate.pool, candidate.score, candidate.tie_keys)


@dataclass
class _Run:
    outcomes: dict[int, Outcome]
    left: dict[str, int]
    wants_money: dict[str, bool]


def _prefix(c: Candidate, pool_name: str) -> tuple[str, str]:
    rank = f"总排名第{c.rank}、" if c.rank is not None else ""
    pool_rank = f"{pool_name}第{c.pool_rank}名，" if c.pool_rank is not None else f"{pool_name}，"
    en_rank = f"rank {c.rank} overall, " if c.rank is not None else ""
    en_pool = f"{c.pool_rank} in pool {c.pool}" if c.pool_rank is not None else f"pool {c.pool}"
    return f"{rank}{pool_rank}得分{c.score}", f"{en_rank}{en_pool}, score {c.score}"


def _run(
    ordered: Sequence[Candidate], rules: Rules, reserved: Mapping[int, Quota], extra: Mapping[str, int]
) -> _Run:
    """One pass over the pools with ``reserved`` projects' money held for them."""
    outcomes: dict[int, Outcome] = {}
    left: dict[str, int] = {}
    wants: dict[str, bool] = {}
    projects: dict[str, int] = {}
    amounts: dict[str, int] = {}
    for pool in rules.pools:
        name = pool.name
        members = [c for c in ordered if c.pool == pool.code]
        money = pool.budget_fen + extra.get(pool.code, 0)
        held = {c.key: target_of(c, rules)[0] for c in members if c.key in reserved}
        money -= sum(held.values())
        wants[pool.code] = False
        for c in members:
            zh, en = _prefix(c, name)
            target, percent = target_of(c, rules)
            share_zh = f"申请额的{percent}%" if percent != 100 else ""
            share_en = f"{percent}% of the request, " if percent != 100 else ""
            capped_zh = (
                f"（申请{_yuan(c.requested_fen)}，按单项上限）"
                if target == rules.cap_fen and (c.requested_fen > rules.cap_fen)
                else ""
            )
            capped_en = " (capped)" if capped_zh else ""
            category = rules.category_names.get(c.category, c.category)
            head = (c, target, money, zh, en)

            if c.excluded:
                why_zh, _, why_en = c.excluded.partition(" / ")
                outcomes[c.key] = _cut(
                    *head, EXCLUDED, f"{why_zh}，不予资助", f"{why_en or why_zh}; not funded"
                )
                continue
            if c.score < rules.threshold:
                outcomes[c.key] = _cut(
                    *head,
                    BELOW_THRESHOLD,
                    f"低于合格线{rules.threshold}分，不予资助",
                    f"below the fundable score {rules.threshold}; not funded",
                )
                continue
            if target < rules.min_fen:
                outcomes[c.key] = _cut(
                    *head,
                    BELOW_MINIMUM,
                    f"可资助金额{_yuan(target)}低于单项下限{_yuan(rules.min_fen)}，不予资助",
                    f"its amount {format_yuan(target)} is under the minimum {format_yuan(rules.min_fen)}",
                )
                continue
            if c.key in reserved:
                projects[c.category] = projects.get(c.category, 0) + 1
                amounts[c.category] = amounts.get(c.category, 0) + target
                quota = next((q for q in rules.quotas if _meets(c, q)), Quota("", "", "配额 / quota", 0))
                q_zh, _, q_en = quota.label.partition(" / ")
                outcomes[c.key] = Outcome(
                    c.key,
                    c.ref,
                    c.pool,
                    target,
                    target,
                    QUOTA,
                    money,
                    f"{zh}，按“{q_zh}至少{quota.minimum}个项目”的保障规则资助{share_zh}{_yuan(target)}"
                    f"{capped_zh}，{name}此时剩余{_yuan(money)}。",
                    f"{en}: funded {share_en}{format_yuan(target)} yuan{capped_en} by the quota "
                    f"'{q_en or q_zh} ≥ {quota.minimum}'; {format_yuan(money)} yuan left in the pool.",
                )
                continue
            max_projects = rules.category_max_projects.get(c.category)
            max_fen = rules.category_max_fen.get(c.category)
            if max_projects is not None and projects.get(c.category, 0) >= max_projects:
                outcomes[c.key] = _cut(
                    *head,
                    CATEGORY_FULL,
                    f"“{category}”领域已资助{max_projects}个项目（上限），不予资助",
                    f"category {c.category} already has its {max_projects} projects (limit)",
                )
                continue
            room_fen = None if max_fen is None else max_fen - amounts.get(c.category, 0)
            if room_fen is not None and target > room_fen:
                outcomes[c.key] = _cut(
                    *head,
                    CATEGORY_FULL,
                    f"“{category}”领域剩余额度{_yuan(max(room_fen, 0))}不足所需{_yuan(target)}，不予资助",
                    f"category {c.category} has {format_yuan(max(room_fen, 0))} yuan of its limit left",
                )
                continue
            if target <= money:
                money -= target
                rule, amount = FUNDED, target
                text_zh = f"按得分顺序资助{share_zh}{_yuan(target)}{capped_zh}，{name}剩余{_yuan(money)}"
                text_en = (
                    f"funded {share_en}{format_yuan(target)} yuan{capped_en} in score order; "
                    f"{format_yuan(money)} yuan left in the pool"
                )
                moved_in = extra.get(pool.code, 0)
                if moved_in and money < moved_in:
                    text_zh += f"（用到了其他组调剂来的资金，本组共调入{_yuan(moved_in)}）"
                    text_en += (
                        f" (using money moved in from other pools: {format_yuan(moved_in)} yuan in all)"
                    )
            elif rules.remainder == "offer" and money >= rules.min_fen:
                amount, rule = money, REMAINDER
                text_zh = (
                    f"{name}剩余{_yuan(money)}，不足所需{_yuan(target)}但不低于单项下限"
                    f"{_yuan(rules.min_fen)}，按剩余资金资助{_yuan(money)}，{name}剩余0.00元"
                )
                text_en = (
                    f"{format_yuan(money)} yuan were left, less than its {format_yuan(target)} but at least "
                    f"the minimum: funded with what was left; 0.00 yuan left in the pool"
                )
                money = 0
                wants[pool.code] = True
            elif rules.remainder == "offer":
                wants[pool.code] = True
                outcomes[c.key] = _cut(
                    *head,
                    REMAINDER_TOO_SMALL,
                    f"{name}仅剩{_yuan(money)}，低于单项下限{_yuan(rules.min_fen)}，不予资助",
                    f"only {format_yuan(money)} yuan were left, under the minimum; not funded",
                )
                continue
            else:
                wants[pool.code] = True
                outcomes[c.key] = _cut(
                    *head,
                    NO_MONEY,
                    f"{name}此时仅剩{_yuan(money)}，不足所需{_yuan(target)}，跳过并资助下一个放得下的项目",
                    f"only {format_yuan(money)} yuan were left for its {format_yuan(target)}; skipped "
                    f"for the next project that fits",
                )
                continue
            projects[c.category] = projects.get(c.category, 0) + 1
            amounts[c.category] = amounts.get(c.category, 0) + amount
            outcomes[c.key] = Outcome(
                c.key, c.ref, c.pool, amount, target, rule, money, f"{zh}，{text_zh}。", f"{en}: {text_en}."
            )
        left[pool.code] = money
    return _Run(outcomes, left, wants)


def _cut(
    c: Candidate, target: int, money: int, zh: str, en: str, rule: str, why_zh: str, why_en: str
) -> Outcome:
    return Outcome(c.key, c.ref, c.pool, 0, target, rule, money, f"{zh}，{why_zh}。", f"{en}: {why_en}.")


def _meets(c: Candidate, quota: Quota) -> bool:
    return (c.category if quota.kind == "category" else c.community) == quota.value


def _funded(run: _Run) -> set[int]:
    return {key for key, o in run.outcomes.items() if o.rule in FUNDING_RULES}


def _quotas(ordered: Sequence[Candidate], rules: Rules) -> list[Quota]:
    """The quotas that apply: a community's only when one of its projects reaches the threshold."""
    return [
        q
        for q in rules.quotas
        if q.kind != "community"
        or any(_meets(c, q) and c.score >= rules.threshold and not c.excluded for c in ordered)
    ]


@dataclass(frozen=True)
class _Transfers:
    extra: dict[str, int] = field(default_factory=dict)  # what each receiving pool was given
    moved: dict[str, int] = field(default_factory=dict)  # what each pool handed on


def _with_transfers(
    ordered: Sequence[Candidate], rules: Rules, reserved: Mapping[int, Quota]
) -> tuple[_Run, _Transfers]:
    """A run, and with ``other_pool`` the money pools that cannot use it hand to those that can."""
    run = _run(ordered, rules, reserved, {})
    if rules.unspent != "other_pool":
        return run, _Transfers()
    donors = [p.code for p in rules.pools if not run.wants_money[p.code] and run.left[p.code] > 0]
    receivers = [p.code for p in rules.pools if run.wants_money[p.code]]
    moving = sum(run.left[d] for d in donors)
    if not donors or not receivers:
        return run, _Transfers()
    transfers = _Transfers(moved={d: run.left[d] for d in donors})
    previous = ""
    for code in receivers:
        if previous:
            transfers.moved[previous] = moving
        transfers.extra[code] = moving
        run = _run(ordered, rules, reserved, transfers.extra)
        moving, previous = run.left[code], code
        if moving == 0:
            break
    return run, transfers


def allocate(candidates: Sequence[Candidate], rules: Rules) -> Allocation:
    """Fund the candidates by the rules (see the module docstring); deterministic."""
    ordered = sorted(candidates, key=order_key)
    by_key = {c.key: c for c in ordered}
    reserved: dict[int, Quota] = {}
    unreachable: list[Quota] = []
    quotas = _quotas(ordered, rules)
    while True:
        run, transfers = _with_transfers(ordered, rules, reserved)
        funded = _funded(run)
        unmet = next(
            (
                q
                for q in quotas
                if q not in unreachable and sum(1 for k in funded if _meets(by_key[k], q)) < q.minimum
            ),
            None,
        )
        if unmet is None:
            break
        held: dict[str, int] = {}
        for key in reserved:
            held[by_key[key].pool] = held.get(by_key[key].pool, 0) + target_of(by_key[key], rules)[0]
        budgets = {p.code: p.budget_fen for p in rules.pools}
        pick = next(
            (
                c
                for c in ordered
                if _meets(c, unmet)
                and c.key not in funded
                and c.key not in reserved
                and not c.excluded
                and c.pool in budgets
                and c.score >= rules.threshold
                and rules.min_fen <= target_of(c, rules)[0] <= budgets[c.pool] - held.get(c.pool, 0)
            ),
            None,
        )
        if pick is None:
            unreachable.append(unmet)
        else:
            reserved[pick.key] = unmet
    outcomes = [run.outcomes[c.key] for p in rules.pools for c in ordered if c.pool == p.code]
    ties = _open_ties(ordered, run)
    tied_with = {ref: tuple(r for r in group if r != ref) for group in ties for ref in group}
    outcomes = [_tied(o, tied_with[o.ref]) if o.ref in tied_with else o for o in outcomes]
    pools = _pool_results(rules, run, transfers)
    assigned = sum(p.budget_fen for p in rules.pools)
    outside = [c.ref for c in ordered if c.pool not in {p.code for p in rules.pools}]
    if outside:
        raise ValueError(f"申报 {', '.join(outside)} 不属于任何已配置的组 / not in a configured pool")
    return Allocation(
        total_fen=rules.total_fen,
        outcomes=tuple(outcomes),
        pools=pools,
        unassigned_fen=rules.total_fen - assigned,
        ties=ties,
        unmet_quotas=tuple(q.label for q in unreachable),
    )


def _tied(outcome: Outcome, others: tuple[str, ...]) -> Outcome:
    names = "、".join(others)
    return replace(
        outcome,
        tie=others,
        zh=outcome.zh.removesuffix("。") + f"；与{names}同分且按配置的同分规则仍无法区分，待管理员决定先后。",
        en=outcome.en.removesuffix(".")
        + f"; tied with {', '.join(others)} after the configured tie-break: the administrator decides.",
    )


def _open_ties(ordered: Sequence[Candidate], run: _Run) -> tuple[tuple[str, ...], ...]:
    """Groups still tied after the configured rules whose outcomes differ, unless decided."""
    groups: dict[tuple[Any, ...], list[Candidate]] = {}
    for c in ordered:
        if not c.excluded:
            groups.setdefault(_tie_group(c), []).append(c)
    open_ties = []
    for members in groups.values():
        if len(members) < 2:
            continue
        precedences = [m.precedence for m in members]
        if None not in precedences and len(set(precedences)) == len(precedences):
            continue  # the administrator decided their order
        outcomes = [run.outcomes[m.key] for m in members]
        fates = {(o.funded_fen == o.target_fen, o.funded_fen > 0) for o in outcomes}
        if len(fates) > 1:
            open_ties.append(tuple(sorted(m.ref for m in members)))
    return tuple(sorted(open_ties))


def _pool_results(rules: Rules, run: _Run, transfers: _Transfers) -> tuple[PoolResult, ...]:
    results = []
    for pool in rules.pools:
        left = run.left[pool.code]
        moved = transfers.moved.get(pool.code, 0)
        results.append(
            PoolResult(
                code=pool.code,
                name=pool.name,
                budget_fen=pool.budget_fen,
                received_fen=transfers.extra.get(pool.code, 0),
                funded_fen=sum(o.funded_fen for o in run.outcomes.values() if o.pool == pool.code),
                left_fen=left,
                moved_fen=moved,
                returned_fen=left - moved,
            )
        )
    return tuple(results)
