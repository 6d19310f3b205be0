"""Tasks of the intake: import one file (one transaction), receipts, refusal letters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task

from models.competition.tables import Competition
from models.db import lock_competition, session_scope
from models.documents.engine.cn_format import local_date
from models.errors import InputError, NotFound
from models.intake.imports import import_applications
from models.intake.notices import queue_receipts, queue_refusals, report_summary
from models.settings import get_settings
from tasks.database_faults import ON_DATABASE_FAULT


@task(name="import-applications", **ON_DATABASE_FAULT)
def import_file(
    competition_id: int, path: str, as_of: datetime, actor: str, override_reason: str | None = None
) -> dict[str, Any]:
    """Import one file in one transaction; returns what it did (see ``report_summary``).

    A file that cannot be read, or arrives after the deadline without a reason, is reported with
    its ``error`` and imports nothing; the other files of the run go on. So is a file that meets an
    error nobody foresaw (a bug): its transaction is rolled back, the error is logged with its
    traceback, and the receipts for what the other files stored are still queued.
    """
    logger = get_run_logger()
    try:
        with session_scope() as session:
            lock_competition(session, competition_id)
            report = import_applications(
                session,
                competition_id=competition_id,
                path=path,
                actor=actor,
                now=as_of,
                override_reason=override_reason,
            )
            summary = report_summary(session, report)
    except (InputError, NotFound) as exc:
        logger.warning("%s", exc)
        return _failed(path, str(exc))
    except Exception as exc:  # one file's bug must not take the run, or the others' receipts, with it
        logger.exception("importing %s failed", path)
        name = Path(path).name
        return _failed(
            path,
            f"{name}: 导入时发生意外错误，该文件未导入任何内容（程序缺陷，请报告）/ an unexpected error "
            "stopped this file, nothing of it was stored (a bug, please report it): "
            f"{type(exc).__name__}: {exc}",
        )
    logger.info(
        "%s：受理 %d，重复 %d，未受理 %d / accepted %d, duplicates %d, refused %d",
        summary["file"],
        *(len(summary[k]) for k in ("accepted", "duplicates", "refused")),
        *(len(summary[k]) for k in ("accepted", "duplicates", "refused")),
    )
    return summary


def _failed(path: str, error: str) -> dict[str, Any]:
    return {
        "file": path,
        "late": False,
        "accepted": [],
        "duplicates": [],
        "refused": [],
        "held": [],
        "notices": [],
        "error": error,
    }


@task(name="queue-receipts", **ON_DATABASE_FAULT)
def queue_receipts_task(competition_id: int, as_of: datetime) -> list[int]:
    """A 受理回执 and its letter for every application without one; returns the letter ids."""
    settings = get_settings()
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        letters = queue_receipts(
            session,
            competition=competition,
            issue_date=local_date(as_of, settings.timezone),
            settings=settings,
        )
        return [letter.id for letter in letters if letter.id is not None]


@task(name="queue-refusals", **ON_DATABASE_FAULT)
def queue_refusals_task(
    competition_id: int, refused: list[dict[str, Any]], as_of: datetime | None = None
) -> list[int]:
    """A 申报未受理 letter for each refused row with a usable address (dated ``as_of``); returns
    the letter ids."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        letters = queue_refusals(session, competition=competition, refused=refused, settings=get_settings())
        return [letter.id for letter in letters if letter.id is not None]
