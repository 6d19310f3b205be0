"""The portal's web doors against the hostile corpus (issue 22, section 6): every field of the
applicants' form given a hostile value on its own, query strings and headers on every page, garbage
bodies, and hostile tokens in every tokenised path. Each answer is a page (never a 500, never a
traceback); a refused post stores nothing; a stored value is shown back literally (escaped)."""

from __future__ import annotations

import html
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from models.audit import AuditEvent
from models.intake.tables import Application
from portal.app import create_app
from tests.portal.apply_world import GOOD, OPEN_AT, PATH, ApplyWorld, build_apply_world, csrf_of

SEED = 22
VALUES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}{% raw %}",
    "'; DROP TABLE application; --",
    "a\r\nBcc: victim@example.org",
    "\x00\x01\x7f",
    "\u202e\u200b\u2028",
    "\ufffd\ufeff",
    "长" * 100_000,
    "😀" * 500,
    "",
    " ",
    "-1",
    "1e309",
    "9" * 400,
    "javascript:alert(1)",
    "../../../etc/passwd",
    "%00%0d%0a",
]
TOKENISED = [
    "/expert/{}",
    "/review/{}",
    "/final-review/{}",
    "/supervise/{}",
    "/report/{}",
    "/apply/jiangtou-2025/done/{}",
]
TOKENS = ["", "x", "." * 300, "a" * 5000, "%00", "..%2f..%2fetc%2fpasswd", "<script>", "eyJ0eXAi.e30.", "😀"]
QUERIES = [
    "lang=<script>",
    "lang=" + "x" * 5000,
    "lang=%ff%fe",
    "next=//evil.example",
    "a=1&a=2&" * 300,
    "%zz=%zz",
]
BODIES = [b"%ff%fe=%ff", b"\xff\xfe\x00garbage", b"a" * 10 + b"&" * 5000, b"=&=&=", b""]
HEADERS: list[dict[str, str]] = [
    {"Accept-Language": "*;q=NaN, zh-CN;q=1e309"},
    {"Accept-Language": "x" * 8000},
    {"Cookie": "gf_csrf=" + "A" * 4000 + "; gf_admin=\x7f"},
    {"Cookie": "=; ;;=="},
    {"User-Agent": "\u202e" + "<script>"},
    {"X-Forwarded-For": "127.0.0.1, <script>"},
    {"Referer": "javascript:alert(1)"},
    {"Range": "bytes=0-0,-1,99999999999999999999-"},
]


@pytest.fixture
def world(settings_env: Path) -> ApplyWorld:
    return build_apply_world()


@pytest.fixture
def client(world: ApplyWorld) -> Iterator[TestClient]:
    app = create_app(world.settings, clock=lambda: OPEN_AT)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


def _is_a_page(answer: Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text and "Internal Server Error" not in answer.text


def _field_cases() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    keys = [key for key in GOOD if key != "action"] + ["communities", "honeypot_extra", "csrf_token"]
    return {key: rng.sample(VALUES, 3) for key in keys}


FIELD_CASES = _field_cases()


@pytest.mark.parametrize("key", sorted(FIELD_CASES))
def test_a_hostile_value_in_one_field_is_a_page_stores_nothing_or_shows_it_literally(
    world: ApplyWorld, client: TestClient, key: str
) -> None:
    for n, value in enumerate(FIELD_CASES[key]):
        page = client.get(PATH)
        title = f"{GOOD['title']}{n}"  # not a duplicate of the one a value before stored
        data: dict[str, Any] = {**GOOD, "title": title, "csrf_token": csrf_of(page), key: value}
        before = (world.count(Application), world.count(AuditEvent))
        answer = client.post(PATH, data=data)
        _is_a_page(answer)
        if answer.status_code == 303:
            assert world.count(Application) == before[0] + 1
            done = client.get(answer.headers["location"])
            _is_a_page(done)
            stored = world.applications()[-1]
            assert "<script>alert" not in done.text and "<img src=x" not in done.text
            assert html.escape(stored.title, quote=False)[:200] in done.text
        else:
            assert answer.status_code in (400, 403, 413, 422), (value[:20], answer.status_code)
            assert (world.count(Application), world.count(AuditEvent)) == before, value[:20]
            if value and key != "csrf_token" and "<" in value:
                assert value not in answer.text  # a typed value is echoed escaped, never as markup


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]
)
def test_a_garbage_body_is_a_page_and_stores_nothing(
    world: ApplyWorld, client: TestClient, content_type: str
) -> None:
    for body in BODIES:
        answer = client.post(PATH, content=body, headers={"Content-Type": content_type})
        _is_a_page(answer)
    assert world.count(Application) == 0


@pytest.mark.parametrize("path", [PATH, "/admin/login", "/review/x", "/supervise/x"])
def test_a_hostile_query_string_is_a_page(client: TestClient, path: str) -> None:
    for query in QUERIES:
        _is_a_page(client.get(f"{path}?{query}"))


@pytest.mark.parametrize("path", [PATH, "/admin/login", "/review/x"])
def test_hostile_headers_are_a_page(client: TestClient, path: str) -> None:
    for headers in HEADERS:
        _is_a_page(client.get(path, headers={k: v.encode() for k, v in headers.items()}))  # bytes as sent


@pytest.mark.parametrize("template", TOKENISED)
def test_a_hostile_token_in_a_tokenised_path_is_a_page(client: TestClient, template: str) -> None:
    for token in TOKENS:
        _is_a_page(client.get(template.format(token)))
        if not template.startswith("/apply"):
            _is_a_page(client.post(template.format(token), data={"csrf_token": "x"}))
