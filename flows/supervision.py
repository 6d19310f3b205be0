"""督导 Supervision: supervisors follow every funded project through its checkpoints.

Waiting for supervisors and grantees is state in the database: ``supervision`` runs every morning
(deployment schedule) — it assigns supervisors to new grants, schedules and opens checkpoints,
sends the personal links and the reminders, marks what is overdue and settles what was submitted;
``checkpoint_follow_up`` runs when the portal says a supervisor submitted a record (event trigger):
it settles that competition's submitted checkpoints (tranche released or withheld, 整改 opened)
and sends the papers and letters that follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.types import utcnow
from tasks.artifacts import documents_artifact
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.mail.deliver import deliver_pending
from tasks.supervision import (
    assign_supervisors_task,
    mark_overdue_task,
    papers_and_letters_task,
    queue_invitations_task,
    queue_reminders_task,
    schedule_checkpoints_task,
    settle_checkpoints_task,
)


@flow(name="supervision", flow_run_name=run_name("督导 supervision"))
async def supervision(
    slug: str | None = None,
    actor: str = "system:supervision",
    as_of: datetime | None = None,
    supervisors_file: str | None = None,
) -> dict[str, Any]:
    """Supervisors, checkpoints, links, reminders, overdue checks and outcomes for running grants."""
    preflight()
    competition_id = competition_id_for(slug)
    now = as_of or utcnow()
    assigned = assign_supervisors_task(competition_id, actor, supervisors_file)
    scheduled = schedule_checkpoints_task(competition_id, now, actor)
    invitations = queue_invitations_task(competition_id, now)
    reminders = queue_reminders_task(competition_id, now)
    overdue = mark_overdue_task(competition_id, now, actor)
    settled = settle_checkpoints_task(competition_id, now, actor)
    papers = papers_and_letters_task(competition_id, now)
    delivery = await deliver_pending(competition_id)
    return {
        **assigned,
        **scheduled,
        "invitations": len(invitations),
        "reminders": len(reminders),
        "overdue": overdue,
        "settled": settled,
        **papers,
        "delivery": delivery,
    }


@flow(name="checkpoint-follow-up", flow_run_name=run_name("督导结果 checkpoint follow-up"))
async def checkpoint_follow_up(
    slug: str | None = None, actor: str = "system:checkpoint", as_of: datetime | None = None
) -> dict[str, Any]:
    """Settle the submitted checkpoints: release or withhold tranches, open rectifications, letters."""
    preflight()
    competition_id = competition_id_for(slug)
    now = as_of or utcnow()
    settled = settle_checkpoints_task(competition_id, now, actor)
    schedule_checkpoints_task(competition_id, now, actor)  # a failure's re-check opens at once
    invitations = queue_invitations_task(competition_id, now)
    papers = papers_and_letters_task(competition_id, now)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {"settled": settled, "invitations": len(invitations), **papers, "delivery": delivery}
