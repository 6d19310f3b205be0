"""Evidence uploads through the portal: read the posted files (never more than the limit allows into
memory), check them (``models.supervision.evidence.check_uploads``), and store them in the same
transaction as the form they came with — a refused file stores nothing of that submission, and
the files a failed transaction wrote are removed again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from models.competition.config import UploadRules
from models.supervision.evidence import KINDS, Upload, check_uploads, evidence_of, store_evidence

FIELD_PREFIX = "evidence_"  # evidence_sign_in, evidence_photo, evidence_receipt, evidence_other
MAX_PARTS = 60  # what Starlette may parse at all; the configured count is checked after
T = TypeVar("T")


async def read_uploads(form: FormData, *, max_bytes: int) -> list[Upload]:
    """Every non-empty file field ``evidence_<kind>``, read up to ``max_bytes + 1`` bytes each."""
    uploads = []
    for key, value in form.multi_items():
        if not isinstance(value, UploadFile) or not key.startswith(FIELD_PREFIX):
            continue
        kind = key.removeprefix(FIELD_PREFIX)
        data = await value.read(max_bytes + 1)
        name = value.filename or ""
        if not name and not data:
            continue  # an empty file input
        uploads.append(
            Upload(
                name=name,
                data=data[:max_bytes],
                kind=kind if kind in KINDS else kind[:20],
                truncated=len(data) > max_bytes,
            )
        )
        await value.close()
    return uploads


def save_with_evidence(
    session: Session,
    *,
    checkpoint_id: int,
    owner: str,
    uploads: Sequence[Upload],
    rules: UploadRules,
    uploads_dir: Path,
    folder: str,
    actor: str,
    written: list[Path],
    save: Callable[[list[int]], T],
) -> T:
    """Check the uploads, store them, then ``save(evidence_ids)`` the form.

    ``InputError`` from the check or from ``save`` propagates. ``written`` receives the files this
    call created: when the caller's transaction does not commit, it must ``discard`` them.
    """
    already = len(evidence_of(session, checkpoint_id=checkpoint_id, owner=owner))
    cleaned = check_uploads(uploads, rules, already=already)
    stored = store_evidence(
        session,
        checkpoint_id=checkpoint_id,
        owner=owner,
        files=cleaned,
        uploads_dir=uploads_dir,
        folder=folder,
        actor=actor,
        written=written,
    )
    return save([row.id for row in stored if row.id is not None])
