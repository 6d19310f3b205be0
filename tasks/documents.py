"""Document task: render one role for many subjects, in batches, and record each file.

The caller (a stage's task) builds each context from the database; this task renders, writes the
files under the documents folder and records them (``models.documents.registry.write_document``), committing
once per batch. Re-running it is safe: a path written before gives its row back and is never
rendered again (a document is written once). It retries on a database fault
(``tasks/database_faults.py``); a full disk (``StorageFull``) fails at once, its batch's files removed
with its rolled-back rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TypedDict

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from models.db import lock_competition, session_scope
from models.documents.registry import write_document
from models.settings import get_settings
from tasks.database_faults import ON_DATABASE_FAULT

BATCH_SIZE = 200


class DocumentJob(TypedDict):
    """One document to render: its context and what it is about."""

    context: Mapping[str, Any]
    subject_entity: str
    subject_id: int | None
    filename: str


@task(name="render-documents", cache_policy=NO_CACHE, **ON_DATABASE_FAULT)
def render_documents(
    role: str,
    competition_id: int | None,
    stage: str,
    jobs: Sequence[DocumentJob],
    documents_dir: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[int]:
    """Render ``role`` once per job; returns the GeneratedDocument ids, in the order of the jobs."""
    folder = Path(documents_dir) if documents_dir else get_settings().documents_dir
    ids: list[int] = []
    for start in range(0, len(jobs), batch_size):
        with session_scope() as session:
            if competition_id is not None:
                lock_competition(session, competition_id)
            for job in jobs[start : start + batch_size]:
                record = write_document(
                    session,
                    role=role,
                    context=job["context"],
                    competition_id=competition_id,
                    stage=stage,
                    subject_entity=job["subject_entity"],
                    subject_id=job["subject_id"],
                    filename=job["filename"],
                    documents_dir=folder,
                )
                assert record.id is not None
                ids.append(record.id)
    with suppress(MissingContextError):  # called as a plain function (render_documents.fn)
        get_run_logger().info(
            "已生成 %d 份 %s 文书 / rendered %d %s documents", len(ids), role, len(ids), role
        )
    return ids
