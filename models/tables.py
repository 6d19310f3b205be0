"""Every table, so that ``SQLModel.metadata`` knows them all (Alembic and tests use this).

A module above the rooms: it imports each stage's tables, and lists the state machines they
declare (``MACHINES``) for the tests that walk every machine.
"""

from collections.abc import Mapping

from sqlmodel import SQLModel

from models.accounts.tables import ConsoleSession, LoginAttempt, User
from models.audit import AuditEvent
from models.competition.tables import Competition, RubricCriterion
from models.documents.tables import DocumentNumber, DocumentNumberSeries, GeneratedDocument
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.funding.tables import FundingDecision, Grant, Objection, PublicityNotice, Tranche
from models.intake.tables import Application, BudgetLine, EligibilityCheck, Organisation
from models.mail.outbox import OutboxLetter
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment, ReviewResult, Score
from models.states import Machine
from models.steps.runs import ConsoleRun
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

metadata = SQLModel.metadata

TABLES: tuple[type[SQLModel], ...] = (
    Competition,
    RubricCriterion,
    Organisation,
    Application,
    BudgetLine,
    EligibilityCheck,
    Expert,
    ConflictDeclaration,
    ReviewAssignment,
    Score,
    ReviewResult,
    FundingDecision,
    Grant,
    Tranche,
    PublicityNotice,
    Objection,
    Supervisor,
    GrantSupervisor,
    Checkpoint,
    CheckpointReport,
    ProgressReport,
    EvidenceFile,
    Rectification,
    GrantTermination,
    FinalEvaluation,
    PanelSheet,
    GeneratedDocument,
    DocumentNumberSeries,
    DocumentNumber,
    OutboxLetter,
    AuditEvent,
    User,
    ConsoleSession,
    LoginAttempt,
    ConsoleRun,
)

# every state machine, by the table that declares it (``__machine__``)
MACHINES: Mapping[type[SQLModel], Machine] = {
    table: table.__machine__  # type: ignore[attr-defined]
    for table in TABLES
    if isinstance(getattr(table, "__machine__", None), Machine)
}

__all__ = [
    "MACHINES",
    "TABLES",
    "Application",
    "AuditEvent",
    "BudgetLine",
    "Checkpoint",
    "CheckpointReport",
    "Competition",
    "ConflictDeclaration",
    "ConsoleSession",
    "DocumentNumber",
    "DocumentNumberSeries",
    "EligibilityCheck",
    "EvidenceFile",
    "Expert",
    "FinalEvaluation",
    "FundingDecision",
    "GeneratedDocument",
    "Grant",
    "GrantSupervisor",
    "GrantTermination",
    "LoginAttempt",
    "Objection",
    "Organisation",
    "OutboxLetter",
    "PanelSheet",
    "ProgressReport",
    "PublicityNotice",
    "Rectification",
    "ReviewAssignment",
    "ReviewResult",
    "RubricCriterion",
    "Score",
    "Supervisor",
    "Tranche",
    "User",
    "metadata",
]
