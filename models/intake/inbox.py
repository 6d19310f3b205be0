"""The intake inbox: a file handed to the CLI on one machine, imported by a worker on another.

A deployment run of the intake flow may be picked up by any worker, where the administrator's
path means nothing. So the file travels as its bytes — ``upload_from(path)`` gives the flow
parameter (name, size, sha256, base64 content, at most ``MAX_UPLOAD_BYTES``) — and the worker
stores it with ``receive_upload`` in the data folder's inbox, ``uploads/intake/<sha256>/<name>``,
checking the digest, before importing it from there like any file. The inbox keeps the exact bytes
that were imported, under their digest; receiving the same file twice writes nothing new (and the
import itself stores nothing new either). See docs/adr: the data folder is shared by every
machine for documents and mail already; only the way in of a file is new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.errors import InputError, Problem

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # per file: a Word 申报书 with photos; a spreadsheet is far less
MAX_RUN_UPLOAD_BYTES = 32 * 1024 * 1024  # all files of one run together (they live in Prefect's database)
SUFFIXES = (".xlsx", ".csv", ".json", ".docx")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _refuse(name: str, zh: str, en: str) -> InputError:
    return InputError(Problem(name or "上传文件 upload", "", zh, en))


def _checked_name(name: object) -> str:
    text = str(name or "")
    base = Path(text.replace("\\", "/")).name
    if not base or base != text or base in (".", "..") or "\x00" in base:
        raise _refuse(text, "文件名须为不含路径的名称", "the file name must be a bare name, without folders")
    if not base.lower().endswith(SUFFIXES):
        raise _refuse(
            base, f"文件类型须为 {' '.join(SUFFIXES)}", f"the file must be one of {' '.join(SUFFIXES)}"
        )
    return base


def upload_from(path: Path | str) -> dict[str, Any]:
    """The flow parameter that carries ``path``'s bytes (for a deployment run on another machine)."""
    path = Path(path)
    name = _checked_name(path.name)
    try:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise _refuse(
                str(path),
                f"文件过大（{size} 字节，上限 {MAX_UPLOAD_BYTES}）",
                f"the file is too large ({size} bytes, at most {MAX_UPLOAD_BYTES})",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise _refuse(str(path), "文件不存在", "file not found") from None
    return upload_of(name, data)


def upload_of(name: str, data: bytes) -> dict[str, Any]:
    """The flow parameter that carries ``data`` named ``name`` (a file uploaded to the console)."""
    name = _checked_name(name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(
            name,
            f"文件过大（{len(data)} 字节，上限 {MAX_UPLOAD_BYTES}）",
            f"the file is too large ({len(data)} bytes, at most {MAX_UPLOAD_BYTES})",
        )
    return {
        "name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content": base64.b64encode(data).decode("ascii"),
    }


def uploads_from(paths: list[Path] | list[str]) -> list[dict[str, Any]]:
    """The ``uploads`` parameter for ``paths``, checked before anything is read or sent.

    Every file is checked first (a bare allowed name, present, at most ``MAX_UPLOAD_BYTES``), then
    their total (at most ``MAX_RUN_UPLOAD_BYTES``); one ``InputError`` lists every problem, each
    naming its file.
    """
    problems: list[Problem] = []
    total = 0
    for path in map(Path, paths):
        try:
            _checked_name(path.name)
            size = path.stat().st_size if path.is_file() else None
        except InputError as exc:
            problems += exc.problems
            continue
        if size is None:
            problems.append(Problem(str(path), "", "文件不存在", "file not found"))
        elif size > MAX_UPLOAD_BYTES:
            problems.append(
                Problem(
                    str(path),
                    "",
                    f"文件过大（{size} 字节，上限 {MAX_UPLOAD_BYTES}）",
                    f"the file is too large ({size} bytes, at most {MAX_UPLOAD_BYTES})",
                )
            )
        else:
            total += size
    if not problems and total > MAX_RUN_UPLOAD_BYTES:
        problems.append(
            Problem(
                "上传文件 uploads",
                "",
                f"一次上传的文件合计 {total} 字节，超过上限 {MAX_RUN_UPLOAD_BYTES}；请分几次导入",
                f"the files together are {total} bytes, over {MAX_RUN_UPLOAD_BYTES} for one run; "
                "import them in several runs",
            )
        )
    if problems:
        raise InputError(problems)
    return [upload_from(path) for path in paths]


def receive_upload(upload: Mapping[str, Any], *, inbox: Path) -> Path:
    """Store one upload in ``inbox`` (``<sha256>/<name>``) after checking it; returns its path.

    Raises ``InputError`` naming the file for a bad name, a size over the bound, content that is not
    base64, or bytes whose digest is not the one sent. Nothing is written for a refused upload.
    """
    name = _checked_name(upload.get("name"))
    digest = str(upload.get("sha256", "")).lower()
    if not _SHA256.match(digest):
        raise _refuse(name, "缺少或无效的 sha256", "the sha256 is missing or malformed")
    content = upload.get("content")
    if not isinstance(content, str) or len(content) > (MAX_UPLOAD_BYTES * 4) // 3 + 4:
        raise _refuse(
            name,
            f"内容缺失或超过上限 {MAX_UPLOAD_BYTES} 字节",
            f"content missing or over {MAX_UPLOAD_BYTES} bytes",
        )
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(name, "内容不是有效的 base64", "the content is not valid base64") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(
            name, f"文件超过上限 {MAX_UPLOAD_BYTES} 字节", f"the file is over {MAX_UPLOAD_BYTES} bytes"
        )
    if hashlib.sha256(data).hexdigest() != digest:
        raise _refuse(
            name,
            "内容与 sha256 不符（传输中损坏）",
            "the content does not match its sha256 (damaged on the way)",
        )
    target = inbox / digest / name
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".receiving-", delete=False) as partial:
        partial.write(data)
    os.replace(partial.name, target)  # whole or not at all, also against a concurrent run
    return target
