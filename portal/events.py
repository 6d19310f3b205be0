"""Prefect events the portal emits, so that deployments can react (the review closes by itself when
the last sheet of a competition arrives; the trigger lives in deployments/prefect.yaml).

    grantflow.review.sheet.submitted     every submitted (or re-submitted) sheet
    grantflow.review.sheets.complete     that submission left no open sheet in the competition
    grantflow.evaluation.panel.complete  a 结项 panel sheet's submission left its grant's panel
                                         complete (the final evaluation runs on it)

Resources: ``grantflow.assignment.<id>`` (the sheet), related ``grantflow.competition.<id>`` and
``grantflow.application.<id>``. Emitting never breaks a submission: without a configured Prefect
API (``PREFECT_API_URL``) nothing is sent — Prefect would otherwise start a private API server in
this process — and any error while emitting is logged and swallowed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("grantflow.portal")

SHEET_SUBMITTED = "grantflow.review.sheet.submitted"
SHEETS_COMPLETE = "grantflow.review.sheets.complete"
RECORD_SUBMITTED = "grantflow.supervision.record.submitted"  # the checkpoint follow-up's trigger
PANEL_COMPLETE = "grantflow.evaluation.panel.complete"  # the final evaluation's trigger


@dataclass(frozen=True)
class SubmittedSheet:
    assignment_id: int
    competition_id: int
    application_id: int
    expert_id: int
    open_sheets: int  # sheets of the competition still invited or in draft
    competition_slug: str = ""  # what the stage flows take (the close-review trigger passes it on)


def prefect_api_configured() -> bool:
    """Whether a Prefect API (or a test client override) is there to receive events."""
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value()) or EventsWorker._client_override is not None


def _emit(
    event: str, resource: dict[str, str], related: list[dict[str, str]], payload: dict[str, Any]
) -> bool:
    from prefect.events import emit_event

    return emit_event(event=event, resource=resource, related=related, payload=payload) is not None


def emit_sheet_submitted(sheet: SubmittedSheet) -> list[str]:
    """Emit the events of a submission; returns the names of those sent (empty when none could be)."""
    try:
        if not prefect_api_configured():
            log.info(
                "no Prefect API configured: event %s for sheet %s not sent",
                SHEET_SUBMITTED,
                sheet.assignment_id,
            )
            return []
        related = [
            {
                "prefect.resource.id": f"grantflow.competition.{sheet.competition_id}",
                "prefect.resource.role": "competition",
            },
            {
                "prefect.resource.id": f"grantflow.application.{sheet.application_id}",
                "prefect.resource.role": "application",
            },
        ]
        payload = {
            "assignment_id": sheet.assignment_id,
            "competition_id": sheet.competition_id,
            "application_id": sheet.application_id,
            "expert_id": sheet.expert_id,
            "open_sheets": sheet.open_sheets,
            "competition_slug": sheet.competition_slug,
        }
        sent = []
        resource = {
            "prefect.resource.id": f"grantflow.assignment.{sheet.assignment_id}",
            "prefect.resource.name": f"评分表 #{sheet.assignment_id}",
        }
        if _emit(SHEET_SUBMITTED, resource, related, payload):
            sent.append(SHEET_SUBMITTED)
        if sheet.open_sheets == 0:
            competition = {
                "prefect.resource.id": f"grantflow.competition.{sheet.competition_id}",
                "grantflow.competition.slug": sheet.competition_slug,
            }
            if _emit(SHEETS_COMPLETE, competition, [], payload):
                sent.append(SHEETS_COMPLETE)
        return sent
    except Exception:  # an unreachable or broken Prefect must never cost an expert their scores
        log.exception("could not emit the Prefect event for sheet %s", sheet.assignment_id)
        return []


@dataclass(frozen=True)
class SubmittedRecord:
    checkpoint_id: int
    competition_id: int
    grant_id: int
    supervisor_id: int
    competition_slug: str


def _emit_about_a_checkpoint(
    event: str, *, name: str, checkpoint_id: int, competition_id: int, grant_id: int, slug: str, **extra: int
) -> list[str]:
    """Emit ``event`` about checkpoint ``checkpoint_id`` (resource ``grantflow.checkpoint.<id>``,
    related to its competition and grant); never raises — an unreachable Prefect must never cost
    anyone what they submitted."""
    try:
        if not prefect_api_configured():
            log.info("no Prefect API configured: event %s for checkpoint %s not sent", event, checkpoint_id)
            return []
        resource = {
            "prefect.resource.id": f"grantflow.checkpoint.{checkpoint_id}",
            "prefect.resource.name": f"{name} #{checkpoint_id}",
            "grantflow.competition.slug": slug,
        }
        related = [
            {
                "prefect.resource.id": f"grantflow.competition.{competition_id}",
                "prefect.resource.role": "competition",
            },
            {"prefect.resource.id": f"grantflow.grant.{grant_id}", "prefect.resource.role": "grant"},
        ]
        payload: dict[str, Any] = {
            "checkpoint_id": checkpoint_id,
            "competition_id": competition_id,
            "grant_id": grant_id,
            **extra,
            "competition_slug": slug,
        }
        return [event] if _emit(event, resource, related, payload) else []
    except Exception:
        log.exception("could not emit the Prefect event %s for checkpoint %s", event, checkpoint_id)
        return []


def emit_record_submitted(submitted: SubmittedRecord) -> list[str]:
    """Emit ``grantflow.supervision.record.submitted`` (resource ``grantflow.checkpoint.<id>``)."""
    return _emit_about_a_checkpoint(
        RECORD_SUBMITTED,
        name="检查点",
        checkpoint_id=submitted.checkpoint_id,
        competition_id=submitted.competition_id,
        grant_id=submitted.grant_id,
        slug=submitted.competition_slug,
        supervisor_id=submitted.supervisor_id,
    )


@dataclass(frozen=True)
class CompletedPanel:
    checkpoint_id: int
    competition_id: int
    grant_id: int
    competition_slug: str


def emit_panel_complete(panel: CompletedPanel) -> list[str]:
    """Emit ``grantflow.evaluation.panel.complete`` (resource ``grantflow.checkpoint.<id>``)."""
    return _emit_about_a_checkpoint(
        PANEL_COMPLETE,
        name="结项专家评审",
        checkpoint_id=panel.checkpoint_id,
        competition_id=panel.competition_id,
        grant_id=panel.grant_id,
        slug=panel.competition_slug,
    )
