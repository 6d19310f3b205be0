"""The lifecycle's next step, from the stage, the configured dates and the open sheets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from models.competition.config_file import load_config
from models.states import CompetitionStage as S
from models.timeline import Step, next_step
from tests.conftest import EXAMPLE_DIR

CONFIG = load_config(EXAMPLE_DIR / "competition.yaml")
BJ = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


@pytest.mark.parametrize(
    ("stage", "now", "open_sheets", "sheets", "expected"),
    [
        (S.draft, at(2025, 1, 5, 9), 0, 0, None),  # before the call's date
        (S.draft, at(2025, 1, 6, 9), 0, 0, Step.publish_call),
        (S.draft, at(2025, 3, 1, 9), 0, 0, None),  # applications closed without a call: a person decides
        (S.call_open, at(2025, 2, 28, 16, 59), 0, 0, None),
        (S.call_open, at(2025, 2, 28, 17, 0), 0, 0, Step.screening),
        (S.screening, at(2025, 3, 3, 9), 0, 0, Step.open_review),
        (S.review, at(2025, 3, 10, 9), 3, 140, None),
        (S.review, at(2025, 3, 10, 9), 0, 140, Step.close_review),  # the last sheet arrived
        (S.review, at(2025, 3, 21, 17, 0), 3, 140, Step.close_review),  # the deadline passed
        (S.funding, at(2025, 3, 25, 9), 0, 140, None),
    ],
)
def test_next_step(stage, now, open_sheets, sheets, expected):
    decision = next_step(stage=stage, config=CONFIG, now=now, open_sheets=open_sheets, sheets=sheets)
    assert decision.step == expected
    assert decision.zh and decision.en  # every answer says why, in both languages


END = at(2025, 3, 28, 17, 30)


@pytest.mark.parametrize(
    ("stage", "now", "ends_at", "objections", "unsigned", "expected"),
    [
        (S.publicity, at(2025, 3, 25, 9), None, 0, 0, None),  # approved, not published yet
        (S.publicity, at(2025, 3, 28, 17, 29), END, 0, 0, None),  # the window is open
        (S.publicity, at(2025, 3, 28, 17, 30), END, 1, 0, None),  # an objection is open
        (S.publicity, at(2025, 3, 28, 17, 30), END, 0, 0, Step.close_publicity),
        (S.implementation, at(2025, 4, 15, 23), None, 0, 3, None),  # agreements_by is 15 April
        (S.implementation, at(2025, 4, 16, 9), None, 0, 3, Step.lapse_agreements),
        (S.implementation, at(2025, 4, 16, 9), None, 0, 0, None),
    ],
)
def test_next_step_after_the_funding_decision(stage, now, ends_at, objections, unsigned, expected):
    decision = next_step(
        stage=stage,
        config=CONFIG,
        now=now,
        open_sheets=0,
        sheets=140,
        publicity_ends_at=ends_at,
        open_objections=objections,
        unsigned=unsigned,
    )
    assert decision.step == expected
    assert decision.zh and decision.en


@pytest.mark.parametrize(
    ("stage", "ready", "open_", "written", "expected", "says"),
    [
        (S.implementation, 0, 11, False, None, "尚未到结项评估"),  # the 结项 reports are not in
        (S.implementation, 11, 11, False, Step.final_evaluation, "11 个项目的结项评估报告已齐"),
        (S.evaluation, 0, 1, False, None, "1 个项目尚未结项"),  # a rectified project's re-check waits
        (S.evaluation, 1, 1, False, Step.final_evaluation, "1 个项目的结项评估报告已齐"),
        (S.evaluation, 0, 0, False, Step.final_evaluation, "全部项目已结项或终止"),  # the run closes it
        (S.closed, 0, 0, False, Step.annual_report, "年度总结报告"),
        (S.closed, 0, 0, True, None, "年度总结报告已生成"),
    ],
)
def test_next_step_after_implementation(stage, ready, open_, written, expected, says):
    decision = next_step(
        stage=stage,
        config=CONFIG,
        now=at(2025, 10, 20, 9),
        open_sheets=0,
        sheets=140,
        finals_ready=ready,
        grants_open=open_,
        annual_report_written=written,
    )
    assert decision.step == expected
    assert says in decision.zh and decision.en
