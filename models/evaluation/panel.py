"""结项专家评审: the optional expert panel of the final evaluation (``evaluation.expert_panel``).

- ``assign_panel``: every running grant whose final checkpoint's reports are in (``submitted``)
  gets ``experts_per_grant`` experts from the competition's pool (the review's experts), by the
  review's own assignment (``models.review.assignment.assign``: min-cost flow, balanced loads, the
  configured seed) under the review's exclusions — same organisation, same community where
  configured, declared conflicts with that application. Sheets already made count (``existing``),
  so a re-run adds nothing; the caller holds the competition's lock (``lock_competition``), and the
  table's unique (checkpoint, expert) refuses a doubled sheet from any other writer. Each sheet is
  due ``due_days`` after the day it was made (the end of that day, competition time).
- ``panel_status``: a grant's panel for its current round — the sheets, the submitted scores, the
  due day, and whether the evaluation may go on: every sheet submitted, or the due day passed (the
  missing sheets then do not count). A panel without sheets is not ready: assign it first.

Nothing here is reached when the panel is not configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import CompetitionConfig, ExpertPanel
from models.competition.tables import Competition, competition_config
from models.db import lock_competition
from models.documents.engine.cn_format import local_date
from models.errors import ConfigError, InputError, NotFound, Problem
from models.evaluation.checkpoints import final_checkpoint
from models.evaluation.tables import PanelSheet
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.links import new_nonce
from models.review.assignment import Candidate, Exclusions, InfeasibleAssignment, Pair, Reviewer, assign
from models.review.tables import ConflictDeclaration, Expert
from models.states import GRANTS_RUNNING, AssignmentState, CheckpointState
from models.supervision.tables import Checkpoint

FIELD = "evaluation.expert_panel.experts_per_grant"


def panel_rules(config: CompetitionConfig) -> ExpertPanel | None:
    """The configured panel, or None when the 结项 is the supervisors' alone."""
    return config.evaluation.expert_panel


def sheets_of(session: Session, *, checkpoint_id: int) -> list[PanelSheet]:
    return list(
        session.exec(
            select(PanelSheet)
            .where(PanelSheet.checkpoint_id == checkpoint_id)
            .order_by(col(PanelSheet.expert_id))
            .execution_options(populate_existing=True)
        )
    )


@dataclass(frozen=True)
class PanelStatus:
    sheets: tuple[PanelSheet, ...]
    scores: dict[int, Decimal]  # expert id -> score, submitted sheets only
    due_on: date | None
    ready: bool

    @property
    def assigned(self) -> int:
        return len(self.sheets)


def panel_status(session: Session, *, checkpoint_id: int, on: date) -> PanelStatus:
    """Where a checkpoint round's panel stands on day ``on`` (see the module docstring)."""
    sheets = tuple(sheets_of(session, checkpoint_id=checkpoint_id))
    scores = {
        s.expert_id: s.score for s in sheets if s.state is AssignmentState.submitted and s.score is not None
    }
    due_on = max((s.due_on for s in sheets), default=None)
    ready = bool(sheets) and (len(scores) == len(sheets) or (due_on is not None and on > due_on))
    return PanelStatus(sheets, scores, due_on, ready)


def _competition(session: Session, competition_id: int) -> tuple[Competition, CompetitionConfig]:
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    return competition, competition_config(competition)


def _waiting(session: Session, competition_id: int) -> list[tuple[Checkpoint, Application, Organisation]]:
    """The final checkpoints (current round) of running grants whose reports are in."""
    rows = session.exec(
        select(Grant, Application, Organisation)
        .join(Application, col(Application.id) == col(Grant.application_id))
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .where(Grant.competition_id == competition_id, col(Grant.state).in_(GRANTS_RUNNING))
        .order_by(col(Grant.id))
    )
    found = []
    for grant, application, organisation in rows:
        checkpoint = final_checkpoint(session, grant_id=grant.id or 0)
        if checkpoint is not None and checkpoint.state is CheckpointState.submitted:
            found.append((checkpoint, application, organisation))
    return found


def _deadline(day: date, timezone: str) -> datetime:
    """The last second of ``day`` in the competition's time zone, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def assign_panel(
    session: Session, *, competition_id: int, actor: str, now: datetime, timezone: str
) -> list[PanelSheet]:
    """New panel sheets so that every waiting grant has its experts (idempotent); the caller commits.

    ``ConfigError`` when the pool is smaller than ``experts_per_grant``; ``InputError`` (nothing
    made) when conflicts leave a grant too few experts, naming the grant and who was excluded why.
    """
    competition, config = _competition(session, competition_id)
    rules = panel_rules(config)
    if rules is None:
        return []
    lock_competition(session, competition_id)  # a concurrent run waits here, then finds its sheets made
    waiting = _waiting(session, competition_id)
    if not waiting:
        return []
    source = competition.config_source or competition.slug
    experts = list(
        session.exec(
            select(Expert)
            .where(Expert.competition_id == competition_id, col(Expert.active))
            .order_by(col(Expert.id))
        )
    )
    if len(experts) < rules.experts_per_grant:
        raise ConfigError(
            Problem(
                source,
                FIELD,
                f"结项专家评审每个项目需 {rules.experts_per_grant} 位专家，但专家库只有 {len(experts)} 位",
                f"the panel needs {rules.experts_per_grant} experts a grant but the pool has {len(experts)}",
            )
        )
    checkpoint_ids = [c.id or 0 for c, _, _ in waiting]
    existing = {
        Pair(s.checkpoint_id, s.expert_id)
        for s in session.exec(select(PanelSheet).where(col(PanelSheet.checkpoint_id).in_(checkpoint_ids)))
    }
    application_ids = {a.id: c.id or 0 for c, a, _ in waiting}
    declared = {
        Pair(application_ids[d.application_id], d.expert_id)
        for d in session.exec(
            select(ConflictDeclaration).where(
                col(ConflictDeclaration.application_id).in_(list(application_ids))
            )
        )
    }
    candidates = [
        Candidate(
            id=checkpoint.id or 0,
            ref=application.ref,
            organisation=organisation.name,
            communities=frozenset(c for c in [application.community, *application.communities] if c),
        )
        for checkpoint, application, organisation in waiting
    ]
    reviewers = [
        Reviewer(id=e.id or 0, name=e.name, organisation=e.organisation_name, community=e.community)
        for e in experts
    ]
    try:
        pairs = assign(
            applications=candidates,
            experts=reviewers,
            k=rules.experts_per_grant,
            seed=config.review.assignment_seed,
            rules=Exclusions(
                same_organisation=config.review.exclude_same_organisation,
                same_community=config.review.exclude_same_community,
                declared=frozenset(declared),
            ),
            existing=existing,
        )
    except InfeasibleAssignment as exc:
        raise InputError(
            [Problem(p.where.replace("申报", "结项项目"), FIELD, p.zh, p.en) for p in exc.problems]
        ) from exc
    due_on = local_date(now, timezone) + timedelta(days=rules.due_days)
    deadline = _deadline(due_on, timezone)
    by_checkpoint = {c.id: c for c, _, _ in waiting}
    made = []
    for pair in pairs:
        checkpoint = by_checkpoint[pair.application_id]
        sheet = PanelSheet(
            competition_id=competition_id,
            grant_id=checkpoint.grant_id,
            checkpoint_id=pair.application_id,
            expert_id=pair.expert_id,
            due_on=due_on,
            deadline=deadline,
            token_nonce=new_nonce(),
        )
        session.add(sheet)
        session.flush()
        assert sheet.id is not None
        record(
            session,
            actor=actor,
            entity="panel_sheet",
            entity_id=sheet.id,
            action="create",
            to_state=str(sheet.state),
            reason=f"结项专家评审（种子 {config.review.assignment_seed}） / final-evaluation panel assigned",
            data={"grant_id": checkpoint.grant_id, "round": checkpoint.round, "expert_id": pair.expert_id},
        )
        made.append(sheet)
    return made
