"""Evidence through the portal: uploads in, files out.

In: read the posted files (never more than the limit allows into memory), check each one
(``models.supervision.evidence``), and store them in the same transaction as the form they came
with — the files a failed transaction wrote are removed again. A refused file is never stored;
the files that passed, posted with a form that was not saved, are kept as the link's pending
uploads (``keep_pending``) and joined to the form by its next save.

Out: a stored file answered as itself (``file_response``): its own ``Content-Type``, ``inline`` with
its name (RFC 6266 / 5987), ``X-Content-Type-Options: nosniff`` (with the site's other headers), or
a small copy of an image (``thumb``). Which file a link may open is the room's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from fastapi.responses import FileResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from models.competition.config import UploadRules
from models.errors import InputError, NotFound
from models.supervision.evidence import (
    KINDS,
    CleanFile,
    Upload,
    attach_pending,
    evidence_of,
    sort_uploads,
    store_evidence,
    stored_path,
    thumbnail,
    too_many,
)
from models.supervision.tables import EvidenceFile

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


@dataclass(frozen=True)
class Destination:
    """Where a link's uploads go: its checkpoint and owner, the competition's rules and folder, who
    uploads."""

    checkpoint_id: int
    owner: str
    rules: UploadRules
    uploads_dir: Path
    folder: str
    actor: str

    def store(
        self, session: Session, files: Sequence[CleanFile], written: list[Path], *, pending: bool = False
    ) -> list[EvidenceFile]:
        return store_evidence(
            session,
            checkpoint_id=self.checkpoint_id,
            owner=self.owner,
            files=files,
            uploads_dir=self.uploads_dir,
            folder=self.folder,
            actor=self.actor,
            written=written,
            pending=pending,
        )

    def counted(self, session: Session, cleaned: Sequence[CleanFile]) -> tuple[int, list[CleanFile]]:
        """(the owner's files stored so far, pending ones included; the cleaned ones new among them —
        a file chosen again is one file)."""
        stored = {
            row.sha256
            for row in evidence_of(session, checkpoint_id=self.checkpoint_id, owner=self.owner, pending=None)
        }
        fresh = list({clean.sha256: clean for clean in cleaned if clean.sha256 not in stored}.values())
        return len(stored), fresh


def save_with_evidence(
    session: Session,
    to: Destination,
    uploads: Sequence[Upload],
    *,
    written: list[Path],
    save: Callable[[list[int]], T],
) -> T:
    """Check the uploads, store them with the owner's pending files, then ``save(evidence_ids)``.

    Every problem comes at once in one ``InputError`` (each refused file, the count, and the form's
    own problems from ``save``); then the caller rolls back and may ``keep_pending`` the files that
    passed. ``written`` receives the files this call created: when the caller's transaction does
    not commit, it must ``discard`` them.
    """
    cleaned, problems = sort_uploads(uploads, to.rules)
    already, fresh = to.counted(session, cleaned)
    count = too_many(len(fresh), to.rules, already=already)
    if count is not None:
        problems.insert(0, count)
    stored = to.store(session, cleaned, written)
    attached = attach_pending(session, checkpoint_id=to.checkpoint_id, owner=to.owner, actor=to.actor)
    ids = list(dict.fromkeys(row.id for row in [*stored, *attached] if row.id is not None))
    try:
        result = save(ids)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    if problems:
        raise InputError(problems)
    return result


def keep_pending(
    session: Session, to: Destination, uploads: Sequence[Upload], *, written: list[Path]
) -> list[CleanFile]:
    """Keep the uploads that pass their checks as the owner's pending files (as many as the limit
    leaves room for); returns those kept."""
    cleaned, _ = sort_uploads(uploads, to.rules)
    already, fresh = to.counted(session, cleaned)
    kept = fresh[: max(to.rules.max_files - already, 0)]
    to.store(session, kept, written, pending=True)
    return kept


# ---- files out -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A stored evidence file a link may open: where it is, its name for people, its media type."""

    path: Path
    name: str
    media_type: str


def stored_file(uploads_dir: Path, row: EvidenceFile) -> StoredFile:
    """The stored file of an evidence row; ``NotFound`` when it is not in the uploads folder."""
    path = stored_path(uploads_dir, row)
    if not path.is_file():
        raise NotFound(f"材料文件缺失 #{row.id} / the evidence file #{row.id} is missing")
    return StoredFile(path, row.name, row.media_type)


def content_disposition(name: str) -> str:
    """``inline`` with the file's name: an ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in name)
    return f"inline; filename=\"{fallback or 'evidence'}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(stored: StoredFile, *, thumb: bool) -> Response:
    """The file as itself, or a small copy of an image (``thumb``)."""
    headers = {"Content-Disposition": content_disposition(stored.name), "X-Content-Type-Options": "nosniff"}
    if thumb and stored.media_type.startswith("image/"):
        data, media_type = thumbnail(stored.path)
        return Response(data, media_type=media_type, headers=headers)
    return FileResponse(stored.path, media_type=stored.media_type, headers=headers)
