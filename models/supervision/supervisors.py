"""Supervisors in the database: the list (configuration or .xlsx), who follows which grant, and the
administrator's re-assignment.

- ``load_supervisors``: from the configuration's ``supervisors`` or an .xlsx sheet with the headers
  姓名 / 电子邮箱 / 电话 / 单位 / 专长; upserted by email, every change audited.
- ``assign_supervisors``: every running grant gets ``supervision.supervisors_per_grant`` supervisors,
  loads balanced, never one from the grant holder's own organisation — the review's pure
  min-cost-flow assignment (``models.review.assignment``), deterministic for the configured seed.
  Re-running adds only what is missing. Checkpoints are filled by the lead (position 1).
- ``reassign``: the administrator hands a grant to another supervisor (audited, with a reason); its
  unsettled checkpoints move with it and their old links stop opening (new nonce).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import CompetitionConfig, Person
from models.competition.tables import Competition, competition_config
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.links import new_nonce
from models.review.assignment import Candidate, Exclusions, Pair, Reviewer, assign
from models.review.people import sync_people
from models.review.workbook import read_experts
from models.states import CHECKPOINTS_OPEN, GRANTS_RUNNING, CheckpointState
from models.supervision.tables import Checkpoint, GrantSupervisor, Supervisor

TO_FILL = frozenset({CheckpointState.scheduled, CheckpointState.open})  # a record still to be written


def competition_and_config(session: Session, competition_id: int) -> tuple[Competition, CompetitionConfig]:
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    return competition, competition_config(competition)


def supervisors_of(session: Session, *, competition_id: int) -> list[Supervisor]:
    return list(
        session.exec(
            select(Supervisor).where(Supervisor.competition_id == competition_id).order_by(col(Supervisor.id))
        )
    )


def load_supervisors(
    session: Session,
    *,
    competition_id: int,
    actor: str,
    path: Path | str | None = None,
    people: Sequence[Person] | None = None,
) -> list[Supervisor]:
    """Add or update the competition's supervisors (matched by email); returns all of them."""
    _, config = competition_and_config(session, competition_id)
    if path is not None:
        people = read_experts(path, communities=config.communities)
    elif people is None:
        people = config.supervisors
    source = str(path) if path is not None else "配置 / configuration"
    sync_people(
        session,
        table=Supervisor,
        competition_id=competition_id,
        people=people,
        entity="supervisor",
        reason=f"督导名单 / supervisors from {source}",
        actor=actor,
        by_hand=path is not None,
    )
    return supervisors_of(session, competition_id=competition_id)


def running_grants(session: Session, *, competition_id: int) -> list[tuple[Grant, Application, Organisation]]:
    """The grants being carried out (active or in rectification), with application and organisation."""
    rows = session.exec(
        select(Grant, Application, Organisation)
        .join(Application, col(Application.id) == col(Grant.application_id))
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .where(Grant.competition_id == competition_id, col(Grant.state).in_(GRANTS_RUNNING))
        .order_by(col(Application.ref))
    )
    return [(g, a, o) for g, a, o in rows]


def grant_supervisors(session: Session, *, grant_id: int) -> list[Supervisor]:
    """A grant's supervisors, the lead first."""
    rows = session.exec(
        select(Supervisor)
        .join(GrantSupervisor, col(GrantSupervisor.supervisor_id) == col(Supervisor.id))
        .where(GrantSupervisor.grant_id == grant_id)
        .order_by(col(GrantSupervisor.position), col(GrantSupervisor.id))
    )
    return list(rows)


def lead_supervisor(session: Session, *, grant_id: int) -> Supervisor | None:
    found = grant_supervisors(session, grant_id=grant_id)
    return found[0] if found else None


def assign_supervisors(session: Session, *, competition_id: int, actor: str) -> list[GrantSupervisor]:
    """Give every running grant its configured number of supervisors; see the module docstring.

    Raises ``InputError`` (nothing stored) when there are no supervisors, or ``InfeasibleAssignment``
    naming the grants that cannot get enough supervisors outside their own organisation.
    """
    _, config = competition_and_config(session, competition_id)
    rules = config.supervision
    grants = running_grants(session, competition_id=competition_id)
    if not grants:
        return []
    people = [s for s in supervisors_of(session, competition_id=competition_id) if s.active]
    if not people:
        raise InputError(
            Problem(
                "supervisors",
                "supervisors",
                "尚无督导名单：请在配置中填写 supervisors，或导入督导名单",
                "no supervisors yet: list them in the configuration or import a list",
            )
        )
    grant_ids = {g.id for g, _, _ in grants}
    held_rows = list(
        session.exec(select(GrantSupervisor).where(col(GrantSupervisor.grant_id).in_(grant_ids)))
    )
    pairs = assign(
        applications=[
            Candidate(id=g.id or 0, ref=a.ref, organisation=o.name, communities=frozenset())
            for g, a, o in grants
        ],
        experts=[Reviewer(id=s.id or 0, name=s.name, organisation=s.organisation_name) for s in people],
        k=rules.supervisors_per_grant,
        seed=rules.assignment_seed,
        rules=Exclusions(same_organisation=rules.exclude_same_organisation, same_community=False),
        existing=[Pair(h.grant_id, h.supervisor_id) for h in held_rows],
    )
    positions = {g: sum(1 for h in held_rows if h.grant_id == g) for g in grant_ids}
    created = []
    for pair in pairs:
        positions[pair.application_id] = positions.get(pair.application_id, 0) + 1
        link = GrantSupervisor(
            grant_id=pair.application_id,
            supervisor_id=pair.expert_id,
            position=positions[pair.application_id],
        )
        session.add(link)
        session.flush()
        record(
            session,
            actor=actor,
            entity="grant",
            entity_id=pair.application_id,
            action="supervisor_assigned",
            reason=f"自动分配督导（种子 {rules.assignment_seed}） / supervisor assigned",
            data={"supervisor_id": pair.expert_id, "position": link.position},
        )
        created.append(link)
    return created


def reassign(
    session: Session, *, grant_id: int, supervisor_id: int, actor: str, reason: str
) -> list[Checkpoint]:
    """Make ``supervisor_id`` the grant's lead supervisor (audited); returns the checkpoints moved.

    The grant's unsettled checkpoints move to the new supervisor with a new link nonce, so the
    previous supervisor's links stop opening; the new supervisor's invitation follows from the flow.
    """
    reason = reason.strip()
    if not reason:
        raise InputError(Problem("", "reason", "请写明更换督导的理由", "give the reason for the change"))
    grant = session.get(Grant, grant_id)
    supervisor = session.get(Supervisor, supervisor_id)
    if grant is None:
        raise NotFound(f"没有资助项目 #{grant_id} / no grant #{grant_id}")
    if supervisor is None or supervisor.competition_id != grant.competition_id:
        raise NotFound(
            f"本竞赛没有督导 #{supervisor_id} / no supervisor #{supervisor_id} in this competition"
        )
    if not supervisor.active:
        raise Conflict(f"督导 {supervisor.name} 已停用 / {supervisor.name} is deactivated")
    application = session.get(Application, grant.application_id)
    organisation = session.get(Organisation, application.organisation_id) if application else None
    if (
        organisation is not None
        and supervisor.organisation_name.strip()
        and supervisor.organisation_name.strip().casefold() == organisation.name.strip().casefold()
    ):
        raise Conflict(
            f"督导 {supervisor.name} 来自受助单位本身，须回避 / "
            f"{supervisor.name} belongs to the grant holder's own organisation"
        )
    links = list(
        session.exec(
            select(GrantSupervisor)
            .where(GrantSupervisor.grant_id == grant_id)
            .order_by(col(GrantSupervisor.position))
        )
    )
    previous = links[0].supervisor_id if links else None
    if previous == supervisor_id:
        return []
    mine = next((x for x in links if x.supervisor_id == supervisor_id), None)
    if links:
        lead = links[0]
        if mine is not None:  # swap positions with the current lead
            mine.position, lead.position = lead.position, mine.position
            session.add(mine)
        else:
            lead.supervisor_id = supervisor_id
        session.add(lead)
    else:
        session.add(GrantSupervisor(grant_id=grant_id, supervisor_id=supervisor_id, position=1))
    session.flush()
    moved = list(
        session.exec(
            select(Checkpoint).where(
                Checkpoint.grant_id == grant_id, col(Checkpoint.state).in_(CHECKPOINTS_OPEN)
            )
        )
    )
    for checkpoint in moved:
        checkpoint.supervisor_id = supervisor_id
        checkpoint.token_nonce = new_nonce()
        session.add(checkpoint)
    session.flush()
    record(
        session,
        actor=actor,
        entity="grant",
        entity_id=grant_id,
        action="supervisor_reassigned",
        reason=reason,
        data={"from": previous, "to": supervisor_id, "checkpoints": [c.id for c in moved]},
    )
    return moved


def deactivate_supervisor(session: Session, *, supervisor_id: int, actor: str, reason: str) -> bool:
    """Deactivate a supervisor (audited): no new grant from now on. Refused (``Conflict``, nothing
    changed) while they fill a checkpoint not yet settled: hand those grants to another supervisor
    first (``reassign``). False when they were inactive already."""
    from models.review.people import set_active

    supervisor = session.get(Supervisor, supervisor_id)
    if supervisor is None:
        raise NotFound(f"没有督导 #{supervisor_id} / no supervisor #{supervisor_id}")
    held = session.exec(
        select(Application.ref)
        .join(Grant, col(Grant.application_id) == col(Application.id))
        .join(Checkpoint, col(Checkpoint.grant_id) == col(Grant.id))
        .where(Checkpoint.supervisor_id == supervisor_id, col(Checkpoint.state).in_(TO_FILL))
        .order_by(col(Application.ref))
        .distinct()
    ).all()
    if held:
        refs = "、".join(held)
        raise Conflict(
            f"{supervisor.name} 仍负责 {refs} 尚未结束的检查，请先改派其他督导 / "
            f"{supervisor.name} still fills open checks of {refs}: hand them to another supervisor first"
        )
    return set_active(session, row=supervisor, active=False, entity="supervisor", actor=actor, reason=reason)


def supervisor_by_email(session: Session, *, competition_id: int, email: str) -> Supervisor:
    found = session.exec(
        select(Supervisor).where(
            Supervisor.competition_id == competition_id,
            sa.func.lower(Supervisor.email) == email.strip().lower(),
        )
    ).first()
    if found is None:
        raise NotFound(f"督导名单中没有 {email} / no supervisor {email}")
    return found
