"""The portal while the database is busy: an expert saves a sheet while a stage's transaction holds
SQLite's write lock past the busy timeout (two threads, one WAL database). The answer is a 503 page
in the reader's language — never a 500 — and nothing of the post is saved; once the stage has
committed, the same post is saved."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import dispose_engines, get_engine, lock_competition, session_scope
from models.settings import reset_settings
from portal.app import create_app
from tests.portal.review_world import ReviewWorld
from tests.portal.test_review_routes import GOOD, form, scores_of


@pytest.fixture
def short_busy_timeout(world: ReviewWorld, monkeypatch: pytest.MonkeyPatch) -> ReviewWorld:
    monkeypatch.setenv("GRANTFLOW_DATABASE_BUSY_TIMEOUT_SECONDS", "0.3")
    reset_settings()
    dispose_engines()
    world.engine = get_engine(str(world.engine.url))
    return world


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_sheet_saved_while_a_stage_holds_the_lock_is_a_503_page_and_saves_nothing(
    short_busy_timeout: ReviewWorld, language: str, tmp_path: Path
) -> None:
    world = short_busy_timeout
    client = TestClient(create_app(world.settings), follow_redirects=False, raise_server_exceptions=False)
    sheet = world.sheets[0]
    path = world.path(sheet) + ("?lang=en" if language == "en" else "")
    page = client.get(path)
    holding, release = threading.Event(), threading.Event()

    def stage_transaction() -> None:  # a stage task's first statement, then its work
        with session_scope(world.engine) as session:
            lock_competition(session, world.competition_id)
            holding.set()
            release.wait(timeout=60)

    stage = threading.Thread(target=stage_transaction)
    stage.start()
    try:
        assert holding.wait(timeout=30)
        busy = client.post(path, data=form(page, GOOD))
    finally:
        release.set()
        stage.join(timeout=60)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
    assert busy.template.name == "refused.html" and busy.context["kind"] == "busy"  # type: ignore[attr-defined]
    words = "nothing of this submission was saved" if language == "en" else "这次提交未保存任何内容"
    assert words in busy.text and "Internal Server Error" not in busy.text
    assert scores_of(world, sheet.id or 0) == {}

    saved = client.post(path, data=form(client.get(path), GOOD))  # the stage has committed
    assert saved.status_code == 303
    assert len(scores_of(world, sheet.id or 0)) == len(GOOD)


@pytest.mark.postgres
def test_a_page_while_postgresql_is_down_is_the_503_page_which_needs_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.db import upgrade_database
    from models.settings import get_settings
    from tests.support.postgres import PostgresServer

    server = PostgresServer.start()  # its own: this test stops it
    try:
        url = server.create_database()
        upgrade_database(get_engine(url))
        monkeypatch.setenv("GRANTFLOW_DATABASE_URL", url)
        monkeypatch.setenv("GRANTFLOW_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.delenv("GRANTFLOW_PORTAL_CONTACT", raising=False)
        reset_settings()
        client = TestClient(create_app(get_settings()), follow_redirects=False, raise_server_exceptions=False)
        server.control("stop")
        page = client.get("/apply/jiangtou-2025")
        # the 503 page used to read the station's contact from the database: a 500 instead
        assert page.status_code == 503 and page.headers["retry-after"] == "30", page.text[:300]
        assert page.context["kind"] == "busy" and "refused-contact" not in page.text  # type: ignore[attr-defined]
    finally:
        dispose_engines()
        reset_settings()
        server.stop()
