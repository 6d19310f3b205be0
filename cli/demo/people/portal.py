"""The portal as the demo's sample people reach it: served on a free loopback port with the demo's
clock (``running_portal``), a clock that can be set to the moment each form is sent
(``SampleClock``), and links moved onto that port (``rebased``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit

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
