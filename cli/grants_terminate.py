"""``grantflow grants terminate REF --reason``: end a grant after a failed re-check or a missed
rectification deadline (audited; unreleased tranches cancelled; claw-back computed; 终止通知).

Registered by the funding stage's ``cli/grants.py``: ``app.command("terminate")(terminate)``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.console import say
from cli.options import ActorOption, CompetitionOption, pick


def terminate(
    ref: Annotated[str, typer.Argument(help="申报编号 / the application's reference")],
    reason: Annotated[str, typer.Option("--reason", help="终止理由（写入终止通知并审计）/ why")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """终止资助项目 / terminate a grant (after a failed re-check or a missed rectification deadline)."""
    from models.competition.tables import Competition
    from models.db import session_scope
    from models.funding.grants import grant_by_ref
    from models.money import format_yuan
    from models.settings import get_settings
    from models.supervision.notices import queue_outcome_letters
    from models.supervision.outcomes import terminate_grant
    from models.types import utcnow

    now = utcnow()
    with session_scope() as session:
        found: Competition = pick(session, competition)
        grant = grant_by_ref(session, competition_id=found.id or 0, ref=ref)
        termination = terminate_grant(session, grant_id=grant.id or 0, reason=reason, actor=actor, now=now)
        queue_outcome_letters(session, competition=found, settings=get_settings(), now=now)
        released, spend, clawback = (
            termination.released_fen,
            termination.accepted_spend_fen,
            termination.clawback_fen,
        )
    say(
        "{ref} 已终止 / terminated：已拨付 released {released} 元，"
        "核定支出 accepted {spend} 元，应退回 claw back {clawback} 元；"
        "终止通知已放入发件箱 / the 终止通知 letter is in the outbox",
        ref=ref,
        released=format_yuan(released),
        spend=format_yuan(spend),
        clawback=format_yuan(clawback),
    )
