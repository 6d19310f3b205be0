"""Word documents: the registry of document roles, rendering, and the record of every generated file.

``DOCUMENTS`` holds the 18 roles (征集公告 … 年度总结报告), each naming its template under
``templates/docs/``, the context keys it needs with a sample value each, and a one-line purpose
(the keys are declared in ``models/application_form.py``, ``document_roles_selection.py`` and
``document_roles_grants.py``). ``render_document`` renders a role's template (compiled once, by
``models/docx.py``); ``write_document`` renders, writes the file under the documents folder and
records it. Files go to a predictable tree::

    <documents>/<competition slug>/<stage>/<subject entity>-<subject id>/<filename>.docx
    e.g. documents/jiangtou-2025/intake/application-12/受理回执-JT2025-003.docx

Writing the same path again returns the same row and writes nothing: a document is the record of
one decision at its moment, written once (only a file lost from disk is written again).

A file is written whole (a temporary name, then a rename) before its row is flushed, and a file new
to the folder is removed again if the session's transaction rolls back — or, when its process was
killed before the commit, by the next process to write a document (``models/documents/pending.py``):
a failed step leaves neither rows nor files behind. A full disk (ENOSPC, or a quota) is
``StorageFull``, naming the folder, at once — never half a file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import faults
from models.documents import pending
from models.documents.application_form import APPLICATION_FORM
from models.documents.engine.docx import CompiledDocx, load_docx
from models.documents.engine.templating import Registry, TemplateRole
from models.documents.roles_grants import GRANT_ROLES
from models.documents.roles_selection import SELECTION_ROLES
from models.documents.tables import GeneratedDocument
from models.errors import Conflict, InputError, Problem, StorageFull

DOCUMENTS = Registry("docx")
for _role in (SELECTION_ROLES[0], APPLICATION_FORM, *SELECTION_ROLES[1:], *GRANT_ROLES):
    DOCUMENTS.register(_role)

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# A file name's limit is 255 bytes on most file systems (ext4, XFS, APFS, NTFS counts 255 UTF-16
# units); 80 CJK characters are 240 bytes. Names are cut well below it, at a character boundary.
FILENAME_MAX_BYTES = 150


def template_path(role: TemplateRole) -> Path:
    from models.settings import TEMPLATES_DIR

    return TEMPLATES_DIR / role.template


def compiled_template(role_name: str) -> CompiledDocx:
    """The compiled template of a role (compiled once per file content)."""
    return load_docx(template_path(DOCUMENTS.get(role_name)))


def render_document(role_name: str, context: Mapping[str, Any]) -> bytes:
    """A finished .docx of a registered role; a missing key is an error naming key and template."""
    role = DOCUMENTS.get(role_name)
    role.check_context(context)
    return load_docx(template_path(role)).render(context)


def safe_filename(name: str, *, max_bytes: int = FILENAME_MAX_BYTES) -> str:
    """A file name without path separators, control characters or characters Windows refuses, at
    most ``max_bytes`` in UTF-8 (a long stem is cut at its end and marked with …).

    Callers put what identifies the document first — the role and the 申报编号
    (``受理回执-2025-003-<title>``) — so that a cut keeps them.
    """
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".")
    stem = cleaned.removesuffix(".docx").rstrip()
    if not stem.strip("_ "):
        raise InputError(Problem("document", "filename", "文件名为空", f"empty file name: {name!r}"))
    room = max_bytes - len(b".docx")
    if len(stem.encode("utf-8")) > room:
        cut = stem.encode("utf-8")[: room - len("…".encode())].decode("utf-8", "ignore")
        stem = cut.rstrip() + "…"
    return stem + ".docx"


def document_folder(
    session: Session, *, competition_id: int | None, stage: str, subject_entity: str, subject_id: int | None
) -> str:
    """``<competition slug>/<stage>/<subject>``, relative to the documents folder."""
    from models.competition.tables import Competition

    for field, value in (("stage", stage), ("subject_entity", subject_entity or "competition")):
        if not _NAME.match(value):
            raise InputError(
                Problem("document", field, "只能用小写字母、数字和-_", f"not a plain name: {value!r}")
            )
    competition = session.get(Competition, competition_id) if competition_id is not None else None
    top = competition.slug if competition is not None else str(competition_id or "shared")
    subject = subject_entity or "competition"
    if subject_id is not None:
        subject = f"{subject}-{subject_id}"
    return f"{top}/{stage}/{subject}"


def _document_path(
    session: Session,
    competition_id: int | None,
    stage: str,
    subject_entity: str,
    subject_id: int | None,
    filename: str,
) -> tuple[str, str]:
    """(file name, path relative to the documents folder) of a document."""
    name = safe_filename(filename)
    folder = document_folder(
        session,
        competition_id=competition_id,
        stage=stage,
        subject_entity=subject_entity,
        subject_id=subject_id,
    )
    return name, f"{folder}/{name}"


def written_document(
    session: Session,
    *,
    role: str,
    competition_id: int | None,
    stage: str,
    subject_entity: str,
    subject_id: int | None,
    filename: str,
    documents_dir: Path,
) -> GeneratedDocument | None:
    """The document ``write_document`` would return without writing (recorded for this role and
    subject, its file on disk), else None: a caller asks before it computes what decides whether
    the paper is due at all."""
    _, relative = _document_path(session, competition_id, stage, subject_entity, subject_id, filename)
    record = session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.path == relative,
            GeneratedDocument.role == role,
            GeneratedDocument.subject_entity == subject_entity,
            GeneratedDocument.subject_id == subject_id,
        )
    ).first()
    return record if record is not None and (Path(documents_dir) / relative).is_file() else None


def write_document(
    session: Session,
    *,
    role: str,
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    competition_id: int | None,
    stage: str,
    subject_entity: str,
    subject_id: int | None,
    filename: str,
    documents_dir: Path,
) -> GeneratedDocument:
    """Render a role, write it under ``documents_dir`` and record it — once.

    A document is the record of one decision at its moment: a path written before returns its
    row and is never rendered again, whatever ``context`` now says (a later decision writes its own
    document, under its own name). Only a file missing from disk is written again, from the context
    given (the decision's own recorded facts). ``context`` may be a function that builds it: it is
    called only when the file is written, so a re-run over papers already written reads nothing
    to fill them.
    """
    name, relative = _document_path(session, competition_id, stage, subject_entity, subject_id, filename)
    record = session.exec(select(GeneratedDocument).where(GeneratedDocument.path == relative)).first()
    if record is not None and (record.role, record.subject_entity, record.subject_id) != (
        role,
        subject_entity,
        subject_id,
    ):
        raise Conflict(
            f"文书路径已被占用 / {relative} belongs to {record.role} "
            f"of {record.subject_entity} #{record.subject_id}"
        )
    target = Path(documents_dir) / relative
    if record is not None and target.is_file():
        return record  # written once
    pending.sweep_if_due(session, Path(documents_dir))  # files of a killed process's transaction
    data = render_document(role, context() if callable(context) else context)
    digest = hashlib.sha256(data).hexdigest()
    if not target.exists():
        try:
            pending.note_new_file(session, Path(documents_dir), target)  # listed before it is written
        except OSError as exc:
            if _is_full(exc):
                raise _storage_full(target) from exc
            raise
    _write_atomically(target, data)
    faults.reach("document", relative)
    if record is None:
        record = GeneratedDocument(
            competition_id=competition_id,
            role=role,
            subject_entity=subject_entity,
            subject_id=subject_id,
            path=relative,
            filename=name,
            sha256=digest,
            size=len(data),
        )
        session.add(record)
    elif record.sha256 != digest:  # the file was lost and is written again
        record.sha256, record.size = digest, len(data)
    session.flush()
    return record


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename: a reader never sees half a file.
    A full disk raises ``StorageFull`` naming the folder; the temporary file is removed."""
    temporary = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException as exc:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and _is_full(exc):
            raise _storage_full(target) from exc
        raise


def _is_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _storage_full(target: Path) -> StorageFull:
    return StorageFull(
        f"文书目录空间已满，本步骤未保存任何文书 / no space left on the documents disk "
        f"({target.parent}): nothing of this step was kept — free some space and run it again"
    )
