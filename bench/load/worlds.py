"""The three worlds the load benchmark serves, each built by production code in its own data folder,
and each scenario's request (``send``) with the check of what it stored afterwards.

- ``sheet_world``: a generated competition (``bench.year``) through setup, call, intake, screening
  and review open — every expert's personal links, signed as the letters sign them. Request *i* opens
  sheet *i mod n* (even *i*: GET) or saves it as a draft (odd *i*: POST, its CSRF token made as the
  page makes it).
- ``apply_world``: the same competition through the call only (征集中, the clock inside the window).
  Request *i* posts a complete web application of a new organisation; one in ten repeats, word for
  word, the request five before it (a double click, a retry) — one of the two is stored, the other
  answered 409. ``ApplyWorld.check`` afterwards: every accepted (303) pair of organisation and title
  stored exactly once, none stored that was not accepted, every 申报编号 once.
- ``roster_world``: 10,000 applications inserted as ``bench.bench_roster`` inserts them, a 只读
  account added with ``models.accounts``, signed in through the form; request *i* opens one of the
  roster benchmark's five views of 申报一览.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

SECRET = "bench-load-secret-key-0123456789abcdef"
PORTAL_URL = "http://127.0.0.1:8000"
COOKIE_VALUE = "bench-load-csrf-cookie"
READER, READER_PASSWORD = "du", "du-correct-horse-3"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
DUPLICATE_EVERY, DUPLICATE_BACK = 10, 5
Send = Callable[[httpx.AsyncClient, int], Any]


def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The portal process's settings: the data folder, the secret the links were signed with."""
    env = {
        "GRANTFLOW_DATA_DIR": str(data_dir),
        "GRANTFLOW_SECRET_KEY": SECRET,
        "GRANTFLOW_PORTAL_URL": PORTAL_URL,
    }
    if database_url:
        env["GRANTFLOW_DATABASE_URL"] = database_url
    return env


@contextmanager
def settings_for(data_dir: Path, database_url: str | None = None) -> Iterator[int]:
    """This process's settings pointed at ``data_dir`` and an SMTP sink (yields the sink's port)."""
    from bench.bench_mail import Sink
    from models.db import dispose_engines
    from models.settings import override_settings

    for folder in ("mail", "data"):  # the data folder exists before the flows check it (PostgreSQL)
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
    sink = Sink(data_dir / "mail")
    override_settings(
        data_dir=data_dir / "data",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        database_url=database_url,
        secret_key=SecretStr(SECRET),
        portal_url=PORTAL_URL,
    )
    try:
        yield sink.port
    finally:
        sink.stop()
        dispose_engines()


def _csrf(scope: str) -> str:
    from portal.csrf import form_token

    return form_token(cookie_value=COOKIE_VALUE, scope=scope, secret=SECRET)


# ---- (a) the expert sheet ---------------------------------------------------------------------


@dataclass
class SheetWorld:
    data_dir: Path
    clock: datetime
    sheets: list[tuple[str, dict[str, str]]]  # (token, the draft's fields)
    cookies: dict[str, str] = field(default_factory=lambda: {"gf_csrf": COOKIE_VALUE})
    mode: str = "mixed"  # or "get", "post": one kind only (to tell the reads' cost from the writes')

    async def send(self, client: httpx.AsyncClient, i: int) -> str:
        token, fields = self.sheets[i % len(self.sheets)]
        if self.mode == "get" or (self.mode == "mixed" and i % 2 == 0):
            answer = await client.get(f"/review/{token}")
            return "ok: GET" if answer.status_code == 200 else f"GET {answer.status_code}"
        answer = await client.post(f"/review/{token}", data=fields)
        return "ok: POST" if answer.status_code == 303 else f"POST {answer.status_code}"


def sheet_world(data_dir: Path, n: int, mode: str = "mixed") -> SheetWorld:
    """A competition of ``n`` generated applications with its review open (settings already set)."""
    from decimal import Decimal

    from bench.year.runner import prepare_year
    from cli.demo.people.experts import demo_points
    from cli.demo.review import LATE_EXPERTS_AT
    from models.competition.tables import list_criteria
    from models.db import session_scope
    from models.links import token_fingerprint
    from models.review.links import review_token
    from models.review.reviewing import unfinished_assignments
    from models.settings import get_settings

    year = prepare_year(data_dir, n, last="review open")
    settings = get_settings()
    sheets = []
    with session_scope() as session:
        criteria = {
            c.code: (Decimal(c.max_points), Decimal(1))
            for c in list_criteria(session, competition_id=year.competition_id)
        }
        for row in unfinished_assignments(session, competition_id=year.competition_id):
            assignment = row.assignment
            token = review_token(assignment, settings)
            points = demo_points(
                criteria, seed=2025, application_id=assignment.application_id, expert_id=assignment.expert_id
            )
            fields = {
                "csrf_token": _csrf(token_fingerprint(token)),
                "action": "draft",
                "comment": "项目设计合理，建议细化预算。",
            } | {f"points.{code}": str(value) for code, value in points.items()}
            sheets.append((token, fields))
    return SheetWorld(data_dir=data_dir, clock=LATE_EXPERTS_AT, sheets=sheets, mode=mode)


# ---- (b) the applicants' web form -------------------------------------------------------------


def application_form(number: int, slug: str) -> dict[str, Any]:
    """A complete web application of organisation ``number`` (a registered one, a valid USCC)."""
    from bench.year.generator import COMMUNITIES
    from cli.demo.example.applications import uscc_check

    body = f"5235020MJ{number:07d}0"
    community = COMMUNITIES[number % len(COMMUNITIES)]
    return {
        "csrf_token": _csrf(f"apply:{slug}"),
        "organisation": f"厦门市湖里区负载{number:05d}号社会工作服务中心",
        "kind": "registered",
        "registration_number": body + uscc_check(body),
        "founded_on": "2019-05-20",
        "rating": "3A",
        "legal_representative": f"负责人{number:05d}",
        "address": f"厦门市湖里区{community}路{number % 500 + 1}号",
        "contact_name": f"联系人{number:05d}",
        "contact_phone": f"1390592{number % 10000:04d}",
        "contact_email": f"load{number:05d}@example.org",
        "title": f"负载{community}助餐计划（第{number:05d}号）",
        "category": "elderly",
        "communities": [community],
        "target_group": "社区独居老人",
        "beneficiaries": "120",
        "period_start": "2025-05-01",
        "period_end": "2025-09-30",
        "amount": "6000",
        "self_funded": "1000",
        "summary": f"为{community}社区独居老人提供每周三次助餐服务，并开展健康讲座和上门探访。",
        "need_analysis": f"{community}社区60岁以上老人较多，独居老人用餐困难。",
        "activity_rows": "1",
        "activity-0-period": "2025年5月",
        "activity-0-content": "助餐与探访",
        "activity-0-sessions": "6",
        "activity-0-participants": "80",
        "budget_rows": "2",
        "budget-0-item": "餐费补贴",
        "budget-0-purpose": "每餐补贴10元",
        "budget-0-unit_price": "10",
        "budget-0-quantity": "500",
        "budget-1-item": "健康讲座",
        "budget-1-purpose": "讲师费",
        "budget-1-unit_price": "500",
        "budget-1-quantity": "2",
        "action": "submit",
    }


def organisation_of(i: int) -> int:
    """The organisation request ``i`` posts for: its own, or (one in ten) the one five before it."""
    return i - DUPLICATE_BACK if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i


@dataclass
class ApplyWorld:
    data_dir: Path
    clock: datetime
    slug: str
    competition_id: int
    base: int = 0  # the first organisation number of the current run (each run posts new ones)
    accepted: set[int] = field(default_factory=set)  # organisation numbers answered 303, every run so far
    cookies: dict[str, str] = field(default_factory=lambda: {"gf_csrf": COOKIE_VALUE})

    async def send(self, client: httpx.AsyncClient, i: int) -> str:
        number = self.base + organisation_of(i)
        answer = await client.post(f"/apply/{self.slug}", data=application_form(number, self.slug))
        if answer.status_code == 303:
            self.accepted.add(number)
            return "ok: accepted"
        paired = i % DUPLICATE_EVERY in (DUPLICATE_EVERY - 1, DUPLICATE_EVERY - 1 - DUPLICATE_BACK)
        if answer.status_code == 409 and paired:  # the repeat, or its original when the repeat won
            return "ok: duplicate refused"
        return f"POST {answer.status_code}"

    def next_run(self, planned: int) -> None:
        self.base += planned + DUPLICATE_EVERY

    def check(self) -> dict[str, int]:
        """Afterwards: the load's applications as stored, against the answers the clients got (every run
        so far: a request answered after its run's check is counted by the next one)."""
        from sqlmodel import col, select

        from models.db import session_scope
        from models.intake.tables import Application, Organisation

        with session_scope() as session:
            rows = session.exec(
                select(Application.ref, Application.title, Organisation.name)
                .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
                .where(Application.competition_id == self.competition_id)
                .where(col(Application.title).startswith("负载"))
            ).all()
        numbers = [int(re.search(r"负载(\d{5})号", name).group(1)) for _, _, name in rows]  # type: ignore[union-attr]
        pairs = {(name, title) for _, title, name in rows}
        return {
            "accepted": len(self.accepted),
            "stored": len(rows),
            "lost": len(self.accepted - set(numbers)),
            "stored_not_accepted": len(set(numbers) - self.accepted),
            "doubled": len(rows) - len(pairs),
            "duplicate_refs": len(rows) - len({ref for ref, _, _ in rows}),
        }


def apply_world(data_dir: Path) -> ApplyWorld:
    """The generated competition through the call: taking applications (settings already set)."""
    from bench.year.runner import prepare_year
    from cli.demo.selection import INTAKE_AT

    year = prepare_year(data_dir, 30, last="call")
    return ApplyWorld(data_dir=data_dir, clock=INTAKE_AT, slug=year.slug, competition_id=year.competition_id)


# ---- (c) the console's 申报一览 ----------------------------------------------------------------


@dataclass
class RosterWorld:
    data_dir: Path
    slug: str
    size: int
    cookies: dict[str, str] = field(default_factory=dict)

    def sign_in(self, base_url: str) -> None:
        """The 只读 account signs in through the form; its session cookie goes with every request."""
        with httpx.Client(base_url=base_url, follow_redirects=False) as client:
            form = client.get("/admin/login")
            found = CSRF_FIELD.search(form.text)
            assert found, "the sign-in page carries no CSRF field"
            form_fields = {"csrf_token": found.group(1), "name": READER, "password": READER_PASSWORD}
            answer = client.post("/admin/login", data=form_fields | {"next": "/admin"})
            if answer.status_code != 303:
                raise RuntimeError(f"signing in answered {answer.status_code}")
            self.cookies = dict(client.cookies.items())

    async def send(self, client: httpx.AsyncClient, i: int) -> str:
        from bench.bench_roster import VIEWS

        views = list(VIEWS.values())
        params = views[i % len(views)] or {"standing": ""}
        answer = await client.get(f"/admin/c/{self.slug}/applications?{urlencode(params)}")
        return "ok" if answer.status_code == 200 else f"GET {answer.status_code}"


def roster_world(data_dir: Path, size: int) -> RosterWorld:
    """``size`` applications in one competition, and a 只读 account (settings already set)."""
    from bench.bench_roster import fill_roster
    from models.accounts.roles import Role
    from models.accounts.users import add_user
    from models.competition.tables import Competition
    from models.db import default_engine, session_scope, upgrade_database

    engine = default_engine()
    upgrade_database(engine)
    competition_id = fill_roster(engine, size)
    with session_scope(engine) as session:
        add_user(session, name=READER, role=Role.reader, password=READER_PASSWORD, actor="admin:bench")
        competition = session.get(Competition, competition_id)
        assert competition is not None
        slug = competition.slug
    return RosterWorld(data_dir=data_dir, slug=slug, size=size)


# ---- (d) the grantees' reports and the supervisors' records -----------------------------------


@dataclass
class CheckpointForms:
    """One checkpoint's two personal links and what its two forms post."""

    checkpoint_id: int
    report_path: str
    record_path: str
    report: dict[str, str]
    record: dict[str, str]


@dataclass
class SuperviseWorld:
    """Request *i* on checkpoint *i / 4 mod n*: GET the grantee's 中期报告, POST it (submit, with a
    sign-in sheet of its own name and content), GET the supervisor's 督导记录表, POST it (a draft,
    with a photo of its own). ``check``: every upload answered 303 stored exactly once (one
    ``EvidenceFile`` of its name, not pending), none stored that was not accepted, and each
    checkpoint whose report was accepted holds it submitted."""

    data_dir: Path
    clock: datetime
    forms: list[CheckpointForms]
    cookies: dict[str, str] = field(default_factory=lambda: {"gf_csrf": COOKIE_VALUE})
    accepted: set[str] = field(default_factory=set)  # names of the uploads answered 303
    reported: set[int] = field(default_factory=set)  # checkpoints whose report post was answered 303
    runs: int = 0

    def next_run(self, planned: int) -> None:
        self.runs += 1

    async def send(self, client: httpx.AsyncClient, i: int) -> str:
        forms = self.forms[(i // 4) % len(self.forms)]
        kind = i % 4
        if kind in (0, 2):
            path = forms.report_path if kind == 0 else forms.record_path
            answer = await client.get(path)
            name = "report" if kind == 0 else "record"
            return f"ok: GET {name}" if answer.status_code == 200 else f"GET {name} {answer.status_code}"
        report = kind == 1
        upload = f"{'签到表' if report else '走访照片'}-{self.runs}-{i}.png"
        field_name = "evidence_sign_in" if report else "evidence_photo"
        answer = await client.post(
            forms.report_path if report else forms.record_path,
            data=forms.report if report else forms.record,
            files={field_name: (upload, _unique_png(self.runs, i), "image/png")},
        )
        name = "report" if report else "record"
        if answer.status_code != 303:
            return f"POST {name} {answer.status_code}"
        self.accepted.add(upload)
        if report:
            self.reported.add(forms.checkpoint_id)
        return f"ok: POST {name}"

    def check(self) -> dict[str, int]:
        from sqlmodel import col, select

        from models.db import session_scope
        from models.supervision.records import progress_of
        from models.supervision.tables import EvidenceFile

        with session_scope() as session:
            names = list(
                session.exec(
                    select(EvidenceFile.name).where(
                        col(EvidenceFile.name).contains("-"), col(EvidenceFile.pending).is_(False)
                    )
                )
            )
            reports = [progress_of(session, checkpoint_id=checkpoint_id) for checkpoint_id in self.reported]
            missing_reports = sum(1 for found in reports if found is None or found.submitted_at is None)
        ours = [name for name in names if name.endswith(".png") and name.count("-") == 2]
        return {
            "accepted": len(self.accepted),
            "stored": len(ours),
            "lost": len(self.accepted - set(ours)) + missing_reports,
            "stored_not_accepted": len(set(ours) - self.accepted),
            "doubled": len(ours) - len(set(ours)),
            "duplicate_refs": 0,
        }


def _unique_png(run: int, i: int) -> bytes:
    """A small scanned page of its own (the portal keeps one file per checkpoint per content)."""
    import io

    from PIL import Image

    image = Image.new("L", (96, 64), 255)
    for position, byte in enumerate(f"{run}:{i}".encode()):
        image.putpixel((position, 0), byte)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def supervise_world(data_dir: Path, n: int) -> SuperviseWorld:
    """A generated competition through its agreements, its mid-term checkpoints open (settings set)."""
    from datetime import date, time

    from bench.year.runner import _open_checkpoints, _supervision_open, checkpoint_fields, prepare_year
    from cli.demo.supervision import OPEN_AT
    from models.db import session_scope
    from models.links import token_fingerprint
    from models.settings import get_settings
    from models.supervision.links import checkpoint_token
    from models.supervision.tables import Checkpoint

    year = prepare_year(data_dir, n, last="agreements signed")
    _supervision_open(year, OPEN_AT)
    settings = get_settings()
    clock = datetime.combine(date(2025, 6, 12), time(10), tzinfo=OPEN_AT.tzinfo)
    forms = []
    with session_scope() as session:
        for checkpoint_id in _open_checkpoints(year, round_=1):
            row = session.get(Checkpoint, checkpoint_id)
            assert row is not None
            report_token = checkpoint_token(row, settings, purpose="report")
            record_token = checkpoint_token(row, settings, purpose="checkpoint")
            day = clock.date()
            fields = checkpoint_fields(session, checkpoint_id, report_day=day, visit_day=day)
            report = fields.report | {
                "csrf_token": _csrf(f"report:{token_fingerprint(report_token)}"),
                "action": "submit",
            }
            record = fields.record | {
                "csrf_token": _csrf(f"supervise:{token_fingerprint(record_token)}"),
                "action": "draft",
            }
            paths = (f"/report/{report_token}", f"/supervise/{record_token}")
            forms.append(CheckpointForms(checkpoint_id, *paths, report, record))
    return SuperviseWorld(data_dir=data_dir, clock=clock, forms=forms)
