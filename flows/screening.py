"""资格审查 Eligibility screening: every rule on every application, the 资格审查表, the result letters."""

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
from tasks.mail.deliver import deliver_pending
from tasks.screening import (
    open_screening_task,
    publish_screening,
    queue_results_task,
    screen_task,
    write_sheets_task,
)


@flow(name="screening", flow_run_name=run_name("资格审查 screening"))
async def screening(
    slug: str | None = None, as_of: datetime | None = None, actor: str = "admin", reviewer: str = ""
) -> dict[str, Any]:
    """After the deadline: screen, write each 资格审查表, queue every applicant's result, then move
    the competition to 资格审查 (征集中 → 资格审查): the stage moves only once its work is done, so a
    failed run is finished by the next."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.screening)
    counts = screen_task(competition_id, moment, actor)
    sheets = write_sheets_task(competition_id, moment, reviewer)
    letters = queue_results_task(competition_id, moment)
    opened = open_screening_task(competition_id, moment, actor)
    report = publish_screening(competition_id)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {
        "opened": opened,
        **counts,
        "sheets": len(sheets),
        "letters": len(letters),
        "applications": report,
        "delivery": delivery,
    }
