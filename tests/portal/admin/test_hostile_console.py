"""The console's doors against the hostile corpus (issue 22, section 6): the sign-in form's fields, the
application list's filters and sort, every id in a URL, and the screening override's fields — each a
page, never a 500; a refused post writes nothing; a value shown back is escaped."""

from __future__ import annotations

import random

import pytest
from httpx import Response

from tests.portal.admin.console_world import SLUG, ConsoleWorld, csrf_of
from tests.portal.admin.test_every_route import admin_routes, ids, url
from tests.portal.test_hostile_web import VALUES

pytestmark = pytest.mark.slow
SEED = 22
FILTERS = [
    "standing",
    "pool",
    "category",
    "community",
    "organisation",
    "q",
    "sort",
    "dir",
    "page",
    "per_page",
]
SHORT = [v for v in VALUES if len(v) < 2000]  # a URL of 100,000 characters no client sends
IDS = ["0", "-1", "99999999999999999999", "1e3", "abc", "%00", "1;DROP", "..%2f1"]


def _is_a_page(answer: Response, what: object) -> None:
    assert answer.status_code < 500, (what, answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text, what


def test_hostile_sign_in_fields_are_a_page_and_open_no_session(console: ConsoleWorld) -> None:
    client = console.client()
    before = console.counts()
    tried = 0
    for field in ("name", "password", "next", "csrf_token"):
        for value in VALUES:
            form = client.get("/admin/login")
            data = {"csrf_token": csrf_of(form.text), "name": "lin", "password": "wrong", "next": "/admin"}
            data[field] = value
            answer = client.post("/admin/login", data=data)
            _is_a_page(answer, (field, value[:20]))
            assert answer.status_code != 303 or field == "next", (field, value[:20])
            if "<" in value:
                assert value not in answer.text
            tried += 1
    assert tried == 4 * len(VALUES)
    after = console.counts()
    assert {k: v for k, v in after.items() if k not in ("login_attempt", "audit_event")} == {
        k: v for k, v in before.items() if k not in ("login_attempt", "audit_event")
    }


def test_hostile_filters_on_the_application_list_are_a_page(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    rng = random.Random(SEED)
    for name in FILTERS:
        for value in rng.sample(SHORT, 6):
            answer = client.get(f"/admin/c/{SLUG}/applications", params={name: value})
            _is_a_page(answer, (name, value[:20]))
            if "<" in value:
                assert value not in answer.text
        answer = client.get(f"/admin/c/{SLUG}/applications.xlsx", params={name: rng.choice(SHORT)})
        _is_a_page(answer, name)


def test_a_hostile_id_in_every_console_url_is_a_page(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    token = csrf_of(client.get(f"/admin/c/{SLUG}").text)
    names = ids(console)  # (records a finished run when the year has none: before the counts)
    before = console.counts()
    for method, path in admin_routes(console):
        if "{" not in path.replace("{slug}", ""):
            continue
        for bad in IDS:
            target = url(path, {name: bad for name in names})  # type: ignore[misc]
            answer = client.request(method, target, data={"csrf_token": token})
            _is_a_page(answer, (method, target))
            assert answer.status_code in (303, 400, 403, 404, 405, 422), (target, answer.status_code)
    for slug in ("nope", "<script>", "x" * 3000, "..%2f"):
        _is_a_page(client.get(f"/admin/c/{slug}/applications"), slug)
    assert console.counts() == before


def test_hostile_screening_override_fields_are_refused_at_their_field(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    application_id = ids(console)["application_id"]
    path = f"/admin/c/{SLUG}/applications/{application_id}/screening"
    rng = random.Random(SEED)
    before = console.counts()
    for field in ("rule", "passed", "reason"):
        for value in rng.sample(VALUES, 6):
            page = client.get(f"/admin/c/{SLUG}/applications/{application_id}")
            data = {"csrf_token": csrf_of(page.text), "rule": "barred", "passed": "x", "reason": ""}
            data[field] = value
            answer = client.post(path, data=data)
            _is_a_page(answer, (field, value[:20]))
            if "<" in value:
                assert value not in answer.text
    assert console.counts() == before  # the application is past screening or the form is wrong: nothing
