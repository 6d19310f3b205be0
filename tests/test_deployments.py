"""deployments/prefect.yaml: every entrypoint is a real flow of this project, every schedule and
trigger is valid for Prefect 3, and the review closes on the portal's event."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))


def test_every_entrypoint_is_a_flow_of_this_project():
    from prefect import Flow

    names = []
    for deployment in SPEC["deployments"]:
        path, _, attribute = deployment["entrypoint"].partition(":")
        assert (ROOT / path).is_file(), deployment["entrypoint"]
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, attribute)
        assert isinstance(flow, Flow), deployment["entrypoint"]
        names.append(deployment["name"])
    assert len(names) == len(set(names))
    assert {"lifecycle", "setup", "call", "intake", "screening", "review-open", "review-close"} <= set(names)


def test_triggers_and_schedules_validate():
    from prefect.client.schemas.actions import DeploymentScheduleCreate  # noqa: F401
    from prefect.client.schemas.schedules import construct_schedule
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    close = next(d for d in SPEC["deployments"] if d["name"] == "review-close")
    (trigger,) = close["triggers"]
    parsed = DeploymentEventTrigger.model_validate(trigger)
    assert parsed.expect == {"grantflow.review.sheets.complete"}
    assert "slug" in parsed.parameters
    for deployment in SPEC["deployments"]:
        for schedule in deployment.get("schedules", []):
            assert construct_schedule(**schedule) is not None


def test_portal_event_names_match_the_trigger():
    from portal.events import SHEETS_COMPLETE

    close = next(d for d in SPEC["deployments"] if d["name"] == "review-close")
    assert close["triggers"][0]["expect"] == [SHEETS_COMPLETE]


def test_checkpoint_follow_up_runs_on_the_portals_record_event():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    from portal.events import RECORD_SUBMITTED

    follow_up = next(d for d in SPEC["deployments"] if d["name"] == "checkpoint-follow-up")
    (trigger,) = follow_up["triggers"]
    parsed = DeploymentEventTrigger.model_validate(trigger)
    assert parsed.expect == {RECORD_SUBMITTED}
    assert "slug" in parsed.parameters
    assert any(d["name"] == "supervision" and d.get("schedules") for d in SPEC["deployments"])
