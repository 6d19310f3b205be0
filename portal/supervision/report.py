"""The grantee's progress report (中期报告 / 结项报告) on its personal link, without HTTP.

The link (purpose ``report``) is sent to the application's contact when the checkpoint opens. The
page shows the report's own state (not the checkpoint's) and what happens next, the plan from the
application, then the form: activities held with dates (a row added with ``add_row``, no script
needed), person-times, beneficiaries, the actual spending of each budget line (its budget beside
it), problems and changes, and the evidence uploads. Same rules as the supervisor's page: drafts,
one submission amended until the report's due day, one transaction for the uploads and the report,
a refused file stored nowhere and the others kept for the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import (
    MAX_ACTIVITY_ROWS,
    checkpoint_context,
    progress_of,
    report_amendable_until,
    save_progress_report,
)
from models.supervision.tables import Checkpoint
from portal.form_errors import FieldErrors
from portal.i18n import translator
from portal.supervision.checkpoint_forms import (
    CheckpointForm,
    Posted,
    Shown,
    find_evidence,
    handle_form_post,
    show_form,
)
from portal.supervision.checkpoint_view import (
    Evidence,
    FormStatus,
    GranteeView,
    Header,
    checkpoint_errors,
    evidence_rows,
    form_status,
    grantee_view,
    header,
    iso_day,
    plan_totals,
)

BLANK_ROWS = 1  # empty activity rows after those filled in (add_row gives one more)
MIN_ROWS = 3  # rows on a report not yet begun
ROW_FIELDS = ("date", "name", "sessions", "people")
TEXT_FIELDS = ("person_times", "beneficiaries", "problems", "changes")


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
    form: FormStatus
    report_name: str
    plan: ProjectPlan
    plan_totals: dict[str, str]
    current: GranteeView
    rows: list[ActivityRow]
    can_add_row: bool
    values: dict[str, str]
    spending: list[dict[str, str]]
    evidence: list[Evidence]
    pending: list[Evidence]
    upload_mb: str
    upload_count: int
    errors: FieldErrors


def _labels(
    rows: list[ActivityRow], spending: list[dict[str, str]], language: str
) -> dict[str, tuple[str, str, str]]:
    t = translator(language)
    place = {name: (name, name, t(f"sv.report.{name}")) for name in ("person_times", "beneficiaries")}
    place["problems"] = ("problems", "problems", t("sv.problems"))
    place["changes"] = ("changes", "changes", t("sv.changes"))
    for row in rows:
        for name, key in (
            ("date", "sv.activity.date"),
            ("name", "sv.activity.name"),
            ("sessions", "sv.activity.sessions"),
            ("people", "sv.activity.people"),
        ):
            field = f"act_{name}_{row.number}"
            place[field] = (field, field, t("sv.report.row", number=row.number, field=t(key)))
    for line in spending:
        field = f"spent_{line['id']}"
        place[field] = (field, field, f"{line['item']} · {t('sv.spending.actual')}")
    return place


def _page_order(rows: list[ActivityRow], spending: list[dict[str, str]]) -> list[str]:
    """The fields in the order the page shows them: activities, totals, spending, problems."""
    activities = [f"act_{name}_{row.number}" for row in rows for name in ROW_FIELDS]
    return [*activities, *TEXT_FIELDS[:2], *(f"spent_{line['id']}" for line in spending), *TEXT_FIELDS[2:]]


def report_page(
    session: Session,
    *,
    checkpoint: Checkpoint,
    language: str,
    now: datetime,
    timezone: str,
    shown: Shown = Shown(),
) -> ReportPage:
    _, grant, plan, config = checkpoint_context(session, checkpoint.id or 0)
    project = project_plan(session, grant_id=grant.id or 0)
    current = grantee_view(session, checkpoint, timezone)
    entered = shown.entered
    if entered is not None:
        numbers = sorted(
            {
                int(key.rsplit("_", 1)[1])
                for key in entered
                if key.startswith("act_")
                and key.rsplit("_", 1)[1].isdigit()
                and len(key.rsplit("_", 1)[1]) <= 2
            }
        )
        rows = [ActivityRow(n, *(entered.get(f"act_{f}_{n}", "") for f in ROW_FIELDS)) for n in numbers]
        rows = rows or [ActivityRow(1, "", "", "", "")]
        values = {k: entered.get(k, "") for k in TEXT_FIELDS}
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
        rows += [ActivityRow(len(rows) + i, "", "", "", "") for i in range(1, BLANK_ROWS + 1)]
        rows += [ActivityRow(len(rows) + i, "", "", "", "") for i in range(1, MIN_ROWS - len(rows) + 1)]
        values = {
            "person_times": str(current.person_times) if current.state != "none" else "",
            "beneficiaries": str(current.beneficiaries) if current.state != "none" else "",
            "problems": current.problems,
            "changes": current.changes,
        }
        actual = {s["id"]: s["actual_raw"] for s in current.spending}
    if shown.more_rows and len(rows) < MAX_ACTIVITY_ROWS:
        start = max((row.number for row in rows), default=0)
        rows += [ActivityRow(start + i, "", "", "", "") for i in range(1, shown.more_rows + 1)]
    spending = [
        {
            "id": str(line.budget_line_id),
            "item": line.item,
            "purpose": line.purpose,
            "budget": f"{line.amount_fen / 100:,.2f}",
            "actual": actual.get(str(line.budget_line_id), ""),
        }
        for line in project.budget
    ]
    progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
    place = _labels(rows, spending, language)
    return ReportPage(
        header=header(session, checkpoint, plan),
        form=form_status(
            checkpoint,
            state=current.state,
            saved_at=progress.updated_at if progress is not None else None,
            submitted_at=progress.submitted_at if progress is not None else None,
            amend_until=report_amendable_until(checkpoint, timezone),
            due=iso_day(checkpoint.report_due_on or checkpoint.due_on),
            now=now,
            timezone=timezone,
            language=language,
            words="status.report",
            late_fails=plan.missing_report_fails,
        ),
        report_name=plan.report_name,
        plan=project,
        plan_totals=plan_totals(project),
        current=current,
        rows=rows,
        can_add_row=len(rows) < MAX_ACTIVITY_ROWS,
        values=values,
        spending=spending,
        evidence=evidence_rows(session, checkpoint.id or 0, "grantee"),
        pending=evidence_rows(session, checkpoint.id or 0, "grantee", pending=True),
        upload_mb=f"{config.supervision.uploads.max_bytes / 1_000_000:g}",
        upload_count=config.supervision.uploads.max_files,
        errors=checkpoint_errors(shown.problems, language, place, order=_page_order(rows, spending)),
    )


def _save_report(posted: Posted, _evidence_ids: list[int]) -> object:
    return save_progress_report(
        posted.session,
        checkpoint_id=posted.checkpoint.id or 0,
        fields=posted.fields,
        submit=posted.submit,
        actor=posted.actor,
        now=posted.now,
        timezone=posted.timezone,
    )


REPORT_FORM = CheckpointForm(
    purpose="report",
    owner="grantee",
    shows=("grantee",),
    page=report_page,
    actor=lambda _checkpoint, grant: f"grantee:grant-{grant.id}",
    save=_save_report,
)
show_report = partial(show_form, REPORT_FORM)
handle_report_post = partial(handle_form_post, REPORT_FORM)
report_evidence = partial(find_evidence, REPORT_FORM)
