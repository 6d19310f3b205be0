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
