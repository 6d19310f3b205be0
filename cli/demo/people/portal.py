"""The portal as the demo's sample people reach it: served on a free loopback port with the demo's
clock (``running_portal``), a clock that can be set to the moment each form is sent
(``SampleClock``), links moved onto that port (``rebased``), and its answers read as the step
needs them (``page_text``; a 503 — the database unavailable — stops the step as a stage stops)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from models.db import database_fault_message
from models.errors import GrantflowError
from models.settings import Settings
from models.types import utcnow
from portal.app import create_app
from portal.serving import serve_in_background


class SampleClock:
    """The portal's idea of now, moved forward as each sample person sends a form."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime / 时间须带时区")
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


@contextmanager
def running_portal(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Iterator[str]:
    """The portal on a free loopback port for the length of the block; yields its base URL."""
    with serve_in_background(create_app(settings, clock=clock)) as base_url:
        yield base_url


def rebased(url: str, base_url: str | None) -> str:
    """``url`` (a personal link) on ``base_url``, its path and query kept."""
    if not base_url:
        return url
    path = urlsplit(url)
    return base_url.rstrip("/") + path.path + (f"?{path.query}" if path.query else "")


def refuse_unavailable(answer: httpx.Response) -> None:
    """The portal's 503 (its database unavailable): the step stops in one line, as a stage does."""
    if answer.status_code == 503:
        where = answer.request.url.path.split("/")[1]
        raise GrantflowError(database_fault_message(f"门户答复 503 / the portal answered 503 on /{where}/"))


def page_text(answer: httpx.Response) -> str:
    """A page the sample person reads: its text, or the step stops (503: as above; else the error)."""
    refuse_unavailable(answer)
    return answer.raise_for_status().text
