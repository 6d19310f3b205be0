"""立项决定 The funding decision: draft it from the ranking, then approve it and publish the 公示.

Both flows are safe to re-run: a second draft with the same inputs stores nothing new (and after
approval changes nothing); a second approval finds the decision approved and the notice open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.stage_order import StageRun
from models.types import utcnow
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.funding import approve_funding, draft_funding, publish_allocation, publish_publicity


@flow(name="funding-draft", flow_run_name=run_name("资助方案 funding draft"))
def funding_draft(slug: str | None = None, actor: str = "admin") -> dict[str, Any]:
    """Allocate the pools by the configured rules; every project gets its amount and one sentence why."""
    preflight()
    competition_id = competition_id_for(slug, StageRun.funding_draft)
    summary = draft_funding(competition_id, actor)
    report = publish_allocation(competition_id)
    return {**summary, "report": report}


@flow(name="funding-approve", flow_run_name=run_name("批准资助方案 funding approved"))
def funding_approve(
    slug: str | None = None, actor: str = "admin", as_of: datetime | None = None
) -> dict[str, Any]:
    """Approve the draft (refused while a tie or an objection is open) and publish the 公示."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.funding_approve)
    approved = approve_funding(competition_id, actor, moment)
    notice = publish_publicity(competition_id, moment, actor)
    return {"approved": approved, "notice": notice}
