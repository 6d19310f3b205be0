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
from functools import partial

from sqlmodel import Session

from models.errors import Problem
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import checkpoint_context, save_progress_report
from models.supervision.tables import Checkpoint
from portal.supervision.checkpoint_forms import CheckpointForm, Posted, handle_form_post, show_form
from portal.supervision.checkpoint_view import (
    GranteeView,
    Header,
    evidence_rows,
    grantee_view,
    header,
    plan_totals,
    problems_by_field,
)

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


def _save_report(posted: Posted, _evidence_ids: list[int]) -> object:
    return save_progress_report(
        posted.session,
        checkpoint_id=posted.checkpoint.id or 0,
        fields=posted.fields,
        submit=posted.submit,
        actor=posted.actor,
        now=posted.now,
    )


REPORT_FORM = CheckpointForm(
    purpose="report",
    owner="grantee",
    page=report_page,
    actor=lambda _checkpoint, grant: f"grantee:grant-{grant.id}",
    save=_save_report,
)
show_report = partial(show_form, REPORT_FORM)
handle_report_post = partial(handle_form_post, REPORT_FORM)
