"""The backup archive: a gzip-compressed tar whose last member is its manifest.

Members, in the order they are written::

    database/grantflow.sqlite3 | database/grantflow.pgdump    the database snapshot
    documents/<path under the documents folder>                 every generated document
    uploads/<path under the uploads folder>                     intake files, evidence
    manifest.json                                               what the archive holds

The manifest (``Manifest``) names the format and its version, when the copy was made, the
database kind and its schema revision (Alembic), the rows of every table, and each member's size
and sha256. It comes last because each member is hashed from the very bytes written into the
archive, so a file that changes while the copy runs cannot disagree with its checksum.

``ArchiveWriter`` writes one (to ``FILE.part``, renamed to ``FILE`` once complete). ``unpack``
reads one into a staging folder and refuses, with one ``InputError`` naming the archive and the
member, anything that is not exactly what a manifest describes: not a tar.gz, truncated or
corrupt, a member missing, extra, of another size or checksum, a name outside the three folders
(absolute, ``..``, a link or device), another format or a newer format version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from models.errors import GrantflowError, InputError, Problem

FORMAT = "grantflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/grantflow.sqlite3", "postgresql": "database/grantflow.pgdump"}
FILE_ROOTS = ("documents", "uploads")
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupFailed(GrantflowError):
    """Making or loading a copy failed: a database tool's refusal, a disk full (named in the message)."""


@dataclass(frozen=True)
class Member:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database_kind: str
    schema_revision: str
    tables: dict[str, int]  # rows of every table in the snapshot, alembic_version included
    members: dict[str, Member]  # every other member of the archive
    format_version: int = FORMAT_VERSION

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.database_kind]

    def files(self, root: str) -> list[str]:
        """The members under ``documents/`` or ``uploads/``."""
        return sorted(name for name in self.members if name.startswith(f"{root}/"))

    def as_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "created_at": self.created_at,
            "database": {"kind": self.database_kind, "schema_revision": self.schema_revision},
            "tables": self.tables,
            "members": {name: {"size": m.size, "sha256": m.sha256} for name, m in self.members.items()},
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def refused(where: Path | str, member: str, zh: str, en: str) -> InputError:
    return InputError(Problem(str(where), member, zh, en))


def parse_manifest(data: bytes, *, where: Path) -> Manifest:
    """The manifest's JSON, checked field by field; another format or a newer version is refused."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise refused(where, MANIFEST, "清单无法读取", f"the manifest is not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise refused(
            where, MANIFEST, "不是 grantflow 的备份", f"not a grantflow backup (format {raw.get('format')!r})"
        )
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise refused(
            where,
            MANIFEST,
            f"备份格式版本 {version} 比本程序新，请升级 grantflow",
            f"backup format version {version} is newer than this grantflow reads ({FORMAT_VERSION}): upgrade",
        )
    try:
        database = raw["database"]
        kind, revision = str(database["kind"]), str(database["schema_revision"])
        tables = {str(name): int(rows) for name, rows in raw["tables"].items()}
        members = {
            str(name): Member(int(entry["size"]), str(entry["sha256"]))
            for name, entry in raw["members"].items()
        }
        created_at = str(raw["created_at"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise refused(where, MANIFEST, "清单不完整", f"the manifest lacks or garbles {exc}") from exc
    if kind not in DATABASE_MEMBERS:
        raise refused(where, MANIFEST, f"未知的数据库类型 {kind}", f"unknown database kind {kind!r}")
    if DATABASE_MEMBERS[kind] not in members:
        raise refused(where, DATABASE_MEMBERS[kind], "清单中没有数据库", "the manifest lists no database")
    return Manifest(created_at, kind, revision, tables, members, version)


def safe_name(name: str) -> bool:
    """A member name the archive may hold: the manifest, a database member, or a relative path of
    plain parts under documents/ or uploads/."""
    if name == MANIFEST or name in DATABASE_MEMBERS.values():
        return True
    path = PurePosixPath(name)
    parts = path.parts
    return (
        not path.is_absolute()
        and len(parts) >= 2
        and parts[0] in FILE_ROOTS
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in name
        and "\x00" not in name
    )


class ArchiveWriter:
    """Write ``target`` as ``target.part`` and rename it once the manifest is in."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.partial = self.target.with_name(self.target.name + ".part")
        self.members: dict[str, Member] = {}
        # closed by finish or abandon
        self._tar = tarfile.open(self.partial, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def add_stream(self, name: str, stream: IO[bytes], size: int, mtime: float = 0) -> Member:
        """Add ``size`` bytes read from ``stream`` under ``name``, hashing what goes in."""
        hasher = _HashingReader(stream)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o644
        self._tar.addfile(info, hasher)
        if hasher.read_bytes != size:
            raise OSError(f"{name}: read {hasher.read_bytes} bytes, expected {size}")
        member = Member(size, hasher.hexdigest())
        self.members[name] = member
        return member

    def add_bytes(self, name: str, data: bytes, mtime: float = 0) -> Member:
        return self.add_stream(name, io.BytesIO(data), len(data), mtime)

    def add_file(self, name: str, path: Path) -> Member:
        """A file read whole first, so the bytes hashed are the bytes archived even while it changes."""
        data = path.read_bytes()
        return self.add_bytes(name, data, path.stat().st_mtime)

    def finish(self, manifest: Manifest) -> None:
        self.add_bytes(MANIFEST, manifest.as_json())
        self._tar.close()
        with open(self.partial, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(self.partial, self.target)

    def abandon(self) -> None:
        self._tar.close()
        self.partial.unlink(missing_ok=True)


class _HashingReader(io.RawIOBase):
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hash.update(data)
        self.read_bytes += len(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass
class Unpacked:
    manifest: Manifest
    staging: Path  # staging/<member name> for every member
    sizes: dict[str, int] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.staging / name


_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def _members(archive: tarfile.TarFile, source: Path) -> Iterator[tarfile.TarInfo]:
    while True:
        try:
            info = archive.next()
        except _READ_ERRORS as exc:
            raise refused(
                source, "", "备份已损坏或不完整", f"the archive is damaged or truncated ({exc})"
            ) from exc
        if info is None:
            return
        yield info


def unpack(source: Path, staging: Path) -> Unpacked:
    """Every member of ``source`` into ``staging``, checked against the manifest; see the module
    docstring for what is refused. ``staging`` is the caller's to remove."""
    source = Path(source)
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 (a with block below)
    except FileNotFoundError as exc:
        raise refused(source, "", "文件不存在", "no such file") from exc
    except _READ_ERRORS as exc:
        raise refused(
            source,
            "",
            "不是 grantflow 的备份（不是 tar.gz 文件）",
            "not a grantflow backup (not a tar.gz archive)",
        ) from exc
    found: dict[str, Member] = {}
    manifest_data: bytes | None = None
    with archive:
        for info in _members(archive, source):
            name = info.name
            if manifest_data is not None:
                raise refused(source, name, "清单之后还有内容", "a member after the manifest")
            if not safe_name(name) or not info.isreg():
                raise refused(
                    source,
                    name,
                    "不是 grantflow 的备份（含有不允许的条目）",
                    "not a grantflow backup (a member not a file under database/, documents/ or uploads/)",
                )
            if name in found:
                raise refused(source, name, "条目重复", "a member appears twice")
            if name == MANIFEST and info.size > MANIFEST_MAX_BYTES:
                raise refused(source, name, "清单过大", f"the manifest is over {MANIFEST_MAX_BYTES} bytes")
            stream = archive.extractfile(info)
            assert stream is not None
            hasher = hashlib.sha256()
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            buffer = bytearray() if name == MANIFEST else None
            with open(target, "wb") as out:
                while True:
                    try:
                        chunk = stream.read(CHUNK)
                    except _READ_ERRORS as exc:
                        raise refused(
                            source, name, "备份已损坏或不完整", f"the archive is damaged or truncated ({exc})"
                        ) from exc
                    if not chunk:
                        break
                    hasher.update(chunk)
                    out.write(chunk)
                    if buffer is not None:
                        buffer += chunk
            found[name] = Member(info.size, hasher.hexdigest())
            if buffer is not None:
                manifest_data = bytes(buffer)
    if manifest_data is None:
        raise refused(
            source, MANIFEST, "不是 grantflow 的备份（没有清单）", "not a grantflow backup (no manifest)"
        )
    manifest = parse_manifest(manifest_data, where=source)
    found.pop(MANIFEST)
    for name, member in manifest.members.items():
        got = found.get(name)
        if got is None:
            raise refused(source, name, "备份缺少此条目", "listed in the manifest, missing from the archive")
        if got != member:
            raise refused(source, name, "校验和不符，备份已损坏", "checksum mismatch: the backup is damaged")
    extra = sorted(set(found) - set(manifest.members))
    if extra:
        raise refused(source, extra[0], "清单中没有此条目", "in the archive, not in the manifest")
    return Unpacked(manifest, staging, {name: member.size for name, member in found.items()})


def describe(manifest: Manifest) -> dict[str, Any]:
    """What the archive holds, as plain values (the CLI's --json and its line)."""
    return {
        "format_version": manifest.format_version,
        "created_at": manifest.created_at,
        "database": manifest.database_kind,
        "schema_revision": manifest.schema_revision,
        "tables": len(manifest.tables),
        "rows": sum(manifest.tables.values()),
        "documents": len(manifest.files("documents")),
        "uploads": len(manifest.files("uploads")),
    }
