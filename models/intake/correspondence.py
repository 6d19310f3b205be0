"""Letters about one application: every one names its 申报编号 and title, sent to its contact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from models.competition.tables import Competition
from models.intake.tables import Application, Organisation
from models.mail.correspondence import write_to
from models.mail.outbox import OutboxLetter


def write_to_applicant(
    session: Session,
    *,
    competition: Competition,
    role: str,
    stage: str,
    application: Application,
    organisation: Organisation,
    context: Mapping[str, Any],
    occasion: str = "",
    attachments: Sequence[int] = (),
) -> OutboxLetter:
    """Queue a ``role`` letter about ``application`` to its contact address."""
    return write_to(
        session,
        competition=competition,
        role=role,
        stage=stage,
        email=application.contact_email,
        name=organisation.name,
        subject_entity="application",
        subject_id=application.id,
        occasion=occasion,
        attachments=attachments,
        context={"application_ref": application.ref, "project_title": application.title, **context},
    )
