"""A grantflow error raised in a run is a refusal, not a crash: logged in one line, no traceback.

Prefect's engine logs every exception that ends a task or flow run with its traceback ("Task run
failed with exception: …", "Encountered exception during execution: …"), then marks the run Failed
with the exception's message. For a ``GrantflowError`` — the screening asked for before the
deadline, a signing date in the future, a stage out of order — the message is the whole story:
this filter, on the run loggers (``prefect.task_runs``, ``prefect.flow_runs``), rewrites such a
record to ``拒绝 / refused: <the message on one line>`` and drops its traceback, for every handler
(the console, the API and so the Prefect UI). Any other exception keeps its traceback: it is a bug.

Installed once per process when ``flows`` is imported (``install``); the filter stays when Prefect
configures logging afterwards (``dictConfig`` replaces a logger's handlers, never its filters).
"""

from __future__ import annotations

import logging

from models.errors import GrantflowError

RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
REFUSED = "拒绝 / refused:"


def refusal_of(record: logging.LogRecord) -> GrantflowError | None:
    """The grantflow error a record reports with its traceback, if that is what it does."""
    exc_info = record.exc_info
    if not exc_info or exc_info is True:
        return None
    error = exc_info[1]
    return error if isinstance(error, GrantflowError) else None


def one_line(error: GrantflowError) -> str:
    return "；".join(part.strip() for part in str(error).splitlines() if part.strip())


class RefusalWithoutTraceback(logging.Filter):
    """Rewrite the record of a run refused by a grantflow error; let every other record pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = refusal_of(record)
        if error is not None:
            record.msg = f"{REFUSED} {one_line(error)}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.refusal = True
        return True


def install() -> None:
    """Put the filter on the run loggers, once."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RefusalWithoutTraceback) for f in logger.filters):
            logger.addFilter(RefusalWithoutTraceback())
