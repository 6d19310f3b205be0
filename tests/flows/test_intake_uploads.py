"""A deployment run of intake on a worker that never saw the administrator's file: the file
travels as bytes (``uploads``), lands in the data folder's inbox, and is imported from there."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.db import default_engine, session_scope, upgrade_database
from models.intake.inbox import upload_from
from models.lifecycle import set_state
from models.states import CompetitionStage
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition

pytestmark = pytest.mark.flows
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_intake_imports_a_file_sent_as_bytes(prefect_harness, settings_env: Path, tmp_path: Path):
    from flows.intake import intake

    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        slug = competition.slug
    on_the_admins_machine = tmp_path / "admin" / "applications.xlsx"
    on_the_admins_machine.parent.mkdir()
    shutil.copy(EXAMPLE_DIR / "applications.xlsx", on_the_admins_machine)
    upload = upload_from(on_the_admins_machine)
    damaged = upload_from(EXAMPLE_DIR / "applications-gbk.csv") | {"sha256": "0" * 64}
    shutil.rmtree(on_the_admins_machine.parent)  # the worker has only the parameter

    result = await intake(slug, uploads=[upload, damaged], as_of=INTAKE_AT, actor="admin:test")
    good, bad = result["files"]
    assert good["file"] == "applications.xlsx" and len(good["accepted"]) == 24 and good["error"] is None
    assert bad["file"] == "applications-gbk.csv" and "does not match its sha256" in bad["error"]
    assert result["receipts"] == 24
    assert (settings_env / "uploads" / "intake" / upload["sha256"] / "applications.xlsx").is_file()

    again = await intake(slug, uploads=[upload], as_of=INTAKE_AT, actor="admin:test")
    assert again["files"][0]["accepted"] == [] and len(again["files"][0]["duplicates"]) == 24


def _stored_applications() -> list[dict[str, object]]:
    """Every application as stored, with its organisation and budget lines (ids left out)."""
    from sqlmodel import select

    from models.intake.tables import Application, BudgetLine, Organisation

    with session_scope() as session:
        rows = []
        for application in session.exec(select(Application).order_by(Application.ref)).all():
            organisation = session.get(Organisation, application.organisation_id)
            lines = session.exec(
                select(BudgetLine).where(BudgetLine.application_id == application.id).order_by(BudgetLine.id)
            ).all()
            row = application.model_dump(exclude={"id", "competition_id", "organisation_id", "submitted_at"})
            assert organisation is not None
            row["organisation"] = organisation.model_dump(exclude={"id", "created_at"})
            row["budget"] = [line.model_dump(exclude={"id", "application_id"}) for line in lines]
            rows.append(row)
        return rows


def _fresh_competition(data: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from models.db import dispose_engines
    from models.settings import reset_settings

    dispose_engines()
    monkeypatch.setenv("GRANTFLOW_DATA_DIR", str(data))
    reset_settings()
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        return competition.slug


async def test_an_upload_stores_the_same_applications_as_a_path_import(
    prefect_harness, settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The example workbook sent as bytes, and the same workbook read from its path: the database
    holds the same applications, organisations and budget lines, with the same sources."""
    from flows.intake import intake

    example = EXAMPLE_DIR / "applications.xlsx"
    slug = _fresh_competition(tmp_path / "by-path", monkeypatch)
    by_path = await intake(slug, files=[str(example)], as_of=INTAKE_AT, actor="admin:test")
    from_path = _stored_applications()

    slug = _fresh_competition(tmp_path / "by-upload", monkeypatch)
    by_upload = await intake(slug, uploads=[upload_from(example)], as_of=INTAKE_AT, actor="admin:test")
    from_upload = _stored_applications()

    assert len(from_path) == 24 and from_upload == from_path
    assert by_upload["receipts"] == by_path["receipts"] == 24
    assert [row["ref"] for row in by_upload["files"][0]["accepted"]] == [
        row["ref"] for row in by_path["files"][0]["accepted"]
    ]


async def test_the_result_of_a_run_can_be_read_back_from_the_api(prefect_harness, settings_env: Path):
    """What ``grantflow intake import --deployment`` relies on: the flow persists its result, so a
    process that has only the flow run (from the API) reads the same summary."""
    from prefect.client.orchestration import get_client

    from flows.intake import intake

    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        slug = competition.slug
    upload = upload_from(EXAMPLE_DIR / "broken.xlsx")
    state = await intake(slug, uploads=[upload], as_of=INTAKE_AT, actor="admin:test", return_state=True)
    returned = await state.aresult()
    async with get_client() as client:
        flow_run = await client.read_flow_run(state.state_details.flow_run_id)
    assert flow_run.state is not None and flow_run.state.is_completed()
    read_back = await flow_run.state.aresult(retry_result_failure=False)
    assert read_back == returned
    (report,) = read_back["files"]
    assert report["file"] == "broken.xlsx" and len(report["refused"]) == 20
    fields = {problem["field"] for row in report["refused"] for problem in row["problems"]}
    assert "申请金额（元）" in fields
