"""Tasks of 立项 and 公示: draft, approve, publish the notice, close it, grants and their letters,
signing, lapse. Each takes ids, opens its own session, calls models.funding, commits."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import task
from prefect.artifacts import create_table_artifact

from models.competition.tables import Competition
from models.db import lock_competition, session_scope
from models.funding.decision import approve_decision, draft_decision, funding_report
from models.funding.grants import (
    award_grants,
    check_signing_day,
    grant_by_ref,
    lapse_unsigned,
    record_signing,
    signings_from_xlsx,
    write_award_letters,
)
from models.funding.publicity import close_publicity, publish_notice
from models.funding.workdays import BEIJING
from models.money import format_yuan
from models.settings import get_settings
from tasks.database_faults import ON_DATABASE_FAULT


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


@task(name="draft-funding", **ON_DATABASE_FAULT)
def draft_funding(competition_id: int, actor: str) -> dict[str, Any]:
    """Run the allocation and store the draft; returns the counts, ties and totals."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        result = draft_decision(session, competition_id=competition_id, actor=actor)
        allocation = result.allocation
        return {
            "changed": result.changed,
            "approved": result.approved,
            "funded": sum(1 for o in allocation.outcomes if o.funded_fen),
            "funded_fen": allocation.funded_fen,
            "returned_fen": allocation.returned_fen,
            "ties": [list(t) for t in allocation.ties],
            "unmet_quotas": list(allocation.unmet_quotas),
        }


@task(name="publish-allocation", **ON_DATABASE_FAULT)
def publish_allocation(competition_id: int) -> dict[str, Any]:
    """The decision with its reasons as a Prefect table artifact (Prefect UI); returns the report."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        report = funding_report(session, competition_id=competition_id)
    rows = [
        {
            "编号 ref": r["ref"],
            "组 pool": r["pool"],
            "组内 in pool": r["pool_rank"],
            "得分 score": r["score"],
            "资助(元) amount": format_yuan(r["amount_fen"]),
            "理由 reason": r["explanation"],
        }
        for r in report["applications"]
    ]
    create_table_artifact(
        key=f"funding-{report['competition']}",
        table=rows,
        description=f"资助方案 / funding: {format_yuan(report['funded_fen'])} 元 "
        f"of {format_yuan(report['pool_fen'])}",
    )
    return report


@task(name="approve-funding", **ON_DATABASE_FAULT)
def approve_funding(competition_id: int, actor: str, as_of: datetime | None = None) -> bool:
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return approve_decision(session, competition_id=competition_id, actor=actor)


@task(name="publish-publicity", **ON_DATABASE_FAULT)
def publish_publicity(competition_id: int, as_of: datetime, actor: str) -> dict[str, Any]:
    """The 拟资助项目公示 and its window (the current notice when one is open)."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        notice = publish_notice(
            session,
            competition_id=competition_id,
            now=as_of,
            actor=actor,
            documents_dir=get_settings().documents_dir,
        )
        ends = notice.ends_at.astimezone(BEIJING).isoformat()
        return {"seq": notice.seq, "ends_at": ends, "document_id": notice.document_id}


@task(name="close-publicity", **ON_DATABASE_FAULT)
def close_publicity_task(competition_id: int, as_of: datetime, actor: str) -> dict[str, Any]:
    """Close the notice when its window has passed and no objection is open; the stage after."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        closed = close_publicity(session, competition_id=competition_id, now=as_of, actor=actor)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        return {"closed": closed, "stage": str(competition.stage)}


@task(name="signings-from-xlsx", **ON_DATABASE_FAULT)
def read_signings(path: str) -> list[tuple[str, date, str]]:
    return signings_from_xlsx(Path(path))


@task(name="award-grants", **ON_DATABASE_FAULT)
def award_grants_task(competition_id: int, actor: str) -> list[int]:
    with session_scope() as session:
        lock_competition(session, competition_id)
        return [g.id or 0 for g in award_grants(session, competition_id=competition_id, actor=actor)]


@task(name="write-award-letters", **ON_DATABASE_FAULT)
def write_award_letters_task(competition_id: int, as_of: datetime) -> list[int]:
    """立项通知书 + 资助协议书, or 未入选通知, to every applicant of the decision (once each)."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return write_award_letters(
            session,
            competition_id=competition_id,
            issue_date=_local_day(as_of),
            documents_dir=get_settings().documents_dir,
        )


@task(name="record-signings", **ON_DATABASE_FAULT)
def record_signings(
    competition_id: int,
    signings: list[tuple[str, date, str]],
    actor: str,
    as_of: datetime,
    future: bool = False,
) -> list[int]:
    """Record every signing (all or nothing); the signing tranches are released. A signing dated
    after the run's day is refused unless ``future`` says it is intended."""
    today = _local_day(as_of)
    for _, day, where in signings:
        check_signing_day(day, today=today, future=future, where=where)
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        grants = []
        for ref, day, where in signings:
            grant = grant_by_ref(session, competition_id=competition_id, ref=ref)
            record_signing(
                session,
                grant_id=grant.id or 0,
                on=day,
                actor=actor,
                documents_dir=get_settings().documents_dir,
                where=where,
            )
            grants.append(grant.id or 0)
        return grants


@task(name="lapse-agreements", **ON_DATABASE_FAULT)
def lapse_agreements(competition_id: int, as_of: datetime, actor: str) -> list[int]:
    with session_scope() as session:
        lock_competition(session, competition_id)
        lapsed = lapse_unsigned(
            session,
            competition_id=competition_id,
            today=_local_day(as_of),
            actor=actor,
            documents_dir=get_settings().documents_dir,
        )
        return [g.id or 0 for g in lapsed]
