"""Evidence uploads (签到表, photos, receipts): checked, cleaned, then stored by content hash.

``check_uploads`` is pure: it takes what was posted (file name, bytes, kind) and the configured
limits and returns the cleaned files, or raises ``InputError`` with one problem per refused file,
each naming the file. A file is refused when

- its name carries a path (``../../x.jpg``, ``a\\b.png``), a NUL or another control character, or is
  a name Windows reserves (``CON``, ``NUL``, ``COM1`` …), empty or longer than 120 characters;
- it is larger than ``uploads.max_bytes``, or the post holds more than ``uploads.max_files`` files;
- its *content* is not a PDF, JPEG or PNG (``filetype`` reads the magic bytes; the extension is
  ignored, so an executable, an HTML page or a zip named ``.jpg`` / ``.pdf`` is refused); HEIC is
  refused with a hint to export JPEG (no HEIC decoder is installed);
- an image is truncated, cannot be decoded, or has more than ``uploads.max_pixels`` pixels (a
  decompression bomb is refused before it is decoded);
- a PDF does not end with ``%%EOF`` or carries JavaScript, a launch action or embedded files.

Images are re-encoded from their pixels alone (EXIF, GPS location and every other metadata chunk
are dropped; the EXIF orientation is applied first) and scaled down to ``uploads.image_max_side``.
``store_evidence`` writes the cleaned bytes under ``<uploads>/<competition>/checkpoint-<id>/
<sha256>.<ext>`` (never outside that folder: checked on the resolved path) and records each file;
``discard`` removes files a failed transaction wrote.

A file that passed its checks but came with a post that was not saved (a problem elsewhere in the
form, or a post that only re-showed the page) is kept *pending* for the same link: listed on that
person's page as chosen but not yet saved, shown to no one else, counted in the limit, and joined to
the form by its next save (``attach_pending``) or removed by its owner (``drop_pending``). A refused
file is never stored. Files are read back only through ``evidence_file`` (the checkpoint and the
owners a page may show) and ``stored_path`` (inside the uploads folder).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session, col, select

from models.audit import record
from models.competition.config import UploadRules
from models.errors import InputError, NotFound, Problem
from models.supervision.tables import EvidenceFile

KINDS = ("sign_in", "photo", "receipt", "other")
KIND_LABELS = {"sign_in": "签到表", "photo": "活动照片", "receipt": "票据", "other": "其他"}
MAX_NAME = 120
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
_ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile")


@dataclass(frozen=True)
class Upload:
    """One posted file, as the portal received it."""

    name: str
    data: bytes
    kind: str = "other"
    truncated: bool = False  # the portal stopped reading past the size limit


@dataclass(frozen=True)
class CleanFile:
    name: str  # the display name (NFC, checked)
    kind: str
    data: bytes  # re-encoded image or the PDF as sent
    media_type: str
    extension: str
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def shown_name(name: str) -> str:
    """A file name as a message may show it: unprintable characters escaped, at most 80 characters."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)[
        :80
    ]


def field_of(kind: str) -> str:
    """The form field a file of ``kind`` is chosen in (``evidence_photo`` …), where its problem shows."""
    return f"evidence_{kind}" if kind in KINDS else "evidence"


def _refuse(name: str, zh: str, en: str) -> Problem:
    return Problem(f"文件“{name}” / file “{name}”", "evidence", zh, en)


def size_text(size: int) -> str:
    """A file's size as people read it: 636 B, 12.4 KB, 1.2 MB (1 KB = 1,000 bytes)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB".replace(".0 KB", " KB")
    return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")


def checked_name(name: str) -> str | Problem:
    """The display name of an upload, or the Problem that refuses it."""
    shown = shown_name(name)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name):
        return _refuse(shown, "文件名含控制字符", "the file name contains control characters")
    if "/" in name or "\\" in name or name.strip() in ("", ".", ".."):
        return _refuse(shown, "文件名不能包含路径", "the file name must not contain a path")
    cleaned = unicodedata.normalize("NFC", name.strip())
    if len(cleaned) > MAX_NAME:
        return _refuse(shown, f"文件名超过 {MAX_NAME} 个字符", f"the file name exceeds {MAX_NAME} characters")
    stem = cleaned.split(".", 1)[0].strip().upper()
    if stem in _RESERVED or cleaned.startswith("."):
        return _refuse(shown, "文件名是系统保留名称", "the file name is reserved by the system")
    return cleaned


def _image(upload: Upload, name: str, media_type: str, rules: UploadRules) -> CleanFile | Problem:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as opened:
                width, height = opened.size
                if width * height > rules.max_pixels:
                    return _refuse(
                        name,
                        f"图片像素过多（{width}×{height}），疑似压缩炸弹",
                        f"the image has too many pixels ({width}×{height}): refused as a decompression bomb",
                    )
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _refuse(name, "图片像素过多，疑似压缩炸弹", "the image is a decompression bomb")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _refuse(name, "图片已损坏或不完整", "the image is damaged or truncated")
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    image.thumbnail((rules.image_max_side, rules.image_max_side))
    clean = Image.frombytes(image.mode, image.size, image.tobytes())  # pixels only: no EXIF, no GPS
    out = io.BytesIO()
    if media_type == "image/jpeg":
        clean = clean.convert("RGB") if clean.mode == "RGBA" else clean
        clean.save(out, format="JPEG", quality=85, optimize=True)
    else:
        clean.save(out, format="PNG", optimize=True)
    return CleanFile(
        name=name,
        kind=upload.kind,
        data=out.getvalue(),
        media_type=media_type,
        extension=_ALLOWED[media_type],
        width=clean.width,
        height=clean.height,
    )


def _pdf(upload: Upload, name: str) -> CleanFile | Problem:
    data = upload.data
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        return _refuse(name, "PDF 文件不完整", "the PDF is incomplete")
    if any(marker in data for marker in _PDF_ACTIVE):
        return _refuse(
            name,
            "PDF 含脚本、启动动作或嵌入文件，请另存为普通 PDF",
            "the PDF carries scripts, launch actions or embedded files: save it as a plain PDF",
        )
    return CleanFile(name=name, kind=upload.kind, data=data, media_type="application/pdf", extension="pdf")


def check_upload(upload: Upload, rules: UploadRules) -> CleanFile | Problem:
    """One upload cleaned, or the Problem that refuses it (naming the file, at the field it was
    chosen in)."""
    result = _check_upload(upload, rules)
    if isinstance(result, Problem):
        return Problem(result.where, field_of(upload.kind), result.zh, result.en)
    return result


def _check_upload(upload: Upload, rules: UploadRules) -> CleanFile | Problem:
    name = checked_name(upload.name)
    if isinstance(name, Problem):
        return name
    if upload.kind not in KINDS:
        return _refuse(name, "未知的材料类型", f"unknown evidence kind {upload.kind!r}")
    if upload.truncated or len(upload.data) > rules.max_bytes:
        mb = rules.max_bytes / 1_000_000
        return _refuse(name, f"文件超过 {mb:g} MB", f"the file exceeds {mb:g} MB")
    if not upload.data:
        return _refuse(name, "文件为空", "the file is empty")
    guessed = filetype.guess(upload.data)
    media_type = guessed.mime if guessed is not None else ""
    if media_type in ("image/heic", "image/heif"):
        return _refuse(
            name,
            "暂不支持 HEIC 照片，请在手机上导出为 JPEG 后上传",
            "HEIC photos are not supported yet: export the photo as JPEG",
        )
    if media_type not in _ALLOWED:
        return _refuse(
            name,
            "文件内容不是 PDF、JPEG 或 PNG（按内容判断，与扩展名无关）",
            "the file's content is not a PDF, JPEG or PNG (judged by content, not by its name)",
        )
    if media_type == "application/pdf":
        return _pdf(upload, name)
    return _image(upload, name, media_type, rules)


def too_many(count: int, rules: UploadRules, *, already: int = 0) -> Problem | None:
    """The problem of ``count`` new files beside ``already`` stored ones, when over the limit."""
    if already + count <= rules.max_files:
        return None
    return Problem(
        "",
        "evidence",
        f"每次检查最多上传 {rules.max_files} 个文件（已有 {already} 个）",
        f"at most {rules.max_files} files per checkpoint ({already} already stored)",
    )


def sort_uploads(uploads: Sequence[Upload], rules: UploadRules) -> tuple[list[CleanFile], list[Problem]]:
    """Each upload cleaned, or its problem: (the files that passed, one problem per refused file)."""
    cleaned: list[CleanFile] = []
    problems: list[Problem] = []
    for upload in uploads:
        result = check_upload(upload, rules)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            cleaned.append(result)
    return cleaned, problems


def check_uploads(uploads: Sequence[Upload], rules: UploadRules, *, already: int = 0) -> list[CleanFile]:
    """Every upload cleaned, or ``InputError`` listing each refused file (then nothing is kept)."""
    cleaned, problems = sort_uploads(uploads, rules)
    count = too_many(len(uploads), rules, already=already)
    if count is not None:
        problems.insert(0, count)
    if problems:
        raise InputError(problems)
    return cleaned


def evidence_of(
    session: Session, *, checkpoint_id: int, owner: str | None = None, pending: bool | None = False
) -> list[EvidenceFile]:
    """The evidence of a checkpoint (of one ``owner``): saved with its form (``pending=False``, the
    default), chosen but not yet saved (``True``), or both (``None``)."""
    query = select(EvidenceFile).where(EvidenceFile.checkpoint_id == checkpoint_id)
    if owner is not None:
        query = query.where(EvidenceFile.owner == owner)
    if pending is not None:
        query = query.where(EvidenceFile.pending == pending)
    return list(session.exec(query.order_by(col(EvidenceFile.id))))


def evidence_file(
    session: Session, *, checkpoint_id: int, evidence_id: int, owners: Sequence[str], viewer: str = ""
) -> EvidenceFile:
    """One file a page may show: of this checkpoint, by one of ``owners``, saved with its form (or
    pending, to its own ``viewer`` only); ``NotFound`` otherwise (another checkpoint's id included)."""
    row = session.get(EvidenceFile, evidence_id)
    if (
        row is None
        or row.checkpoint_id != checkpoint_id
        or row.owner not in owners
        or (row.pending and row.owner != viewer)
    ):
        raise NotFound(f"没有这份材料 #{evidence_id} / no such evidence #{evidence_id}")
    return row


def stored_path(uploads_dir: Path, row: EvidenceFile) -> Path:
    """Where a stored file is (inside the uploads folder, or ``InputError``)."""
    return _inside(uploads_dir, row.path)


def thumbnail(path: Path, *, side: int = 320) -> tuple[bytes, str]:
    """A small copy of a stored image (JPEG or PNG as the original), and its media type."""
    with Image.open(path) as opened:
        image = opened.copy()
        fmt = opened.format or "PNG"
    image.thumbnail((side, side))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=80)
        return out.getvalue(), "image/jpeg"
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), "image/png"


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise InputError(
            Problem(relative, "evidence", "存储路径越界", "refused: the path leaves the uploads folder")
        )
    return target


def store_evidence(
    session: Session,
    *,
    checkpoint_id: int,
    owner: str,
    files: Sequence[CleanFile],
    uploads_dir: Path,
    folder: str,
    actor: str,
    written: list[Path],
    pending: bool = False,
) -> list[EvidenceFile]:
    """Write each cleaned file (by content hash) and record it; the same file twice is one row.
    ``pending``: chosen with a post that is not saved (see the module docstring).

    ``written`` receives every file this call created, so that a caller whose transaction fails can
    ``discard`` them.
    """
    stored = []
    for clean in files:
        existing = session.exec(
            select(EvidenceFile).where(
                EvidenceFile.checkpoint_id == checkpoint_id,
                EvidenceFile.owner == owner,
                EvidenceFile.sha256 == clean.sha256,
            )
        ).first()
        if existing is not None:
            stored.append(existing)
            continue
        relative = f"{folder}/checkpoint-{checkpoint_id}/{clean.sha256}.{clean.extension}"
        target = _inside(uploads_dir, relative)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
            with os.fdopen(handle, "wb") as stream:
                stream.write(clean.data)
            os.replace(temporary, target)
            written.append(target)
        row = EvidenceFile(
            checkpoint_id=checkpoint_id,
            owner=owner,
            kind=clean.kind,
            name=clean.name,
            path=relative,
            sha256=clean.sha256,
            media_type=clean.media_type,
            size=len(clean.data),
            width=clean.width,
            height=clean.height,
            uploaded_by=actor,
            pending=pending,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        record(
            session,
            actor=actor,
            entity="checkpoint",
            entity_id=checkpoint_id,
            action="evidence_pending" if pending else "evidence_uploaded",
            data={"evidence_id": row.id, "name": clean.name, "kind": clean.kind, "sha256": clean.sha256},
        )
        stored.append(row)
    return stored


def attach_pending(session: Session, *, checkpoint_id: int, owner: str, actor: str) -> list[EvidenceFile]:
    """The owner's pending files of this checkpoint join the form being saved (audited)."""
    rows = evidence_of(session, checkpoint_id=checkpoint_id, owner=owner, pending=True)
    for row in rows:
        row.pending = False
        session.add(row)
        record(
            session,
            actor=actor,
            entity="checkpoint",
            entity_id=checkpoint_id,
            action="evidence_uploaded",
            data={"evidence_id": row.id, "name": row.name, "kind": row.kind, "sha256": row.sha256},
        )
    session.flush()
    return rows


def drop_pending(
    session: Session, *, checkpoint_id: int, owner: str, evidence_id: int, uploads_dir: Path, actor: str
) -> Path | None:
    """Remove one of the owner's pending files; returns the stored file to delete once committed
    (None when another row still uses it). ``NotFound`` for any other file."""
    row = evidence_file(
        session, checkpoint_id=checkpoint_id, evidence_id=evidence_id, owners=(owner,), viewer=owner
    )
    if not row.pending:
        raise NotFound(f"没有待保存的材料 #{evidence_id} / no pending evidence #{evidence_id}")
    path = stored_path(uploads_dir, row)
    session.delete(row)
    session.flush()
    record(
        session,
        actor=actor,
        entity="checkpoint",
        entity_id=checkpoint_id,
        action="evidence_dropped",
        data={"evidence_id": evidence_id, "name": row.name},
    )
    shared = session.exec(select(EvidenceFile).where(EvidenceFile.path == row.path)).first()
    return None if shared is not None else path


def discard(paths: Sequence[Path]) -> None:
    """Remove files written by a transaction that was rolled back."""
    for path in paths:
        path.unlink(missing_ok=True)
