"""Options shared by the stage commands (call, intake, screening)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

CompetitionOption = Annotated[str | None, typer.Option("--competition", "-c", help="竞赛代码 / slug")]
JsonOption = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出 / print JSON")]
ActorOption = Annotated[str, typer.Option(help="操作人 / who does this (audited)")]
AsOfOption = Annotated[
    datetime | None,
    typer.Option("--as-of", help="按此时间计算（默认现在）/ the moment to act as of (default: now)"),
]


def aware(moment: datetime | None) -> datetime | None:
    """A moment typed without a zone is in the configured time zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    from zoneinfo import ZoneInfo

    from models.settings import get_settings

    return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


def resolve_slug(slug: str | None) -> str:
    """The competition's slug (the newest competition without one), so flow runs are named by it."""
    from models.competition.tables import get_competition
    from models.db import session_scope

    with session_scope() as session:
        return get_competition(session, slug=slug).slug
