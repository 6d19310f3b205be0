"""A stage's flow, run in this process as the administrator's command runs it.

- **Before the flow starts** (``ready``), the command asks what the flow's first task asks: may the
  competition's stage take this run (``models.stage_order``), and the stage's own precondition
  where it has one (the screening's deadline, a signing date). A refusal is then one line on
  stderr and exit code 1, without starting Prefect's temporary server.
- **While the flow runs** (``run_flow``), Prefect's console shows the run's warnings only: its
  progress is in the run's log on the Prefect server (the UI). A run that ends in an error is
  reported by the command itself, in one line (``cli.main.report_error``): Prefect's console
  prints neither the exception (a refusal is already logged without its traceback,
  ``flows.refusals``) nor the "Finished in state Failed" lines that follow it. A level set for
  Prefect's console (``PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=INFO``) is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.options import pick

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.competition.tables import Competition
    from models.stage_order import StageRun

# how Prefect's engine words the state a run ended in (task_engine.py / flow_engine.py)
FINISHED = "Finished in state "


class CommandConsole(logging.Filter):
    """Prefect's console under a command: warnings and above, never a failed run's report."""

    def __init__(self, floor: int) -> None:
        super().__init__()
        self.floor = floor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or getattr(record, "refusal", False):
            return False  # the command says it, in one line
        if record.levelno >= logging.ERROR and record.getMessage().startswith(FINISHED):
            return False
        return record.levelno >= self.floor


def quiet_console(floor: int = logging.WARNING) -> None:
    """Put ``CommandConsole`` on Prefect's console handlers (once). ``floor``: the lowest level
    shown unless Prefect's console has its own (``grantflow demo`` shows the runs' progress, INFO)."""
    import prefect.main  # noqa: F401  (sets Prefect's logging up, as importing a flow does)
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(
            isinstance(f, CommandConsole) for f in handler.filters
        ):
            handler.addFilter(CommandConsole(floor if handler.level == logging.NOTSET else handler.level))


def ready(
    slug: str | None, run: StageRun, check: Callable[[Session, Competition], None] | None = None
) -> str:
    """The competition's slug once it may take ``run`` — the stage, then ``check`` (the stage's
    own precondition, the one its task calls, read-only); refused in one line otherwise."""
    from models.db import session_scope
    from models.stage_order import require_stage

    with session_scope() as session:
        competition = pick(session, slug)
        require_stage(run, slug=competition.slug, stage=competition.stage)
        if check is not None:
            check(session, competition)
        return competition.slug


def run_flow(flow: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a stage flow here (an async one to its end) with Prefect's console quiet; its result.

    When the stage's letters could not all go (the SMTP server away: they wait for a retry; or
    refused), one line on stderr says how many and when the next attempt is (stdout stays the
    command's own, ``--json`` too)."""
    quiet_console()
    result = flow(*args, **kwargs)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    _say_undelivered(result)
    return result


def _say_undelivered(result: Any) -> None:
    from cli.console import line
    from cli.delivery import delivery_summary
    from models.settings import get_settings

    found = result if isinstance(result, dict) else {}
    inner = found.get("result")  # the lifecycle's advance: the step it took, and that step's result
    delivery = found.get("delivery") or (inner.get("delivery") if isinstance(inner, dict) else None)
    if not isinstance(delivery, dict) or not (delivery.get("waiting") or delivery.get("failed")):
        return
    summary = delivery_summary(delivery, get_settings().timezone)
    line(f"信件 / letters: {summary} — grantflow outbox list / send", err=True)
