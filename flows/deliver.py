"""送信 Deliver: every due letter of the outbox goes out, exactly once."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.naming import ALL, run_name
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.mail.deliver import deliver_pending


@flow(
    name="deliver-letters",
    flow_run_name=run_name("送信 deliver-letters", parameter="competition_slug", default=ALL),
)
async def deliver_letters(competition_slug: str | None = None, takeover: bool = False) -> dict[str, Any]:
    """Send the queued letters of one competition (or of all, without a slug); returns the report.

    ``takeover``: settle every interrupted send at once — only when no other sender is running.
    """
    preflight()
    competition_id = competition_id_for(competition_slug) if competition_slug else None
    return await deliver_pending(competition_id, takeover)
