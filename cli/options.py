"""Options shared by the commands (every command that works on a competition takes ``-c``), and the
competition a command works on."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.competition.tables import Competition

CompetitionOption = Annotated[
    str | None,
    typer.Option("--competition", "-c", help="竞赛代码（默认最新一届）/ slug (default: the newest)"),
]
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


def pick(session: Session, slug: str | None) -> Competition:
    """The competition a command works on: ``-c``'s, or the newest one. Without ``-c`` while the
    database holds several, the chosen one is named on stderr — a command never works on another
    year's competition without saying so."""
    from models.competition.tables import count_competitions, get_competition

    competition = get_competition(session, slug=slug)
    if slug is None and count_competitions(session) > 1:
        from cli.console import line

        line(
            f"竞赛 / competition: {competition.slug}（未给 -c，取最新一届 / no -c given: the newest; "
            "grantflow competition list 列出全部 / lists them all）",
            err=True,
        )
    return competition


def resolve_slug(slug: str | None) -> str:
    """The competition's slug (the newest competition without one, named), so flow runs are named by it."""
    from models.db import session_scope

    with session_scope() as session:
        return pick(session, slug).slug
