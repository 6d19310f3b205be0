"""Closing the review: aggregates, ranks and flags per application, and the review report.

``close_review`` computes, for every application in review, each expert's total over the
submitted sheets, the configured aggregate (with the dropped totals), the population standard
deviation, the spread and its flags, then ranks overall and within each pool (Application.pool)
with the configured tie-break rules, stores one ``ReviewResult`` per application and moves the
applications in_review → scored. Without an application in review it changes nothing (a re-run is
a no-op); it refuses (``Conflict``, nothing changed) while an application in review has no
submitted sheet. Open sheets left at closing are flagged ``incomplete``.

The tie-break rule ``criterion`` compares the mean points per criterion over the sheets whose totals
count in the aggregate (the kept ones). ``review_report`` is JSON-able: Decimals are strings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import CompetitionConfig
from models.competition.tables import RubricCriterion, list_criteria
from models.errors import Conflict
from models.intake.tables import Application
from models.lifecycle import set_state
from models.review.aggregation import (
    FLAG_LABELS,
    Aggregate,
    Ranked,
    RankEntry,
    aggregate,
    expert_total,
    flags_for,
    rank_entries,
)
from models.review.agreement import panel_agreement
from models.review.reviewing import competition_and_config
from models.review.tables import Expert, ReviewAssignment, ReviewResult, Score
from models.states import ASSIGNMENTS_WITHDRAWN, ApplicationState, AssignmentState
from models.types import utcnow

Sheets = dict[int, dict[int, dict[str, Decimal]]]  # application id -> expert id -> code -> points


def submitted_sheets(session: Session, *, competition_id: int) -> Sheets:
    """The points of every submitted sheet of a competition."""
    code_of = {c.id: c.code for c in list_criteria(session, competition_id=competition_id)}
    rows = session.exec(  # the four columns, not whole rows: 16,000 scores at 1,000 applications
        select(
            col(ReviewAssignment.application_id),
            col(ReviewAssignment.expert_id),
            col(Score.criterion_id),
            col(Score.points),
        )
        .join(Score, col(Score.assignment_id) == col(ReviewAssignment.id))
        .where(
            ReviewAssignment.competition_id == competition_id,
            ReviewAssignment.state == AssignmentState.submitted,
        )
    )
    sheets: Sheets = defaultdict(lambda: defaultdict(dict))
    for application_id, expert_id, criterion_id, points in rows:
        sheets[application_id][expert_id][code_of[criterion_id]] = points
    return {app: dict(by_expert) for app, by_expert in sheets.items()}


def _totals(points: dict[int, dict[str, Decimal]], criteria: Sequence[RubricCriterion]) -> dict[int, Decimal]:
    return {expert: expert_total(p, criteria) for expert, p in points.items()}


def _criterion_means(
    points: dict[int, dict[str, Decimal]], result: Aggregate, criteria: Sequence[RubricCriterion]
) -> tuple[Decimal, ...]:
    kept = [points[e] for e in result.kept]
    with localcontext() as ctx:
        ctx.prec = 34
        return tuple(sum((p[c.code] for p in kept), Decimal(0)) / len(kept) for c in criteria)


@dataclass(frozen=True)
class _Computed:
    application: Application
    result: Aggregate
    flags: list[str]
    entry: RankEntry


def _totals_json(result: Aggregate) -> dict[str, Any]:
    def dropped(expert: int) -> str | None:
        return "high" if expert == result.dropped_high else "low" if expert == result.dropped_low else None

    return {str(e): {"total": str(t), "dropped": dropped(e)} for e, t in sorted(result.totals.items())}


def _note(overall: Ranked, in_pool: Ranked) -> str:
    notes = []
    if overall.tie_note:
        notes.append(f"总排名 / overall: {overall.tie_note}")
    if in_pool.tie_note and in_pool.tie_note != overall.tie_note:
        notes.append(f"组内排名 / in pool: {in_pool.tie_note}")
    return "\n".join(notes)


def _compute(
    session: Session, config: CompetitionConfig, competition_id: int, applications: list[Application]
) -> list[_Computed]:
    criteria = list_criteria(session, competition_id=competition_id)
    sheets = submitted_sheets(session, competition_id=competition_id)
    missing = [a.ref for a in applications if not sheets.get(a.id or 0)]
    if missing:
        raise Conflict(
            f"以下申报还没有提交的评分表，不能结束评审：{'、'.join(missing)} / "
            f"cannot close the review: no submitted sheet for {', '.join(missing)}"
        )
    expected: dict[int, int] = defaultdict(int)
    query = select(ReviewAssignment).where(ReviewAssignment.competition_id == competition_id)
    for sheet in session.exec(query):
        if sheet.state not in ASSIGNMENTS_WITHDRAWN:
            expected[sheet.application_id] += 1
    rules = config.review
    computed = []
    for application in applications:
        assert application.id is not None
        points = sheets[application.id]
        result = aggregate(
            _totals(points, criteria), method=rules.aggregation, trimmed_min=rules.trimmed_min_scores
        )
        flags = flags_for(result, spread_limit=rules.disagreement_spread, expected=expected[application.id])
        entry = RankEntry(
            key=application.id,
            ref=application.ref,
            aggregate=result.value,
            criterion_means=_criterion_means(points, result, criteria),
            amount_fen=application.amount_fen,
            submitted_at=application.submitted_at,
        )
        computed.append(_Computed(application, result, flags, entry))
    return computed


def close_review(session: Session, *, competition_id: int, actor: str) -> list[ReviewResult]:
    """Compute and store every application's result and ranks; see the module docstring.

    Returns the competition's results, best rank first.
    """
    _, config = competition_and_config(session, competition_id)
    in_review = list(
        session.exec(
            select(Application).where(
                Application.competition_id == competition_id, Application.state == ApplicationState.in_review
            )
        )
    )
    if not in_review:
        return results_of(session, competition_id=competition_id)
    scored = list(
        session.exec(
            select(Application).where(
                Application.competition_id == competition_id, Application.state == ApplicationState.scored
            )
        )
    )
    computed = _compute(session, config, competition_id, sorted(in_review + scored, key=lambda a: a.ref))
    names = [c.name for c in list_criteria(session, competition_id=competition_id)]
    tie_break = config.review.tie_break
    overall = {
        r.key: r
        for r in rank_entries([c.entry for c in computed], tie_break=tie_break, criterion_names=names)
    }
    in_pool: dict[int, Ranked] = {}
    for pool in sorted({c.application.pool for c in computed}):
        entries = [c.entry for c in computed if c.application.pool == pool]
        in_pool.update({r.key: r for r in rank_entries(entries, tie_break=tie_break, criterion_names=names)})
    existing = {
        r.application_id: r
        for r in session.exec(
            select(ReviewResult).where(col(ReviewResult.application_id).in_([c.entry.key for c in computed]))
        )
    }
    for c in computed:
        key = c.entry.key
        values: dict[str, Any] = {
            "method": str(c.result.method),
            "aggregate": c.result.value,
            "totals": _totals_json(c.result),
            "spread": c.result.spread,
            "std": c.result.std,
            "flags": c.flags,
            "rank": overall[key].rank,
            "pool_rank": in_pool[key].rank,
            "tie_note": _note(overall[key], in_pool[key]),
        }
        row = existing.get(key) or ReviewResult(application_id=key, method="", aggregate=Decimal(0))
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.computed_at = utcnow()
            session.add(row)
        if c.application.state is ApplicationState.in_review:
            value = c.result.value
            set_state(
                session,
                c.application,
                ApplicationState.scored,
                actor=actor,
                reason=f"评审结束，综合得分 {value} / review closed, aggregate {value}",
            )
    record(
        session,
        actor=actor,
        entity="competition",
        entity_id=competition_id,
        action="review_closed",
        reason=f"评审结果 {len(computed)} 项 / {len(computed)} results ({config.review.aggregation})",
    )
    session.flush()
    return results_of(session, competition_id=competition_id)


def results_of(session: Session, *, competition_id: int) -> list[ReviewResult]:
    return list(
        session.exec(
            select(ReviewResult)
            .join(Application, col(Application.id) == col(ReviewResult.application_id))
            .where(Application.competition_id == competition_id)
            .order_by(col(ReviewResult.rank), col(Application.ref))
        )
    )


def review_report(session: Session, *, competition_id: int) -> dict[str, Any]:
    """The review as a JSON-able dict (``grantflow review report --json``).

    Per application (best rank first, unranked ones after by 申报编号): ref, title, pool, state, each
    expert's total and whether it was dropped, the aggregate, deviation, spread, ranks, flags and the
    tie note. For the panel (models/review/agreement.py): its ``design`` (complete | incomplete |
    none) in words (``design_text``), which statistics ``applies`` to it, and ``icc1_1``, ``icc1_k``
    (with ``k0``), ``icc2_1``, ``icc2_k``, ``kendall_w``, each ``{"value", "reason", "basis",
    "formula"}`` with value null and the reason where the design does not allow it.
    """
    competition, config = competition_and_config(session, competition_id)
    criteria = list_criteria(session, competition_id=competition_id)
    sheets = submitted_sheets(session, competition_id=competition_id)
    experts = {e.id: e for e in session.exec(select(Expert).where(Expert.competition_id == competition_id))}
    results = {r.application_id: r for r in results_of(session, competition_id=competition_id)}
    reviewed = {
        a.application_id
        for a in session.exec(
            select(ReviewAssignment).where(ReviewAssignment.competition_id == competition_id)
        )
    }
    applications = [
        a
        for a in session.exec(select(Application).where(Application.competition_id == competition_id))
        if a.id in reviewed or a.id in results
    ]
    applications.sort(
        key=lambda a: (
            a.id not in results or results[a.id].rank is None,
            results[a.id].rank if a.id in results else 0,
            a.ref,
        )
    )
    entries = []
    cells: dict[tuple[int, int], Decimal] = {}
    for application in applications:
        assert application.id is not None
        totals = _totals(sheets.get(application.id, {}), criteria)
        if application.state is not ApplicationState.withdrawn:
            cells.update({(application.id, e): t for e, t in totals.items()})
        result = results.get(application.id)
        dropped = {int(e): v["dropped"] for e, v in (result.totals if result else {}).items() if v["dropped"]}
        entries.append(
            {
                "ref": application.ref,
                "title": application.title,
                "pool": application.pool,
                "state": str(application.state),
                "experts": [
                    {
                        "expert_id": e,
                        "name": experts[e].name if e in experts else "",
                        "total": str(t),
                        "dropped": dropped.get(e),
                    }
                    for e, t in sorted(totals.items())
                ],
                "dropped": sorted(dropped),
                "aggregate": str(result.aggregate) if result else None,
                "std": str(result.std) if result else None,
                "spread": str(result.spread) if result else None,
                "rank": result.rank if result else None,
                "pool_rank": result.pool_rank if result else None,
                "flags": [
                    {"code": f, "zh": FLAG_LABELS[f][0], "en": FLAG_LABELS[f][1]}
                    for f in (result.flags if result else [])
                ],
                "tie_note": result.tie_note if result else "",
            }
        )
    return {
        "competition": competition.slug,
        "method": str(config.review.aggregation),
        "trimmed_min_scores": config.review.trimmed_min_scores,
        "disagreement_spread": str(config.review.disagreement_spread),
        "tie_break": [str(t) for t in config.review.tie_break],
        "applications": entries,
        "panel": panel_agreement(cells).as_json(),
    }
