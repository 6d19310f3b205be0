"""The portal's doors against oversized requests: a body over ``settings.portal_max_body_bytes`` is
refused before it is read, a form with too many or too long fields is refused whole; both with the
bilingual page (413), nothing stored.

``BodyLimit`` is plain ASGI middleware: a ``Content-Length`` over the limit is answered at once
(the body is never read); a body without one (chunked) is counted as it streams and refused as soon
as it passes the limit — ``BodyTooLarge`` leaves the route while it reads its form, and the
middleware answers instead, as long as nothing was sent yet. A body of which nothing more arrives for
``settings.portal_body_seconds`` (a slow-body attack holding a connection open) is refused alike
(``BodyTooSlow``, 408). ``read_form`` reads a form (urlencoded
or multipart, no files) within the field limits; Starlette's refusals (raw English JSON) become
``FormRefused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_FIELD_BYTES = 128 * 1024  # one field, as sent (the longest text allowed is 3,000 characters)


class BodyTooLarge(Exception):
    """The request body passed the configured limit while it was read."""


class BodyTooSlow(Exception):
    """The request body did not arrive whole within the allowed seconds (a slow-body attack)."""


class FormRefused(Exception):
    """A form with more fields than allowed, a field longer than allowed, or a file."""


Refusal = Callable[[Scope, str], Awaitable[Response]]  # (scope, kind) -> the page to answer with


class BodyLimit:
    """``max_bytes`` for every request; ``upload_paths`` (path prefixes of the forms that take files —
    the supervisors' records and the grantees' reports) get ``upload_max_bytes`` instead, and their
    routes check each file against the competition's own upload limits."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        refuse: Refusal,
        upload_paths: tuple[str, ...] = (),
        upload_max_bytes: int = 0,
        body_seconds: float = 60.0,
    ) -> None:
        self.app, self.refuse = app, refuse
        self.body_seconds = body_seconds
        self.default_max_bytes = max_bytes
        self.upload_paths, self.upload_max_bytes = upload_paths, max(upload_max_bytes, max_bytes)

    def limit_for(self, path: str) -> int:
        if self.upload_paths and path.startswith(self.upload_paths):
            return self.upload_max_bytes
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > max_bytes):
            await self._answer(scope, receive, send, "too_large")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            try:  # each part of the body within the time (nginx's client_body_timeout): a slow phone is fine
                message = await asyncio.wait_for(receive(), timeout=self.body_seconds)
            except TimeoutError:
                raise BodyTooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:  # pragma: no cover - every route reads its form before answering
                raise
            await self._answer(scope, receive, send, "too_large")
        except BodyTooSlow:
            if started:  # pragma: no cover - every route reads its form before answering
                raise
            await self._answer(scope, receive, send, "too_slow")

    async def _answer(self, scope: Scope, receive: Receive, send: Send, kind: str) -> None:
        response = await self.refuse(scope, kind)
        response.headers["Connection"] = "close"  # the unread body is not waited for
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
    return None


async def read_form(request: Request, *, max_fields: int) -> FormData:
    """The posted form, or ``FormRefused`` (too many fields, a field too long, a file)."""
    try:
        return await request.form(max_files=0, max_fields=max_fields, max_part_size=MAX_FIELD_BYTES)
    except HTTPException as exc:  # Starlette's MultiPartException, as a 400 with English text
        raise FormRefused(str(exc.detail)) from None
