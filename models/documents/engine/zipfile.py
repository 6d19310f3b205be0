"""A minimal zip writer for rendering Word packages fast.

The unchanged parts of a template are compressed once into ``PrebuiltZip`` (their local entries and
their central-directory records, as bytes); each document adds only its rendered parts and joins the
pieces. ``zipfile`` in append mode re-reads the central directory on every document, which cost more
than rendering the template itself. Entries carry a fixed time (1980-01-01), so the same parts give
the same bytes. No zip64: a Word document is far below 4 GB and 65,535 parts.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

COMPRESSLEVEL = 1  # per document: level 1 takes a third of the time of level 6, files a few % larger
PREBUILT_COMPRESSLEVEL = 9  # the unchanged parts are compressed once, so as small as can be
_DOS_TIME, _DOS_DATE = 0, (1 << 5) | 1  # 1980-01-01 00:00:00
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_UTF8_NAME = 0x0800

Entry = tuple[str, bytes, bool]  # part name, content, whether to deflate it


def _entry(
    name: str, data: bytes, compress: bool, offset: int, level: int = COMPRESSLEVEL
) -> tuple[bytes, bytes]:
    """The local header with its data, and the central-directory record, of one part."""
    raw_name = name.encode("utf-8")
    flags = 0 if raw_name.isascii() else _UTF8_NAME
    crc = zlib.crc32(data)
    if compress:
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
        payload = deflater.compress(data) + deflater.flush()
        method = 8
    else:
        payload, method = data, 0
    local = _LOCAL.pack(
        0x04034B50, 20, flags, method, _DOS_TIME, _DOS_DATE, crc, len(payload), len(data), len(raw_name), 0
    )
    central = _CENTRAL.pack(
        0x02014B50,
        20,
        20,
        flags,
        method,
        _DOS_TIME,
        _DOS_DATE,
        crc,
        len(payload),
        len(data),
        len(raw_name),
        0,
        0,
        0,
        0,
        0o600 << 16,
        offset,
    )
    return local + raw_name + payload, central + raw_name


class PrebuiltZip:
    """Some parts compressed once; ``build(more)`` returns a whole zip with more parts after them."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        local, central, count = bytearray(), bytearray(), 0
        for name, data, compress in entries:
            head, record = _entry(name, data, compress, len(local), PREBUILT_COMPRESSLEVEL)
            local += head
            central += record
            count += 1
        self._local, self._central, self._count = bytes(local), bytes(central), count

    def build(self, entries: Iterable[Entry]) -> bytes:
        local, central = [self._local], [self._central]
        offset, count = len(self._local), self._count
        for name, data, compress in entries:
            head, record = _entry(name, data, compress, offset)
            local.append(head)
            central.append(record)
            offset += len(head)
            count += 1
        directory = b"".join(central)
        end = _END.pack(0x06054B50, 0, 0, count, count, len(directory), offset, 0)
        return b"".join(local) + directory + end
