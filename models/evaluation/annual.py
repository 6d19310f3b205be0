"""The year's figures (年度总结报告, ``grantflow report``), read from the tables and the audit trail.

``annual_figures`` returns one JSON-able dict: applications received / eligible / funded per pool,
per category and per community (every configured community, also those with none); money in
parts (integer fen) — requested; granted = paid + settled off (据实结算核减) + cancelled + withheld +
still due; paid = used + to return + still in hand; spent = used + borne by the organisation +
spent ahead of a tranche — each grant's from funding's ``grant_money``, and the money to return
itemised per grant (``returns``: the balance of a settled grant, the claw-back of a terminated
one, with the 文号 of the notice that asks for it), and every grant's parts (``grants``, what the
export's 资金结算 sheet prints); activities and
person-times planned (the 申报书's activity tables of the funded projects) against delivered (the
final evaluations, else the latest checkpoint report); the grade distribution in band order;
rectifications (grants that were ever 整改中, from the audit trail) and terminations; the review
panel's agreement statistics; and the timeline of the competition's stages with the day each began
(the moment the stage took effect: the ``as_of`` it ran with, else its audit time).
Every total is a sum over rows — ``tests/models/evaluation/test_annual.py`` computes them the other
way round and compares.

``grant_money_of`` is one grant's money in those parts, on its verified spending
(``spent_of_record``); ``grant_reconciliation`` adds its spending per budget line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.config import NumberedKind
from models.competition.stages import stages_began
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import local_date
from models.documents.numbering import number_of
from models.errors import NotFound
from models.evaluation.grading import planned_delivery
from models.evaluation.spending import Reconciliation, reconcile, spent_by_line
from models.evaluation.tables import FinalEvaluation
from models.funding.money import GrantMoney, grant_money
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application, BudgetLine
from models.money import format_yuan
from models.review.results import review_report
from models.states import STATE_LABELS, ApplicationState, CompetitionStage, GrantState
from models.supervision.tables import Checkpoint, CheckpointReport, GrantTermination, ProgressReport

NOT_ELIGIBLE = frozenset({ApplicationState.submitted, ApplicationState.ineligible})
# every money figure of the year, each a sum of the grants' own (GrantMoney) parts
MONEY_KEYS = (
    "requested_fen",
    "granted_fen",
    "paid_fen",
    "reduced_fen",
    "cancelled_fen",
    "withheld_fen",
    "due_fen",
    "spent_fen",
    "used_fen",
    "to_return_fen",
    "in_hand_fen",
    "borne_fen",
    "advanced_fen",
)
CLOSED = frozenset({GrantState.completed, GrantState.terminated})


def _latest_reports(session: Session, grant_ids: Iterable[int]) -> dict[int, CheckpointReport]:
    """Each grant's most recent submitted checkpoint report (what it had delivered and spent by then)."""
    latest: dict[int, CheckpointReport] = {}
    rows = session.exec(
        select(Checkpoint.grant_id, CheckpointReport)
        .join(Checkpoint, col(Checkpoint.id) == col(CheckpointReport.checkpoint_id))
        .where(col(Checkpoint.grant_id).in_(list(grant_ids)), col(CheckpointReport.draft).is_(False))
        .order_by(col(CheckpointReport.submitted_at), col(CheckpointReport.id))
    )
    for grant_id, report in rows:
        latest[grant_id] = report
    return latest


def _grantee_spending(session: Session, checkpoint_id: int) -> dict[str, int]:
    """What the grantee's submitted progress report (中期报告 / 结项报告) of a checkpoint says was
    spent on each budget line, by item (integer fen) — the figures the supervisor's form shows
    beside the plan."""
    progress = session.exec(
        select(ProgressReport).where(
            ProgressReport.checkpoint_id == checkpoint_id, col(ProgressReport.draft).is_(False)
        )
    ).first()
    spent: dict[str, int] = {}
    for line in progress.spending if progress is not None else []:
        spent[str(line["item"])] = spent.get(str(line["item"]), 0) + int(line["actual_fen"])
    return spent


def _spent(
    termination: GrantTermination | None,
    evaluation: FinalEvaluation | None,
    report: CheckpointReport | None,
) -> int:
    if termination is not None:
        return termination.accepted_spend_fen
    if evaluation is not None:
        return evaluation.spent_fen
    return report.spent_fen if report is not None else 0


def spent_of_record(session: Session, *, grant_id: int) -> int:
    """The verified spending (核定支出) a grant's money is settled on: what its termination
    accepted, else its final evaluation's record, else the latest submitted supervisor's record."""
    termination = session.exec(select(GrantTermination).where(GrantTermination.grant_id == grant_id)).first()
    evaluation = session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == grant_id)).first()
    return _spent(termination, evaluation, _latest_reports(session, [grant_id]).get(grant_id))


def grant_money_of(session: Session, *, grant_id: int) -> GrantMoney:
    """One grant's money in parts (``models.funding.tranches.GrantMoney``) on its verified spending."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助 #{grant_id} / no grant #{grant_id}")
    tranches = session.exec(select(Tranche).where(Tranche.grant_id == grant_id)).all()
    return grant_money(
        tranches, spent_fen=spent_of_record(session, grant_id=grant_id), closed=grant.state in CLOSED
    )


def grant_reconciliation(
    session: Session, *, grant_id: int, checkpoint_id: int | None = None
) -> Reconciliation:
    """A grant's money, and its spending per budget line as the supervisor's record of the
    checkpoint (default: the latest record) names it, else as the grantee's report of it does."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助 #{grant_id} / no grant #{grant_id}")
    lines = session.exec(
        select(BudgetLine)
        .where(BudgetLine.application_id == grant.application_id)
        .order_by(col(BudgetLine.position))
    ).all()
    if checkpoint_id is None:
        report = _latest_reports(session, [grant_id]).get(grant_id)
    else:
        report = session.exec(
            select(CheckpointReport).where(
                CheckpointReport.checkpoint_id == checkpoint_id, col(CheckpointReport.draft).is_(False)
            )
        ).first()
    spent = spent_by_line(report.indicators) if report is not None else {}
    if not spent and report is not None:
        spent = _grantee_spending(session, report.checkpoint_id)
    return reconcile(
        money=grant_money_of(session, grant_id=grant_id),
        budget=[(line.item, line.amount_fen) for line in lines],
        spent=spent,
    )


def return_notice_number(session: Session, *, grant_id: int) -> str:
    """The 文号 of the paper that asks for a grant's money back: its 终止通知, else its 结余资金退回通知."""
    termination = session.exec(select(GrantTermination).where(GrantTermination.grant_id == grant_id)).first()
    if termination is not None:
        return number_of(
            session,
            kind=NumberedKind.termination_notice,
            subject_entity="termination",
            subject_id=termination.id or 0,
        )
    return number_of(session, kind=NumberedKind.refund_notice, subject_entity="grant", subject_id=grant_id)


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
    terminations = {
        t.grant_id: t
        for t in session.exec(select(GrantTermination).where(col(GrantTermination.grant_id).in_(grant_ids)))
    }
    reports = _latest_reports(session, grant_ids)
    returns: list[dict[str, Any]] = []
    grant_rows: list[dict[str, Any]] = []

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
            evaluation = evaluations.get(grant.id)
            report = reports.get(grant.id)
            termination = terminations.get(grant.id)
            parts = grant_money(
                tranches[grant.id],
                spent_fen=_spent(termination, evaluation, report),
                closed=grant.state in CLOSED,
            )
            if parts.to_return_fen:
                returns.append(
                    {
                        "ref": application.ref,
                        "title": application.title,
                        "why": "终止追回" if termination is not None else "结余退回",
                        "paid_fen": parts.paid_fen,
                        "spent_fen": parts.spent_fen,
                        "to_return_fen": parts.to_return_fen,
                        "doc_number": return_notice_number(session, grant_id=grant.id),
                    }
                )
            grant_rows.append(
                {
                    "ref": application.ref,
                    "title": application.title,
                    "state": str(grant.state),
                    **{key: getattr(parts, key) for key in MONEY_KEYS if key != "requested_fen"},
                }
            )
            planned_sessions, planned_people = planned_delivery(application.details)
            values.update(
                funded=1,
                granted_fen=parts.granted_fen,
                paid_fen=parts.paid_fen,
                reduced_fen=parts.reduced_fen,
                cancelled_fen=parts.cancelled_fen,
                withheld_fen=parts.withheld_fen,
                due_fen=parts.due_fen,
                spent_fen=parts.spent_fen,
                used_fen=parts.used_fen,
                to_return_fen=parts.to_return_fen,
                in_hand_fen=parts.in_hand_fen,
                borne_fen=parts.borne_fen,
                advanced_fen=parts.advanced_fen,
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
        "grants": grant_rows,
        "returns": returns,
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


def _parts(whole: str, parts: list[tuple[str, int]]) -> str:
    """``已拨付52,500.00元，其中：用于项目37,700.00元，应退回14,800.00元`` — the parts that are not
    zero (the first always), so the sentence adds up as printed."""
    shown = [(label, fen) for index, (label, fen) in enumerate(parts) if fen or index == 0]
    return whole + "，其中：" + "，".join(f"{label}{format_yuan(fen)}元" for label, fen in shown) + "。"


def money_lines(money: dict[str, int]) -> list[str]:
    """The year's money in three sentences, each whole with its parts listed (every part a figure
    of ``annual_figures``): what became of the grants, of the money paid, of the verified spending."""
    lines = [
        _parts(
            f"立项资助{format_yuan(money['granted_fen'])}元",
            [
                ("已拨付", money["paid_fen"]),
                ("据实结算核减", money["reduced_fen"]),
                ("项目终止不再拨付", money["cancelled_fen"]),
                ("暂缓或不予拨付", money["withheld_fen"]),
                ("尚待拨付", money["due_fen"]),
            ],
        ),
        _parts(
            f"已拨付{format_yuan(money['paid_fen'])}元",
            [
                ("用于项目（核定支出）", money["used_fen"]),
                ("应退回", money["to_return_fen"]),
                ("执行中项目结存", money["in_hand_fen"]),
            ],
        ),
    ]
    if money["borne_fen"] or money["advanced_fen"]:
        lines.append(
            _parts(
                f"项目核定支出{format_yuan(money['spent_fen'])}元",
                [
                    ("资助资金支付", money["used_fen"]),
                    ("项目方自行承担", money["borne_fen"]),
                    ("项目方垫付、待后续拨付", money["advanced_fen"]),
                ],
            )
        )
    else:
        lines.append(f"项目核定支出{format_yuan(money['spent_fen'])}元，均由资助资金支付。")
    return lines
