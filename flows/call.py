"""征集 Call: publish the competition — the 征集公告 and the blank 申报书, mailed to the mailing list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.stage_order import StageRun
from models.types import utcnow
from tasks.artifacts import documents_artifact
from tasks.call import open_call_task, queue_call_letters_task, write_call_documents_task
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.mail.deliver import deliver_pending


@flow(name="call", flow_run_name=run_name("征集公告 call"))
async def publish_call(
    slug: str | None = None, as_of: datetime | None = None, actor: str = "admin"
) -> dict[str, Any]:
    """Write the call's two documents, queue them to the mailing list, then open the call
    (筹备 → 征集中): the stage moves only once its work is done, so a failed run is finished by the next."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.publish_call)
    documents = write_call_documents_task(competition_id, moment)
    letters = queue_call_letters_task(competition_id, documents, moment)
    opened = open_call_task(competition_id, moment, actor)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {"opened": opened, "documents": documents, "letters": letters, "delivery": delivery}
