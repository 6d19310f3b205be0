"""The review sheet over HTTP (Starlette's TestClient): what each page shows, what each post does."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import col, select

from models.audit import AuditEvent
from models.db import session_scope
from models.links import sign_link
from models.mail.outbox import OutboxLetter
from models.review.links import review_token
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment, Score
from models.states import AssignmentState
from models.types import utcnow
from portal.app import create_app
from tests.portal.conftest import ReviewWorld, build_world

GOOD = {
    "need": "18",
    "design": "22.5",
    "capacity": "16",
    "budget": "12",
    "innovation": "8",
    "sustainability": "7.5",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page carries no CSRF field"
    return found.group(1)


def form(
    page: Response, points: dict[str, str], *, action: str = "submit", comment: str = "需求清楚，预算合理。"
) -> dict[str, str]:
    return {
        "csrf_token": csrf_of(page),
        "action": action,
        "comment": comment,
        **{f"points.{code}": value for code, value in points.items()},
    }


def post(client: TestClient, path: str, points: dict[str, str], **kwargs: str) -> Response:
    return client.post(path, data=form(client.get(path), points, **kwargs))


def scores_of(world: ReviewWorld, sheet_id: int) -> dict[int, Decimal]:
    with session_scope(world.engine) as session:
        return {
            s.criterion_id: s.points
            for s in session.exec(select(Score).where(Score.assignment_id == sheet_id))
        }


def test_sheet_get_shows_application_and_rubric(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    page = client.get(world.path(sheet))
    assert page.status_code == 200
    assert page.template.name == "review_sheet.html"  # type: ignore[attr-defined]
    view = page.context["sheet"]  # type: ignore[attr-defined]
    assert view.assignment_id == sheet.id and view.editable and view.state == "invited"
    assert [(c.code, c.max_points, c.step) for c in view.criteria] == [
        ("need", "20", "0.5"),
        ("design", "25", "0.5"),
        ("capacity", "20", "0.5"),
        ("budget", "15", "0.5"),
        ("innovation", "10", "0.5"),
        ("sustainability", "10", "0.5"),
    ]
    assert view.criteria[0].description.startswith("服务需求真实")
    assert view.application.organisation.startswith("测试社会服务中心") and not view.application.blind
    assert page.context["lang"] == "zh-CN"  # type: ignore[attr-defined]
    assert '<html lang="zh-CN">' in page.text and "专家评分表" in page.text and "提交评分" in page.text
    assert 'name="viewport"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "gf_csrf" in page.cookies


def test_sheet_blind_review_hides_the_applicant(settings_env: Path) -> None:
    world = build_world(blind=True)
    with TestClient(create_app(world.settings)) as client:
        page = client.get(world.path(world.sheets[0]))
    app = page.context["sheet"].application  # type: ignore[attr-defined]
    assert app.blind and app.organisation == "" and app.contact == ""
    assert "detail.team_members" not in [d.key for d in app.details]
    assert (
        "测试社会服务中心" not in page.text and "张晓燕" not in page.text and "13900000000" not in page.text
    )
    assert "匿名评审" in page.text


def test_sheet_lang_en_switches_and_is_remembered(client: TestClient, world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    english = client.get(path + "?lang=en")
    assert english.context["lang"] == "en" and '<html lang="en">' in english.text  # type: ignore[attr-defined]
    assert "Submit scores" in english.text and english.cookies["gf_lang"] == "en"
    again = client.get(path)
    assert again.context["lang"] == "en"  # type: ignore[attr-defined]
    back = client.get(path + "?lang=zh-CN")
    assert back.context["lang"] == "zh-CN" and "提交评分" in back.text  # type: ignore[attr-defined]


def test_post_wrong_points_shows_each_error_beside_its_field(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    wrong = {**GOOD, "need": "25", "design": "12.3", "capacity": "abc"}
    del wrong["budget"]
    page = post(client, world.path(sheet), wrong)
    assert page.status_code == 422
    view = page.context["sheet"]  # type: ignore[attr-defined]
    errors = {c.code: c.error for c in view.criteria}
    assert "0 到 20" in errors["need"] and "0.5" in errors["design"] and "数字" in errors["capacity"]
    assert "未评分" in errors["budget"] and errors["innovation"] == "" and errors["sustainability"] == ""
    assert {c.code: c.value for c in view.criteria}["need"] == "25"  # what was typed stays in the field
    assert 'id="error-need"' in page.text and 'aria-invalid="true"' in page.text
    assert scores_of(world, sheet.id or 0) == {}
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited


def test_post_wrong_points_in_english_explains_in_english(client: TestClient, world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    client.get(path + "?lang=en")
    page = post(client, path, {**GOOD, "need": "21"})
    errors = {c.code: c.error for c in page.context["sheet"].criteria}  # type: ignore[attr-defined]
    assert errors["need"] == "需求分析: must be between 0 and 20 (got 21)"


def test_post_submit_stores_scores_and_redirects_to_notice(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    answer = post(client, path, GOOD)
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?done=submitted"
    stored = world.sheet(sheet.id or 0)
    assert stored.state is AssignmentState.submitted and stored.comment == "需求清楚，预算合理。"
    assert sorted(scores_of(world, sheet.id or 0).values()) == sorted(Decimal(v) for v in GOOD.values())
    page = client.get(answer.headers["location"])
    assert page.context["notice"] == "notice.submitted"  # type: ignore[attr-defined]
    assert page.context["sheet"].total == "84"  # type: ignore[attr-defined]
    assert page.context["sheet"].editable  # still changeable until the deadline  # type: ignore[attr-defined]


def test_post_change_after_submit_is_audited(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    assert post(client, path, GOOD).status_code == 303
    assert post(client, path, {**GOOD, "need": "10"}, comment="再看一遍，需求论证不足。").status_code == 303
    with session_scope(world.engine) as session:
        changes = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "assignment",
                AuditEvent.entity_id == sheet.id,
                AuditEvent.action == "score",
            )
        ).all()
    assert len(changes) == 2
    assert changes[1].actor == f"expert:{sheet.expert_id}"
    assert changes[1].data["before"]["need"] == "18" and changes[1].data["after"]["need"] == "10"
    assert world.sheet(sheet.id or 0).state is AssignmentState.submitted


def test_post_draft_may_leave_criteria_empty(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    answer = post(client, world.path(sheet), {"need": "15"}, action="draft", comment="")
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=draft")
    assert world.sheet(sheet.id or 0).state is AssignmentState.draft
    page = client.get(world.path(sheet))
    assert {c.code: c.value for c in page.context["sheet"].criteria}["need"] == "15"  # type: ignore[attr-defined]


def test_post_without_csrf_token_is_refused(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    client.get(path)
    data = {"action": "submit", **{f"points.{k}": v for k, v in GOOD.items()}}
    answer = client.post(path, data=data)
    assert answer.status_code == 403 and answer.template.name == "refused.html"  # type: ignore[attr-defined]
    assert answer.context["kind"] == "csrf"  # type: ignore[attr-defined]
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited


def test_post_with_another_pages_csrf_token_is_refused(client: TestClient, world: ReviewWorld) -> None:
    mine, other = world.sheets[0], world.sheets[1]
    foreign = form(client.get(world.path(other)), GOOD)
    answer = client.post(world.path(mine), data=foreign)
    assert answer.status_code == 403 and answer.context["reason"] == "token belongs to another page"  # type: ignore[attr-defined]


def test_post_csrf_token_without_its_cookie_is_refused(portal: object, world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    with TestClient(portal) as first:  # type: ignore[arg-type]
        data = form(first.get(path), GOOD)
    with TestClient(portal) as attacker:  # type: ignore[arg-type]
        answer = attacker.post(path, data=data)
    assert answer.status_code == 403 and answer.context["kind"] == "csrf"  # type: ignore[attr-defined]


def test_forged_token_gets_plain_403_and_is_logged(
    client: TestClient, world: ReviewWorld, caplog: pytest.LogCaptureFixture
) -> None:
    token = review_token(world.sheets[0], world.settings)
    forged = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    with caplog.at_level(logging.WARNING, logger="grantflow.portal"):
        page = client.get(f"/review/{forged}")
    assert page.status_code == 403 and page.template.name == "refused.html"  # type: ignore[attr-defined]
    assert "无法打开此链接" in page.text and "<form" not in page.text and "陈慧敏" not in page.text
    assert any("forged" in r.getMessage() and forged not in r.getMessage() for r in caplog.records)


def test_other_experts_token_cannot_open_the_sheet(
    client: TestClient, world: ReviewWorld, caplog: pytest.LogCaptureFixture
) -> None:
    mine = world.sheets[0]
    other = world.other_expert_sheet(mine)
    secret = world.settings.secret_key.get_secret_value()
    theirs = sign_link(
        purpose="review",
        subject_id=mine.id or 0,
        holder_id=other.expert_id,
        nonce=other.token_nonce,
        expires_at=utcnow() + timedelta(days=3),
        secret=secret,
    )
    with caplog.at_level(logging.WARNING, logger="grantflow.portal"):
        assert client.get(f"/review/{theirs}").status_code == 403
        assert (
            client.post(f"/review/{theirs}", data=form(client.get(world.path(other)), GOOD)).status_code
            == 403
        )
    assert world.sheet(mine.id or 0).state is AssignmentState.invited
    assert sum("holder" in r.getMessage() for r in caplog.records) == 2


def test_expired_token_is_refused(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    expired = sign_link(
        purpose="review",
        subject_id=sheet.id or 0,
        holder_id=sheet.expert_id,
        nonce=sheet.token_nonce,
        expires_at=utcnow() - timedelta(seconds=1),
        secret=world.settings.secret_key.get_secret_value(),
    )
    page = client.get(f"/review/{expired}")
    assert page.status_code == 403 and page.context["reason"] == "expired"  # type: ignore[attr-defined]


def test_sheet_after_deadline_is_read_only(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    with TestClient(create_app(world.settings)) as client:
        data = form(client.get(path), GOOD)
    later = sheet.deadline + timedelta(hours=1)
    with TestClient(create_app(world.settings, clock=lambda: later), cookies=client.cookies) as late:
        page = late.get(path)
        view = page.context["sheet"]  # type: ignore[attr-defined]
        assert page.status_code == 200 and not view.editable and view.closed
        assert page.context["notice"] == "notice.closed"  # type: ignore[attr-defined]
        assert "<fieldset disabled>" in page.text and 'id="submit"' not in page.text
        answer = late.post(path, data=data)
    assert answer.status_code == 409 and "截止" in answer.context["problem_notice"]  # type: ignore[attr-defined]
    assert (
        world.sheet(sheet.id or 0).state is AssignmentState.invited and scores_of(world, sheet.id or 0) == {}
    )


def test_conflict_declaration_withdraws_the_sheet(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    page = client.get(path)
    answer = client.post(
        path,
        data={"csrf_token": csrf_of(page), "action": "conflict", "conflict_reason": "本人曾在该机构兼职"},
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=conflict")
    assert world.sheet(sheet.id or 0).state is AssignmentState.conflicted
    with session_scope(world.engine) as session:
        declared = session.exec(
            select(ConflictDeclaration).where(ConflictDeclaration.expert_id == sheet.expert_id)
        ).one()
    assert declared.reason == "本人曾在该机构兼职" and declared.application_id == sheet.application_id
    with session_scope(world.engine) as session:  # the replacement expert is invited at once
        replacement = session.exec(
            select(ReviewAssignment).where(
                ReviewAssignment.application_id == sheet.application_id,
                ReviewAssignment.state == AssignmentState.invited,
                col(ReviewAssignment.expert_id).not_in(
                    [s.expert_id for s in world.sheets if s.application_id == sheet.application_id]
                ),
            )
        ).one()
        expert = session.get(Expert, replacement.expert_id)
        assert expert is not None
        invitation = session.exec(
            select(OutboxLetter).where(
                OutboxLetter.role == "review_invitation", OutboxLetter.recipient_email == expert.email
            )
        ).one()
        assert replacement.id in invitation.extra["assignments"]
    after = client.get(path)
    assert not after.context["sheet"].editable and after.context["sheet"].withdrawn  # type: ignore[attr-defined]


def test_conflict_without_reason_shows_the_error(client: TestClient, world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    answer = client.post(path, data={"csrf_token": csrf_of(client.get(path)), "action": "conflict"})
    assert answer.status_code == 422
    assert answer.context["sheet"].conflict_error == "请写明回避原因"  # type: ignore[attr-defined]
    assert world.sheet(world.sheets[0].id or 0).state is AssignmentState.invited


def test_healthz_answers_ok(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_unknown_path_gets_the_not_found_page(client: TestClient) -> None:
    page = client.get("/admin")
    assert page.status_code == 404 and page.context["kind"] == "not_found"  # type: ignore[attr-defined]


def test_static_stylesheet_is_served(client: TestClient) -> None:
    answer = client.get("/static/portal.css")
    assert answer.status_code == 200 and "@media" in answer.text
