"""网上申报 The applicants' web form: one application typed in the portal, stored like a file's row.

The portal turns the posted form into a ``RawRow`` whose ``where`` is ``WEB_FORM`` (budget lines:
``budget_line_where(n)``); from there it is the intake of a file with one row: the same
``validate_row``, the same duplicate rule (organisation and title), the same ``store_application``
(audited), and the 受理回执 queued by ``queue_receipts`` (the letter leaves with the next delivery).
The web form only takes applications while the competition is 征集中 (``call_open``) and until
``deadlines.applications_close``; there is no late override on the web, that stays with the
administrator's import. The caller owns the transaction: commit, or roll back to store nothing.

    Conflict
    ├── ApplicationsClosed     the competition takes no applications (stage, or deadline passed)
    └── DuplicateApplication   the organisation applied with this title already (its 申报编号)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.db import lock_refs
from models.documents.engine.cn_format import cn_moment, local_date
from models.errors import Conflict, InputError, NotFound
from models.intake.fields import RawRow
from models.intake.imports import find_duplicate, store_application
from models.intake.notices import queue_receipts
from models.intake.tables import Application
from models.intake.validation import validate_row
from models.settings import Settings
from models.states import CompetitionStage

WEB_FORM = "网上申报 / web form"


def budget_line_where(number: int) -> str:
    """Where a budget line of the web form is: ``网上申报 / web form：预算明细第2行 (budget line 2)``."""
    return f"{WEB_FORM}：预算明细第{number}行 (budget line {number})"


def activity_line_where(number: int) -> str:
    """Where a 活动安排 row of the web form is: ``网上申报 / web form：活动安排第2项 (activity 2)``."""
    return f"{WEB_FORM}：活动安排第{number}项 (activity {number})"


class ApplicationsClosed(Conflict):
    """The competition takes no applications now: ``reason`` is ``not_open`` or ``deadline``."""

    def __init__(self, reason: str, zh: str, en: str) -> None:
        self.reason = reason
        super().__init__(f"{zh} / {en}")


class DuplicateApplication(Conflict):
    """The same organisation has applied with the same project title: nothing new is stored."""

    def __init__(self, ref: str, title: str) -> None:
        self.ref, self.title = ref, title
        super().__init__(
            f"该单位已申报过“{title}”（申报编号 {ref}），无需重复提交 / "
            f"this organisation has applied with {title!r} already (reference {ref}); "
            "it was not submitted twice"
        )


def ensure_accepting(competition: Competition, *, now: datetime, timezone: str) -> None:
    """Return quietly while the call is open and the deadline not passed; else ``ApplicationsClosed``."""
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone / 时间须带时区")
    close = competition_config(competition).deadlines.applications_close
    if competition.stage is not CompetitionStage.call_open:
        raise ApplicationsClosed(
            "not_open",
            f"“{competition.name}”当前不在征集期，暂不受理网上申报",
            f"{competition.name} is not taking applications at present",
        )
    if now > close:
        local = close.astimezone(ZoneInfo(timezone))
        raise ApplicationsClosed(
            "deadline",
            f"申报已于 {cn_moment(close, timezone)} 截止，不再受理",
            f"applications closed on {local:%Y-%m-%d %H:%M} ({timezone})",
        )


def submit_web_application(
    session: Session, *, competition_id: int, row: RawRow, now: datetime, actor: str, settings: Settings
) -> Application:
    """Validate and store one application from the web form, and queue its 受理回执; the caller commits.

    Raises ``ApplicationsClosed`` (closed or late), ``InputError`` listing every problem (as for a
    file's row; also a 申报编号 taken by another application), ``DuplicateApplication`` when the
    organisation applied with this title already. Nothing is stored in any of these cases.
    """
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    ensure_accepting(competition, now=now, timezone=settings.timezone)
    data = validate_row(row, config=competition_config(competition), today=local_date(now, settings.timezone))
    lock_refs(session, competition_id)  # the duplicate check and the next 申报编号, one post at a time
    existing, clash = find_duplicate(session, competition_id=competition_id, data=data)
    if clash is not None:
        raise InputError(clash)
    if existing is not None:
        raise DuplicateApplication(existing.ref, existing.title)
    application = store_application(session, competition=competition, data=data, actor=actor, now=now)
    queue_receipts(
        session,
        competition=competition,
        issue_date=local_date(now, settings.timezone),
        settings=settings,
    )
    return application
