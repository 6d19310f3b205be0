"""The console's tests' world: the example's year run through the real stages
(``tests.support.year``: setup, call, intake of the example files, screening, review, funding,
supervision up to the submitted 结项 reports), its documents in a data folder beside it, and three
users added as ``grantflow admin add`` adds them — 管理员 lin, 财务 cai, 只读 du.

Each test gets a private copy of the database file (the documents are only read)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from models.accounts.roles import Role
from models.accounts.users import add_user
from models.competition.tables import competition_config, get_competition
from models.db import dispose_engines, get_engine
from models.errors import Problem
from models.settings import Settings
from models.steps.runs import ConsoleRun
from models.supervision.evidence import Upload, check_upload, store_evidence
from models.supervision.tables import Checkpoint
from models.tables import TABLES
from portal.app import create_app
from tests.support.evidence_files import png_sign_in_sheet

PASSWORDS = {"lin": "lin-correct-horse-1", "cai": "cai-correct-horse-2", "du": "du-correct-horse-3"}
ROLES = {"lin": Role.admin, "cai": Role.finance, "du": Role.reader}
SLUG = "jiangtou-2025"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleWorld:
    settings: Settings
    engine: Engine
    app: FastAPI

    def client(self) -> TestClient:
        """A browser (on https when the portal's address is: a Secure cookie is not sent over http)."""
        scheme = "https" if self.settings.portal_url.startswith("https://") else "http"
        return TestClient(self.app, base_url=f"{scheme}://testserver", follow_redirects=False)

    def signed_in(self, name: str) -> TestClient:
        """A browser signed in as ``name`` through the sign-in form."""
        client = self.client()
        answer = sign_in(client, name, PASSWORDS[name])
        assert answer.status_code == 303, answer.text
        return client

    def counts(self) -> dict[str, int]:
        """Rows per table: what a refused post must leave as it was."""
        with Session(self.engine) as session:
            return {
                table.__tablename__: session.exec(select(func.count()).select_from(table)).one()  # type: ignore[attr-defined]
                for table in TABLES
            }


def run_ended(engine: Engine, run_id: int, timeout: float = 600) -> ConsoleRun:
    """The console run ``run_id`` once it ended (its thread finished); a slow machine only waits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            run = session.get(ConsoleRun, run_id)
            assert run is not None
            if not run.active:
                return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not end")


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str, next_path: str = "/admin"):
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"csrf_token": csrf_of(form.text), "name": name, "password": password, "next": next_path},
    )


def _sign_in_sheet(session: Session, settings: Settings) -> None:
    """A grantee's 签到表 on the first mid-term checkpoint, checked and stored as the portal's
    report form stores an upload (``check_upload``, ``store_evidence``)."""
    competition = get_competition(session, slug=SLUG)
    checkpoint = session.exec(
        select(Checkpoint).where(Checkpoint.code == "midterm").order_by(col(Checkpoint.id))
    ).first()
    assert checkpoint is not None and checkpoint.id is not None
    clean = check_upload(
        Upload("签到表.png", png_sign_in_sheet(), kind="sign_in"),
        competition_config(competition).supervision.uploads,
    )
    assert not isinstance(clean, Problem), clean
    store_evidence(
        session,
        checkpoint_id=checkpoint.id,
        owner="grantee",
        files=[clean],
        uploads_dir=settings.uploads_dir,
        folder=competition.slug,
        actor="grantee",
        written=[],
    )


def build_world(template: Path, folder: Path, **settings: object) -> ConsoleWorld:
    copy = folder / "grantflow.db"
    shutil.copy(template, copy)
    configured = Settings(
        data_dir=template.parent / "data", database_url=f"sqlite:///{copy}", environment="test", **settings
    )
    engine = get_engine(configured.effective_database_url)
    with Session(engine) as session:
        for name, password in PASSWORDS.items():
            add_user(session, name=name, role=ROLES[name], password=password, actor="admin:cli")
        _sign_in_sheet(session, configured)
        session.commit()
    return ConsoleWorld(settings=configured, engine=engine, app=create_app(configured))


@pytest.fixture
def console(year_template: Path, tmp_path: Path, settings_env: Path) -> Iterator[ConsoleWorld]:
    yield build_world(year_template, tmp_path)
    dispose_engines()
