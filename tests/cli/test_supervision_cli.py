"""``grantflow supervision status|reassign`` in a real process, and ``grants terminate`` as the
funding stage's ``grants`` app will register it, on the funded example."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.grants_terminate import terminate
from models.competition.tables import Competition
from models.states import GrantState
from models.supervision.outcomes import settle_submitted
from models.supervision.plan import grant_parts
from models.supervision.records import save_progress_report, save_record
from models.supervision.schedule import open_checkpoints
from models.supervision.tables import Checkpoint
from tests.cli.test_cli import run
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
from tests.support.supervision import VISIT_AT, open_supervision, progress_fields, record_fields

TZ = "Asia/Shanghai"


def _fail(session: Session, competition: Competition, checkpoint: Checkpoint, at) -> None:
    save_progress_report(
        session,
        checkpoint_id=checkpoint.id,
        fields=progress_fields(session, grant_id=checkpoint.grant_id),
        submit=True,
        actor="g",
        now=at,
    )
    save_record(
        session,
        checkpoint_id=checkpoint.id,
        fields=record_fields(
            session, competition, code="midterm", share=0.3, rectify="补齐台账 [red]x[/red]"
        ),
        submit=True,
        actor="s",
        now=at,
    )
    settle_submitted(session, competition_id=competition.id, actor="t", now=at, timezone=TZ)


@pytest.fixture
def failed_twice(funded):  # noqa: F811  (the imported fixture)
    """The third grant failed its mid-term and its re-check."""
    with Session(funded.engine, expire_on_commit=False) as session:
        open_supervision(session, competition_id=funded.competition_id, settings=funded.settings)
        competition = session.get(Competition, funded.competition_id)
        grant_id = funded.grant_ids[2]
        first = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == grant_id, Checkpoint.code == "midterm")
        ).one()
        _fail(session, competition, first, VISIT_AT)
        later = VISIT_AT + timedelta(days=10)
        open_checkpoints(session, competition_id=funded.competition_id, today=later.date(), actor="t")
        recheck = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == grant_id, Checkpoint.round == 2)
        ).one()
        _fail(session, competition, recheck, later)
        ref = grant_parts(session, grant_id)[1].ref
        session.commit()
    return funded, ref


@pytest.mark.slow
def test_status_json_and_reassign_errors(failed_twice):
    world, ref = failed_twice
    shown = run(["supervision", "status", "--json"], world.data)
    assert shown.returncode == 0, shown.stderr
    grants = {g["ref"]: g for g in json.loads(shown.stdout)["grants"]}
    running = [g for g in grants.values() if g["state"] in ("active", "rectifying")]
    assert len(running) == 3, "the three signed grants are supervised; the others wait for signing"
    assert all(g["state"] == "awarded" for g in grants.values() if g not in running)
    failing = grants[ref]
    assert failing["state"] == "rectifying"
    assert [(c["code"], c["round"], c["state"]) for c in failing["checkpoints"]][:2] == [
        ("midterm", 1, "failed"),
        ("midterm", 2, "failed"),
    ]
    assert failing["rectifications"][0]["state"] == "failed"
    assert [t["state"] for t in failing["tranches"]] == ["released", "withheld", "planned"]
    table = run(["supervision", "status"], world.data)
    assert table.returncode == 0 and ref in table.stdout
    wrong = run(["supervision", "reassign", ref, "nobody@example.org", "--reason", "x"], world.data)
    assert wrong.returncode == 1 and "no supervisor nobody@example.org" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_grants_terminate_command(failed_twice):
    world, ref = failed_twice
    grants = typer.Typer()
    grants.command("terminate")(terminate)
    grants.command("noop")(lambda: None)  # a group, as cli/grants.py will be
    result = CliRunner().invoke(grants, ["terminate", ref, "--reason", "整改复查仍不合格"])
    assert result.exit_code == 0, result.output
    assert "已终止 / terminated" in result.output and "应退回 claw back" in result.output
    with Session(world.engine) as session:
        from models.funding.grants import grant_by_ref

        assert (
            grant_by_ref(session, competition_id=world.competition_id, ref=ref).state is GrantState.terminated
        )
    refused = CliRunner().invoke(grants, ["terminate", world.slug, "--reason", "x"])
    assert refused.exit_code != 0  # not a grant's reference
