"""An application's dossier (申报档案): everything the year recorded about one application, read
from every stage for the console's application page.

    screening    each rule's result with its reason and any override (who, why)
    sheets       each expert's sheet: state, points per criterion, total, dropped by the trimmed mean
    result       the aggregate, rank overall and in its pool, flags, how a tie was broken
    decision     the funding decision: funded or not, the amount, its one sentence, a tie, an exclusion
    objections   raised against it during the 公示, and how they were resolved
    grant        the grant, its tranches, checkpoints (the supervisor's record, the grantee's report,
                 evidence files), rectifications, termination, final evaluations
    documents    every document written about it (its own, its grant's, tranches', checkpoints')
    letters      every letter about it, with its state
    history      the audit trail of all of the above, oldest first

``dossier_of`` refuses (``NotFound``) an application of another competition than the one named,
so an id typed into another competition's address shows nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, RubricCriterion, list_criteria
from models.documents.tables import GeneratedDocument
from models.errors import NotFound
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import FundingDecision, Grant, Objection, Tranche
from models.funding.tranches import gate_text
from models.intake.tables import Application, EligibilityCheck, Organisation
from models.mail.outbox import OutboxLetter
from models.review.tables import Expert, ReviewAssignment, ReviewResult, Score
from models.screening.eligibility import RULE_LABELS, checks_of, rule_requirements
from models.supervision.tables import (
    Checkpoint,
    CheckpointReport,
    EvidenceFile,
    GrantTermination,
    ProgressReport,
    Rectification,
    Supervisor,
)


@dataclass(frozen=True)
class RuleRow:
    rule: str
    label: str
    requirement: str
    check: EligibilityCheck


@dataclass(frozen=True)
class SheetRow:
    assignment: ReviewAssignment
    expert: str
    points: dict[str, Decimal]  # criterion code → points
    total: str | None  # as the review's result counted it
    dropped: str | None  # high | low (left out of a trimmed mean)


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint: Checkpoint
    name: str
    supervisor: str
    record: CheckpointReport | None
    progress: ProgressReport | None
    evidence: list[EvidenceFile]


@dataclass
class Dossier:
    competition: Competition
    application: Application
    organisation: Organisation
    screening: list[RuleRow] = field(default_factory=list)
    criteria: list[tuple[str, str]] = field(default_factory=list)  # (code, name) in the rubric's order
    sheets: list[SheetRow] = field(default_factory=list)
    result: ReviewResult | None = None
    decision: FundingDecision | None = None
    objections: list[Objection] = field(default_factory=list)
    grant: Grant | None = None
    tranches: list[tuple[Tranche, str]] = field(default_factory=list)  # with the gate in words
    checkpoints: list[CheckpointRow] = field(default_factory=list)
    rectifications: list[Rectification] = field(default_factory=list)
    termination: GrantTermination | None = None
    evaluations: list[FinalEvaluation] = field(default_factory=list)
    documents: list[GeneratedDocument] = field(default_factory=list)
    letters: list[OutboxLetter] = field(default_factory=list)
    history: list[AuditEvent] = field(default_factory=list)


def application_in(session: Session, *, competition: Competition, application_id: int) -> Application:
    """The application ``application_id`` of ``competition``; ``NotFound`` for any other."""
    application = session.get(Application, application_id)
    if application is None or application.competition_id != competition.id:
        raise NotFound(
            f"{competition.name} 没有申报 #{application_id} / no application #{application_id} here"
        )
    return application


def _sheets(session: Session, application_id: int, result: ReviewResult | None) -> list[SheetRow]:
    assignments = list(
        session.exec(
            select(ReviewAssignment)
            .where(ReviewAssignment.application_id == application_id)
            .order_by(col(ReviewAssignment.id))
        )
    )
    ids = [a.id for a in assignments if a.id is not None]
    experts = {
        e.id: e.name
        for e in session.exec(select(Expert).where(col(Expert.id).in_([a.expert_id for a in assignments])))
    }
    codes: dict[int, str] = {}
    points: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if ids:
        rows = session.exec(
            select(Score, RubricCriterion.code)
            .join(RubricCriterion, col(RubricCriterion.id) == col(Score.criterion_id))
            .where(col(Score.assignment_id).in_(ids))
        )
        for score, code in rows:
            points[score.assignment_id][code] = score.points
            codes[score.criterion_id] = code
    totals: dict[str, Any] = (result.totals if result is not None else {}) or {}
    sheets = []
    for assignment in assignments:
        counted = totals.get(str(assignment.expert_id))
        sheets.append(
            SheetRow(
                assignment=assignment,
                expert=experts.get(assignment.expert_id, f"#{assignment.expert_id}"),
                points=points.get(assignment.id or 0, {}),
                total=counted.get("total") if isinstance(counted, dict) else None,
                dropped=counted.get("dropped") if isinstance(counted, dict) else None,
            )
        )
    return sheets


def _checkpoints(session: Session, grant: Grant, config: CompetitionConfig) -> list[CheckpointRow]:
    names = {plan.code: plan.name for plan in config.checkpoints}
    checkpoints = list(
        session.exec(
            select(Checkpoint)
            .where(Checkpoint.grant_id == grant.id)
            .order_by(col(Checkpoint.due_on), col(Checkpoint.round), col(Checkpoint.id))
        )
    )
    ids = [c.id for c in checkpoints if c.id is not None]
    records = {
        r.checkpoint_id: r
        for r in session.exec(select(CheckpointReport).where(col(CheckpointReport.checkpoint_id).in_(ids)))
    }
    progress = {
        p.checkpoint_id: p
        for p in session.exec(select(ProgressReport).where(col(ProgressReport.checkpoint_id).in_(ids)))
    }
    evidence: dict[int, list[EvidenceFile]] = defaultdict(list)
    for item in session.exec(
        select(EvidenceFile).where(col(EvidenceFile.checkpoint_id).in_(ids)).order_by(col(EvidenceFile.id))
    ):
        evidence[item.checkpoint_id].append(item)
    supervisors = {
        s.id: s.name
        for s in session.exec(
            select(Supervisor).where(
                col(Supervisor.id).in_([c.supervisor_id for c in checkpoints if c.supervisor_id])
            )
        )
    }
    return [
        CheckpointRow(
            checkpoint=c,
            name=names.get(c.code, c.code) + (f"（第{c.round}轮）" if c.round > 1 else ""),
            supervisor=supervisors.get(c.supervisor_id, "") if c.supervisor_id else "",
            record=records.get(c.id or 0),
            progress=progress.get(c.id or 0),
            evidence=evidence.get(c.id or 0, []),
        )
        for c in checkpoints
    ]


def _about(subjects: dict[str, list[int]], entity: Any, entity_id: Any) -> Any:
    """``(entity, id)`` is one of ``subjects``."""
    return sa.or_(*[sa.and_(entity == name, entity_id.in_(ids)) for name, ids in subjects.items() if ids])


def dossier_of(
    session: Session, *, competition: Competition, config: CompetitionConfig, application_id: int
) -> Dossier:
    """Everything about one application of ``competition`` (see the module docstring)."""
    application = application_in(session, competition=competition, application_id=application_id)
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None and application.id is not None
    dossier = Dossier(competition=competition, application=application, organisation=organisation)
    requirements = rule_requirements(config)
    dossier.screening = [
        RuleRow(c.rule, RULE_LABELS.get(c.rule, c.rule), requirements.get(c.rule, ""), c)
        for c in checks_of(session, application_id=application.id)
    ]
    dossier.criteria = [(c.code, c.name) for c in list_criteria(session, competition_id=competition.id or 0)]
    dossier.result = session.exec(
        select(ReviewResult).where(ReviewResult.application_id == application.id)
    ).first()
    dossier.sheets = _sheets(session, application.id, dossier.result)
    dossier.decision = session.exec(
        select(FundingDecision).where(FundingDecision.application_id == application.id)
    ).first()
    dossier.objections = list(
        session.exec(
            select(Objection).where(Objection.application_id == application.id).order_by(col(Objection.id))
        )
    )
    dossier.grant = session.exec(select(Grant).where(Grant.application_id == application.id)).first()
    subjects: dict[str, list[int]] = {
        "application": [application.id],
        "assignment": [s.assignment.id for s in dossier.sheets if s.assignment.id is not None],
        "objection": [o.id for o in dossier.objections if o.id is not None],
        "funding_decision": [dossier.decision.id] if dossier.decision and dossier.decision.id else [],
    }
    grant = dossier.grant
    if grant is not None and grant.id is not None:
        tranches = list(
            session.exec(select(Tranche).where(Tranche.grant_id == grant.id).order_by(col(Tranche.seq)))
        )
        dossier.tranches = [(t, gate_text(t.gate, config)) for t in tranches]
        dossier.checkpoints = _checkpoints(session, grant, config)
        dossier.rectifications = list(
            session.exec(
                select(Rectification)
                .where(Rectification.grant_id == grant.id)
                .order_by(col(Rectification.id))
            )
        )
        dossier.termination = session.exec(
            select(GrantTermination).where(GrantTermination.grant_id == grant.id)
        ).first()
        dossier.evaluations = list(
            session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == grant.id))
        )
        subjects.update(
            grant=[grant.id],
            tranche=[t.id for t in tranches if t.id is not None],
            checkpoint=[c.checkpoint.id for c in dossier.checkpoints if c.checkpoint.id is not None],
            rectification=[r.id for r in dossier.rectifications if r.id is not None],
        )
    dossier.documents = list(
        session.exec(
            select(GeneratedDocument)
            .where(
                GeneratedDocument.competition_id == competition.id,
                _about(subjects, col(GeneratedDocument.subject_entity), col(GeneratedDocument.subject_id)),
            )
            .order_by(col(GeneratedDocument.created_at), col(GeneratedDocument.id))
        )
    )
    dossier.letters = list(
        session.exec(
            select(OutboxLetter)
            .where(
                OutboxLetter.competition_id == competition.id,
                _about(subjects, col(OutboxLetter.subject_entity), col(OutboxLetter.subject_id)),
            )
            .order_by(col(OutboxLetter.id))
        )
    )
    subjects["letter"] = [letter.id for letter in dossier.letters if letter.id is not None]
    dossier.history = list(
        session.exec(
            select(AuditEvent)
            .where(_about(subjects, col(AuditEvent.entity), col(AuditEvent.entity_id)))
            .order_by(col(AuditEvent.id))
        )
    )
    return dossier


def document_in(session: Session, *, competition: Competition, document_id: int) -> GeneratedDocument:
    """The document ``document_id`` of ``competition``; ``NotFound`` for any other."""
    document = session.get(GeneratedDocument, document_id)
    if document is None or document.competition_id != competition.id:
        raise NotFound(f"没有文档 #{document_id} / no document #{document_id} here")
    return document


def letter_in(session: Session, *, competition: Competition, letter_id: int) -> OutboxLetter:
    """The letter ``letter_id`` of ``competition``; ``NotFound`` for any other."""
    letter = session.get(OutboxLetter, letter_id)
    if letter is None or letter.competition_id != competition.id:
        raise NotFound(f"没有信件 #{letter_id} / no letter #{letter_id} here")
    return letter


def attachments_of(session: Session, letter: OutboxLetter) -> list[GeneratedDocument]:
    ids = [i for i in letter.attachments if isinstance(i, int)]
    if not ids:
        return []
    return list(session.exec(select(GeneratedDocument).where(col(GeneratedDocument.id).in_(ids))))


def evidence_in(session: Session, *, competition: Competition, evidence_id: int) -> EvidenceFile:
    """The evidence file ``evidence_id`` of a grant of ``competition``; ``NotFound`` for any other."""
    found = session.exec(
        select(EvidenceFile)
        .join(Checkpoint, col(Checkpoint.id) == col(EvidenceFile.checkpoint_id))
        .join(Grant, col(Grant.id) == col(Checkpoint.grant_id))
        .where(EvidenceFile.id == evidence_id, Grant.competition_id == competition.id)
    ).first()
    if found is None:
        raise NotFound(f"没有佐证材料 #{evidence_id} / no evidence file #{evidence_id} here")
    return found
