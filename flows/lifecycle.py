"""The lifecycle: ask the database what the competition's next step is, and take it.

Scheduled (``deployments/prefect.yaml``: every hour), this flow chains the stage flows without any
process waiting for people: it publishes the call on its date, screens when applications close,
opens the review, closes it when the last sheet arrives or the deadline passes, closes the 公示 once
its window has passed with no objection open (grants, award letters), and lets agreements not signed
by their date lapse. The funding decision itself is the administrator's (funding draft / approve). Opening the
review invites experts, so it runs only with ``allow_review=True`` (the administrator's go-ahead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.call import publish_call
from flows.grants import agreements_lapse
from flows.publicity import publicity_close
from flows.review import close_review, open_review
from flows.screening import screening
from models.timeline import Step
from models.types import utcnow
from tasks.competition import competition_id_for, decide_next_step


@flow(name="lifecycle", flow_run_name="{slug} · 推进 advance")
async def advance(
    slug: str | None = None,
    as_of: datetime | None = None,
    allow_review: bool = False,
    actor: str = "system:lifecycle",
) -> dict[str, Any]:
    """Take the competition's next step if its conditions hold; returns what was done or why not."""
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug)
    decision = decide_next_step(competition_id, moment)
    step = decision["step"]
    if step == Step.publish_call:
        result = await publish_call(slug, as_of=moment, actor=actor)
    elif step == Step.screening:
        result = await screening(slug, as_of=moment, actor=actor)
    elif step == Step.open_review:
        if not allow_review:
            return {
                "step": None,
                "waiting": f"{decision['reason']}（等待管理员确认 / waiting for the go-ahead: allow_review）",
            }
        result = await open_review(slug, actor=actor)
    elif step == Step.close_review:
        result = close_review(slug, actor=actor, as_of=moment)
    elif step == Step.close_publicity:
        result = await publicity_close(slug, as_of=moment, actor=actor)
    elif step == Step.lapse_agreements:
        result = await agreements_lapse(slug, as_of=moment, actor=actor)
    else:
        return {"step": None, "waiting": decision["reason"]}
    return {"step": step, "reason": decision["reason"], "result": result}
