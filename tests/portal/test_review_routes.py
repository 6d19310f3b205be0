"""The review sheet over HTTP (Starlette's TestClient): what each page shows, what each post does."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import col, select

from models.audit import AuditEvent
from models.db import session_scope
from models.intake.tables import Application, BudgetLine
from models.lifecycle import set_state
from models.links import sign_link
from models.mail.outbox import OutboxLetter
from models.review.links import review_token
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment, Score
from models.states import ApplicationState, AssignmentState
from models.types import utcnow
from portal.app import create_app
from tests.portal.conftest import ReviewWorld

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
    sheet = world.sheet_of("docx")
    page = client.get(world.path(sheet))
    assert page.status_code == 200
    assert page.template.name == "review/sheet.html"  # type: ignore[attr-defined]
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
    facts = {f.key: f.value for f in view.application.organisation}
    assert facts["organisation"] == "厦门市湖里区童心社会工作服务中心" and not view.application.blind
    assert page.context["lang"] == "zh-CN"  # type: ignore[attr-defined]
    assert '<html lang="zh-CN">' in page.text and "专家评分表" in page.text and "提交评分" in page.text
    assert 'name="viewport"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "gf_csrf" in page.cookies


FORM_ORDER = [
    "申报单位信息",
    "项目信息",
    "项目简介",
    "需求分析",
    "项目目标",
    "活动安排",
    "预期成效与评估方式",
    "执行团队",
    "风险与应对",
    "可持续性",
    "预算明细",
    "社区意见",
    "附件清单",
]
SUMMARY = re.compile(r'<details class="part[^"]*" id="part-[a-z_]+"[^>]*>\s*<summary>([^<]+)</summary>')


def _visible(page: Response) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


@pytest.mark.parametrize("source", ["xlsx", "docx", "web"])
def test_sheet_shows_every_section_of_the_application_in_the_forms_order(
    client: TestClient, world: ReviewWorld, source: str
) -> None:
    sheet = world.sheet_of(source)
    application, organisation = world.application(sheet)
    page = client.get(world.path(sheet))
    assert SUMMARY.findall(page.text) == FORM_ORDER
    text = _visible(page)
    details = application.details
    for key in ("need_analysis", "objectives", "outcomes", "risks", "sustainability", "community_opinion"):
        for line in details[key].splitlines():
            assert line.strip() in text, (key, line)
    assert application.summary in text and organisation.name in text
    for attachment in details["attachments"]:
        assert attachment in text
    # 活动安排: the Word form's table, or the spreadsheet's / web form's 时间|活动内容|场次|预计人次 lines
    activities = details["activities"] or [
        dict(zip(("period", "content", "sessions", "participants"), line.split("|"), strict=True))
        for line in details["activities_text"].splitlines()
    ]
    assert activities, "the example has activities"
    table = re.search(r'id="part-activities".*?</details>', page.text, re.S)
    assert table is not None
    assert re.findall(r"<th[^>]*>([^<]+)</th>", table.group(0)) == ["时间", "活动内容", "场次", "预计人次"]
    for activity in activities:
        assert all(f">{activity[k]}</td>" in table.group(0) for k in ("period", "content", "sessions"))
    for member in details["team"]:
        assert all(member[k] in text for k in ("name", "duty", "contact"))
    if details["team_text"]:
        assert details["team_text"] in text
    for word in ("period", "content", "sessions", "participants", "need_analysis", "activity_plan"):
        assert word not in text  # no internal keys as headings
    with session_scope(world.engine) as session:
        lines = session.exec(select(BudgetLine).where(BudgetLine.application_id == application.id)).all()
    assert lines and all(line.item in text and line.purpose in text for line in lines)


def _identifying_values(world: ReviewWorld, sheet: ReviewAssignment) -> list[str]:
    application, organisation = world.application(sheet)
    values = [
        organisation.name,
        organisation.registration_number,
        organisation.legal_representative,
        organisation.address,
        application.contact_name,
        application.contact_phone,
        application.contact_email,
    ]
    for member in application.details.get("team", []):
        values += [member["name"], member["contact"]]
    return [v for v in values if v]


def test_sheet_blind_review_hides_the_applicant(blind_world: ReviewWorld) -> None:
    with TestClient(create_app(blind_world.settings)) as client:
        for source in ("xlsx", "docx", "web"):
            sheet = blind_world.sheet_of(source)
            values = _identifying_values(blind_world, sheet)
            assert len(values) >= 7
            for lang in ("zh-CN", "en"):
                page = client.get(blind_world.path(sheet) + f"?lang={lang}")
                assert page.status_code == 200
                source_text = page.text + html.unescape(page.text)
                leaked = [v for v in values if v in source_text]
                assert leaked == [], (source, lang, leaked)
                app = page.context["sheet"].application  # type: ignore[attr-defined]
                assert app.blind and [f.key for f in app.organisation] == ["organisation_kind"]
            assert "匿名评审" in client.get(blind_world.path(sheet) + "?lang=zh-CN").text


def test_sheet_blind_review_keeps_what_the_expert_scores(blind_world: ReviewWorld) -> None:
    sheet = blind_world.sheet_of("docx")
    application, _ = blind_world.application(sheet)
    with TestClient(create_app(blind_world.settings)) as client:
        text = _visible(client.get(blind_world.path(sheet)))
    assert application.details["need_analysis"] in text and application.summary in text
    team = re.search(r"执行团队.*?</table>", client.get(blind_world.path(sheet)).text, re.S)
    assert team is not None and "项目负责人" in team.group(0) and "姓名" not in team.group(0)


def test_sheet_blind_review_hides_identities_inside_the_texts(blind_world: ReviewWorld) -> None:
    """The web application's 执行团队 text names its legal representative and its contact."""
    sheet = blind_world.sheet_of("web")
    application, organisation = blind_world.application(sheet)
    assert organisation.legal_representative in application.details["team_text"]
    with TestClient(create_app(blind_world.settings)) as client:
        text = _visible(client.get(blind_world.path(sheet)))
    assert "中级社工师" in text and "〔已隐去〕" in text
    assert organisation.legal_representative not in text and application.contact_name not in text


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
    errors = {c.code: view.errors.of(c.code) for c in view.criteria}
    assert "0 到 20" in errors["need"] and "0.5" in errors["design"] and "数字" in errors["capacity"]
    assert "未评分" in errors["budget"] and errors["innovation"] == "" and errors["sustainability"] == ""
    # the summary names each field and links to it; the page opens at the first one (autofocus)
    summary = [(e.anchor, e.label) for e in view.errors]
    assert summary[0] == ("points-need", "需求分析（满分 20）") and view.errors.first == "points-need"
    assert 'href="#points-need"' in page.text and page.text.count(" autofocus") == 1
    assert {c.code: c.value for c in view.criteria}["need"] == "25"  # what was typed stays in the field
    assert 'id="error-need"' in page.text and 'aria-invalid="true"' in page.text
    assert scores_of(world, sheet.id or 0) == {}
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited


def test_post_wrong_points_in_english_explains_in_english(client: TestClient, world: ReviewWorld) -> None:
    path = world.path(world.sheets[0])
    client.get(path + "?lang=en")
    page = post(client, path, {**GOOD, "need": "21"})
    view = page.context["sheet"]  # type: ignore[attr-defined]
    assert view.errors.of("need") == "需求分析: must be between 0 and 20 (got 21)"
    assert "请更正" not in page.text and "Please correct" in page.text  # the summary in the page's language


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
    asked = _conflict(client, path, page)  # first the page asks to confirm: nothing declared yet
    assert asked.status_code == 200 and asked.context["sheet"].confirm_conflict  # type: ignore[attr-defined]
    assert (
        'id="conflict-confirm"' in asked.text and world.sheet(sheet.id or 0).state is AssignmentState.invited
    )
    answer = _conflict(client, path, asked, action="conflict_confirm")
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
    for action in ("conflict", "conflict_confirm"):  # an empty reason: refused at the field, the page there
        answer = client.post(path, data={"csrf_token": csrf_of(client.get(path)), "action": action})
        assert answer.status_code == 422
        view = answer.context["sheet"]  # type: ignore[attr-defined]
        assert view.errors.of("conflict_reason") == "请写明回避原因" and not view.confirm_conflict
        assert view.errors.first == "conflict-reason"
        assert 'id="error-conflict_reason"' in answer.text and 'href="#conflict-reason"' in answer.text
        assert re.search(r'id="conflict-reason"[^>]*autofocus', answer.text)
    assert world.sheet(world.sheets[0].id or 0).state is AssignmentState.invited


def _sheets_of(world: ReviewWorld, application_id: int) -> list[ReviewAssignment]:
    with session_scope(world.engine) as session:
        return list(
            session.exec(select(ReviewAssignment).where(ReviewAssignment.application_id == application_id))
        )


def test_draft_on_a_submitted_sheet_keeps_it_submitted_and_says_so(
    client: TestClient, world: ReviewWorld
) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    assert post(client, path, GOOD).status_code == 303
    page = client.get(path)
    assert 'id="save-draft"' not in page.text and "提交修改" in page.text  # no button that un-submits
    answer = client.post(path, data=form(page, {**GOOD, "need": "5"}, action="draft"))  # an old tab's button
    assert answer.status_code == 409
    assert "已提交" in answer.context["problem_notice"]  # type: ignore[attr-defined]
    assert {c.code: c.value for c in answer.context["sheet"].criteria}["need"] == "5"  # type: ignore[attr-defined]
    stored = world.sheet(sheet.id or 0)
    assert stored.state is AssignmentState.submitted
    assert sorted(scores_of(world, sheet.id or 0).values()) == sorted(Decimal(v) for v in GOOD.values())
    again = post(client, path, {**GOOD, "need": "5"})  # changed and resubmitted: still counts
    assert again.status_code == 303 and world.sheet(sheet.id or 0).state is AssignmentState.submitted


def _conflict(client: TestClient, path: str, page: Response, *, action: str = "conflict") -> Response:
    return client.post(
        path,
        data={"csrf_token": csrf_of(page), "action": action, "conflict_reason": "本人曾在该机构兼职"},
    )


def test_conflict_after_the_deadline_is_refused_in_plain_words(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    before = len(_sheets_of(world, sheet.application_id))
    with TestClient(create_app(world.settings)) as client:
        page = client.get(path)
    later = sheet.deadline + timedelta(hours=1)
    with TestClient(create_app(world.settings, clock=lambda: later), cookies=client.cookies) as late:
        answer = _conflict(late, path, page)
    assert answer.status_code == 409 and "截止" in answer.context["problem_notice"]  # type: ignore[attr-defined]
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited
    assert len(_sheets_of(world, sheet.application_id)) == before  # no replacement with a past deadline


def test_conflict_after_the_review_closed_is_refused(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    page = client.get(path)
    before = len(_sheets_of(world, sheet.application_id))
    with session_scope(world.engine) as session:
        application = session.get(Application, sheet.application_id)
        assert application is not None
        set_state(session, application, ApplicationState.scored, actor="admin:test", reason="评审结束")
    answer = _conflict(client, path, page)
    assert answer.status_code == 409 and "评审已结束" in answer.context["problem_notice"]  # type: ignore[attr-defined]
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited
    assert len(_sheets_of(world, sheet.application_id)) == before


def test_conflict_on_a_submitted_sheet_shows_no_internal_text(client: TestClient, world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    path = world.path(sheet)
    assert post(client, path, GOOD).status_code == 303
    page = client.get(path)
    assert 'id="conflict"' not in page.text
    for lang, action in (("zh-CN", "conflict"), ("en", "conflict"), ("en", "conflict_confirm")):
        answer = _conflict(client, path + f"?lang={lang}", client.get(path + f"?lang={lang}"), action=action)
        notice = answer.context["problem_notice"]  # type: ignore[attr-defined]
        assert answer.status_code == 409 and notice
        assert "#" not in notice and "conflicted" not in notice and "assignment" not in notice
        assert ("已提交" in notice) if lang == "zh-CN" else ("submitted" in notice and "已提交" not in notice)
    assert world.sheet(sheet.id or 0).state is AssignmentState.submitted


def test_healthz_answers_ok(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_unknown_path_gets_the_not_found_page(client: TestClient) -> None:
    page = client.get("/nowhere")  # (/admin is the console's)
    assert page.status_code == 404 and page.context["kind"] == "not_found"  # type: ignore[attr-defined]


def test_static_stylesheet_is_served(client: TestClient) -> None:
    answer = client.get("/static/portal.css")
    assert answer.status_code == 200 and "@media" in answer.text


def test_a_refused_link_gives_the_stations_contact(world: ReviewWorld) -> None:
    """The competition's contact when the link named one; for a forged link the configured contact,
    else the newest competition's."""
    sheet = world.sheets[0]
    someone_else = sign_link(  # genuine, someone else's: the competition is known
        purpose="review",
        subject_id=sheet.id or 0,
        holder_id=sheet.expert_id + 1000,
        nonce=sheet.token_nonce,
        secret=world.settings.secret_key.get_secret_value(),
    )
    contact = "江头街道社会工作服务站 林老师 0592-5512345"
    with TestClient(create_app(world.settings)) as client:
        for path in (f"/review/{someone_else}", "/review/forged.token", "/supervise/forged"):
            page = client.get(path)
            assert page.status_code == 403 and page.context["contact"] == contact, path  # type: ignore[attr-defined]
            assert "如有疑问请联系：江头街道社会工作服务站 林老师 " in page.text  # the phone a tel: link
            assert '<a class="tel" href="tel:0592-5512345">0592-5512345</a>' in page.text
    configured = world.settings.model_copy(update={"portal_contact": "社工站值班电话 0592-0000000"})
    with TestClient(create_app(configured)) as client:
        assert "0592-0000000" in client.get("/review/forged.token").text
        known = client.get(f"/review/{someone_else}").text  # known: the competition's own contact
        assert "江头街道社会工作服务站 林老师 " in known and 'href="tel:0592-5512345"' in known
