"""The review's paperwork: what the 专家评分表 and the 评分汇总表/排名表 print, built from the database.

Contexts only — rendering and recording is ``models.documents.registry.write_document``'s job. The ranking
document is built from ``review_report`` so that the Word file and ``grantflow review report --json``
can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models.competition.config import Aggregation, CompetitionConfig
from models.competition.tables import Competition, competition_config, list_criteria
from models.intake.tables import Application, Organisation
from models.review.results import review_report
from models.review.tables import Expert, ReviewAssignment, Score
from models.states import AssignmentState

AGGREGATION_LABELS = {
    Aggregation.weighted_mean: "各位专家总分的算术平均",
    Aggregation.median: "各位专家总分的中位数",
    Aggregation.trimmed_mean: "去掉一个最高分和一个最低分后取算术平均（评分不少于{n}份时；不足时取算术平均）",
}


def aggregation_label(config: CompetitionConfig) -> str:
    return AGGREGATION_LABELS[config.review.aggregation].format(n=config.review.trimmed_min_scores)


def score_summary_context(
    session: Session, *, competition: Competition, prepared_by: str, issue_date: date
) -> dict[str, Any]:
    """评分汇总表/排名表: every expert's total, the dropped ones, the aggregate and rank, per pool."""
    assert competition.id is not None
    config = competition_config(competition)
    report = review_report(session, competition_id=competition.id)
    pool_names = {p.code: p.name for p in config.pools}
    organisations = dict(
        session.exec(
            select(Application.ref, Organisation.name)
            .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
            .where(Application.competition_id == competition.id)
        ).all()
    )
    by_pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shown = _printed_alike(e["total"] for entry in report["applications"] for e in entry["experts"])
    for entry in report["applications"]:
        dropped = set(entry["dropped"])
        scores = [shown[e["total"]] for e in entry["experts"]]
        dropped_totals = [shown[e["total"]] for e in entry["experts"] if e["expert_id"] in dropped]
        by_pool[entry["pool"]].append(
            {
                "rank": entry["pool_rank"] if entry["pool_rank"] is not None else "—",
                "ref": entry["ref"],
                "title": entry["title"],
                "organisation": organisations.get(entry["ref"], ""),
                "scores": "  ".join(scores),
                "dropped": "  ".join(dropped_totals) or "—",
                "aggregate": Decimal(entry["aggregate"]) if entry["aggregate"] is not None else "—",
                "flag": "；".join(f["zh"] for f in entry["flags"]),
            }
        )
    order = list(pool_names)
    codes = sorted(by_pool, key=lambda code: order.index(code) if code in order else len(order))
    pools: list[dict[str, Any]] = []
    for code in codes:
        rows: list[dict[str, Any]] = sorted(by_pool[code], key=_rank_key)
        pools.append({"name": pool_names.get(code, code), "rows": rows})
    experts = session.exec(
        select(Expert.name).where(Expert.competition_id == competition.id).order_by(col(Expert.id))
    ).all()
    return {
        "competition_name": competition.name,
        "aggregation": aggregation_label(config),
        "pools": pools,
        "agreement": report["panel"]["summary"]["zh"],
        "experts": list(experts)
        if not config.review.blind
        else [f"专家{i + 1}" for i in range(len(experts))],
        "prepared_by": prepared_by,
        "issue_date": issue_date,
    }


def _printed_alike(totals: Iterable[str]) -> dict[str, str]:
    """Every expert total with as many decimal places as the most precise of them, at least one, so
    that a column reads 73.0 beside 80.5, not 73."""
    values = {text: Decimal(text) for text in totals}
    places = max([1, *(-int(v.as_tuple().exponent) for v in values.values())])
    return {text: f"{value:.{places}f}" for text, value in values.items()}


def _rank_key(row: dict[str, Any]) -> tuple[int, str]:
    rank = row["rank"]
    return (rank if isinstance(rank, int) else 10**6, row["ref"])


def expert_sheet_context(session: Session, *, expert: Expert, signed_date: date) -> dict[str, Any]:
    """专家评分表 of one expert: every sheet they submitted, criterion by criterion, with comments."""
    competition = session.get(Competition, expert.competition_id)
    assert competition is not None and expert.id is not None
    config = competition_config(competition)
    criteria = list_criteria(session, competition_id=competition.id or 0)
    assignments = session.exec(
        select(ReviewAssignment, Application, Organisation)
        .join(Application, col(Application.id) == col(ReviewAssignment.application_id))
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .where(ReviewAssignment.expert_id == expert.id, ReviewAssignment.state == AssignmentState.submitted)
        .order_by(col(Application.ref))
    ).all()
    points: dict[int, dict[int, Decimal]] = defaultdict(dict)
    ids = [a.id for a, _, _ in assignments]
    for score in session.exec(select(Score).where(col(Score.assignment_id).in_(ids))):
        points[score.assignment_id][score.criterion_id] = score.points
    rows = []
    for assignment, application, organisation in assignments:
        assert assignment.id is not None
        scores = [
            {
                "criterion": c.name,
                "max_points": c.max_points,
                "points": points[assignment.id].get(c.id or 0, "—"),
            }
            for c in criteria
        ]
        total = sum(
            (points[assignment.id].get(c.id or 0, Decimal(0)) * c.weight for c in criteria), Decimal(0)
        )
        rows.append(
            {
                "ref": application.ref,
                "title": application.title,
                "organisation": "（盲审隐去）" if config.review.blind else organisation.name,
                "scores": scores,
                "total": total,
                "comment": assignment.comment,
            }
        )
    return {
        "competition_name": competition.name,
        "expert_name": expert.name,
        "expert_organisation": expert.organisation_name,
        "criteria": [
            {"name": c.name, "description": c.description, "max_points": c.max_points} for c in criteria
        ],
        "rubric_total": config.rubric.total,
        "applications": rows,
        "signed_date": signed_date,
    }
