"""A submission emits Prefect events (caught by Prefect's own AssertingEventsClient), and a
submission still succeeds when no Prefect API is there or the configured one is unreachable."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from models.states import AssignmentState
from portal.app import create_app
from portal.events import SHEET_SUBMITTED, SHEETS_COMPLETE, SubmittedSheet, emit_sheet_submitted
from portal.serving import serve_in_background
from tests.portal.conftest import ReviewWorld
from tests.portal.test_review_routes import GOOD, form


def unreachable_api() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/api"


@pytest.fixture
def asserting_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[AssertingEventsClient]]:
    """Route every Prefect event of this process to Prefect's recording test client (an API URL is
    set so that Prefect does not start a private server for the worker's orchestration client)."""
    url = unreachable_api()
    monkeypatch.setenv("PREFECT_API_URL", url)
    AssertingEventsClient.reset()
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            EventsWorker.instance()  # started here, the worker runs with this API URL
        yield AssertingEventsClient
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()


def submit_all(base: str, world: ReviewWorld, sheets: list) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base) as client:
        for sheet in sheets:
            path = world.path(sheet)
            statuses.append(client.post(path, data=form(client.get(path), GOOD)).status_code)
    return statuses


def test_submit_emits_sheet_event_and_complete_after_the_last(
    world: ReviewWorld, asserting_events: type[AssertingEventsClient]
) -> None:
    with serve_in_background(create_app(world.settings)) as base:
        assert submit_all(base, world, world.sheets) == [303] * len(world.sheets)
    EventsWorker.drain_all()
    events = [e for client in asserting_events.all for e in client.events]
    submitted = [e for e in events if e.event == SHEET_SUBMITTED]
    assert sorted(e.resource.id for e in submitted) == sorted(
        f"grantflow.assignment.{s.id}" for s in world.sheets
    )
    assert [e.payload["open_sheets"] for e in submitted] == list(range(len(world.sheets) - 1, -1, -1))
    complete = [e for e in events if e.event == SHEETS_COMPLETE]
    assert len(complete) == 1 and complete[0].resource.id == f"grantflow.competition.{world.competition_id}"
    related = {r.id for r in submitted[0].related}
    assert f"grantflow.competition.{world.competition_id}" in related


def test_submit_without_prefect_api_sends_nothing_and_succeeds(
    world: ReviewWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    # also when another test of this session started Prefect's harness, which sets an API URL
    with temporary_settings(updates={PREFECT_API_URL: None}):
        sheet = SubmittedSheet(1, 1, 1, 1, open_sheets=0)
        assert emit_sheet_submitted(sheet) == []
        with serve_in_background(create_app(world.settings)) as base:
            assert submit_all(base, world, world.sheets[:1]) == [303]
    assert world.sheet(world.sheets[0].id or 0).state is AssignmentState.submitted


def test_submit_with_unreachable_prefect_api_still_succeeds(
    world: ReviewWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", unreachable_api())
    with serve_in_background(create_app(world.settings)) as base:
        assert submit_all(base, world, world.sheets[:2]) == [303, 303]
    assert [world.sheet(s.id or 0).state for s in world.sheets[:2]] == [AssignmentState.submitted] * 2


def test_checkpoint_events_name_the_checkpoint_its_grant_and_competition(
    asserting_events: type[AssertingEventsClient],
) -> None:
    """The supervisor's record and the 结项 panel's last sheet: resource, relations and payload
    as the triggers in deployments/prefect.yaml read them (the slug from the resource)."""
    from portal.events import (
        PANEL_COMPLETE,
        RECORD_SUBMITTED,
        CompletedPanel,
        SubmittedRecord,
        emit_panel_complete,
        emit_record_submitted,
    )

    assert emit_record_submitted(SubmittedRecord(7, 2, 5, 9, "[bold]jt")) == [RECORD_SUBMITTED]
    assert emit_panel_complete(CompletedPanel(8, 2, 6, "[bold]jt")) == [PANEL_COMPLETE]
    EventsWorker.drain_all()
    events = {e.event: e for client in asserting_events.all for e in client.events}
    record, panel = events[RECORD_SUBMITTED], events[PANEL_COMPLETE]
    assert record.resource.id == "grantflow.checkpoint.7" and panel.resource.id == "grantflow.checkpoint.8"
    assert record.resource["grantflow.competition.slug"] == panel.resource["grantflow.competition.slug"]
    assert record.resource["grantflow.competition.slug"] == "[bold]jt"
    assert {r.id: r.role for r in record.related} == {
        "grantflow.competition.2": "competition",
        "grantflow.grant.5": "grant",
    }
    assert {r.id for r in panel.related} == {"grantflow.competition.2", "grantflow.grant.6"}
    assert record.payload == {
        "checkpoint_id": 7,
        "competition_id": 2,
        "grant_id": 5,
        "supervisor_id": 9,
        "competition_slug": "[bold]jt",
    }
    assert panel.payload == {
        "checkpoint_id": 8,
        "competition_id": 2,
        "grant_id": 6,
        "competition_slug": "[bold]jt",
    }
