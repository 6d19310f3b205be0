"""决定: the tie, an amount, an objection and signing dates from the console — chosen from lists,
each the CLI's model function or flow, audited as the console's user.

The funding's world is ``tests.support.funding_data`` (the review closed by production code, a tie
at the cut when the registered pool is 28,000); the signings' is ``tests.support.grants`` (three
agreements signed, the others awarded and waiting)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.accounts.users import add_user
from models.audit import AuditEvent
from models.db import dispose_engines, get_engine, upgrade_database
from models.funding.decision import approve_decision, draft_decision, funding_report
from models.funding.publicity import publish_notice
from models.funding.tables import Grant, Objection
from models.intake.tables import Application
from models.settings import get_settings
from models.states import ObjectionState, RunState
from models.steps.runs import ConsoleRun
from portal.app import create_app
from tests.portal.admin.console_world import PASSWORDS, ROLES, csrf_of, run_ended, sign_in
from tests.support.funding_data import APPROVED_AT, scored_competition
from tests.support.grants import FundedWorld, funded, funded_template  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
RETURNED = {"unspent: other_pool": "unspent: returned"}


@dataclass
class Desk:
    engine: Engine
    slug: str
    app: object

    def signed_in(self, name: str) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver", follow_redirects=False)  # type: ignore[arg-type]
        assert sign_in(client, name, PASSWORDS[name]).status_code == 303
        return client


def users(engine: Engine) -> None:
    with Session(engine) as session:
        for name, password in PASSWORDS.items():
            add_user(session, name=name, role=ROLES[name], password=password, actor="admin:cli")
        session.commit()


@pytest.fixture
def tied(settings_env: Path) -> Iterator[Desk]:
    engine = get_engine(get_settings().effective_database_url)
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        competition, _ = scored_competition(session, **{"amount: 36000": "amount: 28000"}, **RETURNED)
        draft_decision(session, competition_id=competition.id or 0, actor="admin")
        session.commit()
        slug = competition.slug
    users(engine)
    # the portal's clock inside the notice's window (the objections are taken while it runs)
    yield Desk(engine, slug, create_app(get_settings(), clock=lambda: APPROVED_AT + timedelta(days=1)))
    dispose_engines()


def post(client: TestClient, page: str, action: str, data: dict[str, str]) -> object:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})


def test_a_tie_is_put_in_order_from_the_page(tied: Desk) -> None:
    client = tied.signed_in("lin")
    page = f"/admin/c/{tied.slug}/decisions"
    shown = client.get(page).text
    assert 'id="tie-1"' in shown and "JT2025-003" in shown
    answer = post(
        client,
        page,
        f"/admin/c/{tied.slug}/decisions/tie",
        {"order_01": "JT2025-004", "order_02": "JT2025-003", "reason": "004 服务社区此前无项目"},
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    with Session(tied.engine) as session:
        competition_id = session.exec(select(Application.competition_id)).first()
        report = {
            r["ref"]: r for r in funding_report(session, competition_id=competition_id or 0)["applications"]
        }
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "funding_tie_decided")).one()
    assert (report["JT2025-004"]["amount_fen"], report["JT2025-003"]["amount_fen"]) == (800_000, 0)
    assert event.actor == "admin:lin"
    assert 'id="tie-1"' not in client.get(page).text


def test_a_tie_without_a_reason_is_one_sentence_and_changes_nothing(tied: Desk) -> None:
    client = tied.signed_in("lin")
    page = f"/admin/c/{tied.slug}/decisions"
    answer = post(
        client,
        page,
        f"/admin/c/{tied.slug}/decisions/tie",
        {"order_01": "JT2025-004", "order_02": "JT2025-003"},
    )
    assert answer.status_code == 409  # type: ignore[attr-defined]
    assert "须写明理由" in answer.text and "Traceback" not in answer.text  # type: ignore[attr-defined]
    with Session(tied.engine) as session:
        assert (
            session.exec(select(AuditEvent).where(AuditEvent.action == "funding_tie_decided")).first() is None
        )


def test_an_objection_is_recorded_and_resolved_by_choosing_it(tied: Desk) -> None:
    with Session(tied.engine) as session:
        competition_id = session.exec(select(Application.competition_id)).first() or 0
        from models.funding.decision import decide_tie

        decide_tie(
            session,
            competition_id=competition_id,
            refs=["JT2025-004", "JT2025-003"],
            reason="先定",
            actor="admin",
        )
        assert approve_decision(session, competition_id=competition_id, actor="admin")
        publish_notice(
            session,
            competition_id=competition_id,
            now=APPROVED_AT,
            actor="admin",
            documents_dir=get_settings().documents_dir,
        )
        session.commit()
    client = tied.signed_in("lin")
    page = f"/admin/c/{tied.slug}/decisions"
    assert 'id="objection-add"' in client.get(page).text
    added = post(
        client,
        page,
        f"/admin/c/{tied.slug}/decisions/objections",
        {"ref": "JT2025-001", "by": "张伟（实名）", "text": "该组织去年项目未结项。"},
    )
    assert added.status_code == 303, added.text  # type: ignore[attr-defined]
    with Session(tied.engine) as session:
        objection = session.exec(select(Objection)).one()
    shown = client.get(page).text
    assert (
        f'action="/admin/c/{tied.slug}/decisions/objections/{objection.id}"' in shown
    )  # a button, not a number
    resolved = post(
        client,
        page,
        f"/admin/c/{tied.slug}/decisions/objections/{objection.id}",
        {"finding": "dismissed", "reason": "经核实，去年项目已按期结项。"},
    )
    assert resolved.status_code == 303  # type: ignore[attr-defined]
    with Session(tied.engine) as session:
        objection = session.exec(select(Objection)).one()
        actors = {e.actor for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "objection"))}
    assert objection.state is ObjectionState.dismissed
    assert actors == {"admin:lin"}


def test_finance_records_a_signing_date_and_the_sign_flow_runs(
    funded: FundedWorld,  # noqa: F811
    prefect_harness: None,
) -> None:
    users(funded.engine)
    desk = Desk(funded.engine, funded.slug, create_app(get_settings()))
    with Session(funded.engine) as session:
        waiting = session.exec(
            select(Grant, Application)
            .join(Application, col(Application.id) == col(Grant.application_id))
            .where(col(Grant.signed_on).is_(None), Grant.state == "awarded")
        ).first()
    assert waiting is not None
    grant, application = waiting
    client = desk.signed_in("cai")
    page = f"/admin/c/{desk.slug}/decisions"
    assert f'name="sign_{application.ref}"' in client.get(page).text
    day = grant.sign_by.isoformat() if grant.sign_by else "2025-04-20"
    answer = post(client, page, f"/admin/c/{desk.slug}/decisions/signings", {f"sign_{application.ref}": day})
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    with Session(funded.engine) as session:
        started = session.exec(select(ConsoleRun)).one()
    run = run_ended(funded.engine, started.id or 0)
    assert run.state is RunState.done, run.message
    assert run.actor == "admin:cai"
    with Session(funded.engine) as session:
        signed = session.get(Grant, grant.id)
    assert signed is not None and signed.signed_on is not None


def test_signing_dates_come_from_an_uploaded_sheet_too(
    funded: FundedWorld,  # noqa: F811
    prefect_harness: None,
) -> None:
    users(funded.engine)
    desk = Desk(funded.engine, funded.slug, create_app(get_settings()))
    with Session(funded.engine) as session:
        waiting = session.exec(
            select(Application.ref, Grant.sign_by)
            .join(Grant, col(Application.id) == col(Grant.application_id))
            .where(col(Grant.signed_on).is_(None), Grant.state == "awarded")
        ).all()
    assert len(waiting) >= 2
    book = openpyxl.Workbook()
    book.active.append(["申报编号", "签订日期"])
    for ref, sign_by in waiting[:2]:
        book.active.append([ref, sign_by])
    upload = BytesIO()
    book.save(upload)
    client = desk.signed_in("lin")
    page = client.get(f"/admin/c/{desk.slug}/decisions")
    answer = client.post(
        f"/admin/c/{desk.slug}/decisions/signings",
        data={"csrf_token": csrf_of(page.text)},
        files={"signings": ("签订日期.xlsx", upload.getvalue(), "application/octet-stream")},
    )
    assert answer.status_code == 303, answer.text
    with Session(funded.engine) as session:
        started = session.exec(select(ConsoleRun)).one()
    run = run_ended(funded.engine, started.id or 0)
    assert run.state is RunState.done, run.message
    with Session(funded.engine) as session:
        signed = session.exec(
            select(Application.ref)
            .join(Grant, col(Application.id) == col(Grant.application_id))
            .where(col(Grant.signed_on).is_not(None))
        ).all()
    assert {ref for ref, _ in waiting[:2]} <= set(signed)
