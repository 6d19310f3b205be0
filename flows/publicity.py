"""公示 The end of the public notice: close it once its window has passed with no objection open,
make the grants, and send the 立项通知书 with the 资助协议书 or the 未入选通知 to every applicant."""

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
from tasks.funding import award_grants_task, close_publicity_task, write_award_letters_task
from tasks.mail.deliver import deliver_pending


@flow(name="publicity-close", flow_run_name=run_name("公示结束 notice closes"))
async def publicity_close(
    slug: str | None = None, as_of: datetime | None = None, actor: str = "admin"
) -> dict[str, Any]:
    """Close the 公示 when it may close; then grants and letters (each made once)."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.publicity_close)
    closing = close_publicity_task(competition_id, moment, actor)
    if closing["stage"] != "implementation":
        return {**closing, "grants": 0, "letters": 0}
    grants = award_grants_task(competition_id, actor)
    letters = write_award_letters_task(competition_id, moment)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {**closing, "grants": len(grants), "letters": len(letters), "delivery": delivery}
