"""A grantflow error that ends a run is logged as a refusal, without a traceback, and Prefect marks
the run Failed with its message; any other exception keeps its traceback (it is a bug)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from flows.refusals import REFUSED, RUN_LOGGERS, RefusalWithoutTraceback
from models.db import default_engine, session_scope, upgrade_database
from models.errors import InputError, Problem
from tests.support.factories import make_competition

pytestmark = pytest.mark.flows


class Kept(logging.Handler):
    """What the run loggers hand their handlers (the console, the API), after their filters."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_run_refused_by_its_stage_is_failed_with_the_message_and_no_traceback(
    prefect_harness, settings_env: Path
) -> None:
    from flows.screening import screening

    upgrade_database(default_engine())
    with session_scope() as session:
        slug = make_competition(session).slug
    kept = Kept()
    for name in RUN_LOGGERS:
        logging.getLogger(name).addHandler(kept)
    try:
        state = await screening(slug, return_state=True)
    finally:
        for name in RUN_LOGGERS:
            logging.getLogger(name).removeHandler(kept)
    assert state.is_failed()
    assert "请先发布征集公告" in (state.message or "")
    refusals = [r for r in kept.records if r.getMessage().startswith(REFUSED)]
    assert {r.name for r in refusals} == {"prefect.flow_runs"}  # the flow's, once
    # the task's own line: Prefect's one-line "Finished in state Failed(…)" (a task with a retry
    # condition is not logged with its exception) or our refusal line, never a traceback
    told = [r for r in kept.records if r.name == "prefect.task_runs" and "请先发布征集公告" in r.getMessage()]
    assert len(told) == 1
    for record in refusals:
        assert "请先发布征集公告" in record.getMessage() and "\n" not in record.getMessage()
    assert not [r for r in kept.records if r.exc_info or r.exc_text]


def _record(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "prefect.task_runs",
        logging.ERROR,
        __file__,
        1,
        "Task run failed with exception: %r",
        (error,),
        exc_info,
    )


def test_the_filter_rewrites_a_grantflow_error_and_keeps_a_bug_s_traceback() -> None:
    problems = [
        Problem("a.xlsx", "申请金额", "超过上限", "over the cap"),
        Problem("a.xlsx", "", "空行", "empty"),
    ]
    refusal = _record(InputError(problems))
    assert RefusalWithoutTraceback().filter(refusal)
    assert refusal.exc_info is None and refusal.getMessage() == (
        f"{REFUSED} a.xlsx: 申请金额: 超过上限 / over the cap；a.xlsx: 空行 / empty"
    )
    bug = _record(ValueError("a bug"))
    assert RefusalWithoutTraceback().filter(bug)
    assert bug.exc_info is not None and bug.getMessage().startswith("Task run failed with exception")
