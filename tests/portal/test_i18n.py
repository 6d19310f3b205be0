"""The portal's message catalogue: both languages say the same things; templates use known keys."""

from __future__ import annotations

import re

import pytest

from models.errors import Problem
from models.settings import TEMPLATES_DIR
from models.states import AssignmentState
from portal.i18n import MESSAGES, choose_language, problem_text, translator

KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([^"']+)["']\s*\)""")


def test_messages_both_languages_have_the_same_keys() -> None:
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
    assert all(text.strip() for language in MESSAGES.values() for text in language.values())


def test_messages_cover_every_key_the_templates_use() -> None:
    used = {
        key
        for page in (TEMPLATES_DIR / "web").rglob("*.html")
        for key in KEY_IN_TEMPLATE.findall(page.read_text(encoding="utf-8"))
    }
    assert {"sheet_title", "submit", "save_draft", "conflict.declare"} <= used
    assert used - set(MESSAGES["zh-CN"]) == set()


def test_messages_name_every_sheet_state_and_refusal_page() -> None:
    keys = set(MESSAGES["zh-CN"])
    assert {f"state.{s.value}" for s in AssignmentState} <= keys
    for kind in ("refused", "csrf", "not_found"):
        assert {f"{kind}.title", f"{kind}.body"} <= keys


@pytest.mark.parametrize(
    ("query", "cookie", "expected"),
    [
        (None, None, "zh-CN"),
        ("en", None, "en"),
        (None, "en", "en"),
        ("zh-CN", "en", "zh-CN"),
        ("fr", "en", "en"),
        ("zh", None, "zh-CN"),
        ("<script>", None, "zh-CN"),
    ],
)
def test_choose_language_query_then_cookie_then_chinese(
    query: str | None, cookie: str | None, expected: str
) -> None:
    assert choose_language(query, cookie) == expected


def test_translator_unknown_key_shows_the_key_and_problem_picks_language() -> None:
    assert translator("en")("submit") == "Submit scores" and translator("zh-CN")("submit") == "提交评分"
    assert translator("en")("no.such.key") == "no.such.key"
    problem = Problem("sheet", "need", "“需求分析”未评分", "需求分析: not scored")
    assert (
        problem_text(problem, "en") == "需求分析: not scored"
        and problem_text(problem, "zh-CN") == "“需求分析”未评分"
    )
