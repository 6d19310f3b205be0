"""The configuration file as a hostile user writes it: every input is a ``ConfigError`` naming the
file, the field path and the reason in Chinese and English — never another exception, never stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.competition.config_file import CONFIG_MAX_BYTES, load_config, parse_config, read_config_text
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

EXAMPLE_TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")


def _changed(change: Callable[[dict[str, Any]], None]) -> str:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="bad.yaml")
    problems = caught.value.problems
    assert all(p.where.startswith("bad.yaml") for p in problems)
    return [(p.field, p.zh, p.en) for p in problems]


# ---- the file itself ------------------------------------------------------------------------------

FILES: dict[str, Callable[[Path], Path]] = {
    "gbk": lambda d: _write(d / "gbk.yaml", EXAMPLE_TEXT.encode("gb18030")),
    "utf16": lambda d: _write(d / "utf16.yaml", EXAMPLE_TEXT.encode("utf-16")),
    "binary": lambda d: _write(d / "binary.yaml", bytes(range(256)) * 4),
    "nul bytes": lambda d: _write(d / "nul.yaml", b"competition:\x00\x00\n"),
    "folder": lambda d: _folder(d / "folder.yaml"),
    "too large": lambda d: _write(d / "big.yaml", b"# " + b"x" * CONFIG_MAX_BYTES + b"\n"),
    "missing": lambda d: d / "nope.yaml",
}
FILE_MESSAGES = {
    "gbk": "UTF-8",
    "utf16": "UTF-8",
    "binary": "UTF-8",
    "nul bytes": "不是文本文件",
    "folder": "文件夹",
    "too large": "文件过大",
    "missing": "文件不存在",
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", sorted(FILES))
def test_an_unreadable_configuration_file_is_one_config_error_naming_it(tmp_path: Path, case: str) -> None:
    path = FILES[case](tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.where == str(path)
    assert FILE_MESSAGES[case] in problem.zh and problem.en


def test_a_configuration_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.yaml", b"\xef\xbb\xbf" + EXAMPLE_TEXT.encode("utf-8"))
    assert read_config_text(path) == EXAMPLE_TEXT
    assert load_config(path).competition.slug == "jiangtou-2025"


# ---- what YAML can hold ---------------------------------------------------------------------------

TEXTS = {
    "nested lists": "competition: " + "[" * 5000 + "]" * 5000 + "\n",
    "nested mappings": "competition: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "an integer of 5000 digits": f"budget: {{pool: {'9' * 5000}}}\n",
    "a scalar": "just a line\n",
    "a list": "- a\n- b\n",
}


@pytest.mark.parametrize("case", sorted(TEXTS))
def test_yaml_no_configuration_could_be_is_one_config_error(case: str) -> None:
    problems = _problems(TEXTS[case])
    assert problems and all(zh and en for _, zh, en in problems)


# ---- money ----------------------------------------------------------------------------------------

MONEY = {
    "budget.service_budget": (lambda d: d["budget"].update(service_budget=10**17), "金额超过上限"),
    "budget.pool (markup)": (lambda d: d["budget"].update(pool="[/bold]"), "无法识别的金额"),
    "pools.0.amount": (lambda d: d["pools"][0].update(amount=-36000), "金额不能为负数"),
    "categories.0.max_amount": (lambda d: d["categories"][0].update(max_amount=-5), "金额不能为负数"),
    "budget.per_project_min": (lambda d: d["budget"].update(per_project_min="-100元"), "金额不能为负数"),
    "budget.per_project_cap (infinite)": (lambda d: d["budget"].update(per_project_cap=float("inf")), "金额"),
}


@pytest.mark.parametrize("case", sorted(MONEY))
def test_money_is_never_negative_nor_beyond_any_budget(case: str) -> None:
    change, message = MONEY[case]
    field = case.split(" ")[0]
    problems = _problems(_changed(change))
    assert any(f == field and message in zh for f, zh, _ in problems), problems


# ---- what is wrong across fields names the field that is wrong ------------------------------------

CROSS = {
    "pools": (lambda d: d["pools"][1].update(amount=30000), "各组资金之和"),
    "pools.0.amount": (lambda d: d["pools"][0].update(amount=70000), "超过资金池"),
    "categories.1.max_amount": (lambda d: d["categories"][1].update(max_amount=9000), "超过单个项目上限"),
    "tranches": (lambda d: d["tranches"][2].update(percent=10), "拨付比例之和"),
    "tranches.1.gate": (lambda d: d["tranches"][1].update(gate="halfway"), "不是已配置的检查点"),
    "grade_bands.3.min_score": (lambda d: d["grade_bands"][-1].update(min_score=10), "等级须覆盖到0分"),
    "experts.0.community": (lambda d: d["experts"][0].update(community="鼓浪屿"), "不在社区列表中"),
    "communities.11": (lambda d: d["communities"].append("江头"), "重复"),
    "pools.1.organisation_kinds.2": (
        lambda d: d["pools"][1]["organisation_kinds"].append("registered"),
        "只能属于一个组",
    ),
    "budget.per_project_cap": (lambda d: d["budget"].update(per_project_cap=70000), "不能超过资金池"),
    "budget.pool": (lambda d: d["budget"].update(pool=300000), "不能超过服务项目总经费"),
}


@pytest.mark.parametrize("case", sorted(CROSS))
def test_a_cross_field_problem_names_the_field_path(case: str) -> None:
    change, message = CROSS[case]
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
    assert len(data["grade_bands"]) == 4 and len(data["communities"]) == 11  # the paths above
    problems = _problems(_changed(change))
    assert any(f == case and message in zh for f, zh, _ in problems), problems
    assert all("top level" not in f for f, _, _ in problems)


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("competition.submit_email", lambda d: d["competition"].update(submit_email="gongyi at jiangtou")),
        ("mailing_list.0.email", lambda d: d["mailing_list"][0].update(email="@jiangtou")),
        ("experts.0.email", lambda d: d["experts"][0].update(email="陈慧敏")),
    ],
)
def test_an_email_error_speaks_chinese_and_english(path: str, change: Callable[[dict[str, Any]], None]):
    (problem,) = _problems(_changed(change))
    field, zh, en = problem
    assert field == path
    assert "不是有效的电子邮箱地址" in zh and "not a valid email address" in en


def test_money_in_full_width_digits_is_read() -> None:
    config = parse_config(_changed(lambda d: d["budget"].update(per_project_cap="８０００元")))
    assert config.budget.per_project_cap == 800_000
