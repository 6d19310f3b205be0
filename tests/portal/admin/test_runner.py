"""A deployment's run that did not complete, as the console's run page says it: a refusal raised by
the flow on the worker is its own first sentence (as when the run is here), anything else one line
naming the server's run. The failed states are made by Prefect's own ``exception_to_failed_state``,
as the flow engine on the worker makes them."""

from __future__ import annotations

import asyncio

from models.errors import GrantflowError, InputError, Problem, StateChanged
from portal.admin.runner import ServerRunFailed, server_failure


def failed_message(exc: BaseException) -> str:
    from prefect.states import exception_to_failed_state

    state = asyncio.run(exception_to_failed_state(exc, message="Flow run encountered an exception:"))
    return state.message or ""


def test_server_failure_of_a_refusal_on_the_worker_is_its_first_sentence() -> None:
    refused = InputError(
        Problem("jiangtou-2025", "deadlines", "申报截止时间已过，不能再发布征集公告", "too late to publish")
    )
    turned = server_failure("jiangtou-2025 · 征集公告 call", "Failed", failed_message(refused))
    assert type(turned) is GrantflowError
    assert str(turned) == str(refused).splitlines()[0]
    assert "exception" not in str(turned) and "InputError" not in str(turned)


def test_server_failure_of_a_subclass_refusal_keeps_only_its_sentence() -> None:
    changed = StateChanged("competition", 1, "draft", "call_open", "call_open")
    turned = server_failure("run", "Failed", failed_message(changed))
    assert isinstance(turned, GrantflowError) and str(turned) == str(changed)


def test_server_failure_of_a_bug_or_a_crash_names_the_run_and_its_state() -> None:
    bug = server_failure("quiet-fox", "Failed", failed_message(KeyError("stage")))
    assert isinstance(bug, ServerRunFailed) and not isinstance(bug, GrantflowError)
    assert str(bug).startswith("服务器上的运行 quiet-fox 未成功（Failed）") and "\n" not in str(bug)
    crashed = server_failure(
        "quiet-fox", "Crashed", "Flow run infrastructure exited with non-zero status code 1."
    )
    assert isinstance(crashed, ServerRunFailed) and "Crashed" in str(crashed)
    assert "—" in str(server_failure("quiet-fox", "Cancelled", ""))
