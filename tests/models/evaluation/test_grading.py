"""The 结项's pure rules: grade bands (and their validation), final score, decision, planned delivery."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.competition.config import FailRule
from models.competition.config_file import parse_config
from models.errors import ConfigError
from models.evaluation.grading import Outcome, decide, final_score, grade_of, planned_delivery
from tests.support.factories import example_config_text

CONFIG = parse_config(example_config_text())


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "优秀"),
        ("90", "优秀"),
        ("89.99", "良好"),
        ("80", "良好"),
        ("79.5", "合格"),
        ("60", "合格"),
        ("59.99", "不合格"),
        ("0", "不合格"),
    ],
)
def test_grade_of_band_edges_inclusive_from_below(score, grade):
    assert grade_of(Decimal(score), CONFIG.grade_bands).name == grade


def _bands_problem(old: str, new: str) -> list:
    with pytest.raises(ConfigError) as caught:
        parse_config(example_config_text(**{old: new}), source="competition.yaml")
    return [p for p in caught.value.problems if p.field.startswith("grade_bands")]


def test_bands_out_of_order_or_overlapping_refused_naming_the_field():
    problems = _bands_problem("{name: 良好, min_score: 80}", "{name: 良好, min_score: 90}")
    assert problems and "良好" in problems[0].zh and "grade_bands[1]" in problems[0].en
    assert _bands_problem("{name: 良好, min_score: 80}", "{name: 良好, min_score: 95}")


def test_bands_must_cover_zero_and_stay_within_total():
    assert any(
        "0" in p.zh for p in _bands_problem("{name: 不合格, min_score: 0,", "{name: 不合格, min_score: 10,")
    )
    assert any(
        "满分" in p.zh for p in _bands_problem("{name: 优秀, min_score: 90}", "{name: 优秀, min_score: 101}")
    )


def test_bands_passing_below_failing_refused():
    problems = _bands_problem("{name: 良好, min_score: 80}", "{name: 良好, min_score: 80, passed: false}")
    assert any("合格等级" in p.zh for p in problems)


def test_unknown_fail_rule_refused_naming_the_field():
    with pytest.raises(ConfigError) as caught:
        parse_config(example_config_text(**{"on_fail: rectify_once": "on_fail: forgive"}), source="c.yaml")
    assert [p.field for p in caught.value.problems] == ["evaluation.on_fail"]


def test_final_score_is_the_configured_aggregate_and_pass_needs_band_and_pass_score():
    result = final_score({1: Decimal("85"), 2: Decimal("91.5")}, config=CONFIG, pass_score=Decimal(60))
    assert (result.score, result.grade, result.passed, result.evaluators) == (
        Decimal("88.25"),
        "良好",
        True,
        (1, 2),
    )
    low = final_score({1: Decimal("59"), 2: Decimal("60")}, config=CONFIG, pass_score=Decimal(60))
    assert (low.score, low.grade, low.passed) == (Decimal("59.50"), "不合格", False)
    strict = final_score({1: Decimal("65")}, config=CONFIG, pass_score=Decimal(70))
    assert (strict.grade, strict.passed) == ("合格", False)  # the checkpoint's pass_score is higher


def test_no_report_counts_as_failing():
    result = final_score({}, config=CONFIG, pass_score=Decimal(60))
    assert (result.score, result.grade, result.passed) == (Decimal("0.00"), "不合格", False)


@pytest.mark.parametrize(
    ("passed", "rule", "round_", "outcome"),
    [
        (True, FailRule.terminate, 1, Outcome.released),
        (True, FailRule.rectify_once, 2, Outcome.released),
        (False, FailRule.withhold, 1, Outcome.withheld),
        (False, FailRule.terminate, 1, Outcome.terminated),
        (False, FailRule.rectify_once, 1, Outcome.rectification),
        (False, FailRule.rectify_once, 2, Outcome.terminated),
    ],
)
def test_decide_follows_the_configured_rule(passed, rule, round_, outcome):
    assert decide(passed, rule=rule, round_=round_) is outcome


def test_planned_delivery_from_rows_or_text():
    rows = {
        "activities": [
            {"sessions": "12场", "participants": "1,200人次"},
            {"sessions": "3", "participants": ""},
        ]
    }
    assert planned_delivery(rows) == (15, 1200)
    text = {"activities": [], "activities_text": "2025年4月|培训|2|40\n2025年5月—9月|共餐日|4|240\n说明"}
    assert planned_delivery(text) == (6, 280)
    assert planned_delivery({}) == (0, 0)
