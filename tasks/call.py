"""Tasks of the call: open it, write the 征集公告 and the blank 申报书, queue the letters."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from sqlmodel import Session

from models.call.notices import open_call, queue_call_letters, write_call_documents
from models.competition.tables import Competition
from models.db import lock_competition, session_scope
from models.settings import get_settings
from tasks.database_faults import ON_DATABASE_FAULT


def _competition(session: Session, competition_id: int) -> Competition:
    competition = session.get(Competition, competition_id)
    assert competition is not None
    return competition


@task(name="open-call", **ON_DATABASE_FAULT)
def open_call_task(competition_id: int, as_of: datetime, actor: str) -> bool:
    """筹备 → 征集中 once the documents are written; False when the call was open already."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return open_call(session, competition=_competition(session, competition_id), now=as_of, actor=actor)


@task(name="write-call-documents", **ON_DATABASE_FAULT)
def write_call_documents_task(competition_id: int, as_of: datetime) -> list[int]:
    """征集公告 and 申报书 (blank); returns their document ids. Refused after the deadline."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        documents = write_call_documents(
            session, competition=_competition(session, competition_id), now=as_of, settings=get_settings()
        )
        return [d.id for d in documents if d.id is not None]


@task(name="queue-call-letters", **ON_DATABASE_FAULT)
def queue_call_letters_task(
    competition_id: int, document_ids: list[int], as_of: datetime | None = None
) -> list[int]:
    """A call letter to each mailing-list address, both documents attached (dated ``as_of``);
    returns letter ids."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = queue_call_letters(
            session,
            competition=_competition(session, competition_id),
            attachments=document_ids,
            settings=get_settings(),
        )
        return [letter.id for letter in letters if letter.id is not None]
