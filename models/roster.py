"""申报一览: a competition's applications filtered, sorted and paged by the database, and the same
view as an Excel workbook. The console's list and its 首页 counts read it, so a count and the list
it links to are one query.

A ``RosterQuery`` is what the administrator chose: a standing (a state, or the groups ``eligible``
— past screening, as the 年度总结报告 counts it — and ``funded`` — a grant exists), pool,
category, main community, part of the organisation's name, a text found in the 申报编号, title,
organisation or contact, a sort column and a page. One SELECT joins each application with its
organisation, its review result (score, rank) and its grant (the amount granted); a second counts.
No query per row, whatever the number of applications.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.competition.config import CompetitionConfig
from models.evaluation.annual import NOT_ELIGIBLE
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.paging import Paged, like, number, search_text, within
from models.review.tables import ReviewResult
from models.states import STATE_LABELS, ApplicationState

PAGE_SIZES = (25, 50, 100, 200)
GROUPS = ("eligible", "funded")  # standings that are groups of states
SORTS = ("ref", "title", "organisation", "community", "amount", "rank", "granted", "state", "submitted")
NULLABLE_SORTS = frozenset({"rank", "granted"})  # a score or a grant not there yet
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class RosterQuery:
    standing: str = ""  # "" | eligible | funded | an ApplicationState value
    pool: str = ""
    category: str = ""
    community: str = ""
    organisation: str = ""  # part of the organisation's name
    text: str = ""  # part of the 申报编号, title, organisation or contact
    sort: str = "ref"
    descending: bool = False
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RosterQuery:
        """The query a page's parameters ask for; anything unknown falls back to its default."""

        def text(name: str) -> str:
            return search_text(params, name)

        standing = text("standing")
        if standing not in GROUPS and standing not in ApplicationState.__members__:
            standing = ""
        sort = text("sort")
        page, per_page = number(params.get("page"), 1, digits=6), number(params.get("per_page"), 50)
        return cls(
            standing=standing,
            pool=text("pool"),
            category=text("category"),
            community=text("community"),
            organisation=text("organisation"),
            text=text("q"),
            sort=sort if sort in SORTS else "ref",
            descending=params.get("dir") == "desc",
            page=max(1, page),
            per_page=per_page if per_page in PAGE_SIZES else 50,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The page parameters of this query (with ``changes``), defaults left out."""
        query = replace(self, **changes)
        default = RosterQuery()
        names = {"text": "q", "descending": "dir"}
        out: dict[str, str] = {}
        for item in fields(self):
            value = getattr(query, item.name)
            if value == getattr(default, item.name):
                continue
            out[names.get(item.name, item.name)] = "desc" if item.name == "descending" else str(value)
        return out

    @property
    def filtered(self) -> bool:
        return any((self.standing, self.pool, self.category, self.community, self.organisation, self.text))


@dataclass(frozen=True)
class RosterRow:
    id: int
    ref: str
    title: str
    organisation: str
    pool: str
    category: str
    community: str
    amount_fen: int
    state: ApplicationState
    score: Decimal | None
    rank: int | None
    pool_rank: int | None
    granted_fen: int | None
    submitted_at: datetime
    contact_name: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, str(self.state))


@dataclass(frozen=True)
class RosterPage(Paged):
    rows: list[RosterRow]
    total: int  # rows matching the filters, on every page
    query: RosterQuery


def _conditions(competition_id: int, query: RosterQuery) -> list[Any]:
    conditions: list[Any] = [col(Application.competition_id) == competition_id]
    if query.standing == "eligible":
        conditions.append(col(Application.state).not_in([*NOT_ELIGIBLE, ApplicationState.withdrawn]))
    elif query.standing == "funded":
        conditions.append(col(Application.id).in_(select(Grant.application_id)))
    elif query.standing:
        conditions.append(col(Application.state) == ApplicationState(query.standing))
    for column, value in (
        (Application.pool, query.pool),
        (Application.category, query.category),
        (Application.community, query.community),
    ):
        if value:
            conditions.append(col(column) == value)
    if query.organisation:
        conditions.append(col(Organisation.name).ilike(like(query.organisation), escape="\\"))
    if query.text:
        pattern = like(query.text)
        conditions.append(
            sa.or_(
                *[
                    col(column).ilike(pattern, escape="\\")
                    for column in (
                        Application.ref,
                        Application.title,
                        Organisation.name,
                        Application.contact_name,
                    )
                ]
            )
        )
    return conditions


def _order(query: RosterQuery) -> list[Any]:
    columns: dict[str, Any] = {
        "ref": col(Application.ref),
        "title": col(Application.title),
        "organisation": col(Organisation.name),
        "community": col(Application.community),
        "amount": col(Application.amount_fen),
        "rank": col(ReviewResult.rank),
        "granted": col(Grant.amount_fen),
        "state": col(Application.state),
        "submitted": col(Application.submitted_at),
    }
    column = columns[query.sort]
    order = [column.desc() if query.descending else column.asc(), col(Application.id)]
    if query.sort in NULLABLE_SORTS:  # empty values last either way, the same on SQLite and PostgreSQL
        order.insert(0, sa.case((column.is_(None), 1), else_=0))
    return order


# in RosterRow's order
_COLUMNS: tuple[Any, ...] = (
    Application.id,
    Application.ref,
    Application.title,
    Organisation.name,
    Application.pool,
    Application.category,
    Application.community,
    Application.amount_fen,
    Application.state,
    ReviewResult.aggregate,
    ReviewResult.rank,
    ReviewResult.pool_rank,
    Grant.amount_fen,
    Application.submitted_at,
    Application.contact_name,
)


def _select(competition_id: int, query: RosterQuery) -> Any:
    return (
        sa.select(*[col(column) for column in _COLUMNS])
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .outerjoin(ReviewResult, col(ReviewResult.application_id) == col(Application.id))
        .outerjoin(Grant, col(Grant.application_id) == col(Application.id))
        .where(*_conditions(competition_id, query))
        .order_by(*_order(query))
    )


def _row(values: Any) -> RosterRow:
    return RosterRow(*values)


def count_applications(session: Session, *, competition_id: int, query: RosterQuery | None = None) -> int:
    """How many applications match ``query`` (all of the competition's without one)."""
    query = query or RosterQuery()
    statement = select(func.count()).select_from(Application)
    if query.organisation or query.text:  # only these read the organisation's name
        statement = statement.join(Organisation, col(Organisation.id) == col(Application.organisation_id))
    statement = statement.where(*_conditions(competition_id, query))
    return int(session.exec(statement).one())


def roster_page(session: Session, *, competition_id: int, query: RosterQuery) -> RosterPage:
    """One page of the list (a page past the last shows the last)."""
    total = count_applications(session, competition_id=competition_id, query=query)
    query = within(query, total)
    statement = _select(competition_id, query).offset((query.page - 1) * query.per_page).limit(query.per_page)
    rows = [_row(values) for values in session.execute(statement)]
    return RosterPage(rows=rows, total=total, query=query)


def roster_rows(session: Session, *, competition_id: int, query: RosterQuery) -> Iterator[RosterRow]:
    """Every row of the view (all pages), streamed in batches."""
    statement = _select(competition_id, query).execution_options(yield_per=EXPORT_BATCH)
    for values in session.execute(statement):
        yield _row(values)


# ---- the view as a workbook ----------------------------------------------------------------------

EXPORT_COLUMNS = (
    ("申报编号", 14),
    ("项目名称", 40),
    ("申报单位", 30),
    ("组别", 14),
    ("服务领域", 12),
    ("服务社区", 10),
    ("申请金额（元）", 14),
    ("状态", 14),
    ("综合得分", 10),
    ("总排名", 8),
    ("组内排名", 8),
    ("资助金额（元）", 14),
    ("联系人", 10),
    ("提交时间", 17),
)
YUAN_FORMAT = "#,##0.00"


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def write_roster_xlsx(
    session: Session, *, competition_id: int, query: RosterQuery, config: CompetitionConfig, timezone: str
) -> tuple[bytes, int]:
    """The view (every page of it) as an .xlsx, and how many rows it holds. Written in openpyxl's
    write-only mode; every text cell is a string (``=…`` typed by an applicant stays text).
    openpyxl is imported here: the pages and flows that write no workbook do not load it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    pools = {p.code: p.name for p in config.pools}
    categories = {c.code: c.name for c in config.categories}
    zone = ZoneInfo(timezone)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("申报一览")
    sheet.freeze_panes = "A2"
    for index, (_, width) in enumerate(EXPORT_COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append([header for header, _ in EXPORT_COLUMNS])

    def cell(value: Any, number_format: str | None = None) -> WriteOnlyCell:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            written.data_type = "s"  # text, never a formula
        elif number_format:
            written.number_format = number_format
        return written

    count = 0
    for row in roster_rows(session, competition_id=competition_id, query=query):
        count += 1
        sheet.append(
            [
                cell(row.ref),
                cell(row.title),
                cell(row.organisation),
                cell(pools.get(row.pool, row.pool)),
                cell(categories.get(row.category, row.category)),
                cell(row.community),
                cell(_yuan(row.amount_fen), YUAN_FORMAT),
                cell(row.state_label),
                cell(row.score, "0.00"),
                cell(row.rank),
                cell(row.pool_rank),
                cell(_yuan(row.granted_fen), YUAN_FORMAT),
                cell(row.contact_name),
                cell(
                    row.submitted_at.astimezone(zone).replace(tzinfo=None, microsecond=0), "yyyy-mm-dd hh:mm"
                ),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count
