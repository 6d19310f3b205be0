"""Supervision (督导): supervisors, who follows which grant, checkpoints, the supervisors' records,
the grantees' own progress reports, evidence files, rectifications and terminations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.states import (
    CHECKPOINT_MOVES,
    RECTIFICATION_MOVES,
    CheckpointState,
    Machine,
    RectificationState,
)
from models.types import DecimalText, UtcDateTime, enum_column, utcnow

# the configured code of the 结项评估 checkpoint: its reports are collected here, but it is settled by
# the final evaluation (models.evaluation), the one writer of its outcome
FINAL_CHECKPOINT = "final"


class Supervisor(SQLModel, table=True):
    """督导."""

    __tablename__ = "supervisor"
    __table_args__ = (sa.UniqueConstraint("competition_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    name: str = Field(max_length=64)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=32)
    organisation_name: str = Field(default="", max_length=200)
    expertise: str = Field(default="", max_length=200)
    # deactivated in the console: no new sheets or checkpoints (models.review.people)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # changed by a person (the console, an imported list): the configuration's list no longer overwrites it
    edited_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class GrantSupervisor(SQLModel, table=True):
    """One supervisor following one grant; ``position`` 1 is the lead who fills the checkpoints."""

    __tablename__ = "grant_supervisor"
    __table_args__ = (sa.UniqueConstraint("grant_id", "supervisor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    supervisor_id: int = Field(foreign_key="supervisor.id", index=True)
    position: int = 1
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Checkpoint(SQLModel, table=True):
    """A scheduled check of one grant: 中期评估, 结项评估, a visit; round 2 is the re-check."""

    __tablename__ = "checkpoint"
    __machine__: ClassVar[Machine] = Machine("checkpoint", "state", CHECKPOINT_MOVES)
    __table_args__ = (sa.UniqueConstraint("grant_id", "code", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="supervisor.id", index=True)
    code: str = Field(max_length=40)  # configured: midterm, final, visit-1 …
    round: int = 1  # 2 after a rectification
    due_on: date
    report_due_on: date | None = None  # the grantee's own report (中期报告) is due on this day
    state: CheckpointState = Field(default=CheckpointState.scheduled, sa_type=enum_column(CheckpointState))
    token_nonce: str = Field(default="", max_length=64)  # the supervisor's link
    report_nonce: str = Field(default="", max_length=64)  # the grantee's link
    score: Decimal | None = Field(default=None, sa_type=DecimalText)
    outcome_reason: str = Field(default="", sa_type=sa.Text)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CheckpointReport(SQLModel, table=True):
    """What a supervisor reported at a checkpoint (督导记录表); a draft until submitted."""

    __tablename__ = "checkpoint_report"
    __table_args__ = (sa.UniqueConstraint("checkpoint_id", name="uq_checkpoint_report_checkpoint"),)

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", index=True)
    supervisor_id: int = Field(foreign_key="supervisor.id", index=True)
    visit_date: date | None = None
    visit_mode: str = Field(default="", max_length=20)  # on_site | remote
    activities_held: int = 0
    person_times: int = 0
    beneficiaries: int = 0
    spent_fen: int = Field(default=0, sa_type=sa.BigInteger)
    indicators: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # code → {points, comment}
    score: Decimal = Field(sa_type=DecimalText)
    computed_passed: bool = False  # score ≥ pass mark
    passed: bool  # the supervisor's verdict (computed, or overridden with a reason)
    override_reason: str = Field(default="", sa_type=sa.Text)
    findings: str = Field(default="", sa_type=sa.Text)
    rectify: str = Field(default="", sa_type=sa.Text)  # what must be rectified, one item a line
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # evidence file ids
    draft: bool = True
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ProgressReport(SQLModel, table=True):
    """The grantee's own report before a checkpoint (中期报告 / 结项报告); a draft until submitted."""

    __tablename__ = "progress_report"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", sa_column_kwargs={"unique": True})
    activities: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # date, name, …
    person_times: int = 0
    beneficiaries: int = 0
    spending: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # per budget line
    problems: str = Field(default="", sa_type=sa.Text)
    changes: str = Field(default="", sa_type=sa.Text)
    draft: bool = True
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class EvidenceFile(SQLModel, table=True):
    """One accepted upload (签到表, photo, receipt), stored by content hash outside any web root."""

    __tablename__ = "evidence_file"
    __table_args__ = (sa.UniqueConstraint("checkpoint_id", "owner", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", index=True)
    owner: str = Field(max_length=20)  # supervisor | grantee
    kind: str = Field(max_length=20)  # sign_in | photo | receipt | other
    name: str = Field(max_length=200)  # the sanitised original name, for people
    path: str = Field(max_length=500)  # relative to the uploads folder
    sha256: str = Field(max_length=64)
    media_type: str = Field(max_length=60)
    size: int
    width: int | None = None
    height: int | None = None
    uploaded_by: str = Field(default="", max_length=100)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # chosen with a post that was not saved (a problem in the form): kept for the same link, shown to
    # no one else, joined to the form by its next save (models.supervision.evidence.attach_pending)
    pending: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Rectification(SQLModel, table=True):
    """整改: opened by a failed checkpoint, with a deadline and what to fix; settled by the re-check."""

    __tablename__ = "rectification"
    __machine__: ClassVar[Machine] = Machine("rectification", "state", RECTIFICATION_MOVES)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", sa_column_kwargs={"unique": True})
    recheck_id: int | None = Field(default=None, foreign_key="checkpoint.id")
    deadline: date
    items: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    state: RectificationState = Field(
        default=RectificationState.open, sa_type=enum_column(RectificationState)
    )
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GrantTermination(SQLModel, table=True):
    """终止: why a grant ended early and what is to be clawed back (released − accepted spend)."""

    __tablename__ = "grant_termination"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", sa_column_kwargs={"unique": True})
    reason: str = Field(sa_type=sa.Text)
    released_fen: int = Field(sa_type=sa.BigInteger)
    accepted_spend_fen: int = Field(sa_type=sa.BigInteger)
    clawback_fen: int = Field(sa_type=sa.BigInteger)
    cancelled_fen: int = Field(sa_type=sa.BigInteger)
    actor: str = Field(max_length=100)
    terminated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
