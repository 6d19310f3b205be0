"""The year's figures (年度总结报告, ``grantflow report``), read from the tables and the audit trail.

``annual_figures`` returns one JSON-able dict: applications received / eligible / funded per pool,
per category and per community (every configured community, also those with none); money
requested / granted / paid / spent / to return / withheld (integer fen); activities and
person-times planned (the 申报书's activity tables of the funded projects) against delivered (the
final evaluations, else the latest checkpoint report); the grade distribution in band order;
rectifications (grants that were ever 整改中, from the audit trail) and terminations; the review
panel's agreement statistics; and the timeline of the competition's stages with the day each began
(the moment the stage took effect: the ``as_of`` it ran with, else its audit time).
Every total is a sum over rows — ``tests/models/evaluation/test_annual.py`` computes them the other
way round and compares.

``grant_reconciliation`` is one grant's money: granted, released, spent per budget line, to return.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.stages import stages_began
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import local_date
from models.errors import NotFound
from models.evaluation.grading import planned_delivery
from models.evaluation.spending import Reconciliation, reconcile, spent_by_line
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application, BudgetLine
from models.money import format_yuan
from models.review.results import review_report
from models.states import STATE_LABELS, ApplicationState, CompetitionStage, GrantState, TrancheState
from models.supervision.tables import Checkpoint, CheckpointReport, ProgressReport

NOT_ELIGIBLE = frozenset({ApplicationState.submitted, ApplicationState.ineligible})
MONEY_KEYS = ("requested_fen", "granted_fen", "paid_fen", "spent_fen", "to_return_fen", "withheld_fen")


def _latest_reports(session: Session, grant_ids: Iterable[int]) -> dict[int, CheckpointReport]:
    """Each grant's most recent checkpoint report (what it had delivered and spent by then)."""
    latest: dict[int, CheckpointReport] = {}
    rows = session.exec(
        select(Checkpoint.grant_id, CheckpointReport)
        .join(Checkpoint, col(Checkpoint.id) == col(CheckpointReport.checkpoint_id))
        .where(col(Checkpoint.grant_id).in_(list(grant_ids)))
        .order_by(col(CheckpointReport.submitted_at), col(CheckpointReport.id))
    )
    for grant_id, report in rows:
        latest[grant_id] = report
    return latest


def _grantee_spending(session: Session, grant_id: int) -> dict[str, int]:
    """What the grantee's latest submitted progress report (中期报告 / 结项报告) says was spent on each
    budget line, by item (integer fen) — the figures the supervisor's form shows beside the plan."""
    rows = session.exec(
        select(ProgressReport)
        .join(Checkpoint, col(Checkpoint.id) == col(ProgressReport.checkpoint_id))
        .where(Checkpoint.grant_id == grant_id, col(ProgressReport.draft).is_(False))
        .order_by(col(ProgressReport.submitted_at), col(ProgressReport.id))
    ).all()
    if not rows:
        return {}
    spent: dict[str, int] = {}
    for line in rows[-1].spending:
        spent[str(line["item"])] = spent.get(str(line["item"]), 0) + int(line["actual_fen"])
    return spent


def _released(tranches: Iterable[Tranche]) -> int:
    return sum(t.amount_fen for t in tranches if t.state is TrancheState.released)


def grant_reconciliation(session: Session, *, grant_id: int) -> Reconciliation:
    """Granted, released and spent money of one grant, per budget line (integer fen): the spending
    per line the final record names, else the grantee's latest report's figures."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助 #{grant_id} / no grant #{grant_id}")
    tranches = session.exec(select(Tranche).where(Tranche.grant_id == grant_id)).all()
    lines = session.exec(
        select(BudgetLine)
        .where(BudgetLine.application_id == grant.application_id)
        .order_by(col(BudgetLine.position))
    ).all()
    report = _latest_reports(session, [grant_id]).get(grant_id)
    return reconcile(
        granted_fen=grant.amount_fen,
        released_fen=_released(tranches),
        spent_fen=report.spent_fen if report else 0,
        budget=[(line.item, line.amount_fen) for line in lines],
        spent=(spent_by_line(report.indicators) if report else {}) or _grantee_spending(session, grant_id),
    )


def _row(code: str, name: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "received": 0,
        "eligible": 0,
        "funded": 0,
        **{key: 0 for key in MONEY_KEYS},
        "planned_sessions": 0,
        "sessions": 0,
        "planned_person_times": 0,
        "person_times": 0,
    }


def _timeline(session: Session, competition: Competition, timezone: str) -> list[dict[str, str]]:
    """Each stage with the day it first began (``models.competition.stages.stages_began``)."""
    order = list(CompetitionStage)
    return [
        {
            "stage": str(stage),
            "label": STATE_LABELS.get(stage, str(stage)),
            "date": local_date(at, timezone).isoformat(),
        }
        for stage, at in sorted(
            stages_began(session, competition).items(), key=lambda item: (item[1], order.index(item[0]))
        )
    ]


def annual_figures(
    session: Session, *, competition_id: int, timezone: str = "Asia/Shanghai"
) -> dict[str, Any]:
    """The year's figures as a JSON-able dict (see the module docstring)."""
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    config = competition_config(competition)
    applications = list(
        session.exec(
            select(Application)
            .where(Application.competition_id == competition_id)
            .order_by(col(Application.ref))
        )
    )
    grants = {
        g.application_id: g for g in session.exec(select(Grant).where(Grant.competition_id == competition_id))
    }
    grant_ids = [g.id for g in grants.values() if g.id is not None]
    tranches: dict[int, list[Tranche]] = defaultdict(list)
    for tranche in session.exec(select(Tranche).where(col(Tranche.grant_id).in_(grant_ids))):
        tranches[tranche.grant_id].append(tranche)
    evaluations = {
        e.grant_id: e
        for e in session.exec(select(FinalEvaluation).where(col(FinalEvaluation.grant_id).in_(grant_ids)))
    }
    reports = _latest_reports(session, grant_ids)

    pools = {p.code: _row(p.code, p.name) for p in config.pools}
    categories = {c.code: _row(c.code, c.name) for c in config.categories}
    communities = {name: _row(name, name) for name in config.communities}
    total = _row("total", "合计")
    for application in applications:
        rows = [
            total,
            pools.setdefault(application.pool, _row(application.pool, application.pool)),
            categories.setdefault(application.category, _row(application.category, application.category)),
            communities.setdefault(application.community, _row(application.community, application.community)),
        ]
        assert application.id is not None
        grant = grants.get(application.id)
        values: dict[str, int] = {"received": 1, "requested_fen": application.amount_fen}
        if application.state not in NOT_ELIGIBLE and application.state is not ApplicationState.withdrawn:
            values["eligible"] = 1
        if grant is not None and grant.id is not None:
            paid = _released(tranches[grant.id])
            evaluation = evaluations.get(grant.id)
            report = reports.get(grant.id)
            spent = evaluation.spent_fen if evaluation else (report.spent_fen if report else 0)
            planned_sessions, planned_people = planned_delivery(application.details)
            values.update(
                funded=1,
                granted_fen=grant.amount_fen,
                paid_fen=paid,
                spent_fen=spent,
                to_return_fen=max(0, paid - spent) if (evaluation or report) else 0,
                withheld_fen=sum(
                    t.amount_fen for t in tranches[grant.id] if t.state is TrancheState.withheld
                ),
                planned_sessions=planned_sessions,
                planned_person_times=planned_people,
                sessions=evaluation.activities_held
                if evaluation
                else (report.activities_held if report else 0),
                person_times=evaluation.person_times
                if evaluation
                else (report.person_times if report else 0),
            )
        for row in rows:
            for key, value in values.items():
                row[key] += value

    grades = Counter(e.grade for e in evaluations.values())
    rectified = {
        event.entity_id
        for event in session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "grant",
                col(AuditEvent.entity_id).in_(grant_ids),
                AuditEvent.to_state == str(GrantState.rectifying),
            )
        )
    }
    panel = review_report(session, competition_id=competition_id)["panel"]
    money = {key: total[key] for key in MONEY_KEYS}
    return {
        "competition": competition.slug,
        "name": competition.name,
        "year": competition.year,
        "stage": str(competition.stage),
        "communities_total": len(config.communities),
        "communities_covered": sum(1 for name in config.communities if communities[name]["funded"]),
        "applications": {key: total[key] for key in ("received", "eligible", "funded")},
        "money": {"pool_fen": config.budget.pool, **money},
        "money_yuan": {
            key.removesuffix("_fen"): format_yuan(value)
            for key, value in {"pool_fen": config.budget.pool, **money}.items()
        },
        "delivery": {
            key: total[key]
            for key in ("planned_sessions", "sessions", "planned_person_times", "person_times")
        },
        "by_pool": list(pools.values()),
        "by_category": list(categories.values()),
        "by_community": list(communities.values()),
        "grades": [
            {"grade": band.name, "passed": band.passed, "count": grades.get(band.name, 0)}
            for band in config.grade_bands
        ],
        "outcomes": {
            "completed": sum(1 for g in grants.values() if g.state is GrantState.completed),
            "terminated": sum(1 for g in grants.values() if g.state is GrantState.terminated),
            "rectified": len(rectified),
            "running": sum(
                1 for g in grants.values() if g.state not in (GrantState.completed, GrantState.terminated)
            ),
        },
        "review_agreement": panel,
        "timeline": _timeline(session, competition, timezone),
    }
