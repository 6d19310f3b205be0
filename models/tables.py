"""Imports every table so that ``SQLModel.metadata`` knows them all (Alembic and tests use this)."""

from sqlmodel import SQLModel

from models.application import Application, BudgetLine, EligibilityCheck, Organisation
from models.audit import AuditEvent
from models.competition import Competition, RubricCriterion
from models.document import GeneratedDocument
from models.funding import FundingDecision, Grant, Tranche
from models.outbox import OutboxLetter
from models.review import ConflictDeclaration, Expert, ReviewAssignment, ReviewResult, Score
from models.supervision import Checkpoint, CheckpointReport, FinalEvaluation, Supervisor

metadata = SQLModel.metadata

__all__ = [
    "Application",
    "AuditEvent",
    "BudgetLine",
    "Checkpoint",
    "CheckpointReport",
    "Competition",
    "ConflictDeclaration",
    "EligibilityCheck",
    "Expert",
    "FinalEvaluation",
    "FundingDecision",
    "GeneratedDocument",
    "Grant",
    "Organisation",
    "OutboxLetter",
    "ReviewAssignment",
    "ReviewResult",
    "RubricCriterion",
    "Score",
    "Supervisor",
    "Tranche",
    "metadata",
]
