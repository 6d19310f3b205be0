"""Letters from a competition to its people, with the keys every letter shares.

Every letter names its recipient, the competition and the signatory (the operator, else the
organiser); every letter about an application also names its 申报编号 and title. ``write_to`` and
``write_to_applicant`` fill those in and queue the letter through ``compose_letter`` (idempotent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from models.application import Application, Organisation
from models.competition import Competition, competition_config
from models.letters import compose_letter
from models.outbox import OutboxLetter


def signatory(competition: Competition) -> str:
    """Who signs the competition's letters: the operator (承办), else the organiser (主办)."""
    return competition_config(competition).competition.operator or competition.organiser


def write_to(
    session: Session,
    *,
    competition: Competition,
    role: str,
    stage: str,
    email: str,
    name: str,
    subject_entity: str,
    subject_id: int | None = None,
    context: Mapping[str, Any],
    occasion: str = "",
    attachments: Sequence[int] = (),
) -> OutboxLetter:
    """Queue a ``role`` letter to ``name`` <``email``> about one subject of ``competition``."""
    common = {
        "recipient_name": name,
        "competition_name": competition.name,
        "organiser": signatory(competition),
    }
    return compose_letter(
        session,
        role=role,
        stage=stage,
        recipient_email=email,
        recipient_name=name,
        competition=competition,
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
        attachments=attachments,
        context={**common, **context},
    )


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
