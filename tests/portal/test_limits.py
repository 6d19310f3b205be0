"""The portal's doors against oversized requests: a body over the configured limit is refused before
it is read (a real uvicorn server answers while the body is still unsent), a chunked body when it
passes the limit, a form with too many or too long fields or a file, on the review sheet and on the
applicants' web form — each with the bilingual page, nothing stored."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import select

from models.db import session_scope
from models.intake.tables import Application
from models.review.tables import Score
from models.settings import reset_settings
from models.states import AssignmentState
from portal.app import create_app
from portal.serving import serve_in_background
from tests.portal.apply_world import GOOD, OPEN_AT, PATH, ApplyWorld, build_apply_world, csrf_of
from tests.portal.conftest import ReviewWorld
from tests.portal.test_review_routes import GOOD as POINTS
from tests.portal.test_review_routes import form

TWENTY_MB = 20 * 1024 * 1024


@pytest.fixture
def apply_world(settings_env: Path) -> ApplyWorld:
    return build_apply_world()


@pytest.fixture
def apply_client(apply_world: ApplyWorld) -> Iterator[TestClient]:
    with TestClient(
        create_app(apply_world.settings, clock=lambda: OPEN_AT), follow_redirects=False
    ) as client:
        yield client


def _is_refusal_page(answer: Response, kind: str, *, lang: str = "zh-CN") -> None:
    assert answer.headers["content-type"].startswith("text/html"), answer.text[:200]
    assert f'data-kind="{kind}"' in answer.text and f'<html lang="{lang}">' in answer.text
    assert "detail" not in answer.text and "Traceback" not in answer.text


def _raw_request(base: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[bytes, float]:
    """Send the request line and headers (and ``body``) but not the body they announce; the answer
    and how long it took."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode() + body)
        answer = b""
        while b"</html>" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


def test_review_body_over_the_limit_is_refused_before_it_is_read(world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    with serve_in_background(create_app(world.settings)) as base:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(TWENTY_MB),
            "Cookie": "gf_lang=en",
        }
        answer, took = _raw_request(base, path, headers, b"action=submit&")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    text = answer.decode("utf-8")
    assert 'data-kind="too_large"' in text and "Too much was sent" in text and took < 5
    assert world.sheet(world.sheets[0].id or 0).state is AssignmentState.invited


def test_apply_body_over_the_limit_is_refused_with_the_page(
    apply_world: ApplyWorld, apply_client: TestClient
) -> None:
    page = apply_client.get(PATH)
    data = {**GOOD, "csrf_token": csrf_of(page), "summary": "长" * (TWENTY_MB // 9)}
    answer = apply_client.post(PATH, data=data)
    assert answer.status_code == 413
    _is_refusal_page(answer, "too_large")
    assert "提交的内容过大" in answer.text and "微公益创投 · 网上申报" in answer.text
    assert apply_world.count(Application) == 0


def test_apply_chunked_body_over_the_limit_is_refused_as_it_streams(
    apply_world: ApplyWorld, apply_client: TestClient
) -> None:
    page = apply_client.get(PATH)

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={csrf_of(page)}&action=submit&summary=".encode()
        for _ in range(64):  # 64 × 64 KiB: four times the limit, never announced
            yield b"x" * 65536

    answer = apply_client.post(
        PATH, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 413
    _is_refusal_page(answer, "too_large")
    assert apply_world.count(Application) == 0


def test_apply_with_5000_fields_is_refused_with_the_page(
    apply_world: ApplyWorld, apply_client: TestClient
) -> None:
    page = apply_client.get(PATH + "?lang=en")
    data = {**GOOD, "csrf_token": csrf_of(page), **{f"budget-{i}-item": "x" for i in range(5000)}}
    answer = apply_client.post(PATH, data=data)
    assert answer.status_code == 413
    _is_refusal_page(answer, "form_refused", lang="en")
    assert "too many fields" in answer.text and apply_world.count(Application) == 0


def test_review_with_5000_fields_is_refused_with_the_page(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    data = {**form(client.get(path), POINTS), **{f"points.x{i}": "1" for i in range(5000)}}
    answer = client.post(path, data=data)
    assert answer.status_code == 413
    _is_refusal_page(answer, "form_refused")
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited


def test_review_field_too_long_or_a_file_is_refused_with_the_page(
    client: TestClient, world: ReviewWorld
) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    data = form(client.get(path), POINTS)
    long_comment = client.post(path, data=data, files={"comment": (None, "评" * 60_000)})
    with_file = client.post(path, data=data, files={"upload": ("a.txt", b"hello", "text/plain")})
    for answer in (long_comment, with_file):
        assert answer.status_code == 413
        _is_refusal_page(answer, "form_refused")
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited
    with session_scope(world.engine) as session:
        assert session.exec(select(Score)).all() == []


def test_body_limit_is_a_setting(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTFLOW_PORTAL_MAX_BODY_BYTES", "5000")
    reset_settings()
    apply_world = build_apply_world()
    assert apply_world.settings.portal_max_body_bytes == 5000
    with TestClient(
        create_app(apply_world.settings, clock=lambda: OPEN_AT), follow_redirects=False
    ) as client:
        page = client.get(PATH)
        answer = client.post(PATH, data={**GOOD, "csrf_token": csrf_of(page), "summary": "长" * 2000})
    assert answer.status_code == 413 and apply_world.count(Application) == 0


def test_other_http_refusals_are_pages_not_json(client: TestClient, world: ReviewWorld) -> None:
    answer = client.delete(world.path(world.sheets[0]))
    assert answer.status_code == 405
    _is_refusal_page(answer, "not_allowed")


def test_a_body_that_stops_arriving_is_refused_with_the_page_and_saves_nothing(
    apply_world: ApplyWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow-body attack: the headers announce 2,000 bytes, 14 arrive, then nothing; the portal stops
    waiting after ``portal_body_seconds`` (here 1) and answers 408 with the page, nothing stored."""
    monkeypatch.setenv("GRANTFLOW_PORTAL_BODY_SECONDS", "1")
    reset_settings()
    from models.settings import get_settings

    with serve_in_background(create_app(get_settings(), clock=lambda: OPEN_AT)) as base:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "2000"}
        answer, _ = _raw_request(base, PATH, headers, b"action=submit&")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 'data-kind="too_slow"' in answer.decode("utf-8")
    assert apply_world.count(Application) == 0
