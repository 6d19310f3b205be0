"""运行阶段: a stage started from the console runs the CLI's flow in the portal's process, once.

The world is the console's (the example year up to the submitted 结项 reports), with the data
folder copied too, and the process's settings pointed at that copy — the flow a console run calls
reads the same database and writes beside the same documents as the portal serves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.db import dispose_engines
from models.settings import get_settings, override_settings, reset_settings
from models.states import RunState
from models.steps.runs import ConsoleRun
from portal.app import create_app
from tests.portal.admin.console_world import SLUG, ConsoleWorld, build_world, csrf_of, run_ended
from tests.support.factories import example_config_text

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def world(year_template: Path, tmp_path: Path, settings_env: Path) -> Iterator[ConsoleWorld]:
    data = tmp_path / "data"
    shutil.copytree(year_template.parent / "data", data)
    built = build_world(year_template, tmp_path)  # the database copied to tmp_path/grantflow.db
    # the portal and the flows it runs read one set of settings: the copies'
    override_settings(
        data_dir=data, database_url=f"sqlite:///{tmp_path / 'grantflow.db'}", environment="test"
    )
    built.settings = get_settings()
    built.app = create_app(built.settings)
    yield built
    dispose_engines()
    reset_settings()


def runs(world: ConsoleWorld) -> list[ConsoleRun]:
    with Session(world.engine) as session:
        return list(session.exec(select(ConsoleRun).order_by(col(ConsoleRun.id))))


def wait_for_end(world: ConsoleWorld, run_id: int) -> ConsoleRun:
    return run_ended(world.engine, run_id)


def test_a_stage_runs_from_its_confirmation_page_and_shows_what_it_wrote(world: ConsoleWorld) -> None:
    client = world.signed_in("lin")
    page = client.get(f"/admin/c/{SLUG}/steps/final_evaluation")
    assert page.status_code == 200
    assert 'id="run-button"' in page.text
    assert "结项评估报告" in page.text  # the papers it will write, before it runs
    answer = client.post(f"/admin/c/{SLUG}/steps/final_evaluation", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    (run,) = runs(world)
    assert answer.headers["location"].startswith(f"/admin/c/{SLUG}/runs/{run.id}")
    ended = wait_for_end(world, run.id or 0)
    assert ended.state is RunState.done, ended.message
    assert ended.actor == "admin:lin"
    assert ended.documents_to is not None and ended.documents_to > ended.documents_from
    shown = client.get(f"/admin/c/{SLUG}/runs/{run.id}?done=started")  # the address the button led to
    assert 'data-state="done"' in shown.text
    assert "hx-trigger" not in shown.text  # polling stops once it ended
    assert 'data-notice="started"' not in shown.text  # "已开始运行" only while it runs
    assert "结项评估报告" in shown.text  # the documents it wrote, linked
    with Session(world.engine) as session:
        started = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "console_run", AuditEvent.action == "run_started")
        ).one()
    assert started.actor == "admin:lin"


def test_a_stage_out_of_order_is_one_sentence_and_starts_nothing(world: ConsoleWorld) -> None:
    client = world.signed_in("lin")
    page = client.get(f"/admin/c/{SLUG}/steps/annual_report")
    assert 'id="refusal"' in page.text and 'id="run-button"' not in page.text
    answer = client.post(f"/admin/c/{SLUG}/steps/annual_report", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 409
    assert "不能撰写年度总结报告" in answer.text and "Traceback" not in answer.text
    assert runs(world) == []


def test_two_clicks_at_once_start_the_stage_once(world: ConsoleWorld) -> None:
    first, second = world.signed_in("lin"), world.signed_in("lin")
    tokens = [csrf_of(c.get(f"/admin/c/{SLUG}/steps/final_evaluation").text) for c in (first, second)]

    def click(index: int) -> str:
        client = (first, second)[index]
        answer = client.post(f"/admin/c/{SLUG}/steps/final_evaluation", data={"csrf_token": tokens[index]})
        assert answer.status_code == 303
        return answer.headers["location"].partition("?")[0]

    with ThreadPoolExecutor(2) as pool:
        targets = list(pool.map(click, [0, 1]))
    (run,) = runs(world)
    assert targets == [f"/admin/c/{SLUG}/runs/{run.id}"] * 2
    assert wait_for_end(world, run.id or 0).state is RunState.done


def test_finance_and_read_only_see_the_stages_but_may_not_run_them(world: ConsoleWorld) -> None:
    for name in ("cai", "du"):
        client = world.signed_in(name)
        page = client.get(f"/admin/c/{SLUG}/steps/final_evaluation")
        assert page.status_code == 200 and 'id="only-admin"' in page.text
        answer = client.post(
            f"/admin/c/{SLUG}/steps/final_evaluation", data={"csrf_token": csrf_of(page.text)}
        )
        assert answer.status_code == 403
    assert runs(world) == []


def test_the_next_step_button_of_the_home_page_leads_to_its_confirmation(world: ConsoleWorld) -> None:
    client = world.signed_in("lin")
    home = client.get(f"/admin/c/{SLUG}")
    assert (
        'id="next-step-button"' in home.text
        and "disabled" not in home.text.split('id="next-step-button"')[0][-200:]
    )
    target = home.text.split('id="next-step-button"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get(target).status_code == 200


def test_a_competition_is_created_from_its_uploaded_yaml(world: ConsoleWorld) -> None:
    client = world.signed_in("lin")
    form = client.get("/admin/new")
    text = example_config_text(**{"slug: jiangtou-2025": "slug: uploaded-2025"})
    answer = client.post(
        "/admin/new",
        data={"csrf_token": csrf_of(form.text), "config_text": ""},
        files={"config_file": ("competition.yaml", text.encode("utf-8"), "application/yaml")},
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/c/uploaded-2025")
    with Session(world.engine) as session:
        created = session.exec(select(Competition).where(Competition.slug == "uploaded-2025")).one()
        event = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "competition", AuditEvent.entity_id == created.id)
        ).first()
    assert event is not None and event.actor == "admin:lin"


def test_a_wrong_configuration_is_shown_field_by_field_and_nothing_is_created(world: ConsoleWorld) -> None:
    client = world.signed_in("lin")
    form = client.get("/admin/new")
    text = example_config_text(**{"slug: jiangtou-2025": "slug: Not A Slug!"})
    before = world.counts()
    answer = client.post("/admin/new", data={"csrf_token": csrf_of(form.text), "config_text": text})
    assert answer.status_code == 400
    assert 'data-field="competition.slug"' in answer.text and "Traceback" not in answer.text
    assert "Not A Slug!" in answer.text  # what she typed stays in the box
    assert world.counts() == before


def test_last_years_configuration_is_copied_forward_into_the_form(world: ConsoleWorld) -> None:
    page = world.signed_in("lin").get(f"/admin/new?from={SLUG}")
    assert page.status_code == 200
    assert "jiangtou-2026" in page.text
