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
    assert {"funding-draft", "funding-approve", "publicity-close", "grants-sign", "agreements-lapse"} <= set(
        names
    )


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


def test_every_stage_deployment_runs_one_at_a_time():
    from prefect.cli.deploy._models import ConcurrencyLimitSpec
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy, ConcurrencyOptions

    for deployment in SPEC["deployments"]:
        limit = deployment.get("concurrency_limit")
        assert limit is not None, f"{deployment['name']} has no concurrency_limit"
        if isinstance(limit, dict):
            spec = ConcurrencyLimitSpec.model_validate(limit)
            assert spec.limit == 1
            options = ConcurrencyOptions(collision_strategy=spec.collision_strategy)
            assert options.collision_strategy is ConcurrencyLimitStrategy.ENQUEUE
        else:
            assert limit == 1


def _pull_check(environment: dict[str, str]) -> None:
    import asyncio

    from prefect.deployments.steps.utility import run_shell_script

    (check,) = [s["prefect.deployments.steps.run_shell_script"] for s in SPEC["pull"][:1]]
    asyncio.run(run_shell_script(**{k: v for k, v in check.items() if k != "id"}, env=environment))


def test_a_worker_without_grantflow_home_fails_at_the_pull_step_with_the_fix(tmp_path, monkeypatch):
    import pytest

    monkeypatch.delenv("GRANTFLOW_HOME", raising=False)
    with pytest.raises(RuntimeError, match="GRANTFLOW_HOME is not set to the grantflow project folder"):
        _pull_check({})
    with pytest.raises(RuntimeError, match=str(tmp_path)):
        _pull_check({"GRANTFLOW_HOME": str(tmp_path)})
    _pull_check({"GRANTFLOW_HOME": str(ROOT)})
    assert "set_working_directory" in next(iter(SPEC["pull"][1]))


def test_checkpoint_follow_up_runs_on_the_portals_record_event():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    from portal.events import RECORD_SUBMITTED

    follow_up = next(d for d in SPEC["deployments"] if d["name"] == "checkpoint-follow-up")
    (trigger,) = follow_up["triggers"]
    parsed = DeploymentEventTrigger.model_validate(trigger)
    assert parsed.expect == {RECORD_SUBMITTED}
    assert "slug" in parsed.parameters
    assert any(d["name"] == "supervision" and d.get("schedules") for d in SPEC["deployments"])


def test_final_evaluation_runs_on_the_portals_panel_event():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    from portal.events import PANEL_COMPLETE

    final = next(d for d in SPEC["deployments"] if d["name"] == "final-evaluation")
    (trigger,) = final["triggers"]
    parsed = DeploymentEventTrigger.model_validate(trigger)
    assert parsed.expect == {PANEL_COMPLETE}
    assert parsed.parameters is not None and set(parsed.parameters) == {"slug", "actor"}
