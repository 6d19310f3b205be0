"""Letters from a competition to its people, with the keys every letter shares.

Every letter names its recipient, the competition and the signatory (the operator, else the
organiser). ``write_to`` fills those in and queues the letter through ``compose_letter``
(idempotent); ``models.intake.correspondence.write_to_applicant`` adds an application's 申报编号
and title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.mail.letters import compose_letter
from models.mail.outbox import OutboxLetter


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
    hold: str = "",
) -> OutboxLetter:
    """Queue a ``role`` letter to ``name`` <``email``> about one subject of ``competition``; ``hold``
    (why) keeps it a draft for the administrator to release."""
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
        hold=hold,
    )
