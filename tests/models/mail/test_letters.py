"""The mail roles: every role renders in every language from its samples, uses only declared keys,
treats values as untrusted text, and composes into the outbox once."""

from __future__ import annotations

import pytest
import yaml

from models.documents.engine.templating import TemplateError, undeclared_keys
from models.errors import InputError
from models.mail.letters import (
    LANGUAGES,
    LETTERS,
    MAIL_TEMPLATES,
    _environment,
    compose_letter,
    render_letter,
    template_files,
)
from models.mail.outbox import list_letters
from models.setup import create_competition
from models.states import LetterState
from tests.conftest import EXAMPLE_DIR

LIFECYCLE = {
    "call",
    "receipt",
    "rejection",
    "eligibility_result",
    "review_invitation",
    "review_reminder",
    "award",
    "not_selected",
    "agreement",
    "agreement_lapsed",
    "tranche_paid",
    "supervision_request",
    "rectification",
    "supervision_reminder",
    "progress_report_request",
    "progress_report_reminder",
    "termination",
    "final_review_invitation",
    "final_review_reminder",
    "final_result",
}


def test_registry_has_a_role_for_every_letter_of_the_lifecycle():
    assert {role.name for role in LETTERS} == LIFECYCLE
    assert all(role.kind == "mail" and role.template == f"mail/{role.name}" for role in LETTERS)
    assert all(role.title and role.purpose for role in LETTERS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", sorted(LIFECYCLE))
def test_every_role_renders_with_its_samples(role, language):
    letter = render_letter(role, LETTERS.get(role).keys, language)
    assert letter.subject and "\n" not in letter.subject
    assert LETTERS.get(role).keys["recipient_name"] in letter.text
    assert letter.html.startswith("<!DOCTYPE html>") and f'lang="{language}"' in letter.html
    assert "{{" not in letter.text and "{%" not in letter.html
    if language == "zh-CN":
        assert "请勿直接回复" in letter.text
    else:
        assert "please do not reply" in letter.text


@pytest.mark.parametrize("role", sorted(LIFECYCLE))
def test_templates_use_only_declared_keys(role):
    spec = LETTERS.get(role)
    for language in LANGUAGES:
        for name, html in zip(template_files(spec, language), (False, True), strict=True):
            source = (MAIL_TEMPLATES / name).read_text(encoding="utf-8")
            assert undeclared_keys(_environment(html), source, spec.keys) == set(), name


def test_missing_key_names_the_key_and_the_template():
    context = dict(LETTERS.get("award").keys)
    del context["amount"]
    with pytest.raises(TemplateError, match="amount") as caught:
        render_letter("award", context)
    assert "mail/award" in str(caught.value)


def test_unknown_role_or_language_is_a_template_error():
    with pytest.raises(TemplateError, match="nonsense"):
        render_letter("nonsense", {})
    with pytest.raises(TemplateError, match="fr"):
        render_letter("receipt", LETTERS.get("receipt").keys, "fr")


def test_values_are_untrusted_text():
    context = {
        **LETTERS.get("receipt").keys,
        "project_title": "<script>alert(1)</script> & {{ 7*7 }}\x00\x0b",
        "recipient_name": "张三\r\nBcc: evil@example.org",
    }
    letter = render_letter("receipt", context)
    assert "<script>" not in letter.html and "&lt;script&gt;" in letter.html and "&amp;" in letter.html
    assert "<script>alert(1)</script> & {{ 7*7 }}" in letter.text  # plain text is not HTML-escaped
    assert "49" not in letter.subject and "{{ 7*7 }}" in letter.subject  # printed, never evaluated
    assert "\x00" not in letter.text and "\x0b" not in letter.text
    assert "\r" not in letter.subject and "\n" not in letter.subject


def test_eligibility_result_says_pass_or_fail():
    context = dict(LETTERS.get("eligibility_result").keys)
    failed = render_letter("eligibility_result", context)
    passed = render_letter("eligibility_result", {**context, "eligible": True, "reasons": []})
    assert failed.subject.endswith("未通过") and "服务社区" in failed.text
    assert passed.subject.endswith("通过") and "进入专家评审" in passed.text


def compose(session, **changes):
    arguments = {
        "role": "receipt",
        "stage": "intake",
        "recipient_email": "Lele@Example.org",
        "recipient_name": "乐龄中心",
        "context": LETTERS.get("receipt").keys,
        "subject_entity": "application",
        "subject_id": 1,
        **changes,
    }
    return compose_letter(session, **arguments)


def test_compose_letter_twice_yields_one_row(session):
    first = compose(session)
    second = compose(
        session, recipient_email="lele@example.org", context={**LETTERS.get("receipt").keys, "amount": "1"}
    )
    session.commit()
    assert first.id == second.id
    [row] = list_letters(session)
    assert row.state is LetterState.queued
    assert row.recipient_email == "Lele@example.org"  # the domain normalised, the mailbox kept
    assert row.idempotency_key == "intake|lele@example.org|receipt:application:1"
    assert row.subject == "【受理回执】银龄互助·社区食堂温暖行动（JT2025-001）"
    assert "20,000.00" in row.body_text and row.body_html
    assert row.extra == {"language": "zh-CN"}


def test_compose_letter_occasion_tells_repeated_letters_apart(session):
    reminder = {
        "role": "review_reminder",
        "context": LETTERS.get("review_reminder").keys,
        "subject_entity": "expert",
    }
    first = compose(session, occasion="2025-06-27", **reminder)
    second = compose(session, occasion="2025-06-29", **reminder)
    again = compose(session, occasion="2025-06-29", **reminder)
    assert first.id != second.id and second.id == again.id


def test_compose_letter_is_a_draft_when_the_competition_requires_release(session):
    config = yaml.safe_load((EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8"))
    config["require_letter_release"] = True
    competition = create_competition(
        session, text=yaml.safe_dump(config, allow_unicode=True), source="t", actor="t"
    )
    letter = compose(session, competition=competition, language="en")
    assert letter.state is LetterState.draft and letter.competition_id == competition.id
    assert letter.subject.startswith("[Receipt]")


def test_compose_letter_refuses_a_bad_address(session):
    for bad in ["not-an-address", "a@b@example.org", "victim@example.org\r\nBcc: evil@example.org"]:
        with pytest.raises(InputError, match="email"):
            compose(session, recipient_email=bad)
    assert list_letters(session) == []
