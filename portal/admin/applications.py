"""申报一览: every application of a competition, filtered, sorted and paged by the database.

    GET /admin/c/{slug}/applications        the list (``models.roster.RosterQuery`` from the query)
    GET /admin/c/{slug}/applications.xlsx   the same view, every page of it, as Excel (audited)

The filter form, the sort headers and the pager are plain links and a GET form (they work without
JavaScript); with htmx they replace only the list (``#roster``) and keep the address in step. The
last view asked for is remembered per competition in a cookie (path /admin): opening the list
without any parameter shows it again; "清除筛选" forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi.responses import Response

from models.accounts.roles import Power
from models.competition.config import CompetitionConfig
from models.competition.tables import competition_config
from models.roster import PAGE_SIZES, RosterPage, RosterQuery, roster_page, write_roster_xlsx
from models.states import STATE_LABELS, ApplicationState
from portal.admin.console import Call, Console, Nav

NAV = Nav("applications", "applications", 20)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (  # (column key, sort key or ""); the organisation under the title, the category under the pool
    ("ref", "ref"),
    ("title", "title"),
    ("pool", ""),
    ("community", "community"),
    ("amount", "amount"),
    ("state", "state"),
    ("rank", "rank"),
    ("granted", "granted"),
)


def remembered_cookie(slug: str) -> str:
    return f"gf_roster_{slug}"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ListPage:
    slug: str
    roster: RosterPage
    standings: list[Choice]
    pools: list[Choice]
    categories: list[Choice]
    communities: list[str]
    per_page: tuple[int, ...]
    remembered: bool
    pool_names: dict[str, str]
    category_names: dict[str, str]

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return COLUMNS

    def href(self, **changes: Any) -> str:
        """This view with ``changes`` (a new sort goes back to the first page)."""
        params = self.roster.query.params(**changes)
        return f"/admin/c/{self.slug}/applications?{urlencode(params or {'standing': ''})}"

    def sort_href(self, key: str) -> str:
        query = self.roster.query
        descending = not query.descending if query.sort == key else False
        return self.href(sort=key, descending=descending, page=1)

    @property
    def export_href(self) -> str:
        params = self.roster.query.params(page=1)
        return f"/admin/c/{self.slug}/applications.xlsx" + (f"?{urlencode(params)}" if params else "")


def _choices(config: CompetitionConfig) -> dict[str, Any]:
    return {
        "standings": [Choice(s.value, STATE_LABELS.get(s, s.value)) for s in ApplicationState],
        "pools": [Choice(p.code, p.name) for p in config.pools],
        "categories": [Choice(c.code, c.name) for c in config.categories],
        "communities": list(config.communities),
        "pool_names": {p.code: p.name for p in config.pools},
        "category_names": {c.code: c.name for c in config.categories},
    }


def register(console: Console) -> None:
    @console.page("/admin/c/{slug}/applications", nav=NAV)
    def applications(call: Call) -> Response:
        slug = call.param("slug")
        cookie = remembered_cookie(slug)
        params = dict(call.request.query_params)
        remembered = False
        if "clear" in params:
            params = {}
        elif not params and call.request.cookies.get(cookie):
            params = dict(parse_qsl(call.request.cookies[cookie]))
            remembered = bool(params)
        query = RosterQuery.from_params(params)
        with call.session() as session:
            competition = call.competition(session)
            config = competition_config(competition)
            roster = roster_page(session, competition_id=competition.id or 0, query=query)
        page = ListPage(
            slug=slug,
            roster=roster,
            per_page=PAGE_SIZES,
            remembered=remembered,
            **_choices(config),
        )
        response = call.render("admin/applications.html", {"list": page}, competition=competition)
        if call.request.headers.get("HX-Request") == "true":
            response.headers["HX-Push-Url"] = page.href()  # the address of the view, without empty fields
        if "clear" in call.request.query_params:
            response.delete_cookie(cookie, path="/admin")
        else:
            response.set_cookie(
                cookie,
                urlencode(roster.query.params()),
                max_age=180 * 86400,
                httponly=True,
                samesite="lax",
                secure=console.secure(call.request),
                path="/admin",
            )
        return response

    @console.page("/admin/c/{slug}/applications.xlsx", power=Power.download)
    def export(call: Call) -> Response:
        query = RosterQuery.from_params(dict(call.request.query_params))
        with call.session() as session:
            competition = call.competition(session)
            data, count = write_roster_xlsx(
                session,
                competition_id=competition.id or 0,
                query=query,
                config=competition_config(competition),
                timezone=call.settings.timezone,
            )
            call.audit(
                session,
                entity="competition",
                entity_id=competition.id or 0,
                action="export",
                reason=f"申报一览导出 {count} 项 / the applications' list exported, {count} rows",
                data={"query": query.params(page=1)},
            )
        name = f"{competition.slug}-{call.now:%Y%m%d-%H%M}.xlsx"
        disposition = (
            f"attachment; filename=\"applications-{name}\"; filename*=UTF-8''{quote('申报一览-' + name)}"
        )
        response = Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})
        return console.site.finish(call.request, response)
