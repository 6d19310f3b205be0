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
from models.errors import InputError, Problem
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


def _refuse(name: str, zh: str, en: str) -> Problem:
    return Problem(f"文件“{name}” / file “{name}”", "evidence", zh, en)


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
    """One upload cleaned, or the Problem that refuses it (naming the file)."""
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


def check_uploads(uploads: Sequence[Upload], rules: UploadRules, *, already: int = 0) -> list[CleanFile]:
    """Every upload cleaned, or ``InputError`` listing each refused file (then nothing is kept)."""
    problems: list[Problem] = []
    if already + len(uploads) > rules.max_files:
        problems.append(
            Problem(
                "evidence",
                "evidence",
                f"每次检查最多上传 {rules.max_files} 个文件（已有 {already} 个）",
                f"at most {rules.max_files} files per checkpoint ({already} already stored)",
            )
        )
    cleaned: list[CleanFile] = []
    for upload in uploads:
        result = check_upload(upload, rules)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            cleaned.append(result)
    if problems:
        raise InputError(problems)
    return cleaned


def evidence_of(session: Session, *, checkpoint_id: int, owner: str | None = None) -> list[EvidenceFile]:
    query = select(EvidenceFile).where(EvidenceFile.checkpoint_id == checkpoint_id)
    if owner is not None:
        query = query.where(EvidenceFile.owner == owner)
    return list(session.exec(query.order_by(col(EvidenceFile.id))))


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
) -> list[EvidenceFile]:
    """Write each cleaned file (by content hash) and record it; the same file twice is one row.

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
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        record(
            session,
            actor=actor,
            entity="checkpoint",
            entity_id=checkpoint_id,
            action="evidence_uploaded",
            data={"evidence_id": row.id, "name": clean.name, "kind": clean.kind, "sha256": clean.sha256},
        )
        stored.append(row)
    return stored


def discard(paths: Sequence[Path]) -> None:
    """Remove files written by a transaction that was rolled back."""
    for path in paths:
        path.unlink(missing_ok=True)
