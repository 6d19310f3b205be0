"""立项决定 The staged funding decision: draft → (adjust, decide ties) → approve.

``draft_decision`` reads the ranking (``ReviewResult``) and the configuration, runs the pure rules of
``models.funding.allocation`` and stores one ``FundingDecision`` per ranked application with its
amount and its one-sentence explanation. It is safe to re-run: the same inputs store the same rows
(nothing is written, nothing audited, when nothing changed), and once the decision is approved a
draft changes nothing. ``adjust_amount`` lets the administrator lower a funded amount with a reason
(the explanation names it); ``decide_tie`` orders projects tied at the cut after the configured
tie-break rules; ``approve_decision`` refuses while a tie or an objection is open, marks the rows
released and moves the applications (拟资助 / 未入选) and the competition (立项决定 → 公示期).
Every change leaves an audit row.

Long by design: the staged decision — draft, reasons, adjustments, ties, approval — is one state
with one writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import CompetitionConfig, TieBreak
from models.competition.tables import Competition, competition_config, list_criteria
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.allocation import (
    FUNDING_RULES,
    Allocation,
    Candidate,
    PoolBudget,
    Quota,
    Rules,
    allocate,
)
from models.funding.tables import FundingDecision, Objection
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.money import format_yuan
from models.review.results import submitted_sheets
from models.review.tables import ReviewResult
from models.states import ApplicationState, CompetitionStage, ObjectionState
from models.types import utcnow

CANDIDATE_STATES = (ApplicationState.scored, ApplicationState.shortlisted, ApplicationState.not_funded)
DECIDING = (CompetitionStage.funding,)


def competition_of(session: Session, competition_id: int) -> tuple[Competition, CompetitionConfig]:
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    return competition, competition_config(competition)


def pool_budgets(config: CompetitionConfig) -> tuple[PoolBudget, ...]:
    """Each pool's budget: its amount, or its share of budget.pool (rounded down to the fen);
    pools with neither share what is left equally (the last takes the remainder)."""
    total = config.budget.pool
    fixed: dict[str, int] = {}
    for pool in config.pools:
        if pool.amount is not None:
            fixed[pool.code] = pool.amount
        elif pool.share is not None:
            fixed[pool.code] = int(Decimal(total) * pool.share / 100)
    rest = [p.code for p in config.pools if p.code not in fixed]
    left = total - sum(fixed.values())
    for i, code in enumerate(rest):
        fixed[code] = (
            left - (left // len(rest)) * (len(rest) - 1) if i == len(rest) - 1 else left // len(rest)
        )
    return tuple(PoolBudget(p.code, p.name, fixed[p.code]) for p in config.pools)


def rules_of(config: CompetitionConfig) -> Rules:
    """The allocation's rules, all from the competition's configuration."""
    funding = config.funding
    quotas = [
        Quota("category", c.code, f"{c.name} / {c.code}", c.min_projects)
        for c in config.categories
        if c.min_projects
    ]
    if funding.community_minimum:
        quotas += [
            Quota("community", name, f"{name}社区 / community {name}", funding.community_minimum)
            for name in config.communities
        ]
    return Rules(
        total_fen=config.budget.pool,
        pools=pool_budgets(config),
        cap_fen=config.budget.per_project_cap,
        min_fen=config.budget.per_project_min,
        threshold=funding.min_aggregate,
        remainder=str(funding.remainder_rule),
        unspent=str(funding.unspent),
        shares=tuple((s.min_score, s.percent) for s in funding.request_shares),
        quotas=tuple(quotas),
        category_max_projects={
            c.code: c.max_projects for c in config.categories if c.max_projects is not None
        },
        category_max_fen={c.code: c.max_amount for c in config.categories if c.max_amount is not None},
        category_names={c.code: c.name for c in config.categories},
    )


def _criterion_means(
    session: Session, competition_id: int, results: dict[int, ReviewResult]
) -> dict[int, tuple[Decimal, ...]]:
    """Mean points per criterion over the kept sheets (those counted in the aggregate)."""
    codes = [c.code for c in list_criteria(session, competition_id=competition_id)]
    sheets = submitted_sheets(session, competition_id=competition_id)
    means = {}
    for application_id, result in results.items():
        kept = [
            points
            for expert, points in sheets.get(application_id, {}).items()
            if not (result.totals.get(str(expert)) or {}).get("dropped")
        ]
        with localcontext() as ctx:
            ctx.prec = 34
            means[application_id] = tuple(
                sum((p.get(code, Decimal(0)) for p in kept), Decimal(0)) / max(len(kept), 1) for code in codes
            )
    return means


def candidates_of(
    session: Session, *, competition_id: int, config: CompetitionConfig, decided: bool = False
) -> list[Candidate]:
    """The ranked applications the rules allocate among: those still under decision (scored,
    拟资助, 未入选), or — ``decided`` — exactly those the approved decision was taken on, whatever
    happened to them since (signed, lapsed), so the approved allocation can be recomputed."""
    query = (
        select(Application, ReviewResult)
        .join(ReviewResult, col(ReviewResult.application_id) == col(Application.id))
        .where(Application.competition_id == competition_id)
    )
    if decided:
        query = query.where(col(Application.id).in_(select(FundingDecision.application_id)))
    else:
        query = query.where(col(Application.state).in_(CANDIDATE_STATES))
    rows = list(session.exec(query))
    stored = _decisions(session, competition_id=competition_id)
    means = _criterion_means(session, competition_id, {a.id or 0: r for a, r in rows})
    found = []
    for application, result in rows:
        assert application.id is not None
        keys: list[Any] = []
        for rule in config.funding.tie_break:
            if rule is TieBreak.criterion:
                keys.append(tuple(-m for m in means[application.id]))
            elif rule is TieBreak.lower_amount:
                keys.append(application.amount_fen)
            elif rule is TieBreak.earlier_submission:
                keys.append(application.submitted_at.isoformat())
            else:
                keys.append(application.ref)
        decision = stored.get(application.id)
        found.append(
            Candidate(
                key=application.id,
                ref=application.ref,
                pool=application.pool,
                category=application.category,
                community=application.community,
                score=result.aggregate,
                requested_fen=application.amount_fen,
                rank=result.rank,
                pool_rank=result.pool_rank,
                tie_keys=tuple(keys),
                precedence=decision.tie_precedence if decision else None,
                excluded=decision.excluded_reason if decision else "",
            )
        )
    return found


def _decisions(session: Session, *, competition_id: int) -> dict[int, FundingDecision]:
    query = select(FundingDecision).where(FundingDecision.competition_id == competition_id)
    return {d.application_id: d for d in session.exec(query)}


def decisions_of(session: Session, *, competition_id: int) -> list[FundingDecision]:
    """The stored decisions, in pool order then rank within the pool."""
    _, config = competition_of(session, competition_id)
    order = {p.code: i for i, p in enumerate(config.pools)}
    rows = list(_decisions(session, competition_id=competition_id).values())
    return sorted(rows, key=lambda d: (order.get(d.pool, 99), d.pool_rank or 10**6, d.rank or 10**6, d.id))


def compute(session: Session, *, competition_id: int) -> Allocation:
    """The allocation the stored inputs give (deterministic); once approved, the approved one."""
    competition, config = competition_of(session, competition_id)
    decided = competition.stage is not CompetitionStage.funding
    return allocate(
        candidates_of(session, competition_id=competition_id, config=config, decided=decided),
        rules_of(config),
    )


def _sentence(zh: str, en: str, decision: FundingDecision) -> str:
    if decision.adjusted_fen is None:
        return f"{zh} / {en}"
    amount = format_yuan(decision.adjusted_fen)
    return (
        f"{zh.removesuffix('。')}；管理员调整为{amount}元（{decision.adjust_reason}）。 / "
        f"{en.removesuffix('.')}; adjusted by the administrator to {amount} yuan ({decision.adjust_reason})."
    )


@dataclass(frozen=True)
class DraftResult:
    allocation: Allocation
    changed: int
    approved: bool  # the decision was already approved: nothing was changed


def draft_decision(session: Session, *, competition_id: int, actor: str) -> DraftResult:
    """Compute and store the draft (see the module docstring)."""
    competition, config = competition_of(session, competition_id)
    allocation = compute(session, competition_id=competition_id)
    if competition.stage is not CompetitionStage.funding:
        if competition.stage in (CompetitionStage.publicity, CompetitionStage.implementation):
            return DraftResult(allocation, 0, approved=True)
        raise Conflict(
            f"竞赛处于“{competition.stage}”阶段，评审结束后才能拟定资助方案 / "
            f"the competition is in stage {competition.stage}: draft the funding after the review closes"
        )
    stored = _decisions(session, competition_id=competition_id)
    by_key = {c.key: c for c in candidates_of(session, competition_id=competition_id, config=config)}
    changed = 0
    for outcome in allocation.outcomes:
        candidate = by_key[outcome.key]
        row = stored.get(outcome.key) or FundingDecision(
            competition_id=competition_id, application_id=outcome.key, funded=False
        )
        if row.adjusted_fen is not None and row.adjusted_fen > outcome.funded_fen:
            row.adjusted_fen, row.adjust_reason, row.adjusted_by = None, "", ""  # the rules now give less
        amount = outcome.funded_fen if row.adjusted_fen is None else row.adjusted_fen
        values: dict[str, Any] = {
            "funded": amount > 0,
            "amount_fen": amount,
            "computed_fen": outcome.funded_fen,
            "left_fen": outcome.left_fen,
            "rank": candidate.rank,
            "pool_rank": candidate.pool_rank,
            "pool": outcome.pool,
            "score": candidate.score,
            "rule": outcome.rule,
            "tie_open": bool(outcome.tie),
            "explanation": _sentence(outcome.zh, outcome.en, row),
        }
        if row.id is not None and all(getattr(row, k) == v for k, v in values.items()):
            continue
        before = {"amount_fen": row.amount_fen, "rule": row.rule} if row.id is not None else None
        for name, value in values.items():
            setattr(row, name, value)
        row.decided_at = utcnow()
        session.add(row)
        session.flush()
        changed += 1
        record(
            session,
            actor=actor,
            entity="funding_decision",
            entity_id=row.id or 0,
            action="funding_draft",
            reason=row.explanation,
            data={"before": before, "amount_fen": amount, "rule": outcome.rule},
        )
    if changed:
        record(
            session,
            actor=actor,
            entity="competition",
            entity_id=competition_id,
            action="funding_drafted",
            reason=f"资助方案：资助{sum(1 for o in allocation.outcomes if o.funded_fen)}项，"
            f"合计{format_yuan(allocation.funded_fen)}元 / funding drafted "
            f"({format_yuan(allocation.funded_fen)} yuan)",
            data={"ties": [list(t) for t in allocation.ties], "unmet_quotas": list(allocation.unmet_quotas)},
        )
    session.flush()
    return DraftResult(allocation, changed, approved=False)


def _decision_by_ref(
    session: Session, *, competition_id: int, ref: str
) -> tuple[FundingDecision, Application]:
    found = session.exec(
        select(FundingDecision, Application)
        .join(Application, col(Application.id) == col(FundingDecision.application_id))
        .where(FundingDecision.competition_id == competition_id, Application.ref == ref)
    ).first()
    if found is None:
        raise NotFound(
            f"资助方案中没有申报编号 {ref}（先运行 funding draft）/ no decision for {ref!r} (draft first)"
        )
    return found


def _require_deciding(competition: Competition) -> None:
    if competition.stage not in DECIDING:
        raise Conflict(
            f"资助方案已批准（阶段“{competition.stage}”），不能再修改 / "
            f"the decision is no longer a draft (stage {competition.stage})"
        )


def adjust_amount(
    session: Session, *, competition_id: int, ref: str, amount_fen: int, reason: str, actor: str
) -> FundingDecision:
    """Lower (or restore) one funded amount with a reason; audited; the explanation names it."""
    competition, config = competition_of(session, competition_id)
    _require_deciding(competition)
    decision, _ = _decision_by_ref(session, competition_id=competition_id, ref=ref)
    reason = reason.strip()
    where = f"funding adjust {ref}"
    if not reason:
        raise InputError(Problem(where, "--reason", "调整须写明理由", "an adjustment needs a reason"))
    if decision.rule not in FUNDING_RULES:
        raise InputError(
            Problem(where, "REF", "该项目未获资助，不能调整金额", f"{ref} is not funded: nothing to adjust")
        )
    minimum = config.budget.per_project_min
    if amount_fen > decision.computed_fen or amount_fen < 0 or (0 < amount_fen < minimum):
        raise InputError(
            Problem(
                where,
                "--amount",
                f"调整后金额须在单项下限{format_yuan(minimum)}元与规则核定的{format_yuan(decision.computed_fen)}元"
                "之间（或为0）",
                f"the amount must be between the minimum {format_yuan(minimum)} and the "
                f"{format_yuan(decision.computed_fen)} the rules gave (or 0)",
            )
        )
    before = decision.amount_fen
    if amount_fen == decision.computed_fen:
        decision.adjusted_fen, decision.adjust_reason, decision.adjusted_by = None, "", ""
    else:
        decision.adjusted_fen, decision.adjust_reason, decision.adjusted_by = amount_fen, reason, actor
    session.add(decision)
    session.flush()
    record(
        session,
        actor=actor,
        entity="funding_decision",
        entity_id=decision.id or 0,
        action="funding_adjusted",
        reason=reason,
        data={"before": before, "after": amount_fen, "ref": ref},
    )
    draft_decision(session, competition_id=competition_id, actor=actor)
    return decision


def decide_tie(
    session: Session, *, competition_id: int, refs: Sequence[str], reason: str, actor: str
) -> list[FundingDecision]:
    """The administrator's order for projects tied at the cut (first = ahead); audited, re-drafted."""
    competition, _ = competition_of(session, competition_id)
    _require_deciding(competition)
    where = "funding decide-tie"
    if not reason.strip():
        raise InputError(Problem(where, "--reason", "须写明决定理由", "a tie decision needs a reason"))
    if len(refs) < 2 or len(set(refs)) != len(refs):
        raise InputError(
            Problem(
                where,
                "REFS",
                "请按先后列出同分的全部项目（至少两个，不重复）",
                "list the tied projects in order",
            )
        )
    allocation = compute(session, competition_id=competition_id)
    group = next((g for g in allocation.ties if set(refs) <= set(g)), None)
    stored = _decisions(session, competition_id=competition_id)
    refs_of = {
        a.id: a.ref for a in session.exec(select(Application).where(col(Application.id).in_(list(stored))))
    }
    decided = {refs_of[k] for k, d in stored.items() if d.tie_precedence is not None}
    open_ties = "; ".join(", ".join(g) for g in allocation.ties)
    if group is None and not set(refs) <= decided:
        raise InputError(
            Problem(
                where,
                "REFS",
                f"{'、'.join(refs)} 不是一组待决定的同分项目",
                f"{', '.join(refs)} are not an open tie (open: {open_ties or 'none'})",
            )
        )
    if group is not None and set(refs) != set(group):
        raise InputError(
            Problem(
                where,
                "REFS",
                f"须列出该组全部同分项目：{'、'.join(group)}",
                f"list all of {', '.join(group)}",
            )
        )
    rows = []
    for position, ref in enumerate(refs, start=1):
        decision, _ = _decision_by_ref(session, competition_id=competition_id, ref=ref)
        decision.tie_precedence = position
        session.add(decision)
        rows.append(decision)
    session.flush()
    record(
        session,
        actor=actor,
        entity="competition",
        entity_id=competition_id,
        action="funding_tie_decided",
        reason=f"同分先后：{' > '.join(refs)}；{reason.strip()} / tie order {' > '.join(refs)}",
        data={"order": list(refs)},
    )
    draft_decision(session, competition_id=competition_id, actor=actor)
    return rows


def open_objections(session: Session, *, competition_id: int) -> list[Objection]:
    return list(
        session.exec(
            select(Objection).where(
                Objection.competition_id == competition_id, Objection.state == ObjectionState.open
            )
        )
    )


def check_may_approve(session: Session, *, competition_id: int) -> list[FundingDecision]:
    """The stored draft's decisions, or ``Conflict`` (changes nothing): no draft yet, a tie at the
    cut or an objection still open. Asked by the approval and, before its run, by the CLI."""
    decisions = list(_decisions(session, competition_id=competition_id).values())
    if not decisions:
        raise Conflict("还没有资助方案（先运行 funding draft）/ no draft to approve: run funding draft")
    ties = sorted(d.application_id for d in decisions if d.tie_open)
    if ties:
        refs = [session.get(Application, i).ref for i in ties]  # type: ignore[union-attr]
        raise Conflict(
            f"同分项目 {'、'.join(refs)} 待管理员决定先后（funding decide-tie），暂不能批准 / "
            f"open tie at the cut ({', '.join(refs)}): decide it first (funding decide-tie)"
        )
    objections = open_objections(session, competition_id=competition_id)
    if objections:
        raise Conflict(
            f"还有 {len(objections)} 件异议未处理，暂不能批准 / {len(objections)} objections are open"
        )
    return decisions


def approve_decision(session: Session, *, competition_id: int, actor: str) -> bool:
    """Approve the draft: refuses while a tie or objection is open; False when already approved."""
    competition, _ = competition_of(session, competition_id)
    if competition.stage in (CompetitionStage.publicity, CompetitionStage.implementation):
        return False
    _require_deciding(competition)
    draft_decision(session, competition_id=competition_id, actor=actor)
    decisions = check_may_approve(session, competition_id=competition_id)
    for decision in decisions:
        application = session.get(Application, decision.application_id)
        assert application is not None
        target = ApplicationState.shortlisted if decision.funded else ApplicationState.not_funded
        if application.state is not target:
            set_state(session, application, target, actor=actor, reason=decision.explanation)
        decision.released = True
        session.add(decision)
    funded = [d for d in decisions if d.funded]
    total = sum(d.amount_fen for d in funded)
    set_state(
        session,
        competition,
        CompetitionStage.publicity,
        actor=actor,
        reason=f"批准资助方案：{len(funded)}项，合计{format_yuan(total)}元 / "
        f"funding approved: {len(funded)} projects, {format_yuan(total)} yuan",
    )
    session.flush()
    return True


def funding_report(session: Session, *, competition_id: int) -> dict[str, Any]:
    """The decision as a JSON-able dict: every application with its amount and reason, the pools,
    and the totals that reconcile to the competition pool (``grantflow funding show``)."""
    competition, config = competition_of(session, competition_id)
    allocation = compute(session, competition_id=competition_id)
    rows: list[dict[str, Any]] = []
    for decision in decisions_of(session, competition_id=competition_id):
        application = session.get(Application, decision.application_id)
        assert application is not None
        organisation = session.get(Organisation, application.organisation_id)
        rows.append(
            {
                "ref": application.ref,
                "title": application.title,
                "organisation": organisation.name if organisation else "",
                "pool": decision.pool,
                "category": application.category,
                "community": application.community,
                "rank": decision.rank,
                "pool_rank": decision.pool_rank,
                "score": str(decision.score) if decision.score is not None else None,
                "requested_fen": application.amount_fen,
                "computed_fen": decision.computed_fen,
                "adjusted_fen": decision.adjusted_fen,
                "amount_fen": decision.amount_fen,
                "rule": decision.rule,
                "tie_open": decision.tie_open,
                "excluded": decision.excluded_reason,
                "state": str(application.state),
                "explanation": decision.explanation,
            }
        )
    funded = sum(r["amount_fen"] for r in rows)
    adjusted_back = sum(r["computed_fen"] - r["amount_fen"] for r in rows)
    returned = allocation.unassigned_fen
    pools = []
    for pool in allocation.pools:
        pool_rows = [r for r in rows if r["pool"] == pool.code]
        pool_returned = pool.returned_fen + sum(r["computed_fen"] - r["amount_fen"] for r in pool_rows)
        returned += pool_returned
        pools.append(
            {
                "code": pool.code,
                "name": pool.name,
                "budget_fen": pool.budget_fen,
                "received_fen": pool.received_fen,
                "moved_fen": pool.moved_fen,
                "funded_fen": sum(r["amount_fen"] for r in pool_rows),
                "returned_fen": pool_returned,
                "projects": sum(1 for r in pool_rows if r["amount_fen"]),
            }
        )
    return {
        "competition": competition.slug,
        "stage": str(competition.stage),
        "approved": competition.stage is not CompetitionStage.funding and bool(rows),
        "pool_fen": config.budget.pool,
        "funded_fen": funded,
        "returned_fen": returned,
        "unassigned_fen": allocation.unassigned_fen,
        "adjusted_back_fen": adjusted_back,
        "reconciles": funded + returned == config.budget.pool,
        "ties": [list(t) for t in allocation.ties],
        "unmet_quotas": list(allocation.unmet_quotas),
        "pools": pools,
        "applications": rows,
    }
