"""Sample grantees and supervisors for the demo: over real HTTP, through the real portal, the way a
person with a phone would — GET the page, read the form (CSRF field, rubric inputs with their
maximum, budget lines), POST the grantee's progress report with a sign-in sheet, then the
supervisor's record with a photo. Evidence images are drawn here (Pillow), a new one per project.

What they type is the project's data in examples/jiangtou-2025/year.yaml (``cli.demo.example.year``):
the activities held, the people served, the spending per budget line, the supervisor's points per
rubric criterion and findings. The portal's clock is set to the day each form is sent (the report's
day, then the visit's), never later than the step's moment; whether a checkpoint passes follows
from the points.
"""

from __future__ import annotations

import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import httpx
from PIL import Image, ImageDraw
from sqlalchemy.engine import Engine
from sqlmodel import select

from cli.demo.example.year import Record, Report, SampleYear, Visit, load_year
from cli.demo.people.portal import SampleClock, page_text, rebased, refuse_unavailable, running_portal
from models.db import session_scope
from models.settings import Settings
from models.states import CheckpointState
from models.supervision.links import report_link, supervise_link
from models.supervision.plan import grant_parts, project_plan
from models.supervision.records import COMMENT, POINTS
from models.supervision.schedule import checkpoints_of
from models.supervision.tables import Checkpoint
from portal.csrf import FIELD as CSRF_FIELD

BEIJING = ZoneInfo("Asia/Shanghai")
REPORT_TIME = time(10, 0)  # a grantee sends the report in the morning
RECORD_TIME = time(16, 30)  # a supervisor files the record after the visit


@dataclass(frozen=True)
class CheckpointLinks:
    checkpoint_id: int
    grant_id: int
    ref: str
    title: str
    code: str
    round: int
    supervise_url: str
    report_url: str
    budget: tuple[tuple[int, str, int], ...] = ()  # the budget lines: id, item, amount in fen


@dataclass
class DemoReport:
    reports: int = 0
    records: int = 0
    uploads: int = 0
    verdicts: dict[int, Decimal] = field(default_factory=dict)  # checkpoint id -> the record's points


class _FormReader(HTMLParser):
    """The CSRF field and each spending field of the page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf = ""
        self.spending: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if name == CSRF_FIELD and not self.csrf:
            self.csrf = values.get("value", "")
        elif name.startswith("spent_"):
            self.spending.append(name)


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    if not reader.csrf:
        raise ValueError("the page holds no open form / 页面上没有可填写的表单")
    return reader


def sign_in_sheet(title: str, rows: int = 12) -> bytes:
    """A PNG that looks like a scanned 签到表: a header band and ruled rows."""
    image = Image.new("L", (900, 1200), 250)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 860, 140), outline=30, width=4)
    draw.text((60, 70), title.encode("ascii", "ignore").decode() or "sign-in", fill=20)
    for row in range(rows):
        y = 180 + row * 80
        draw.line((40, y, 860, y), fill=60, width=2)
        draw.text((60, y + 25), f"{row + 1:02d}", fill=40)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def activity_photo(seed: str) -> bytes:
    """A JPEG 'photo' (coloured shapes) with a camera's EXIF, which the portal strips."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1600, 1200), tuple(rng.randrange(120, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = rng.randrange(1500), rng.randrange(1100)
        draw.ellipse(
            (x, y, x + rng.randrange(40, 200), y + rng.randrange(40, 200)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    exif = Image.Exif()
    exif[0x010F] = "DemoPhone"
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def open_checkpoint_links(
    engine: Engine, *, competition_id: int, settings: Settings
) -> list[CheckpointLinks]:
    """The two personal links of every open checkpoint, with its project and budget lines, by 申报编号."""
    with session_scope(engine) as session:
        found = []
        for checkpoint in checkpoints_of(
            session, competition_id=competition_id, states=frozenset({CheckpointState.open})
        ):
            _, application, _ = grant_parts(session, checkpoint.grant_id)
            plan = project_plan(session, grant_id=checkpoint.grant_id)
            found.append(
                CheckpointLinks(
                    checkpoint.id or 0,
                    checkpoint.grant_id,
                    application.ref,
                    application.title,
                    checkpoint.code,
                    checkpoint.round,
                    supervise_link(checkpoint, settings),
                    report_link(checkpoint, settings),
                    tuple((line.budget_line_id, line.item, line.amount_fen) for line in plan.budget),
                )
            )
        return sorted(found, key=lambda c: (c.ref, c.round))


def _post(
    client: httpx.Client, url: str, fields: Mapping[str, str], files: list[tuple[str, tuple[str, bytes, str]]]
) -> None:
    answer = client.post(url, data=dict(fields), files=files)
    refuse_unavailable(answer)
    if answer.status_code != 303:
        raise RuntimeError(
            f"the portal refused a sample form ({answer.status_code}) / 门户拒绝了示例表单: {url}"
        )


def spending_by_line(budget: Sequence[tuple[int, str, int]], spent: Mapping[str, int]) -> dict[int, int]:
    """Spending per budget item (yuan) onto the form's lines (id → yuan): lines sharing an item are
    filled in order, each up to its amount, the last taking the rest."""
    left = dict(spent)
    by_line: dict[int, int] = {}
    for index, (line_id, item, amount_fen) in enumerate(budget):
        later = any(other == item for _, other, _ in budget[index + 1 :])
        take = min(left.get(item, 0), amount_fen // 100) if later else left.get(item, 0)
        by_line[line_id] = take
        left[item] = left.get(item, 0) - take
    return by_line


def report_fields(report: Report, budget: Sequence[tuple[int, str, int]]) -> dict[str, str]:
    """The grantee's form as the portal posts it."""
    fields = {
        "action": "submit",
        "person_times": str(report.person_times),
        "beneficiaries": str(report.beneficiaries),
        "problems": report.problems,
        "changes": report.changes,
    }
    for number, held in enumerate(report.activities, start=1):
        fields |= {
            f"act_date_{number}": held.day.isoformat(),
            f"act_name_{number}": held.name,
            f"act_sessions_{number}": str(held.sessions),
            f"act_people_{number}": str(held.people),
        }
    fields |= {f"spent_{line}": str(yuan) for line, yuan in spending_by_line(budget, report.spent).items()}
    return fields


def record_fields(record: Record, report: Report) -> dict[str, str]:
    """The supervisor's form: the report's counts as verified, the points and the findings."""
    fields = {
        "action": "submit",
        "visit_date": record.visit.isoformat(),
        "visit_mode": record.mode,
        "activities_held": str(report.sessions),
        "person_times": str(report.person_times),
        "beneficiaries": str(report.beneficiaries),
        "spent": str(report.spent_yuan),
        "findings": record.findings,
        "rectify": record.rectify,
    }
    fields |= {POINTS + code: str(points) for code, points in record.points.items()}
    fields |= {COMMENT + code: text for code, text in record.comments.items()}
    return fields


def _at(day: date, moment: time, latest: datetime, what: str) -> datetime:
    at = datetime.combine(day, moment, tzinfo=BEIJING)
    if at > latest:
        raise ValueError(
            f"{what}: {day} 晚于演示此步的时间 {latest:%Y-%m-%d} / {day} is after this step of the demo "
            f"({latest:%Y-%m-%d}); change examples/jiangtou-2025/year.yaml"
        )
    return at


def fill_checkpoints(
    links: Sequence[CheckpointLinks],
    *,
    year: SampleYear,
    clock: SampleClock,
    latest: datetime,
    base_url: str | None = None,
    timeout: float = 60,
) -> DemoReport:
    """For each checkpoint, from the year's data: the grantee's report with a 签到表 on its day, then
    the supervisor's record with a photo on the day of the visit (the portal's clock set to each)."""
    report = DemoReport()
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for link in links:
            visit: Visit | None = year.project(link.title).visit(link.code, link.round)
            if visit is None:
                raise ValueError(
                    f"year.yaml: “{link.title}”没有 {link.code} 第{link.round}轮的数据 / "
                    f"no data for {link.title!r}, checkpoint {link.code} round {link.round}"
                )
            where = f"{link.title} {link.code}#{link.round}"
            clock.set(_at(visit.report.submitted, REPORT_TIME, latest, f"{where} report"))
            url = rebased(link.report_url, base_url)
            form = _read(page_text(client.get(url)))
            fields = {CSRF_FIELD: form.csrf, **report_fields(visit.report, link.budget)}
            sheet = (f"签到表-{link.ref}.png", sign_in_sheet(link.ref), "image/png")
            _post(client, url, fields, [("evidence_sign_in", sheet)])
            report.reports += 1
            report.uploads += 1

            clock.set(_at(visit.record.visit, RECORD_TIME, latest, f"{where} visit"))
            url = rebased(link.supervise_url, base_url)
            form = _read(page_text(client.get(url)))
            fields = {CSRF_FIELD: form.csrf, **record_fields(visit.record, visit.report)}
            photo = (f"现场照片-{link.ref}.jpg", activity_photo(f"{link.ref}:{link.round}"), "image/jpeg")
            _post(client, url, fields, [("evidence_photo", photo)])
            report.records += 1
            report.uploads += 1
            report.verdicts[link.checkpoint_id] = sum(visit.record.points.values(), Decimal(0))
    clock.set(latest)
    return report


def recheck_links(engine: Engine, *, competition_id: int, settings: Settings) -> list[CheckpointLinks]:
    """The open re-checks (round 2) only."""
    return [
        c
        for c in open_checkpoint_links(engine, competition_id=competition_id, settings=settings)
        if c.round > 1
    ]


def first_round_links(engine: Engine, *, competition_id: int, settings: Settings) -> list[CheckpointLinks]:
    with session_scope(engine) as session:
        open_ids = {
            c.id
            for c in session.exec(
                select(Checkpoint).where(Checkpoint.state == CheckpointState.open, Checkpoint.round == 1)
            )
        }
    return [
        c
        for c in open_checkpoint_links(engine, competition_id=competition_id, settings=settings)
        if c.checkpoint_id in open_ids
    ]


def fill_from_year(competition_id: int, *, recheck: bool, at: datetime) -> DemoReport:
    """The competition's open checkpoints — first rounds, or the 整改 re-checks — filled from the
    example year's data through a portal served for the purpose, each form on its own day, none
    after ``at``."""
    from models.competition.tables import Competition, competition_config
    from models.db import default_engine
    from models.settings import get_settings

    settings = get_settings()
    with session_scope() as session:
        competition = session.get(Competition, competition_id)
        assert competition is not None
        year = load_year(config=competition_config(competition))
    choose = recheck_links if recheck else first_round_links
    links = choose(default_engine(), competition_id=competition_id, settings=settings)
    clock = SampleClock(at)
    with running_portal(settings, clock=clock.now) as base_url:
        return fill_checkpoints(links, year=year, clock=clock, latest=at, base_url=base_url)
