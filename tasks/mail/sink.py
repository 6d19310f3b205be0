"""The embedded SMTP sink: a real SMTP server (aiosmtpd) on loopback that keeps every message as an
``.eml`` file — once per Message-ID.

It is what letters go to when no SMTP server is configured (``grantflow demo``, a fresh install),
and what the tests send to. Like a mailbox that deduplicates on Message-ID, a message whose
Message-ID it already holds is answered 250 and not stored again: a letter re-sent after a crash
(same Message-ID, see models/outbox.py) lands once. ``delivered_in(folder)`` answers "does the
sink hold this Message-ID?", which lets the sender settle interrupted sends without re-sending.

Each file is written to a temporary name and then hard-linked to its final name, so a file under
its final name is always complete, and two writers of one Message-ID cannot both win.

Run one by hand: ``python -m tasks.mail.sink FOLDER --port 2525``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def eml_name(message_id: str) -> str:
    """The file name for a Message-ID: readable when the ID is tame, always unique."""
    bare = message_id.strip().strip("<>")
    safe = _UNSAFE.sub("_", bare)[:150]
    if safe != bare or not safe:
        safe = f"{safe}-{hashlib.sha256(message_id.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"
    return f"{safe}.eml"


def delivered_in(folder: Path) -> Callable[[str], bool]:
    """``delivered(message_id)``: does the sink writing to ``folder`` hold this message?"""
    folder = Path(folder)

    def delivered(message_id: str) -> bool:
        return (folder / eml_name(message_id)).exists()

    return delivered


def message_id_of(data: bytes) -> str:
    headers = BytesHeaderParser(policy=compat32).parsebytes(data)
    return str(headers.get("Message-ID", "") or "").strip()


@dataclass(frozen=True)
class Receipt:
    """One message the sink answered 250 to."""

    message_id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    duplicate: bool
    path: Path


@dataclass
class EmlSink:
    """The aiosmtpd handler: stores each message under its Message-ID, once."""

    folder: Path
    delay: float = 0.0  # seconds before answering DATA: imitates a remote server (benchmarks)
    receipts: list[Receipt] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.store(data, envelope.mail_from or "", tuple(envelope.rcpt_tos))

    def store(self, data: bytes, mail_from: str, rcpt_tos: tuple[str, ...]) -> str:
        message_id = message_id_of(data)
        name = (
            eml_name(message_id)
            if message_id
            else f"no-message-id-{hashlib.sha256(data).hexdigest()[:24]}.eml"
        )
        final = self.folder / name
        temporary = self.folder / f".{uuid.uuid4().hex}.tmp"
        temporary.write_bytes(data)
        try:
            os.link(temporary, final)
            duplicate = False
        except FileExistsError:
            duplicate = True
        finally:
            temporary.unlink()
        with self._lock:
            self.receipts.append(Receipt(message_id, mail_from, rcpt_tos, duplicate, final))
        if duplicate:
            return f"250 2.0.0 OK: already have {message_id or name}, kept once"
        return f"250 2.0.0 OK: stored as {name}"

    # ---- what the tests and the demo ask -------------------------------------------------------

    @property
    def accepted(self) -> int:
        """Every 250 given for a message, duplicates included."""
        return len(self.receipts)

    @property
    def duplicates(self) -> int:
        return sum(1 for receipt in self.receipts if receipt.duplicate)

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))

    def has(self, message_id: str) -> bool:
        return (self.folder / eml_name(message_id)).exists()


class _LoopbackController(Controller):
    """aiosmtpd's threaded controller, able to listen on a free port (``port=0``)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class MailSink:
    """A running sink in a background thread: ``with MailSink(folder) as sink: ... sink.port``.

    ``handler`` may be any aiosmtpd handler (tests pass one that injects faults); ``smtp_options``
    go to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``, ``authenticator`` …) and
    ``ssl_context`` makes it an implicit-TLS server.
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        handler: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: Any = None,
        **smtp_options: Any,
    ) -> None:
        if handler is None:
            if folder is None:
                raise ValueError("MailSink needs a folder or a handler")
            handler = EmlSink(Path(folder))
        self.handler = handler
        self.host = host
        self._controller = _LoopbackController(
            handler, hostname=host, port=port, ssl_context=ssl_context, **smtp_options
        )

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a loopback SMTP sink that saves .eml files")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--delay-ms", type=float, default=0, help="answer DATA this much later (benchmarks)")
    args = parser.parse_args(argv)
    handler = EmlSink(args.folder, delay=args.delay_ms / 1000)
    with MailSink(handler=handler, host=args.host, port=args.port) as sink:
        print(f"SMTP sink on {sink.host}:{sink.port}, saving to {args.folder}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
