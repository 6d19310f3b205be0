"""资助协议 Agreements: record signings (the signing tranche is released with its 拨款通知), and let
agreements not signed by their date lapse (hourly, through the lifecycle)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.stage_order import StageRun
from models.types import utcnow
from tasks.artifacts import documents_artifact
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.funding import lapse_agreements, read_signings, record_signings
from tasks.mail.deliver import deliver_pending


@flow(name="grants-sign", flow_run_name=run_name("协议签订 agreements signed"))
async def grants_sign(
    slug: str | None = None,
    signings: list[tuple[str, date]] | None = None,
    xlsx: str | None = None,
    actor: str = "admin",
    future: bool = False,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Signing dates by 申报编号 (or an .xlsx with 申报编号 and 签订日期); first tranches released.
    A date after the run's day (``as_of``, default today) is refused unless ``future`` is set."""
    preflight()
    competition_id = competition_id_for(slug, StageRun.grants_sign)
    rows = [(ref, day, f"grants sign {ref}") for ref, day in (signings or [])]
    if xlsx:
        rows += read_signings(xlsx)
    grants = record_signings(competition_id, rows, actor, as_of or utcnow(), future)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {"signed": len(grants), "delivery": delivery}


@flow(name="agreements-lapse", flow_run_name=run_name("协议逾期 agreements lapse"))
async def agreements_lapse(
    slug: str | None = None, as_of: datetime | None = None, actor: str = "system:lifecycle"
) -> dict[str, Any]:
    """Agreements not signed by their date lapse (audited, letter); the money as configured."""
    preflight()
    competition_id = competition_id_for(slug, StageRun.grants_lapse)
    lapsed = lapse_agreements(competition_id, as_of or utcnow(), actor)
    delivery = await deliver_pending(competition_id)
    return {"lapsed": len(lapsed), "delivery": delivery}
