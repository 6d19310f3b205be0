"""Sample experts for ``grantflow demo``: they open their personal links and fill every sheet over
real HTTP, through the real portal, the way a person with a browser would — GET the page, read the
form (CSRF field, each criterion's maximum and step), POST a draft now and then, then submit.

How they score is data (``experts`` in examples/jiangtou-2025/year.yaml, ``ExpertHabits``): each
application has a quality, each expert a leniency, each sheet a little noise; points land on the
criterion's step, deterministically for a seed; the comment follows the sheet's share of full marks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from html.parser import HTMLParser

import httpx
from sqlalchemy.engine import Engine

from cli.demo.example.year import ExpertHabits, load_year
from cli.demo.people.portal import page_text, rebased, refuse_unavailable, running_portal
from models.db import session_scope
from models.review.links import review_link
from models.review.reviewing import unfinished_assignments
from models.settings import Settings
from models.types import utcnow
from portal.csrf import FIELD as CSRF_FIELD
from portal.review.sheet_page import POINTS_PREFIX


@cache
def sample_habits() -> ExpertHabits:
    """How the example's sample experts score (year.yaml)."""
    return load_year().experts


@dataclass(frozen=True)
class SheetLink:
    assignment_id: int
    application_id: int
    expert_id: int
    url: str


@dataclass
class FillReport:
    submitted: int = 0
    drafts: int = 0
    totals: dict[int, Decimal] = field(default_factory=dict)  # assignment id -> total points


@dataclass
class _Form:
    csrf: str = ""
    criteria: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # code -> (max, step)


class _FormReader(HTMLParser):
    """Reads the sheet form: the CSRF field and every points input with its max and step."""

    def __init__(self) -> None:
        super().__init__()
        self.form = _Form()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if name == CSRF_FIELD and not self.form.csrf:
            self.form.csrf = values.get("value", "")
        elif name.startswith(POINTS_PREFIX):
            self.form.criteria[name.removeprefix(POINTS_PREFIX)] = (
                Decimal(values["data-max"]),
                Decimal(values["data-step"]),
            )


def read_form(html: str) -> _Form:
    reader = _FormReader()
    reader.feed(html)
    if not reader.form.csrf or not reader.form.criteria:
        raise ValueError("the page holds no open score sheet / 页面上没有可填写的评分表")
    return reader.form


def demo_points(
    criteria: dict[str, tuple[Decimal, Decimal]],
    *,
    seed: int,
    application_id: int,
    expert_id: int,
    habits: ExpertHabits | None = None,
) -> dict[str, Decimal]:
    """Points for one sheet: application quality × expert leniency × noise, on each step."""
    habits = habits or sample_habits()
    quality = random.Random(f"{seed}:application:{application_id}").uniform(*habits.quality)
    leniency = random.Random(f"{seed}:expert:{expert_id}").uniform(*habits.leniency)
    noise = random.Random(f"{seed}:sheet:{application_id}:{expert_id}")
    points = {}
    for code, (top, step) in criteria.items():
        ratio = min(1.0, max(habits.floor, quality + leniency + noise.gauss(0, habits.noise)))
        steps = (top * Decimal(str(round(ratio, 4))) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        points[code] = min(top, steps * step)
    return points


def _comment(
    points: dict[str, Decimal],
    criteria: dict[str, tuple[Decimal, Decimal]],
    rng: random.Random,
    habits: ExpertHabits,
) -> str:
    share = sum(points.values()) / sum(top for top, _ in criteria.values())
    high, mid = Decimal(str(habits.high_from)), Decimal(str(habits.mid_from))
    level = "high" if share >= high else "mid" if share >= mid else "low"
    return rng.choice(habits.comments[level])


def fill_sheets(
    links: Sequence[SheetLink], *, seed: int | None = None, base_url: str | None = None, timeout: float = 30
) -> FillReport:
    """Fill and submit every sheet behind ``links`` over HTTP (optionally on another ``base_url``)."""
    report = FillReport()
    habits = sample_habits()
    seed = habits.seed if seed is None else seed
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for link in links:
            url = rebased(link.url, base_url)
            form = read_form(page_text(client.get(url)))
            points = demo_points(
                form.criteria,
                seed=seed,
                application_id=link.application_id,
                expert_id=link.expert_id,
                habits=habits,
            )
            rng = random.Random(f"{seed}:comment:{link.assignment_id}")
            fields = {CSRF_FIELD: form.csrf, "comment": _comment(points, form.criteria, rng, habits)}
            fields |= {POINTS_PREFIX + code: str(value) for code, value in points.items()}
            if rng.random() < habits.drafts:  # some experts save a half-filled draft first
                first = dict(list(fields.items())[:3])
                _post(client, url, {**first, "action": "draft"})
                report.drafts += 1
                form = read_form(page_text(client.get(url)))
                fields[CSRF_FIELD] = form.csrf
            _post(client, url, {**fields, "action": "submit"})
            report.submitted += 1
            report.totals[link.assignment_id] = sum(points.values(), Decimal(0))
    return report


def _post(client: httpx.Client, url: str, fields: dict[str, str]) -> None:
    answer = client.post(url, data=fields)
    refuse_unavailable(answer)
    if answer.status_code != 303:
        raise RuntimeError(
            f"the portal refused a sample sheet ({answer.status_code}) / 门户拒绝了示例评分: {url}"
        )


def open_sheet_links(engine: Engine, *, competition_id: int, settings: Settings) -> list[SheetLink]:
    """The personal link of every open sheet (invited or draft, on an application in review)."""
    with session_scope(engine) as session:
        sheets = [row.assignment for row in unfinished_assignments(session, competition_id=competition_id)]
        return [SheetLink(s.id or 0, s.application_id, s.expert_id, review_link(s, settings)) for s in sheets]


def review_by_sample_experts(
    settings: Settings,
    engine: Engine,
    *,
    competition_id: int,
    seed: int | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FillReport:
    """What the demo calls: start the portal, let every expert fill every open sheet, stop it.

    ``clock`` is the portal's idea of now (the demo replays the example's 2025 timeline)."""
    links = open_sheet_links(engine, competition_id=competition_id, settings=settings)
    with running_portal(settings, clock) as base_url:
        return fill_sheets(links, seed=seed, base_url=base_url)
