"""申报受理 Intake: import files of applications; receipts for the accepted, reasons for the refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.types import utcnow
from tasks.artifacts import BatchProgress, documents_artifact
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.inbox import receive_uploads
from tasks.intake import import_file, queue_receipts_task, queue_refusals_task
from tasks.mail.deliver import deliver_pending


# The result is persisted (as JSON, in Prefect's result storage) so that `grantflow intake import
# --deployment` can print it from another process; an in-process import turns that off.
@flow(
    name="intake",
    flow_run_name=run_name("申报受理 intake"),
    persist_result=True,
    result_serializer="json",
)
async def intake(
    slug: str | None = None,
    files: list[str] | None = None,
    as_of: datetime | None = None,
    override_reason: str | None = None,
    actor: str = "admin",
    uploads: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Import each file (one transaction each), then send receipts and refusal letters.

    A refusal letter whose rule refused most of its file waits as a draft (``held``: how many) for
    the administrator to read and release (``grantflow outbox release``).

    ``files`` are paths on the worker; ``uploads`` carry a file's bytes from another machine
    (``models.intake.inbox.upload_from``) and are stored in the data folder's inbox first.
    After the deadline a file is refused unless ``override_reason`` says why (audited).
    """
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug)
    received, unreadable = receive_uploads(uploads) if uploads else ([], [])
    paths = [*(files or []), *received]
    progress = BatchProgress(len(paths), "申报文件导入 / files imported")
    reports = []
    for path in paths:
        reports.append(import_file(competition_id, path, moment, actor, override_reason))
        progress.advance()
    reports += unreadable
    receipts = queue_receipts_task(competition_id, moment)
    refused = [row for report in reports for row in report["refused"]]
    refusals = queue_refusals_task(competition_id, refused, moment)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    held = sum(1 for row in refused if row.get("held") and row.get("email"))  # drafts: outbox release
    return {
        "files": reports,
        "receipts": len(receipts),
        "refusals": len(refusals),
        "held": held,
        "delivery": delivery,
    }
