"""The grantee's progress report (中期报告 / 结项报告) on its personal link, without HTTP.

The link (purpose ``report``) is sent to the application's contact when the checkpoint opens. The
page shows the plan from the application beside the form: activities held with dates, person-times,
beneficiaries, the actual spending per budget line (budget, actual, variance), problems, changes
and evidence uploads. Same rules as the supervisor's page: drafts, edits until the checkpoint
closes, one transaction for the uploads and the report, a refused file stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.competition.tables import Competition
from models.db import session_scope
from models.errors import Conflict, IllegalTransition, InputError, Problem
from models.links import LinkRefused
from models.settings import Settings
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.supervision.evidence import discard
from models.supervision.links import open_checkpoint_link
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import checkpoint_context, save_progress_report
from models.supervision.tables import Checkpoint
from portal.review import in_language
from portal.supervise import (
    GranteeView,
    Header,
    evidence_rows,
    grantee_view,
    header,
    plan_totals,
    problems_by_field,
)
from portal.uploads import save_with_evidence

BLANK_ROWS = 3


@dataclass
class ActivityRow:
    number: int
    date: str
    name: str
    sessions: str
    people: str


@dataclass
class ReportPage:
    header: Header
    report_name: str
    plan: ProjectPlan
    plan_totals: dict[str, str]
    current: GranteeView
    rows: list[ActivityRow]
    values: dict[str, str]
    spending: list[dict[str, str]]
    evidence: list[dict[str, str]]
    upload_mb: str
    upload_count: int
    errors: dict[str, str]
    general_errors: list[str]


@dataclass
class ReportOutcome:
    page: ReportPage | None
    status: int = 200
    notice: str | None = None
    problem_notice: str = ""
    redirect_notice: str | None = None


def report_page(
    session: Session,
    *,
    checkpoint: Checkpoint,
    language: str,
    entered: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> ReportPage:
    _, grant, plan, config = checkpoint_context(session, checkpoint.id or 0)
    project = project_plan(session, grant_id=grant.id or 0)
    current = grantee_view(session, checkpoint)
    if entered is not None:
        numbers = sorted(
            {
                int(k.rsplit("_", 1)[1])
                for k in entered
                if k.startswith("act_") and k.rsplit("_", 1)[1].isdigit()
            }
        ) or [1]
        rows = [
            ActivityRow(
                n,
                entered.get(f"act_date_{n}", ""),
                entered.get(f"act_name_{n}", ""),
                entered.get(f"act_sessions_{n}", ""),
                entered.get(f"act_people_{n}", ""),
            )
            for n in numbers
        ]
        values = {k: entered.get(k, "") for k in ("person_times", "beneficiaries", "problems", "changes")}
        actual = {
            str(line.budget_line_id): entered.get(f"spent_{line.budget_line_id}", "")
            for line in project.budget
        }
    else:
        rows = [
            ActivityRow(
                n,
                str(a.get("date", "")),
                str(a.get("name", "")),
                str(a.get("sessions", "")),
                str(a.get("person_times", "")),
            )
            for n, a in enumerate(current.activities, start=1)
        ]
        values = {
            "person_times": str(current.person_times) if current.state != "none" else "",
            "beneficiaries": str(current.beneficiaries) if current.state != "none" else "",
            "problems": current.problems,
            "changes": current.changes,
        }
        actual = {s["id"]: s["actual_raw"] for s in current.spending}
    start = max((r.number for r in rows), default=0)
    rows += [ActivityRow(start + i, "", "", "", "") for i in range(1, BLANK_ROWS + 1)]
    errors, general = problems_by_field(problems, language)
    spending = [
        {
            "id": str(line.budget_line_id),
            "item": line.item,
            "purpose": line.purpose,
            "budget": f"{line.amount_fen / 100:,.2f}",
            "actual": actual.get(str(line.budget_line_id), ""),
            "error": errors.get(f"spent_{line.budget_line_id}", ""),
        }
        for line in project.budget
    ]
    return ReportPage(
        header=header(session, checkpoint, plan),
        report_name=plan.report_name,
        plan=project,
        plan_totals=plan_totals(project),
        current=current,
        rows=rows,
        values=values,
        spending=spending,
        evidence=evidence_rows(session, checkpoint.id or 0, "grantee"),
        upload_mb=f"{config.supervision.uploads.max_bytes / 1_000_000:g}",
        upload_count=config.supervision.uploads.max_files,
        errors=errors,
        general_errors=general,
    )


def show_report(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, done: str | None
) -> ReportOutcome:
    with session_scope(engine) as session:
        checkpoint = open_checkpoint_link(session, token=token, settings=settings, now=now, purpose="report")
        page = report_page(session, checkpoint=checkpoint, language=language)
    notice = f"sv.notice.{done}" if done else None
    if notice is None and not page.header.editable:
        notice = "sv.notice.closed"
    return ReportOutcome(page, notice=notice)


def handle_report_post(
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    fields: Mapping[str, str],
    uploads: Sequence[Any],
) -> ReportOutcome:
    action = fields.get("action", "")
    written: list[Path] = []
    try:
        with session_scope(engine) as session:
            checkpoint = open_checkpoint_link(
                session, token=token, settings=settings, now=now, purpose="report"
            )
            if action not in ("draft", "submit"):
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
            if checkpoint.state not in CHECKPOINTS_OPEN or checkpoint.state is CheckpointState.scheduled:
                raise Conflict(
                    "该检查点已结束，不能再修改 / this checkpoint is closed: nothing can be changed"
                )
            _, grant, _, config = checkpoint_context(session, checkpoint.id or 0)
            competition = session.get(Competition, grant.competition_id)
            assert competition is not None
            actor = f"grantee:grant-{grant.id}"
            save_with_evidence(
                session,
                checkpoint_id=checkpoint.id or 0,
                owner="grantee",
                uploads=uploads,
                rules=config.supervision.uploads,
                uploads_dir=settings.uploads_dir,
                folder=competition.slug,
                actor=actor,
                written=written,
                save=lambda _ids: save_progress_report(
                    session,
                    checkpoint_id=checkpoint.id or 0,
                    fields=fields,
                    submit=action == "submit",
                    actor=actor,
                    now=now,
                ),
            )
    except LinkRefused:
        discard(written)
        raise
    except InputError as exc:
        discard(written)
        return _again(engine, token, settings, now, language, fields, exc.problems, status=422)
    except (Conflict, IllegalTransition) as exc:
        discard(written)
        outcome = _again(engine, token, settings, now, language, None, [], status=409)
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except BaseException:
        discard(written)
        raise
    return ReportOutcome(None, redirect_notice="submitted" if action == "submit" else "draft")


def _again(
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    entered: Mapping[str, str] | None,
    problems: Sequence[Problem],
    *,
    status: int,
) -> ReportOutcome:
    with session_scope(engine) as session:
        checkpoint = open_checkpoint_link(session, token=token, settings=settings, now=now, purpose="report")
        page = report_page(
            session, checkpoint=checkpoint, language=language, entered=entered, problems=problems
        )
    return ReportOutcome(page, status=status)
