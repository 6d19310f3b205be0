"""An expert's own page (``/expert/{token}``): every sheet of theirs — the review's score sheets and
the 结项 panel's sheets — with its state, its deadline and its own link, the next one to do marked.
The invitation letter carries this one link; each sheet keeps its own link too, and after a
submission the sheet points to the next one (``next_sheet``).

The next sheet to do is the first, by deadline then 申报编号, that is still open and not yet
submitted (invited or a draft). In a blind review a title passes through ``Identity.hide`` as on
the sheet itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.db import session_scope
from models.evaluation.panel_sheets import sheet_is_editable as panel_sheet_is_editable
from models.evaluation.tables import PanelSheet
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.links import sheet_signer
from models.review.links import expert_token, open_expert_link
from models.review.score_sheets import sheet_is_editable
from models.review.tables import Expert, ReviewAssignment
from models.settings import Settings
from models.states import AssignmentState
from portal.i18n import local_moment
from portal.review.blind import Identity

TO_DO = (AssignmentState.invited, AssignmentState.draft)
# what a line reads of an application (the row's other columns — its 申报书 — stay unread), and
# what a blind review's ``Identity`` reads besides
LINE_COLUMNS = (
    Application.id,
    Application.ref,
    Application.title,
    Application.state,
    Application.organisation_id,
)
BLIND_COLUMNS = (
    Application.contact_name,
    Application.contact_phone,
    Application.contact_email,
    Application.details,
)


def shown_state(state: str, *, editable: bool) -> str:
    """A sheet's state as the pages name it: one never submitted and no longer open is closed."""
    return "closed" if not editable and state in {s.value for s in TO_DO} else state


@dataclass(frozen=True)
class SheetLine:
    kind: str  # review | final_review
    sheet_id: int
    ref: str
    title: str
    state: str  # the sheet's state (i18n: state.<state>), or "closed" when it can no longer be filled
    deadline: str
    path: str  # the sheet's room on this portal: "review" or "final-review"
    to_do: bool  # open and not yet submitted
    moment: datetime  # the deadline, for ordering
    sign: Callable[[], str] = field(compare=False, repr=False)  # the link's token, signed when shown

    @cached_property
    def url(self) -> str:
        """The sheet's own link (a path on this portal), signed the first time a page shows it: a
        sheet page shows one line of the expert's many (the next one), the expert's page every line."""
        return f"/{self.path}/{self.sign()}"

    @property
    def state_key(self) -> str:
        return f"state.{self.state}"


@dataclass(frozen=True)
class ExpertPage:
    competition: str
    expert_name: str
    sheets: list[SheetLine]
    next: SheetLine | None

    @property
    def done(self) -> int:
        return sum(1 for s in self.sheets if s.state == AssignmentState.submitted.value)


def _review_lines(session: Session, expert: Expert, settings: Settings, now: datetime) -> list[SheetLine]:
    competition = session.get(Competition, expert.competition_id)
    blind = competition is not None and competition_config(competition).review.blind
    rows = session.exec(
        select(ReviewAssignment, Application)
        .join(Application, col(Application.id) == col(ReviewAssignment.application_id))
        .where(ReviewAssignment.expert_id == expert.id)
        .options(load_only(*LINE_COLUMNS, *(BLIND_COLUMNS if blind else ())))
    )
    lines = []
    for assignment, application in rows:
        title = application.title
        if blind:
            title = Identity.of(application, session.get(Organisation, application.organisation_id)).hide(
                title
            )
        open_ = sheet_is_editable(assignment, application, now)
        state = shown_state(assignment.state.value, editable=open_)
        lines.append(
            SheetLine(
                "review",
                assignment.id or 0,
                application.ref,
                title,
                state,
                local_moment(assignment.deadline, settings.timezone),
                "review",
                open_ and assignment.state in TO_DO,
                assignment.deadline,
                sheet_signer("review", assignment, settings),
            )
        )
    return lines


def _panel_lines(session: Session, expert: Expert, settings: Settings, now: datetime) -> list[SheetLine]:
    rows = session.exec(
        select(PanelSheet, Application)
        .join(Grant, col(Grant.id) == col(PanelSheet.grant_id))
        .join(Application, col(Application.id) == col(Grant.application_id))
        .where(PanelSheet.expert_id == expert.id)
    )
    lines = []
    for sheet, application in rows:
        open_ = panel_sheet_is_editable(session, sheet, now)
        state = shown_state(sheet.state.value, editable=open_)
        lines.append(
            SheetLine(
                "final_review",
                sheet.id or 0,
                application.ref,
                application.title,
                state,
                local_moment(sheet.deadline, settings.timezone),
                "final-review",
                open_ and sheet.state in TO_DO,
                sheet.deadline,
                sheet_signer("final_review", sheet, settings),
            )
        )
    return lines


def sheet_lines(session: Session, expert: Expert, settings: Settings, now: datetime) -> list[SheetLine]:
    """Every sheet of the expert: the review's, then the 结项 panel's, each by deadline and 申报编号."""
    review = sorted(_review_lines(session, expert, settings, now), key=lambda s: (s.moment, s.ref))
    panel = sorted(_panel_lines(session, expert, settings, now), key=lambda s: (s.moment, s.ref))
    return review + panel


def next_sheet(lines: list[SheetLine], *, after: tuple[str, int] = ("", 0)) -> SheetLine | None:
    """The next sheet to do, other than ``after`` (kind, sheet id: the one on the page)."""
    return next((s for s in lines if s.to_do and (s.kind, s.sheet_id) != after), None)


def expert_path(expert: Expert, settings: Settings) -> str:
    return f"/expert/{expert_token(expert, settings)}"


def panel_deadlines(session: Session, expert_id: int) -> list[datetime]:
    """The deadlines of the expert's 结项 panel sheets (a later stage's, passed to the link's check)."""
    return list(session.exec(select(PanelSheet.deadline).where(PanelSheet.expert_id == expert_id)))


def show_expert_page(engine: Engine, token: str, settings: Settings, now: datetime) -> ExpertPage:
    """The page ``token`` opens; ``LinkRefused`` for a refused link."""
    with session_scope(engine) as session:
        expert = open_expert_link(
            session,
            token=token,
            settings=settings,
            now=now,
            later=lambda expert_id: panel_deadlines(session, expert_id),
        )
        competition = session.get(Competition, expert.competition_id)
        lines = sheet_lines(session, expert, settings, now)
        return ExpertPage(competition.name if competition else "", expert.name, lines, next_sheet(lines))
