"""The expert panel's 结项 sheet on a personal link, without HTTP: show it, and act on a post.

Each request opens its own session through the link (``models.evaluation.panel_links``), so a
refused link raises ``LinkRefused`` before anything is read. The page shows the project's plan
(the supervision pages' plan part) against what it delivered — activities, person-times and money
as the supervisors recorded them at the 结项, and the grantee's own 结项报告 (activities, spending
per budget line) — then the supervisors' findings and the form: one score, one comment.

A post calls ``save_panel_sheet`` (action=draft | submit; ``show`` is the page again with what was
typed, the language switch); as on the review sheet, ``InputError`` comes back as the same page
with what was typed and each problem beside its field and in the summary (422), a refusal of the
domain (closed, a draft of a submitted sheet) as the page with its reason in the reader's language
(409), and a state-machine refusal as a plain sentence (``refusal.state``). The evidence of the
checkpoint (the grantee's and the supervisors') opens through the sheet's own link
(``panel_evidence``).
A submission that completes its grant's panel emits ``grantflow.evaluation.panel.complete`` after
the commit (the final-evaluation deployment runs on it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.db import session_scope
from models.documents.engine.cn_format import percent
from models.errors import AccessDenied, Conflict, IllegalTransition, InputError, Problem
from models.evaluation.panel import sheets_of
from models.evaluation.panel_links import open_panel_link
from models.evaluation.panel_sheets import save_panel_sheet, sheet_is_editable, sheet_rules
from models.evaluation.tables import PanelSheet
from models.links import LinkRefused
from models.money import format_yuan
from models.review.tables import Expert
from models.settings import Settings
from models.states import AssignmentState
from models.supervision.evidence import evidence_file
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.tables import Checkpoint, CheckpointReport, Supervisor
from portal.events import CompletedPanel, emit_panel_complete
from portal.form_errors import FieldErrors, field_errors
from portal.i18n import in_language, local_moment, translator
from portal.review.expert_page import shown_state
from portal.supervision.checkpoint_view import Evidence, GranteeView, evidence_rows, grantee_view, plan_totals
from portal.uploads import StoredFile, stored_file

ACTIONS = ("draft", "submit")
EVIDENCE_OWNERS = ("grantee", "supervisor")


@dataclass
class Delivered:
    name: str  # an i18n key: fr.delivered.activities …
    planned: str
    actual: str
    rate: str


@dataclass
class Finding:
    supervisor: str
    score: str
    text: str


@dataclass
class PanelPage:
    competition: str
    ref: str
    title: str
    organisation: str
    expert: str
    deadline: str
    state: str
    editable: bool
    plan: ProjectPlan
    plan_totals: dict[str, str]
    delivered: list[Delivered]
    grantee: GranteeView
    findings: list[Finding]
    supervisor_evidence: list[Evidence]
    status: list[str]  # the sheet's state and what happens next, in the page's language
    share: str  # the panel's weight, in percent
    rest: str  # the supervisors' weight, in percent
    top: str  # the highest score
    score: str
    comment: str
    errors: FieldErrors

    @property
    def submitted(self) -> bool:
        return self.state == AssignmentState.submitted.value

    @property
    def shown_state(self) -> str:
        return shown_state(self.state, editable=self.editable)


@dataclass
class PanelOutcome:
    page: PanelPage | None
    status: int = 200
    notice: str | None = None
    problem_notice: str = ""
    redirect_notice: str | None = None


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _reports(session: Session, checkpoint_id: int) -> list[tuple[CheckpointReport, str]]:
    rows = session.exec(
        select(CheckpointReport, Supervisor.name)
        .join(Supervisor, col(Supervisor.id) == col(CheckpointReport.supervisor_id))
        .where(CheckpointReport.checkpoint_id == checkpoint_id)
        .order_by(col(CheckpointReport.id))
    )
    return [(report, name) for report, name in rows]


def panel_page(
    session: Session,
    *,
    sheet: PanelSheet,
    now: datetime,
    timezone: str,
    language: str,
    entered: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> PanelPage:
    competition = session.get(Competition, sheet.competition_id)
    checkpoint = session.get(Checkpoint, sheet.checkpoint_id)
    expert = session.get(Expert, sheet.expert_id)
    assert competition is not None and checkpoint is not None and expert is not None
    config = competition_config(competition)
    panel = config.evaluation.expert_panel
    weight = panel.weight if panel is not None else Decimal(0)
    plan = project_plan(session, grant_id=sheet.grant_id)
    sessions, participants = plan.sessions, plan.participants  # the 申报书's 活动安排, as the report
    totals = plan_totals(plan)
    reports = _reports(session, checkpoint.id or 0)
    latest = reports[-1][0] if reports else None
    held = latest.activities_held if latest else 0
    people = latest.person_times if latest else 0
    spent = latest.spent_fen if latest else 0
    t = translator(language)
    top = _number(sheet_rules(session, sheet).top)
    place = {
        "score": ("score", "score", f"{t('fr.score')}（0–{top}）"),
        "comment": ("comment", "comment", t("fr.comment")),
    }
    errors = field_errors(problems, language, place=place, general=("sheet", "panel-form", t("fr.title")))
    editable = sheet_is_editable(session, sheet, now)
    deadline = local_moment(sheet.deadline, timezone)
    return PanelPage(
        competition=competition.name,
        ref=plan.ref,
        title=plan.title,
        organisation=plan.organisation,
        expert=expert.name,
        deadline=deadline,
        state=str(sheet.state),
        editable=editable,
        plan=plan,
        plan_totals=totals,
        delivered=[
            Delivered("fr.delivered.activities", totals["sessions"], str(held), percent(held, sessions)),
            Delivered(
                "fr.delivered.people", totals["participants"], f"{people:,}", percent(people, participants)
            ),
            Delivered(
                "fr.delivered.spent",
                format_yuan(plan.amount_fen),
                format_yuan(spent),
                percent(spent, plan.amount_fen),
            ),
        ],
        grantee=grantee_view(session, checkpoint, timezone),
        findings=[Finding(name, _number(r.score), r.findings) for r, name in reports],
        supervisor_evidence=evidence_rows(session, checkpoint.id or 0, "supervisor"),
        status=_status(sheet, editable=editable, deadline=deadline, timezone=timezone, language=language),
        share=_number(weight * 100),
        rest=_number((1 - weight) * 100),
        top=top,
        score=entered.get("score", "")
        if entered is not None
        else (_number(sheet.score) if sheet.score is not None else ""),
        comment=entered.get("comment", "") if entered is not None else sheet.comment,
        errors=errors,
    )


def _status(sheet: PanelSheet, *, editable: bool, deadline: str, timezone: str, language: str) -> list[str]:
    t = translator(language)
    if sheet.state is AssignmentState.submitted:
        moment = local_moment(sheet.submitted_at, timezone) if sheet.submitted_at else ""
        lines = [t("status.sheet.submitted", moment=moment)]
        return [*lines, t("status.panel.amend", deadline=deadline) if editable else t("status.sheet.counted")]
    if not editable:
        return [t("status.panel.closed"), t("fr.late")]
    if sheet.state is AssignmentState.draft:
        return [t("status.sheet.draft", deadline=deadline), t("fr.late")]
    return [t("status.sheet.invited", deadline=deadline), t("fr.late")]


def panel_evidence(
    engine: Engine, token: str, settings: Settings, now: datetime, evidence_id: int
) -> StoredFile:
    """A file of the sheet's checkpoint (the grantee's or the supervisors'); ``NotFound`` otherwise."""
    with session_scope(engine) as session:
        sheet = open_panel_link(session, token=token, settings=settings, now=now)
        row = evidence_file(
            session, checkpoint_id=sheet.checkpoint_id, evidence_id=evidence_id, owners=EVIDENCE_OWNERS
        )
        return stored_file(settings.uploads_dir, row)


def show_panel_sheet(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, done: str | None
) -> PanelOutcome:
    with session_scope(engine) as session:
        sheet = open_panel_link(session, token=token, settings=settings, now=now)
        page = panel_page(session, sheet=sheet, now=now, timezone=settings.timezone, language=language)
    notice = f"fr.notice.{done}" if done in ("draft", "submitted") else None
    if notice is None and not page.editable:
        notice = "fr.notice.closed"
    return PanelOutcome(page, notice=notice)


def open_panel_sheet(engine: Engine, token: str, settings: Settings, now: datetime) -> int:
    """The sheet's id, or ``LinkRefused`` (read before the form's body)."""
    with session_scope(engine) as session:
        return open_panel_link(session, token=token, settings=settings, now=now).id or 0


def handle_panel_post(
    engine: Engine, token: str, settings: Settings, now: datetime, language: str, fields: Mapping[str, str]
) -> PanelOutcome:
    action = fields.get("action", "")
    entered = {"score": fields.get("score", ""), "comment": fields.get("comment", "")}
    complete: CompletedPanel | None = None
    if action == "show":  # the page again with what was typed (the language switch): nothing saved
        return _again(engine, token, settings, now, language, entered, [], status=200)
    try:
        with session_scope(engine) as session:
            sheet = open_panel_link(session, token=token, settings=settings, now=now)
            if action not in ACTIONS:
                raise InputError(Problem("", "action", "未知操作", f"unknown action {action!r}"))
            save_panel_sheet(
                session,
                sheet_id=sheet.id or 0,
                score=entered["score"],
                comment=entered["comment"],
                submit=action == "submit",
                actor=f"expert:{sheet.expert_id}",
                now=now,
            )
            if action == "submit":
                complete = _completed(session, sheet)
    except LinkRefused:
        raise
    except InputError as exc:
        return _again(engine, token, settings, now, language, entered, exc.problems, status=422)
    except (AccessDenied, Conflict) as exc:
        outcome = _again(engine, token, settings, now, language, entered, [], status=409)
        outcome.problem_notice = in_language(str(exc), language)
        return outcome
    except IllegalTransition:
        outcome = _again(engine, token, settings, now, language, entered, [], status=409)
        outcome.problem_notice = translator(language)("refusal.state")
        return outcome
    if complete is not None:
        emit_panel_complete(complete)
    return PanelOutcome(None, redirect_notice="submitted" if action == "submit" else "draft")


def _completed(session: Session, sheet: PanelSheet) -> CompletedPanel | None:
    """The grant's panel, when this submission left none of its sheets open."""
    if any(
        s.state is not AssignmentState.submitted
        for s in sheets_of(session, checkpoint_id=sheet.checkpoint_id)
    ):
        return None
    competition = session.get(Competition, sheet.competition_id)
    return CompletedPanel(
        sheet.checkpoint_id, sheet.competition_id, sheet.grant_id, competition.slug if competition else ""
    )


def _again(
    engine: Engine,
    token: str,
    settings: Settings,
    now: datetime,
    language: str,
    entered: Mapping[str, str],
    problems: Sequence[Problem],
    *,
    status: int,
) -> PanelOutcome:
    """The sheet once more (in a fresh session: the failed one was rolled back)."""
    with session_scope(engine) as session:
        sheet = open_panel_link(session, token=token, settings=settings, now=now)
        page = panel_page(
            session,
            sheet=sheet,
            now=now,
            timezone=settings.timezone,
            language=language,
            entered=entered,
            problems=problems,
        )
    return PanelOutcome(page, status=status)
