"""Sample grantees and supervisors for the demo: over real HTTP, through the real portal, the way a
person with a phone would — GET the page, read the form (CSRF field, rubric inputs with their
maximum, budget lines), POST the grantee's progress report with a sign-in sheet, then the
supervisor's record with a photo. Evidence images are drawn here (Pillow), a new one per project.
Spending is a seeded share of each budget line, within the line and the grant (``spending``); the
supervisor accepts what the project reported.

Whether a project passes is the caller's choice (``verdicts``: grant id → "pass" | "fail"); the
points follow from it (85 % or 40 % of each indicator's maximum, on its step).
"""

from __future__ import annotations

import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
from PIL import Image, ImageDraw
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import session_scope
from models.settings import Settings
from models.states import CheckpointState
from models.supervision.links import report_link, supervise_link
from models.supervision.plan import grant_parts, project_plan
from models.supervision.records import POINTS
from models.supervision.schedule import checkpoints_of
from models.supervision.tables import Checkpoint
from portal.csrf import FIELD as CSRF_FIELD


@dataclass(frozen=True)
class CheckpointLinks:
    checkpoint_id: int
    grant_id: int
    ref: str
    round: int
    supervise_url: str
    report_url: str
    code: str = ""
    granted_fen: int = 0
    budget: dict[str, int] = field(default_factory=dict)  # spending field → the line's budget (fen)


@dataclass
class DemoReport:
    reports: int = 0
    records: int = 0
    uploads: int = 0
    verdicts: dict[int, str] = field(default_factory=dict)  # checkpoint id -> pass | fail


class _FormReader(HTMLParser):
    """The CSRF field, each rubric input (name → max, step) and each budget line's spending field."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf = ""
        self.points: dict[str, tuple[Decimal, Decimal]] = {}
        self.spending: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if name == CSRF_FIELD and not self.csrf:
            self.csrf = values.get("value", "")
        elif name.startswith(POINTS):
            self.points[name] = (Decimal(values.get("max", "0")), Decimal(values.get("step", "1")))
        elif name.startswith("spent_"):
            self.spending.append(name)


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    if not reader.csrf:
        raise ValueError("the page holds no open form / 页面上没有可填写的表单")
    return reader


def _rebased(url: str, base_url: str | None) -> str:
    if not base_url:
        return url
    return base_url.rstrip("/") + urlsplit(url).path


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
    """The two personal links of every open checkpoint, by 申报编号."""
    with session_scope(engine) as session:
        found = []
        for checkpoint in checkpoints_of(
            session, competition_id=competition_id, states=frozenset({CheckpointState.open})
        ):
            grant, application, _ = grant_parts(session, checkpoint.grant_id)
            plan = project_plan(session, grant_id=checkpoint.grant_id)
            found.append(
                CheckpointLinks(
                    checkpoint.id or 0,
                    checkpoint.grant_id,
                    application.ref,
                    checkpoint.round,
                    supervise_link(checkpoint, settings),
                    report_link(checkpoint, settings),
                    checkpoint.code,
                    grant.amount_fen,
                    {f"spent_{line.budget_line_id}": line.amount_fen for line in plan.budget},
                )
            )
        return sorted(found, key=lambda c: (c.ref, c.round))


def _post(
    client: httpx.Client, url: str, fields: Mapping[str, str], files: list[tuple[str, tuple[str, bytes, str]]]
) -> None:
    answer = client.post(url, data=dict(fields), files=files)
    if answer.status_code != 303:
        raise RuntimeError(
            f"the portal refused a sample form ({answer.status_code}) / 门户拒绝了示例表单: {url}"
        )


def _points(top: Decimal, step: Decimal, share: Decimal) -> str:
    return str(((top * share) / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step)


def spending(link: CheckpointLinks, fields: Sequence[str], verdict: str) -> dict[str, int]:
    """What a sample project spent on each budget line by this checkpoint (fen): a share of each
    line's budget (seeded by project and checkpoint), never above a line nor, in sum, above the
    grant — the rules the portal holds a grantee to."""
    rng = random.Random(f"{link.ref}:{link.code}:{link.round}")
    if verdict != "pass":
        share = rng.uniform(0.15, 0.25)
    elif link.code == "final":
        share = rng.uniform(0.72, 1.0)
    else:
        share = rng.uniform(0.35, 0.55)
    room = link.granted_fen or sum(link.budget.values())
    spent = {}
    for name in fields:
        amount = min(int(link.budget.get(name, 0) * share) // 100 * 100, room)  # whole yuan
        spent[name] = amount
        room -= amount
    return spent


def fill_checkpoints(
    links: Sequence[CheckpointLinks],
    *,
    verdicts: Mapping[int, str],
    visit_day: date,
    base_url: str | None = None,
    timeout: float = 60,
) -> DemoReport:
    """For each checkpoint: the grantee's report with a 签到表, then the supervisor's record with a photo.

    ``verdicts`` maps grant ids to "pass" or "fail" (default pass)."""
    report = DemoReport()
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for link in links:
            verdict = verdicts.get(link.grant_id, "pass")
            url = _rebased(link.report_url, base_url)
            form = _read(client.get(url).raise_for_status().text)
            fields = {
                CSRF_FIELD: form.csrf,
                "action": "submit",
                "act_date_1": (visit_day.replace(day=1)).isoformat(),
                "act_name_1": "社区主题活动",
                "act_sessions_1": "4" if verdict == "pass" else "1",
                "act_people_1": "160" if verdict == "pass" else "25",
                "person_times": "320" if verdict == "pass" else "40",
                "beneficiaries": "90" if verdict == "pass" else "15",
                "problems": "" if verdict == "pass" else "志愿者流失，活动推迟。",
                "changes": "",
            }
            spent = spending(link, form.spending, verdict)
            fields |= {name: str(fen // 100) for name, fen in spent.items()}
            sheet = (f"签到表-{link.ref}.png", sign_in_sheet(link.ref), "image/png")
            _post(client, url, fields, [("evidence_sign_in", sheet)])
            report.reports += 1
            report.uploads += 1

            url = _rebased(link.supervise_url, base_url)
            form = _read(client.get(url).raise_for_status().text)
            share = Decimal("0.85") if verdict == "pass" else Decimal("0.4")
            fields = {
                CSRF_FIELD: form.csrf,
                "action": "submit",
                "visit_date": visit_day.isoformat(),
                "visit_mode": "on_site" if link.round == 1 else "remote",
                "activities_held": "8" if verdict == "pass" else "2",
                "person_times": "320" if verdict == "pass" else "40",
                "beneficiaries": "90" if verdict == "pass" else "15",
                "spent": str(sum(spent.values()) // 100),  # accepted as the project reported it
                "findings": "活动按计划推进，台账齐全。"
                if verdict == "pass"
                else "活动明显落后于计划，台账缺失。",
                "rectify": "" if verdict == "pass" else "补开不少于4场活动\n补齐签到表与活动照片",
            }
            fields |= {name: _points(top, step, share) for name, (top, step) in form.points.items()}
            photo = (f"现场照片-{link.ref}.jpg", activity_photo(f"{link.ref}:{link.round}"), "image/jpeg")
            _post(client, url, fields, [("evidence_photo", photo)])
            report.records += 1
            report.uploads += 1
            report.verdicts[link.checkpoint_id] = verdict
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
