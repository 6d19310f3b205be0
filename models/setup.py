"""Setting up and removing a whole competition: the one module above every stage room.

``create_competition`` stores a competition with its rubric (``models.competition``), its experts
(``models.review``) and its supervisors (``models.supervision``) from one configuration;
``purge_competition`` deletes it with everything that belongs to it. They live here, above the
rooms, so that no stage needs to import a later one (``tests/test_import_rules.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config_file import config_digest, parse_config
from models.competition.tables import Competition, RubricCriterion
from models.documents.tables import DocumentNumber, GeneratedDocument
from models.errors import Conflict
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import FundingDecision, Grant, Objection, PublicityNotice, Tranche
from models.intake.tables import Application, BudgetLine, EligibilityCheck
from models.mail.outbox import OutboxLetter
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment, ReviewResult, Score
from models.supervision.tables import (
    Checkpoint,
    CheckpointReport,
    EvidenceFile,
    GrantSupervisor,
    GrantTermination,
    ProgressReport,
    Rectification,
    Supervisor,
)


def create_competition(session: Session, *, text: str, source: str, actor: str) -> Competition:
    """Validate a configuration and store a new competition with its rubric, experts and supervisors.

    Nothing is stored when the configuration is invalid or the slug exists already.
    """
    from models.review.tables import Expert
    from models.supervision.tables import Supervisor

    config = parse_config(text, source=source)
    info = config.competition
    if session.exec(select(Competition).where(Competition.slug == info.slug)).first() is not None:
        raise Conflict(
            f"竞赛 {info.slug} 已存在 / competition {info.slug!r} exists already ({source}: competition.slug)"
        )
    competition = Competition(
        slug=info.slug,
        name=info.name,
        organiser=info.organiser,
        year=info.year,
        budget_fen=config.budget.service_budget,
        pool_fen=config.budget.pool,
        config_yaml=text,
        config_sha256=config_digest(text),
        config_source=source,
    )
    session.add(competition)
    session.flush()
    assert competition.id is not None
    for position, criterion in enumerate(config.rubric.criteria, start=1):
        session.add(
            RubricCriterion(
                competition_id=competition.id,
                position=position,
                code=criterion.code,
                name=criterion.name,
                description=criterion.description,
                max_points=criterion.max_points,
                weight=criterion.weight,
                step=criterion.step,
            )
        )
    for person in config.experts:
        session.add(
            Expert(
                competition_id=competition.id,
                name=person.name,
                email=str(person.email),
                phone=person.phone,
                organisation_name=person.organisation,
                community=person.community,
                expertise=person.expertise,
            )
        )
    for person in config.supervisors:
        session.add(
            Supervisor(
                competition_id=competition.id,
                name=person.name,
                email=str(person.email),
                phone=person.phone,
                organisation_name=person.organisation,
            )
        )
    record(
        session,
        actor=actor,
        entity="competition",
        entity_id=competition.id,
        action="create",
        to_state=str(competition.stage),
        reason=f"配置文件 / configuration {source}",
        data={"sha256": competition.config_sha256},
    )
    session.flush()
    return competition


def purge_competition(session: Session, *, slug: str, actor: str) -> bool:
    """Delete a competition and everything that belongs to it (the demo's fresh start on a shared
    PostgreSQL database). Organisations, which outlive competitions, are kept. Returns False if none
    existed.

    The audit log is append-only: its rows about the competition stay, closed by a ``purge`` row.
    So the purge is refused on SQLite (``Conflict``), which gives a deleted row's id to the next
    new row: the new competition, its applications and checkpoints would inherit the old ones'
    audit trail. PostgreSQL's sequences never hand an id out twice."""
    competition = session.exec(select(Competition).where(Competition.slug == slug)).first()
    if competition is None:
        return False
    if session.get_bind().dialect.name == "sqlite":
        raise Conflict(
            f"SQLite 数据库不能清除竞赛 {slug}（会复用审计记录仍指向的编号），请改用新的数据库文件 / "
            f"a competition cannot be purged from a SQLite database ({slug}): SQLite reuses the ids "
            "the append-only audit log still names — use a new database file"
        )
    cid = competition.id
    apps = select(Application.id).where(Application.competition_id == cid)
    grants = select(Grant.id).where(Grant.competition_id == cid)
    checkpoints = select(Checkpoint.id).where(col(Checkpoint.grant_id).in_(grants))
    assignments = select(ReviewAssignment.id).where(ReviewAssignment.competition_id == cid)
    for statement in (
        sa.delete(Rectification).where(col(Rectification.grant_id).in_(grants)),
        sa.delete(EvidenceFile).where(col(EvidenceFile.checkpoint_id).in_(checkpoints)),
        sa.delete(ProgressReport).where(col(ProgressReport.checkpoint_id).in_(checkpoints)),
        sa.delete(CheckpointReport).where(col(CheckpointReport.checkpoint_id).in_(checkpoints)),
        sa.delete(GrantTermination).where(col(GrantTermination.grant_id).in_(grants)),
        sa.delete(GrantSupervisor).where(col(GrantSupervisor.grant_id).in_(grants)),
        sa.delete(Checkpoint).where(col(Checkpoint.grant_id).in_(grants)),
        sa.delete(FinalEvaluation).where(col(FinalEvaluation.grant_id).in_(grants)),
        sa.delete(Objection).where(col(Objection.competition_id) == cid),
        sa.delete(PublicityNotice).where(col(PublicityNotice.competition_id) == cid),
        sa.delete(Tranche).where(col(Tranche.grant_id).in_(grants)),
        sa.delete(Grant).where(col(Grant.competition_id) == cid),
        sa.delete(FundingDecision).where(col(FundingDecision.competition_id) == cid),
        sa.delete(Score).where(col(Score.assignment_id).in_(assignments)),
        sa.delete(ReviewAssignment).where(col(ReviewAssignment.competition_id) == cid),
        sa.delete(ReviewResult).where(col(ReviewResult.application_id).in_(apps)),
        sa.delete(ConflictDeclaration).where(col(ConflictDeclaration.application_id).in_(apps)),
        sa.delete(EligibilityCheck).where(col(EligibilityCheck.application_id).in_(apps)),
        sa.delete(BudgetLine).where(col(BudgetLine.application_id).in_(apps)),
        sa.delete(OutboxLetter).where(col(OutboxLetter.competition_id) == cid),
        sa.delete(GeneratedDocument).where(col(GeneratedDocument.competition_id) == cid),
        # its 文号 go with it; their series keep counting, so no number is ever given twice
        sa.delete(DocumentNumber).where(col(DocumentNumber.competition_id) == cid),
        sa.delete(Application).where(col(Application.competition_id) == cid),
        sa.delete(Expert).where(col(Expert.competition_id) == cid),
        sa.delete(Supervisor).where(col(Supervisor.competition_id) == cid),
        sa.delete(RubricCriterion).where(col(RubricCriterion.competition_id) == cid),
        sa.delete(Competition).where(col(Competition.id) == cid),
    ):
        session.execute(statement)
    record(session, actor=actor, entity="competition", entity_id=cid or 0, action="purge", reason=slug)
    session.flush()
    return True
