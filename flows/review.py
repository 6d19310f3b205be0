"""专家评审 Expert review: open (assign and invite), remind, close (aggregate, rank, documents).

Waiting for the experts is state in the database: ``open_review`` returns at once, the portal
stores the sheets, ``review_reminders`` runs on a schedule, and ``close_review`` runs when the last
sheet arrives (an event trigger), at the deadline, or when the administrator says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.stage_order import StageRun
from models.types import utcnow
from tasks.artifacts import documents_artifact
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.evaluation import queue_panel_reminders_task
from tasks.mail.deliver import deliver_pending
from tasks.review import (
    assign_experts,
    close_review_task,
    publish_ranking,
    queue_review_invitations,
    queue_review_reminders,
    write_review_documents,
)


@flow(name="review-open", flow_run_name=run_name("专家评审开始 review opens"))
async def open_review(
    slug: str | None = None,
    actor: str = "admin",
    experts_file: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Assign k experts to every eligible application and send each expert their personal links.

    Experts come from the configuration, or from ``experts_file`` (.xlsx: 姓名, 电子邮箱, 电话, 单位,
    社区, 专长)."""
    preflight()
    competition_id = competition_id_for(slug, StageRun.review_open)
    moment = as_of or utcnow()
    assigned = assign_experts(competition_id, actor, experts_file, moment)
    invitations = queue_review_invitations(competition_id, moment)
    delivery = await deliver_pending(competition_id)
    return {**assigned, "invitations": len(invitations), "delivery": delivery}


@flow(name="review-reminders", flow_run_name=run_name("评审提醒 reminders"))
async def review_reminders(slug: str | None = None, as_of: datetime | None = None) -> dict[str, Any]:
    """Remind experts of unfinished sheets at the configured offsets before the deadline: the
    review's sheets, and the 结项 panel's when one is configured (the same morning schedule)."""
    preflight()
    competition_id = competition_id_for(slug)
    moment = as_of or utcnow()
    reminders = queue_review_reminders(competition_id, moment)
    panel_reminders = queue_panel_reminders_task(competition_id, moment)
    delivery = await deliver_pending(competition_id)
    return {"reminders": len(reminders), "panel_reminders": len(panel_reminders), "delivery": delivery}


@flow(name="review-close", flow_run_name=run_name("专家评审结束 review closes"))
def close_review(
    slug: str | None = None, actor: str = "admin", as_of: datetime | None = None, prepared_by: str = ""
) -> dict[str, Any]:
    """Aggregate and rank; write the 专家评分表 and the 评分汇总表/排名表; show the ranking in the UI."""
    preflight()
    competition_id = competition_id_for(slug, StageRun.review_close)
    moment = as_of or utcnow()
    results = close_review_task(competition_id, actor, moment)
    documents = write_review_documents(competition_id, moment, prepared_by)
    panel = publish_ranking(competition_id)
    documents_artifact(competition_id, slug or "")
    return {"results": results, "documents": len(documents), "panel": panel}
