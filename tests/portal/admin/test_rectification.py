"""整改与终止 from the console, on the funded example as the demo supervises it: the supervisors and
grantees fill their forms over HTTP (the demo's own people), the console settles the mid-term and
the re-checks with its button (the checkpoint follow-up flow, as ``grantflow supervision
follow-up``), and terminates the project whose re-check failed — after a page showing the money
``terminate_grant`` then stores, the letter and to whom."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cli.demo.run import EXAMPLE, DemoRun
from cli.demo.supervision import MIDTERM_AT, RECHECK_AT, TERMINATE_AT, fill_from_year, step_supervision_open
from models.accounts.users import add_user
from models.audit import AuditEvent
from models.funding.tables import Grant
from models.mail.outbox import OutboxLetter
from models.money import format_yuan
from models.states import GrantState, RectificationState, RunState
from models.supervision.tables import GrantTermination, Rectification
from portal.app import create_app
from tests.portal.admin.console_world import PASSWORDS, ROLES, csrf_of, run_ended, sign_in
from tests.support.grants import FundedWorld, funded, funded_template  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.flows]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    world: FundedWorld
    clock: Clock
    clients: dict[str, TestClient]

    @property
    def base(self) -> str:
        return f"/admin/c/{self.world.slug}/rectification"


@pytest.fixture
def desk(prefect_harness: None, funded: FundedWorld) -> Iterator[Desk]:  # noqa: F811
    with Session(funded.engine) as session:
        for name in ("lin", "du", "cai"):
            add_user(session, name=name, role=ROLES[name], password=PASSWORDS[name], actor="admin:cli")
        session.commit()
    clock = Clock(MIDTERM_AT)
    app = create_app(funded.settings, clock=clock)
    clients = {}
    for name in ("lin", "du", "cai"):
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        assert sign_in(client, name, PASSWORDS[name]).status_code == 303
        clients[name] = client
    yield Desk(funded, clock, clients)


def settle(desk: Desk) -> str:
    """The console's 判定检查点结果: its confirmation page, then its button; the run's page."""
    lin = desk.clients["lin"]
    page = lin.get(f"{desk.base}/outcomes")
    assert page.status_code == 200 and 'id="run-button"' in page.text, page.text
    answer = lin.post(f"{desk.base}/outcomes", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    run_id = int(answer.headers["location"].partition("?")[0].rsplit("/", 1)[1])
    run = run_ended(desk.world.engine, run_id)
    assert run.state is RunState.done and run.actor == "admin:lin", run.message
    return page.text


def test_rectification_outcomes_and_termination_from_the_console(desk: Desk) -> None:
    world, lin = desk.world, desk.clients["lin"]
    demo = DemoRun(out=world.data, example=EXAMPLE, competition_id=world.competition_id, slug=world.slug)
    step_supervision_open(demo)
    fill_from_year(demo, recheck=False, at=MIDTERM_AT)

    overview = lin.get(desk.base)
    assert 'id="outcomes-link"' in overview.text and 'id="terminable-none"' in overview.text
    confirm = settle(desk)
    assert confirm.count('class="settling"') == 3  # each submitted mid-term with its verdict
    assert confirm.count('data-passed="no"') == 2 and "整改通知" in confirm

    desk.clock.now = RECHECK_AT
    fill_from_year(demo, recheck=True, at=RECHECK_AT)
    confirm = settle(desk)
    assert confirm.count('class="settling"') == 2 and "整改复查" in confirm

    desk.clock.now = TERMINATE_AT
    overview = lin.get(desk.base).text
    assert overview.count('data-state="failed"') == 1 and overview.count('data-state="passed"') == 1
    grant_id = int(re.search(r'id="terminate-(\d+)"', overview).group(1))  # type: ignore[union-attr]
    page = lin.get(f"{desk.base}/terminate/{grant_id}")
    assert page.status_code == 200
    shown = {
        key: re.search(rf'id="money-{key}">(?:<strong>)?([\d,.]+) 元', page.text).group(1)
        for key in ("released", "spend", "clawback", "cancelled")
    }  # type: ignore[union-attr]
    assert "终止通知" in page.text and "@" in page.text.partition('id="will"')[2]  # the letter, to whom

    # 只读 and 财务 are refused (403) and nothing is written; a post without its token too
    before = _terminations(world)
    for name in ("du", "cai"):
        token = csrf_of(desk.clients[name].get(desk.base).text)
        refused = desk.clients[name].post(
            f"{desk.base}/terminate/{grant_id}", data={"csrf_token": token, "reason": "x"}
        )
        assert refused.status_code == 403
    assert lin.post(f"{desk.base}/terminate/{grant_id}", data={"reason": "x"}).status_code == 403
    empty = lin.post(
        f"{desk.base}/terminate/{grant_id}", data={"csrf_token": csrf_of(page.text), "reason": " "}
    )
    assert empty.status_code == 409 and "请写明终止理由" in empty.text
    assert _terminations(world) == before == []

    reason = "整改复查仍不合格，项目无法继续实施"
    done = lin.post(
        f"{desk.base}/terminate/{grant_id}", data={"csrf_token": csrf_of(page.text), "reason": reason}
    )
    assert done.status_code == 303 and "done=terminated" in done.headers["location"]
    again = lin.post(
        f"{desk.base}/terminate/{grant_id}", data={"csrf_token": csrf_of(page.text), "reason": reason}
    )
    assert again.status_code == 409  # terminated already: one sentence, nothing twice
    (termination,) = _terminations(world)
    assert termination.reason == reason and termination.actor == "admin:lin"
    assert shown == {  # what the page showed is what was stored
        "released": format_yuan(termination.released_fen),
        "spend": format_yuan(termination.accepted_spend_fen),
        "clawback": format_yuan(termination.clawback_fen),
        "cancelled": format_yuan(termination.cancelled_fen),
    }
    assert termination.clawback_fen == max(0, termination.released_fen - termination.accepted_spend_fen)
    with Session(world.engine) as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.state is GrantState.terminated
        letters = session.exec(select(OutboxLetter).where(OutboxLetter.role == "termination")).all()
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "grant", AuditEvent.action == "terminated")
        ).one()
        states = sorted(r.state for r in session.exec(select(Rectification)))
    assert len(letters) == 1 and audit.actor == "admin:lin"
    assert states == sorted([RectificationState.passed, RectificationState.failed])
    listed = lin.get(f"{desk.base}?done=terminated").text
    assert listed.count('class="termination"') == 1 and 'id="terminable-none"' in listed
    assert f'data-clawback="{termination.clawback_fen}"' in listed


def _terminations(world: FundedWorld) -> list[GrantTermination]:
    with Session(world.engine) as session:
        return list(session.exec(select(GrantTermination)))
