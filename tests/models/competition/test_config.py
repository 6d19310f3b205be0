"""The competition configuration: the example is valid; each kind of mistake gets a clear message
naming the file, the field path and the reason (Chinese and English), and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from models.competition.config_file import load_config, parse_config
from models.competition.tables import Competition, RubricCriterion
from models.errors import ConfigError
from models.setup import create_competition
from tests.conftest import EXAMPLE_DIR

EXAMPLE_TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")


def _broken(change) -> str:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="bad.yaml")
    return [str(p) for p in caught.value.problems]


def test_example_configuration_is_valid():
    config = load_config(EXAMPLE_DIR / "competition.yaml")
    assert config.competition.slug == "jiangtou-2025"
    assert len(config.communities) == 11
    assert [c.name for c in config.categories] == ["一老", "一小", "公益服务"]
    assert config.budget.service_budget == 20_000_000  # 20万 in fen
    assert config.budget.pool < config.budget.service_budget
    assert sum(t.percent for t in config.tranches) == 100


def test_missing_field_named_with_path():
    problems = _problems(_broken(lambda d: d["competition"].pop("name")))
    assert problems == ["bad.yaml: competition.name: 缺少必填字段 / Field required"]


def test_wrong_type_named_with_path():
    def change(d):
        d["review"]["experts_per_application"] = "five"

    (problem,) = _problems(_broken(change))
    assert problem.startswith("bad.yaml: review.experts_per_application: 应为整数 / ")


def test_weights_that_do_not_add_up():
    def change(d):
        d["rubric"]["criteria"][0]["weight"] = 2

    (problem,) = _problems(_broken(change))
    assert "bad.yaml: rubric:" in problem
    assert "各项满分×权重之和为 120，应为 100" in problem
    assert "weights don't add up" in problem


def test_negative_money_refused():
    def change(d):
        d["budget"]["per_project_min"] = -100

    (problem,) = _problems(_broken(change))
    assert "budget" in problem
    assert "不能为负数" in problem and "must not be negative" in problem


def test_unknown_community_refused():
    def change(d):
        d["experts"][0]["community"] = "鼓浪屿"

    (problem,) = _problems(_broken(change))
    assert "鼓浪屿" in problem and "unknown community" in problem


def test_tranche_percents_must_make_100():
    def change(d):
        d["tranches"][2]["percent"] = 10

    (problem,) = _problems(_broken(change))
    assert "拨付比例之和为 90%" in problem


def test_tranche_gate_must_be_a_checkpoint():
    def change(d):
        d["tranches"][1]["gate"] = "halfway"

    (problem,) = _problems(_broken(change))
    assert "halfway" in problem and "unknown checkpoint" in problem


def test_several_problems_reported_at_once():
    def change(d):
        d["competition"].pop("year")
        d["budget"]["pool"] = "很多"
        d["surprise"] = 1

    problems = _problems(_broken(change))
    assert len(problems) == 3
    assert any("competition.year: 缺少必填字段" in p for p in problems)
    assert any("budget.pool: " in p and "not an amount" in p for p in problems)
    assert any("surprise: 不认识的字段" in p for p in problems)


def test_invalid_yaml_names_the_line():
    (problem,) = _problems("competition: [unclosed\nbudget: 1\n")
    assert problem.startswith("bad.yaml:") and "YAML 格式错误" in problem


def test_missing_file_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="文件不存在 / file not found"):
        load_config(tmp_path / "nope.yaml")


def test_bad_configuration_stores_nothing(session):
    text = _broken(lambda d: d["rubric"]["criteria"][0].update(weight=3))
    with pytest.raises(ConfigError):
        create_competition(session, text=text, source="bad.yaml", actor="test")
    session.rollback()
    assert session.exec(select(Competition)).all() == []
    assert session.exec(select(RubricCriterion)).all() == []


def test_money_written_as_chinese_is_read_as_fen():
    config = parse_config(_broken(lambda d: d["budget"].update(per_project_cap="8000元")))
    assert config.budget.per_project_cap == 800_000
    config = parse_config(_broken(lambda d: d["budget"].update(pool="6万")))
    assert config.budget.pool == 6_000_000


def test_screening_notice_date_before_the_deadline_refused():
    def change(d):
        d["deadlines"]["screening_by"] = "2025-02-01"

    (problem,) = _problems(_broken(change))
    assert "deadlines" in problem and "screening_by is before applications_close" in problem


def test_submit_email_must_be_an_address():
    def change(d):
        d["competition"]["submit_email"] = "gongyi at jiangtou"

    (problem,) = _problems(_broken(change))
    assert problem.startswith("bad.yaml: competition.submit_email: ")
