"""The lifecycle: ask the database what the competition's next step is, and take it.

Scheduled (``deployments/prefect.yaml``: every hour), this flow chains the stage flows without any
process waiting for people: it publishes the call on its date, screens when applications close,
opens the review, closes it when the last sheet arrives or the deadline passes, closes the 公示 once
its window has passed with no objection open (grants, award letters), lets agreements not signed
by their date lapse, runs the 结项评估 once a grant's final reports are in (or past due) and, the
competition closed, writes the 年度总结报告. The funding decision itself is the administrator's
(funding draft / approve). Opening the review invites experts, so it runs only with
``allow_review=True`` (the administrator's go-ahead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger

from flows.call import publish_call
from flows.evaluation import annual_report, final_evaluation
from flows.grants import agreements_lapse
from flows.naming import run_name
from flows.publicity import publicity_close
from flows.review import close_review, open_review
from flows.screening import screening
from models.timeline import Step
from models.types import utcnow
from tasks.doctor import preflight
from tasks.lifecycle import decide_next_step


@flow(name="lifecycle", flow_run_name=run_name("推进 advance"))
async def advance(
    slug: str | None = None,
    as_of: datetime | None = None,
    allow_review: bool = False,
    actor: str = "system:lifecycle",
) -> dict[str, Any]:
    """Take the competition's next step if its conditions hold; returns what was done or why not.

    With nothing to do (no competition yet, a date not reached, experts still scoring) the run
    completes and its log says what it decided and why.
    """
    preflight()
    logger = get_run_logger()
    moment = as_of or utcnow()
    decision = decide_next_step(slug, moment)
    step, reason = decision["step"], decision["reason"]
    slug = decision["slug"]
    if step == Step.open_review and not allow_review:
        step, reason = None, f"{reason}（等待管理员确认 / waiting for the go-ahead: allow_review）"
    if step is None:
        logger.info("无需推进 / nothing to do now: %s", reason)
        return {"step": None, "waiting": reason}
    logger.info("推进 / next step %s: %s", step, reason)
    if step == Step.publish_call:
        result = await publish_call(slug, as_of=moment, actor=actor)
    elif step == Step.screening:
        result = await screening(slug, as_of=moment, actor=actor)
    elif step == Step.open_review:
        result = await open_review(slug, actor=actor, as_of=moment)
    elif step == Step.close_review:
        result = close_review(slug, actor=actor, as_of=moment)
    elif step == Step.close_publicity:
        result = await publicity_close(slug, as_of=moment, actor=actor)
    elif step == Step.lapse_agreements:
        result = await agreements_lapse(slug, as_of=moment, actor=actor)
    elif step == Step.final_evaluation:
        result = await final_evaluation(slug, as_of=moment, actor=actor)
    elif step == Step.annual_report:
        result = annual_report(slug, as_of=moment)
    else:
        result = close_review(slug, actor=actor, as_of=moment)
    return {"step": step, "reason": reason, "result": result}
