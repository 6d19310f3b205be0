"""The configuration's checkpoints and supervision rules: each mistake named by file, field path and
reason in Chinese and English; a due day relative to signing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from models.competition.config_file import load_config, parse_config
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

EXAMPLE_TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")


def _problems(change) -> list[str]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source="bad.yaml")
    return [str(p) for p in caught.value.problems]


def test_example_checkpoints_have_rubrics_adding_up_and_upload_limits():
    config = load_config(EXAMPLE_DIR / "competition.yaml")
    midterm = config.checkpoint("midterm")
    assert midterm is not None and midterm.report_name == "中期报告" and midterm.missing_report_fails
    assert sum(i.max_points * i.weight for i in midterm.rubric) == 100
    assert midterm.due_for(date(2025, 4, 10)) == date(2025, 6, 30)
    assert config.supervision.uploads.max_bytes == 8_000_000


def test_due_after_signing_counts_from_the_signing_day():
    data = yaml.safe_load(EXAMPLE_TEXT)
    data["checkpoints"][0].pop("due")
    data["checkpoints"][0]["due_after_signing_days"] = 75
    config = parse_config(yaml.safe_dump(data, allow_unicode=True), source="x.yaml")
    plan = config.checkpoints[0]
    assert plan.due_for(date(2025, 4, 10)) == date(2025, 6, 24) and plan.due_for(None) is None


@pytest.mark.parametrize(
    ("change", "path", "zh", "en"),
    [
        (lambda d: d["checkpoints"][0].pop("due"), "checkpoints.0", "二选一", "exactly one of due"),
        (
            lambda d: d["checkpoints"][0].update(due_after_signing_days=60),
            "checkpoints.0",
            "二选一",
            "exactly one of due",
        ),
        (lambda d: d["checkpoints"][0].update(pass_score=120), "checkpoints.0", "合格分 120", "exceeds"),
        (
            lambda d: d["checkpoints"][0]["rubric"].append(dict(d["checkpoints"][0]["rubric"][0])),
            "checkpoints.0",
            "指标代码重复",
            "codes repeat",
        ),
        (
            lambda d: (d["checkpoints"][1].update(code="midterm"), d["tranches"][2].update(gate="midterm")),
            "(文件顶层",
            "检查点代码重复",
            "codes repeat",
        ),
        (
            lambda d: d["supervision"].update(supervisors_per_grant=0),
            "supervision.supervisors_per_grant",
            "",
            "",
        ),
        (
            lambda d: d["supervision"]["uploads"].update(max_files=100),
            "supervision.uploads.max_files",
            "",
            "",
        ),
        (
            lambda d: d["checkpoints"][0].update(reminder_days_before=[-1]),
            "checkpoints.0",
            "负数",
            "negative",
        ),
    ],
)
def test_checkpoint_mistakes_are_named(change, path, zh, en):
    problems = _problems(change)
    assert any(path in p and zh in p and en in p and "bad.yaml" in p for p in problems), problems
