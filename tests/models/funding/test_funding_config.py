"""The funding settings of the configuration: read from the example, and each mistake named with
file, field path and reason (Chinese and English)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from models.competition.config import RemainderRule, UnspentRule
from models.competition.config_file import load_config, parse_config
from models.errors import ConfigError
from models.funding.decision import pool_budgets, rules_of
from tests.conftest import EXAMPLE_DIR

EXAMPLE_TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")


def _with(change) -> str:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="bad.yaml")
    return [str(p) for p in caught.value.problems]


def test_example_funding_rules():
    config = load_config(EXAMPLE_DIR / "competition.yaml")
    rules = rules_of(config)
    assert (rules.total_fen, rules.cap_fen, rules.min_fen, rules.threshold) == (
        6_000_000,
        800_000,
        200_000,
        60,
    )
    assert (
        config.funding.remainder_rule is RemainderRule.skip
        and config.funding.unspent is UnspentRule.other_pool
    )
    assert [(p.code, p.budget_fen) for p in rules.pools] == [
        ("registered", 3_600_000),
        ("volunteer", 2_400_000),
    ]
    assert [(q.kind, q.value, q.minimum) for q in rules.quotas] == [
        ("category", "elderly", 1),
        ("category", "children", 1),
    ]
    assert rules.category_max_projects == {"public_service": 4}


def test_pool_shares_and_the_rest():
    def change(d):
        d["pools"][0].pop("amount")
        d["pools"][0]["share"] = "62.5%"
        d["pools"][1].pop("amount")

    budgets = pool_budgets(parse_config(_with(change)))
    assert [b.budget_fen for b in budgets] == [3_750_000, 2_250_000]  # 62.5% of 60,000; the rest


def test_partial_funding_means_offer_unless_the_remainder_rule_is_given():
    def change(d):
        d["funding"].pop("remainder")
        d["funding"]["partial_funding"] = True

    assert parse_config(_with(change)).funding.remainder_rule is RemainderRule.offer


def test_mistakes_are_named():
    def both(d):
        d["pools"][0]["share"] = 50

    assert any("pool registered: give amount or share" in p for p in _problems(_with(both)))

    def unknown_rule(d):
        d["funding"]["remainder"] = "split"

    (problem,) = _problems(_with(unknown_rule))
    assert problem.startswith("bad.yaml: funding.remainder: 不是允许的取值 / ")

    def repeated(d):
        d["funding"]["request_shares"] = [{"min_score": 80, "percent": 100}, {"min_score": 80, "percent": 90}]

    (problem,) = _problems(_with(repeated))
    assert "funding: 按比例资助的分数段重复 / request_shares repeat a min_score" in problem

    def too_much(d):
        d["pools"][0]["amount"] = 50_000

    assert any("超过资金池" in p for p in _problems(_with(too_much)))

    def bad_time(d):
        d["funding"]["publicity_ends_at"] = "五点半"

    (problem,) = _problems(_with(bad_time))
    assert problem.startswith("bad.yaml: funding.publicity_ends_at: ")
