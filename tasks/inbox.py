"""The intake inbox task: files that came as bytes (a deployment run) land in the data folder."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from models.errors import InputError
from models.intake.inbox import receive_upload
from models.settings import get_settings


@task(name="receive-uploads", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def receive_uploads(uploads: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Store each upload in ``uploads/intake/<sha256>/<name>``; returns the stored paths, and a
    report (as ``import_file`` gives it) for each upload that was refused."""
    inbox = get_settings().uploads_dir / "intake"
    paths: list[str] = []
    refused: list[dict[str, Any]] = []
    for upload in uploads:
        try:
            paths.append(str(receive_upload(upload, inbox=inbox)))
        except InputError as exc:
            get_run_logger().warning("%s", exc)
            name = str(upload.get("name", ""))
            refused.append(
                {
                    "file": name,
                    "late": False,
                    "accepted": [],
                    "duplicates": [],
                    "refused": [],
                    "error": str(exc),
                }
            )
    return paths, refused
