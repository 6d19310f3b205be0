"""首页: the competitions, and for the one chosen its timeline, next step, figures and what needs her.

    GET /admin             → the newest competition's 首页 (or how to create a first one)
    GET /admin/c/{slug}    the 首页

Every figure comes from ``models.overview`` (one function each); the next step is
``models.timeline.next_step_of``, the same answer the lifecycle flow acts on. A figure links to
the list behind it when that list's page exists: the applications' counts to 申报一览 filtered
the same way (``models.roster``: one query for the count and the list); the others to the page
registered under their ``Nav`` key (the outbox, the experts and supervisors), once it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from fastapi.responses import Response
from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import local_date
from models.overview import Attention, StageRow, counts, needs_attention, stage_timeline
from models.stage_order import RUNS
from models.timeline import Decision, Step, next_step_of
from portal.admin.console import Call, Console, Nav
from portal.admin.steps import STEPS, available_from

NAV = Nav("home", "", 10)
# what the next step is on the command line (beside the console's own button)
STEP_COMMANDS = {
    Step.publish_call: "grantflow call publish",
    Step.screening: "grantflow screening run",
    Step.open_review: "grantflow review open",
    Step.close_review: "grantflow review close",
    Step.close_publicity: "grantflow publicity close",
    Step.lapse_agreements: "grantflow grants lapse",
    Step.final_evaluation: "grantflow evaluation run",
    Step.annual_report: "grantflow evaluation annual-report",
}
# the console's page of each next step (``portal.admin.steps``: keyed by models.stage_order.StageRun)
STEP_PAGES = {
    Step.publish_call: "publish_call",
    Step.screening: "screening",
    Step.open_review: "review_open",
    Step.close_review: "review_close",
    Step.close_publicity: "publicity_close",
    Step.lapse_agreements: "grants_lapse",
    Step.final_evaluation: "final_evaluation",
    Step.annual_report: "annual_report",
}
# where each attention goes when it is not about named applications: (nav key, parameters)
ATTENTION_PAGES = {
    "letters_failed": ("outbox", {"state": "failed"}),
    "letters_held": ("outbox", {"state": "draft"}),
    "sheets_overdue": ("people", {}),
    "panel_overdue": ("people", {}),
}


@dataclass(frozen=True)
class Tile:
    key: str  # i18n: admin.count.<key>
    value: str
    href: str | None = None
    tone: str = ""  # "" | warn | alert


@dataclass(frozen=True)
class Need:
    attention: Attention
    href: str | None  # the list or page behind it, when there is one
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, note, href)


@dataclass(frozen=True)
class HomePage:
    competition: Competition
    today: date
    decision: Decision
    command: str
    step_href: str  # the next step's confirmation page ("" when there is none)
    tiles: list[Tile]
    needs: list[Need]
    timeline: list[StageRow]
    waits: Waits | None = None  # the step that waits for a date, and when it may run


@dataclass(frozen=True)
class Waits:
    key: str  # the step's page (portal.admin.steps)
    zh: str
    en: str
    when: datetime


def waiting_step(session: Session, competition: Competition, now: datetime, timezone: str) -> Waits | None:
    """The first stage that may not run yet only because its day has not come (the call's day, the
    applications' deadline, the end of the 公示): the 首页 says which and from when."""
    for key, step in STEPS.items():
        when = available_from(session, competition, step, now, timezone)
        if when is not None:
            needs = RUNS[step.run]
            return Waits(key, needs.zh, needs.en, when)
    return None


def roster_href(slug: str, **params: str) -> str:
    """The 申报一览 filtered by ``params`` — always with a parameter, so the remembered filter of
    the list never changes what a count links to."""
    return f"/admin/c/{slug}/applications?{urlencode(params or {'standing': ''})}"


def home_page(console: Console, session: Session, competition: Competition, call: Call) -> HomePage:
    timezone = call.settings.timezone
    config = competition_config(competition)
    slug = competition.slug
    now = call.now
    today = local_date(now, timezone)
    pages = {item.key: item.path for item in console.nav}

    def page_href(key: str, params: dict[str, str]) -> str | None:
        if key not in pages:
            return None
        return f"/admin/c/{slug}/{pages[key]}" + (f"?{urlencode(params)}" if params else "")

    figures = counts(session, competition.id or 0, today=today)
    tiles = [
        Tile("received", str(figures.received), roster_href(slug)),
        Tile("eligible", str(figures.eligible), roster_href(slug, standing="eligible")),
        Tile("sheets", f"{figures.sheets_in} / {figures.sheets_due}", page_href("people", {})),
        Tile("funded", str(figures.funded), roster_href(slug, standing="funded")),
        Tile("checkpoints_due", str(figures.checkpoints_due), page_href("people", {})),
        Tile(
            "checkpoints_overdue",
            str(figures.checkpoints_overdue),
            page_href("people", {}),
            "alert" if figures.checkpoints_overdue else "",
        ),
        Tile("letters_queued", str(figures.letters_queued), page_href("outbox", {"state": "queued"})),
        Tile(
            "letters_held",
            str(figures.letters_held),
            page_href("outbox", {"state": "draft"}),
            "warn" if figures.letters_held else "",
        ),
        Tile(
            "letters_failed",
            str(figures.letters_failed),
            page_href("outbox", {"state": "failed"}),
            "alert" if figures.letters_failed else "",
        ),
    ]
    needs = []
    for attention in needs_attention(session, competition, config, now=now, timezone=timezone):
        items = [
            (item.ref, item.note, f"/admin/c/{slug}/applications/{item.application_id}")
            for item in attention.items
        ]
        target = ATTENTION_PAGES.get(attention.key)
        href = page_href(*target) if target else None
        if href is None and len(items) == 1:
            href = items[0][2]
        needs.append(Need(attention, href, items))
    decision = next_step_of(session, competition, now=now, timezone=timezone)
    return HomePage(
        competition=competition,
        today=today,
        decision=decision,
        command=(f"{STEP_COMMANDS[decision.step]} --competition {slug}" if decision.step is not None else ""),
        step_href=(f"/admin/c/{slug}/steps/{STEP_PAGES[decision.step]}" if decision.step is not None else ""),
        tiles=tiles,
        needs=needs,
        timeline=stage_timeline(session, competition, config, timezone=timezone),
        waits=waiting_step(session, competition, now, timezone) if decision.step is None else None,
    )


def register(console: Console) -> None:
    @console.page("/admin")
    def start(call: Call) -> Response:
        competitions = console.competitions()
        if competitions:
            return call.redirect(f"/admin/c/{competitions[0].slug}")
        return call.render("admin/empty.html", {})

    @console.page("/admin/c/{slug}", nav=NAV)
    def home(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            page = home_page(console, session, competition, call)
        return call.render("admin/home.html", {"home": page}, competition=competition)
