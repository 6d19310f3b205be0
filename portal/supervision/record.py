"""The supervisor's record (督导记录表) on a personal link, without HTTP: show it, and act on a post.

Each request opens its own session through the link (``open_checkpoint_link``), so a refused link
raises ``LinkRefused`` before anything is read. A post stores the uploads and the record in one
transaction (``portal.uploads.save_with_evidence`` → ``save_record``): ``InputError`` comes back as
the same page with what was typed and each problem beside its field and in the summary, named by
the field's label (422), nothing stored; a refusal of the domain (a draft after 提交, the checkpoint
closed) as the page with the reason (409). A stored submission emits the Prefect event that runs
the checkpoint follow-up.

The page shows the record's own state and what happens next, the plan from the application
(活动安排, budget) beside the grantee's own report and evidence (each file opens through this link),
then the form: visit, figures, the rubric, findings, what to rectify, the verdict, the evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import (
    COMMENT,
    POINTS,
    checkpoint_context,
    record_amendable_until,
    report_of,
    save_record,
)
from models.supervision.tables import Checkpoint
from portal.events import SubmittedRecord, emit_record_submitted
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

RECORD_FIELDS = (
    "visit_date",
    "visit_mode",
    "activities_held",
    "person_times",
    "beneficiaries",
    "spent",
    "findings",
    "rectify",
    "verdict",
    "override_reason",
)
_ANCHORS = {"visit_mode": "mode-on_site"}  # a radio group: its first choice


@dataclass
class Indicator:
    code: str
    name: str
    description: str
    max_points: str
    step: str
    points: str
    comment: str

    @property
    def field_name(self) -> str:
        return POINTS + self.code

    @property
    def comment_name(self) -> str:
        return COMMENT + self.code


@dataclass
class RecordPage:
    header: Header
    form: FormStatus
    plan: ProjectPlan
    plan_totals: dict[str, str]
    grantee: GranteeView
    values: dict[str, str]
    indicators: list[Indicator]
    total: str
    pass_mark: str
    evidence: list[Evidence]
    pending: list[Evidence]
    upload_mb: str
    upload_count: int
    errors: FieldErrors


def _labels(indicators: list[Indicator], language: str) -> dict[str, tuple[str, str, str]]:
    t = translator(language)
    place = {name: (name, _ANCHORS.get(name, name), t(f"sv.{name}")) for name in RECORD_FIELDS}
    for item in indicators:
        place[item.field_name] = (
            item.field_name,
            item.field_name,
            f"{item.name}（{t('sv.max')} {item.max_points}）",
        )
        place[item.comment_name] = (item.comment_name, item.comment_name, f"{item.name} · {t('sv.comment')}")
    return place


def _page_order(indicators: list[Indicator]) -> list[str]:
    """The fields in the order the page shows them: the visit, the rubric, the verdict."""
    rubric = [name for item in indicators for name in (item.field_name, item.comment_name)]
    return [*RECORD_FIELDS[:6], *rubric, *RECORD_FIELDS[6:]]


def record_page(
    session: Session,
    *,
    checkpoint: Checkpoint,
    language: str,
    now: datetime,
    timezone: str,
    shown: Shown = Shown(),
) -> RecordPage:
    _, grant, plan, config = checkpoint_context(session, checkpoint.id or 0)
    record = report_of(session, checkpoint_id=checkpoint.id or 0)
    entered = shown.entered
    if entered is not None:
        values = {name: entered.get(name, "") for name in RECORD_FIELDS}
    elif record is not None:
        values = {
            "visit_date": iso_day(record.visit_date),
            "visit_mode": record.visit_mode,
            "activities_held": str(record.activities_held),
            "person_times": str(record.person_times),
            "beneficiaries": str(record.beneficiaries),
            "spent": f"{record.spent_fen / 100:.2f}" if record.spent_fen else "",
            "findings": record.findings,
            "rectify": record.rectify,
            "verdict": ""
            if record.passed == record.computed_passed
            else ("pass" if record.passed else "fail"),
            "override_reason": record.override_reason,
        }
    else:
        values = {name: "" for name in RECORD_FIELDS}
    stored = record.indicators if record is not None else {}
    indicators = []
    for item in plan.rubric:
        kept = stored.get(item.code, {}) if isinstance(stored.get(item.code), dict) else {}
        indicators.append(
            Indicator(
                code=item.code,
                name=item.name,
                description=item.description,
                max_points=str(item.max_points),
                step=str(item.step),
                points=entered.get(POINTS + item.code, "")
                if entered is not None
                else str(kept.get("points", "")),
                comment=entered.get(COMMENT + item.code, "")
                if entered is not None
                else str(kept.get("comment", "")),
            )
        )
    place = _labels(indicators, language)
    project = project_plan(session, grant_id=grant.id or 0)
    state = "none" if record is None else ("draft" if record.draft else "submitted")
    return RecordPage(
        header=header(session, checkpoint, plan),
        form=form_status(
            checkpoint,
            state=state,
            saved_at=record.updated_at if record is not None else None,
            submitted_at=record.submitted_at if record is not None else None,
            amend_until=record_amendable_until(checkpoint, timezone),
            due=iso_day(checkpoint.due_on),
            now=now,
            timezone=timezone,
            language=language,
            words="status.record",
        ),
        plan=project,
        plan_totals=plan_totals(project),
        grantee=grantee_view(session, checkpoint, timezone),
        values=values,
        indicators=indicators,
        total=str(record.score) if record is not None and entered is None else "",
        pass_mark=str(plan.pass_score),
        evidence=evidence_rows(session, checkpoint.id or 0, "supervisor"),
        pending=evidence_rows(session, checkpoint.id or 0, "supervisor", pending=True),
        upload_mb=f"{config.supervision.uploads.max_bytes / 1_000_000:g}",
        upload_count=config.supervision.uploads.max_files,
        errors=checkpoint_errors(shown.problems, language, place, order=_page_order(indicators)),
    )


def _save_record(posted: Posted, evidence_ids: list[int]) -> object:
    return save_record(
        posted.session,
        checkpoint_id=posted.checkpoint.id or 0,
        fields=posted.fields,
        submit=posted.submit,
        actor=posted.actor,
        now=posted.now,
        evidence_ids=evidence_ids,
        timezone=posted.timezone,
    )


def _record_submitted(posted: Posted) -> Callable[[], object]:
    """The Prefect event of a submitted record, sent once the record is committed."""
    submitted = SubmittedRecord(
        posted.checkpoint.id or 0,
        posted.competition.id or 0,
        posted.grant.id or 0,
        posted.checkpoint.supervisor_id or 0,
        posted.competition.slug,
    )
    return lambda: emit_record_submitted(submitted)


RECORD_FORM = CheckpointForm(
    purpose="checkpoint",
    owner="supervisor",
    shows=("grantee", "supervisor"),
    page=record_page,
    actor=lambda checkpoint, _grant: f"supervisor:{checkpoint.supervisor_id}",
    save=_save_record,
    on_submit=_record_submitted,
)
show_record = partial(show_form, RECORD_FORM)
handle_record_post = partial(handle_form_post, RECORD_FORM)
record_evidence = partial(find_evidence, RECORD_FORM)
