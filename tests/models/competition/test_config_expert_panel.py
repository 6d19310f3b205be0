"""``evaluation.expert_panel``: off by default, read when given, and every mistake named at its
field, in Chinese and English."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.competition.config import Aggregation
from models.competition.config_file import load_config, parse_config
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

EXAMPLE = EXAMPLE_DIR / "competition.yaml"
ANCHOR = "  barred_years: 2\n"


def _with(panel: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert ANCHOR in text
    return text.replace(ANCHOR, f"{ANCHOR}  expert_panel: {panel}\n")


def test_the_example_has_no_panel():
    assert load_config(EXAMPLE).evaluation.expert_panel is None


def test_a_panel_is_read_with_its_defaults():
    panel = parse_config(_with('{weight: "0.5"}')).evaluation.expert_panel
    assert panel is not None
    assert (panel.experts_per_grant, panel.weight, panel.due_days, panel.aggregation) == (
        3,
        Decimal("0.5"),
        7,
        None,
    )
    full = parse_config(
        _with('{experts_per_grant: 5, weight: "1", due_days: 10, aggregation: trimmed_mean}')
    ).evaluation.expert_panel
    assert full is not None
    assert (full.experts_per_grant, full.weight, full.aggregation) == (
        5,
        Decimal(1),
        Aggregation.trimmed_mean,
    )


@pytest.mark.parametrize(
    ("panel", "field", "zh"),
    [
        ('{weight: "0"}', "weight", "须大于下限"),
        ('{weight: "1.01"}', "weight", "超过上限"),
        ('{weight: "-0.5"}', "weight", "须大于下限"),
        ("{weight: half}", "weight", "不是数字"),
        ("{weight: .nan}", "weight", "取值无效"),
        ("{experts_per_grant: 3}", "weight", "缺少必填字段"),
        ('{weight: "0.5", experts_per_grant: 0}', "experts_per_grant", "不能小于下限"),
        ('{weight: "0.5", due_days: 0}', "due_days", "不能小于下限"),
        ('{weight: "0.5", aggregation: mean}', "aggregation", ""),
        ('{weight: "0.5", experts: 3}', "experts", "不认识的字段"),
    ],
)
def test_each_mistake_is_named_at_its_field(panel, field, zh):
    with pytest.raises(ConfigError) as caught:
        parse_config(_with(panel), source="bad.yaml")
    (problem,) = caught.value.problems
    assert (problem.where, problem.field) == ("bad.yaml", f"evaluation.expert_panel.{field}")
    assert zh in problem.zh and problem.en
