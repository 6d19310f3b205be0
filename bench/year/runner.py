"""The whole year of a generated competition, through the production flows and domain functions.

Each stage is what the demo runs (``cli/demo``) on the same 2025 timeline, with two differences at
this size: the experts' sheets and the grantees' and supervisors' forms are saved by the portal's
own save functions (``save_sheet``, ``save_progress_report``, ``save_record``), one transaction
per form as a request would, not over HTTP; and the forms carry no uploads. Letters go to an
aiosmtpd sink in its own process (``tasks.mail.sink``), every document is written.

``run_year(out, n)`` returns the per-stage figures (``Stage``) and the counts the test checks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select

from bench.year.generator import Plan, generate
from bench.year.measure import Meter, StageFigures, timed

BEIJING = ZoneInfo("Asia/Shanghai")
ACTOR = "admin:bench"
FAIL_SHARE = 0.08  # mid-term records that fail (整改, then a re-check that passes)


@dataclass
class Stage:
    name: str
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    documents: int
    letters: int
    db_mb: float
    prefect_share: float | None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Year:
    out: Path
    plan: Plan
    slug: str = ""
    competition_id: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


# ---- the stages -------------------------------------------------------------------------------


def _setup(year: Year) -> str:
    from cli.demo.setup import SETUP_AT
    from flows.setup import setup_competition
    from models.db import default_engine, upgrade_database

    upgrade_database(default_engine())
    year.competition_id = setup_competition(
        str(year.out / "input" / "competition.yaml"), actor=ACTOR, as_of=SETUP_AT
    )
    year.slug = f"bench-{year.plan.rows}"
    return ""


def _call(year: Year) -> str:
    from cli.demo.selection import CALL_AT
    from flows.call import publish_call

    result = asyncio.run(publish_call(year.slug, as_of=CALL_AT, actor=ACTOR))
    return f"{len(result['letters'])} letters"


def _intake(year: Year) -> str:
    from cli.demo.selection import INTAKE_AT
    from flows.intake import intake

    files = [str(year.out / "input" / "applications.xlsx")]
    in_process = intake.with_options(persist_result=False)
    result = asyncio.run(in_process(year.slug, files=files, as_of=INTAKE_AT, actor=ACTOR))
    year.counts["accepted"] = sum(len(f["accepted"]) for f in result["files"])
    year.counts["refused"] = sum(len(f["refused"]) for f in result["files"])
    return f"accepted {year.counts['accepted']}, refused {year.counts['refused']}"


def _screening(year: Year) -> str:
    from cli.demo.selection import SCREENING_AT
    from flows.screening import screening

    result = asyncio.run(screening(year.slug, as_of=SCREENING_AT, actor=ACTOR, reviewer="林老师"))
    year.counts["eligible"] = int(result["eligible"])
    year.counts["ineligible"] = int(result["ineligible"])
    return f"eligible {result['eligible']}, ineligible {result['ineligible']}"


def _review_open(year: Year) -> str:
    from cli.demo.review import OPEN_AT
    from flows.review import open_review

    result = asyncio.run(open_review(year.slug, actor=ACTOR, as_of=OPEN_AT))
    year.counts["sheets_open"] = int(result["sheets"])
    return f"{result['sheets']} sheets, {result['experts']} experts"


def _sheets(year: Year) -> str:
    """Every expert submits every sheet (``save_sheet``, a transaction each, as the portal does)."""
    from cli.demo.people.experts import demo_points
    from cli.demo.review import LATE_EXPERTS_AT
    from models.competition.tables import list_criteria
    from models.db import session_scope
    from models.review.reviewing import unfinished_assignments
    from models.review.score_sheets import save_sheet

    with session_scope() as session:
        open_sheets = [
            (row.assignment.id or 0, row.assignment.application_id, row.assignment.expert_id)
            for row in unfinished_assignments(session, competition_id=year.competition_id)
        ]
        criteria = {
            c.code: (Decimal(c.max_points), Decimal(1))
            for c in list_criteria(session, competition_id=year.competition_id)
        }
    for assignment_id, application_id, expert_id in open_sheets:
        points = demo_points(criteria, seed=2025, application_id=application_id, expert_id=expert_id)
        with session_scope() as session:
            save_sheet(
                session,
                assignment_id=assignment_id,
                points={code: str(value) for code, value in points.items()},
                comment="项目设计合理，建议细化预算。",
                submit=True,
                actor=f"expert:{expert_id}",
                now=LATE_EXPERTS_AT,
            )
    year.counts["sheets"] = len(open_sheets)
    return f"{len(open_sheets)} sheets submitted"


def _review_close(year: Year) -> str:
    from cli.demo.review import CLOSE_AT
    from flows.review import close_review

    result = close_review(year.slug, ACTOR, CLOSE_AT, "林老师")
    return f"{result['results']} ranked"


def _funding(year: Year) -> str:
    from cli.demo.funding import DECIDE_AT
    from flows.funding import funding_approve, funding_draft

    draft = funding_draft(year.slug, actor=ACTOR)
    funding_approve(year.slug, actor=ACTOR, as_of=DECIDE_AT)
    year.counts["funded"] = int(draft["funded"])
    return f"{draft['funded']} funded"


def _publicity_close(year: Year) -> str:
    from cli.demo.funding import CLOSE_AT
    from flows.lifecycle import advance

    result = asyncio.run(advance(year.slug, as_of=CLOSE_AT, actor="system:lifecycle"))
    outcome = result.get("result") or {}
    year.counts["grants"] = int(outcome.get("grants", 0))
    return f"{outcome.get('grants', 0)} grants, {outcome.get('letters', 0)} letters"


def _signatures(year: Year) -> str:
    from cli.demo.funding import SIGNED_ON
    from flows.grants import grants_sign
    from models.db import session_scope
    from models.funding.tables import Grant
    from models.intake.tables import Application

    with session_scope() as session:
        refs = list(
            session.exec(
                select(Application.ref)
                .join(Grant, col(Grant.application_id) == col(Application.id))
                .where(Grant.competition_id == year.competition_id)
            )
        )
    result = asyncio.run(grants_sign(year.slug, signings=[(ref, SIGNED_ON) for ref in refs], actor=ACTOR))
    return f"{result['signed']} signed"


def _supervision_open(year: Year, at: datetime) -> str:
    from flows.supervision import supervision

    result = asyncio.run(supervision(year.slug, actor=ACTOR, as_of=at))
    return f"opened {result['opened']}"


def _open_checkpoints(year: Year, *, round_: int | None) -> list[int]:
    from models.db import session_scope
    from models.states import CheckpointState
    from models.supervision.schedule import checkpoints_of

    with session_scope() as session:
        return [
            c.id or 0
            for c in checkpoints_of(
                session, competition_id=year.competition_id, states=frozenset({CheckpointState.open})
            )
            if round_ is None or c.round == round_
        ]


class CheckpointFields(NamedTuple):
    report: dict[str, str]  # the grantee's 中期 / 结项报告
    record: dict[str, str]  # the supervisor's 督导记录表
    supervisor_id: int
    grant_id: int


def checkpoint_fields(
    session: Any, checkpoint_id: int, *, report_day: date, visit_day: date, fails: bool = False
) -> CheckpointFields:
    """What the grantee's report and the supervisor's record of a checkpoint say (90 % of each budget
    line spent; the record's points at 85 %, or 40 % when it ``fails``) — filed here through the
    save functions, posted by the load benchmark through the portal."""
    from models.supervision.plan import project_plan
    from models.supervision.records import COMMENT, POINTS, checkpoint_context

    checkpoint, grant, plan, _ = checkpoint_context(session, checkpoint_id)
    lines = project_plan(session, grant_id=grant.id or 0).budget
    spent = {line.budget_line_id: line.amount_fen * 9 // 10 // 100 for line in lines}
    report = {
        "act_date_1": report_day.replace(day=1).isoformat(),
        "act_name_1": "社区活动",
        "act_sessions_1": "6",
        "act_people_1": "180",
        "person_times": "180",
        "beneficiaries": "60",
        "problems": "无",
        "changes": "无",
    } | {f"spent_{line}": str(yuan) for line, yuan in spent.items()}
    ratio = Decimal("0.4") if fails else Decimal("0.85")
    record = {
        "visit_date": visit_day.isoformat(),
        "visit_mode": "on_site",
        "activities_held": "6",
        "person_times": "180",
        "beneficiaries": "60",
        "spent": str(sum(spent.values())),
        "findings": "台账不全" if fails else "进展良好",
        "rectify": "补齐台账与签到表" if fails else "",
    }
    record |= {
        POINTS + item.code: str((item.max_points * ratio).quantize(Decimal(1))) for item in plan.rubric
    }
    record |= {COMMENT + item.code: "" for item in plan.rubric}
    return CheckpointFields(report, record, checkpoint.supervisor_id, grant.id or 0)


def _file_forms(
    year: Year, checkpoint_ids: list[int], *, report_at: datetime, record_at: datetime, fail_share: float
) -> int:
    """The grantee's report, then the supervisor's record, for each checkpoint (a transaction each)."""
    from models.db import session_scope
    from models.supervision.records import save_progress_report, save_record

    failed = 0
    for checkpoint_id in checkpoint_ids:
        rng = random.Random(f"2025:checkpoint:{checkpoint_id}")
        fails = rng.random() < fail_share
        failed += fails
        with session_scope() as session:
            fields = checkpoint_fields(
                session, checkpoint_id, report_day=report_at.date(), visit_day=record_at.date(), fails=fails
            )
            save_progress_report(
                session,
                checkpoint_id=checkpoint_id,
                fields=fields.report,
                submit=True,
                actor=f"grantee:grant-{fields.grant_id}",
                now=report_at,
            )
        with session_scope() as session:
            save_record(
                session,
                checkpoint_id=checkpoint_id,
                fields=fields.record,
                submit=True,
                actor=f"supervisor:{fields.supervisor_id}",
                now=record_at,
            )
    year.counts["failed_records"] = year.counts.get("failed_records", 0) + failed
    return failed


def _follow_up(year: Year, at: datetime) -> dict[str, Any]:
    from flows.supervision import checkpoint_follow_up

    return dict(asyncio.run(checkpoint_follow_up(year.slug, actor=ACTOR, as_of=at)))


def _midterm(year: Year) -> str:
    from cli.demo.supervision import MIDTERM_AT, OPEN_AT

    opened = _supervision_open(year, OPEN_AT)
    ids = _open_checkpoints(year, round_=1)
    failed = _file_forms(
        year,
        ids,
        report_at=_at(date(2025, 6, 12), 10),
        record_at=_at(date(2025, 6, 18), 16, 30),
        fail_share=FAIL_SHARE,
    )
    settled = _follow_up(year, MIDTERM_AT)["settled"]
    year.counts["midterm"] = len(ids)
    return f"{opened}; {len(ids)} reports + records, {failed} failed; settled {len(settled)}"


def _recheck(year: Year) -> str:
    from cli.demo.supervision import RECHECK_AT

    ids = _open_checkpoints(year, round_=2)
    _file_forms(
        year, ids, report_at=_at(date(2025, 7, 1), 10), record_at=_at(date(2025, 7, 2), 16, 30), fail_share=0
    )
    settled = _follow_up(year, RECHECK_AT)["settled"]
    year.counts["rechecks"] = len(ids)
    return f"{len(ids)} re-checks, settled {len(settled)}"


def _final_reports(year: Year) -> str:
    from cli.demo.supervision import FINAL_OPEN_AT

    opened = _supervision_open(year, FINAL_OPEN_AT)
    ids = _open_checkpoints(year, round_=1)
    _file_forms(
        year,
        ids,
        report_at=_at(date(2025, 10, 8), 10),
        record_at=_at(date(2025, 10, 9), 16, 30),
        fail_share=0,
    )
    year.counts["final_reports"] = len(ids)
    return f"{opened}; {len(ids)} final reports + records"


def _final_evaluation(year: Year) -> str:
    from cli.demo.evaluation import EVALUATION_AT
    from flows.evaluation import final_evaluation

    result = asyncio.run(final_evaluation(year.slug, as_of=EVALUATION_AT, actor=ACTOR))
    year.counts["evaluated"] = len(result["evaluated"])
    return f"{len(result['evaluated'])} evaluated, {result['reports']} reports"


def _annual_report(year: Year) -> str:
    from cli.demo.evaluation import ANNUAL_REPORT_AT
    from flows.evaluation import annual_report

    annual_report(year.slug, as_of=ANNUAL_REPORT_AT)
    return ""


def _export(year: Year) -> str:
    from flows.evaluation import export_year

    counts = export_year(year.slug, str(year.out / f"{year.slug}.xlsx"))
    return f"{sum(counts.values())} rows"


STAGES: list[tuple[str, Callable[[Year], str]]] = [
    ("setup", _setup),
    ("call", _call),
    ("intake", _intake),
    ("screening", _screening),
    ("review open", _review_open),
    ("sheets (save_sheet)", _sheets),
    ("review close", _review_close),
    ("funding draft + approve", _funding),
    ("公示 closes (grants, letters)", _publicity_close),
    ("agreements signed", _signatures),
    ("mid-term (reports, records, follow-up)", _midterm),
    ("re-checks", _recheck),
    ("final reports", _final_reports),
    ("final evaluation", _final_evaluation),
    ("annual report", _annual_report),
    ("Excel export", _export),
]


# ---- the run ----------------------------------------------------------------------------------


def _totals() -> tuple[int, int]:
    from models.db import session_scope
    from models.documents.tables import GeneratedDocument
    from models.mail.outbox import OutboxLetter
    from models.states import LetterState

    with session_scope() as session:
        documents = session.exec(select(func.count()).select_from(GeneratedDocument)).one()
        letters = session.exec(
            select(func.count()).select_from(OutboxLetter).where(OutboxLetter.state == LetterState.sent)
        ).one()
    return int(documents), int(letters)


def _db_mb(out: Path) -> float:
    """The SQLite file and its WAL; on PostgreSQL, ``pg_database_size`` of the database."""
    from models.db import default_engine

    engine = default_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        return round(int(size) / 2**20, 1)
    files = [out / "data" / name for name in ("grantflow.db", "grantflow.db-wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 1)


def _share(figures: StageFigures) -> float | None:
    busy = figures.samples["prefect"] + figures.samples["ours"] + figures.samples["other"]
    return round(figures.samples["prefect"] / busy, 3) if busy else None


def run_year(
    out: Path,
    n: int,
    *,
    seed: int = 2025,
    database_url: str | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[list[Stage], Year]:
    """Generate ``n`` applications into ``out/input`` and run the year in ``out/data`` (its SQLite
    database, or the empty database at ``database_url``)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from bench.bench_mail import Sink
    from models.db import dispose_engines
    from models.settings import override_settings

    plan = generate(out / "input", n, seed=seed)
    year = Year(out=out, plan=plan)
    sink = Sink(out / "mail")
    for folder in ("mail", "data"):  # the data folder exists before the flows check it (PostgreSQL)
        (out / folder).mkdir(exist_ok=True)
    override_settings(
        data_dir=out / "data", smtp_host="127.0.0.1", smtp_port=sink.port, database_url=database_url
    )
    stages: list[Stage] = []
    try:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), Meter() as meter:
            before = (0, 0)
            for name, work in STAGES:
                detail, figures = timed(meter, lambda work=work: work(year))
                after = _totals()
                stage = Stage(
                    name=name,
                    seconds=round(figures.seconds, 2),
                    cpu_seconds=round(figures.cpu_seconds, 2),
                    peak_rss_mb=round(figures.peak_rss / 2**20),
                    documents=after[0] - before[0],
                    letters=after[1] - before[1],
                    db_mb=_db_mb(out),
                    prefect_share=_share(figures),
                    detail=str(detail),
                )
                before = after
                stages.append(stage)
                progress(
                    f"   {name}: {stage.seconds} s ({stage.cpu_seconds} s CPU), "
                    f"{stage.peak_rss_mb} MB — {detail}"
                )
        year.counts["letters_delivered"] = sink.count()
    finally:
        sink.stop()
        dispose_engines()
    return stages, year


def prepare_year(out: Path, n: int, *, last: str, seed: int = 2025) -> Year:
    """Generate ``n`` applications and run the stages up to and including ``last`` (unmeasured), with
    the settings already in force (the caller points the data folder and SMTP): the world the load
    benchmark serves (``bench.load``) — sheets open after "review open", applications open after
    "call"."""
    names = [name for name, _ in STAGES]
    plan = generate(out / "input", n, seed=seed)
    year = Year(out=out, plan=plan)
    for _, work in STAGES[: names.index(last) + 1]:
        work(year)
    return year
