"""专家与督导: the experts and supervisors of a competition — their lists and their work — imported
from Excel, added, edited, deactivated; an invitation sent again, a reminder sent now.

    GET  /admin/c/{slug}/people                                  both lists (``models.panels``)
    POST /admin/c/{slug}/people/import                           an .xlsx list (kind = experts | supervisors)
    POST /admin/c/{slug}/people/add                              one person (kind, name, email, …)
    GET  /admin/c/{slug}/people/experts/{id}                     an expert's sheets, panel sheets, letters
    POST /admin/c/{slug}/people/experts/{id}/edit                edit
    POST /admin/c/{slug}/people/experts/{id}/active              deactivate (reason) or reactivate
    POST /admin/c/{slug}/people/experts/{id}/letters             what = remind | invite
    … and the same under /people/supervisors/{id}

The import reads the file with the readers of the command line (``models.review.workbook.
read_experts`` through ``load_experts`` — ``grantflow review open --experts``'s list — and
``load_supervisors`` + ``assign_supervisors`` as ``grantflow supervision supervisors`` runs them):
all or nothing, every refused row in a table naming row, column and what is wrong. Add and edit go
through ``models.review.people`` (matched by e-mail, audited, kept against the configuration's
list); an expert's deactivation hands their open sheets to others as a decline does
(``deactivate_expert``), a supervisor's is refused while they still fill a checkpoint. A reminder
or an invitation asked for here is its own letter of the day (``models.mail.reminders.
write_by_hand``): the scheduled reminders still go out at their offsets, and a second click the
same day queues nothing new.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from models.competition.config import Person
from models.competition.tables import Competition, competition_config
from models.db import lock_competition
from models.documents.engine.cn_format import local_date
from models.errors import Conflict, InputError, Problem
from models.evaluation.panel_notices import panel_letter_by_hand
from models.overview import checkpoints, sheets
from models.panels import (
    ExpertWork,
    SupervisorWork,
    expert_in,
    expert_rows,
    expert_work,
    supervisor_in,
    supervisor_rows,
    supervisor_work,
)
from models.review.notices import queue_invitations, remind_expert, resend_invitation
from models.review.people import add_person, edit_person, set_active
from models.review.reviewing import deactivate_expert, load_experts
from models.review.tables import Expert
from models.supervision.notices import supervisor_letters_by_hand
from models.supervision.supervisors import assign_supervisors, deactivate_supervisor, load_supervisors
from models.supervision.tables import Supervisor
from portal.admin.console import Call, Console, Nav, Posted, sentence

NAV = Nav("people", "people", 60)
FIELDS = ("name", "email", "phone", "organisation", "community", "expertise")
LIMITS = {"name": 64, "email": 254, "phone": 32, "organisation": 200, "community": 32, "expertise": 200}
REASON_MAX = 500
NAME_MAX = 120  # of an uploaded file's name, as messages show it


@dataclass(frozen=True)
class Kind:
    key: str  # experts | supervisors (the path)
    entity: str  # expert | supervisor (the audit's entity)
    table: type[SQLModel]
    community: bool  # an expert belongs to a community; a supervisor does not


KINDS = {
    "experts": Kind("experts", "expert", Expert, True),
    "supervisors": Kind("supervisors", "supervisor", Supervisor, False),
}


@dataclass
class Form:
    """A person's form as typed, and what was wrong with it (field → sentence)."""

    kind: str = "experts"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)
    message: Any = None  # a refusal of the whole form

    @classmethod
    def of(cls, fields: Mapping[str, str], kind: str) -> Form:
        values = {name: " ".join(fields.get(name, "").split())[: LIMITS[name] + 1] for name in FIELDS}
        return cls(kind=kind, values=values)


@dataclass
class ImportResult:
    """An import refused: the file's name and each problem (row, column, what is wrong)."""

    kind: str
    name: str
    problems: list[Problem]


def person_of(form: Form, communities: list[str]) -> Person | None:
    """The ``Person`` the form describes, or None with ``form.errors`` filled (field by field)."""
    data = {name: form.values.get(name, "") for name in FIELDS}
    if form.kind != "experts":
        data.pop("community")
    try:
        person = Person.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            form.errors[name] = sentence(_problem_text(name, data.get(name, ""), error))
        return None
    if person.community and person.community not in communities:
        form.errors["community"] = sentence(
            f"不在本竞赛的社区列表中 / not a community of this competition: {person.community}"
        )
        return None
    return person


def _problem_text(name: str, value: str, error: Mapping[str, Any]) -> str:
    if not value:
        return "必填 / required"
    if error.get("type") == "string_too_long":
        return f"最多 {LIMITS[name]} 个字 / at most {LIMITS[name]} characters"
    if name == "email":
        return "电子邮箱格式不对 / not a valid e-mail address"
    return f"格式不对 / {error.get('msg', 'not valid')}"


def import_list(session: Session, competition: Competition, kind: str, posted: Posted, actor: str) -> int:
    """Read the posted .xlsx with the command line's reader and store its people (all or nothing).
    Returns how many people the list holds; ``InputError`` lists every refused row."""
    name = Path(posted.name.replace("\\", "/")).name[:NAME_MAX] or "名单.xlsx"
    if not posted.data:
        raise InputError(Problem(name, "", "请选择要导入的 Excel 文件", "choose the Excel file to import"))
    with tempfile.TemporaryDirectory(prefix="grantflow-people-") as folder:
        path = Path(folder) / ("".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in name))
        path.write_bytes(posted.data)
        lock_competition(session, competition.id or 0)
        if kind == "supervisors":
            people = load_supervisors(session, competition_id=competition.id or 0, actor=actor, path=path)
            assign_supervisors(session, competition_id=competition.id or 0, actor=actor)
        else:
            people = load_experts(session, competition_id=competition.id or 0, actor=actor, path=path)
    return len(people)


@dataclass(frozen=True)
class PeoplePage:
    slug: str
    experts: list[Any]
    supervisors: list[Any]
    sheets: tuple[int, int]  # the 首页's "sheets in / due"
    checkpoints: tuple[int, int]  # the 首页's "due / overdue"
    communities: list[str]
    form: Form
    refused: ImportResult | None


@dataclass(frozen=True)
class PersonPage:
    kind: Kind
    work: ExpertWork | SupervisorWork
    form: Form
    today: Any
    reminders: list[str]  # what "remind now" would send, one line each
    invitations: list[str]  # what "send the invitation again" would send
    communities: list[str]

    @property
    def person(self) -> Any:
        return self.work.expert if isinstance(self.work, ExpertWork) else self.work.supervisor


def _expert_letters(work: ExpertWork) -> tuple[list[str], list[str]]:
    """What remind / invite would send an expert (a line per letter), from their open sheets."""
    reminders, invitations = [], []
    if work.open_sheets:
        n = len(work.open_sheets)
        invitations.append(
            f"评审邀请，列出 {n} 份评分表及其链接 / the review's invitation: {n} sheets and their links"
        )
    if work.unfinished:
        n = len(work.unfinished)
        reminders.append(f"评审提醒，{n} 份未完成的评分表 / the review's reminder: {n} unfinished sheets")
    if work.open_panel:
        n = len(work.open_panel)
        invitations.append(f"结项评审邀请，{n} 个项目 / the final panel's invitation: {n} projects")
        reminders.append(f"结项评审提醒，{n} 个项目 / the final panel's reminder: {n} projects")
    return reminders, invitations


def _supervisor_letters(work: SupervisorWork, today: Any) -> tuple[list[str], list[str]]:
    due = work.open_checkpoints(today)
    reminders = [f"督导提醒：{c.project.ref} {c.name} / reminder: {c.project.ref}" for c in due]
    invitations = [f"督导邀请：{c.project.ref} {c.name} / request: {c.project.ref}" for c in work.requested]
    return reminders, invitations


def register(console: Console) -> None:
    def people_page(call: Call, form: Form | None = None, refused: ImportResult | None = None) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            competition_id = competition.id or 0
            today = local_date(call.now, call.settings.timezone)
            page = PeoplePage(
                slug=competition.slug,
                experts=expert_rows(session, competition_id=competition_id, now=call.now),
                supervisors=supervisor_rows(session, competition_id=competition_id, today=today),
                sheets=sheets(session, competition_id),
                checkpoints=checkpoints(session, competition_id, today=today),
                communities=list(competition_config(competition).communities),
                form=form or Form(),
                refused=refused,
            )
        status = 422 if (form and (form.errors or form.message)) or refused else 200
        return call.render("admin/people.html", {"people": page}, competition=competition, status_code=status)

    @console.page("/admin/c/{slug}/people", nav=NAV)
    def people(call: Call) -> Response:
        return people_page(call)

    @console.action("/admin/c/{slug}/people/import", files=1)
    def import_people(call: Call) -> Response:
        kind = call.fields.get("kind", "")
        if kind not in KINDS or not call.files:
            name = call.files[0].name if call.files else ""
            problem = Problem(name, "", "请选择名单类别和 Excel 文件", "choose the kind of list and its file")
            return people_page(call, refused=ImportResult(kind, name, [problem]))
        try:
            with call.session() as session:
                competition = call.competition(session)
                import_list(session, competition, kind, call.files[0], call.actor)
        except InputError as exc:
            return people_page(call, refused=ImportResult(kind, call.files[0].name, exc.problems))
        return call.redirect(f"/admin/c/{competition.slug}/people#{kind}", notice=f"imported_{kind}")

    @console.action("/admin/c/{slug}/people/add")
    def add(call: Call) -> Response:
        kind = call.fields.get("kind", "")
        form = Form.of(call.fields, kind if kind in KINDS else "experts")
        with call.session() as session:
            competition = call.competition(session)
            person = person_of(form, list(competition_config(competition).communities))
            if person is not None:
                try:
                    row = add_person(
                        session,
                        table=KINDS[form.kind].table,
                        competition_id=competition.id or 0,
                        person=person,
                        entity=KINDS[form.kind].entity,
                        actor=call.actor,
                    )
                except Conflict as exc:
                    form.errors["email"] = sentence(str(exc))
        if form.errors:
            return people_page(call, form=form)
        return call.redirect(f"/admin/c/{competition.slug}/people/{form.kind}/{row.id}", notice="added")

    for kind in KINDS.values():
        _register_person(console, kind)


def _register_person(console: Console, kind: Kind) -> None:
    base = f"/admin/c/{{slug}}/people/{kind.key}/{{{kind.entity}_id:int}}"
    param = f"{kind.entity}_id"

    def person_page(call: Call, form: Form | None = None) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            config = competition_config(competition)
            today = local_date(call.now, call.settings.timezone)
            work: ExpertWork | SupervisorWork
            if kind.key == "experts":
                work = expert_work(session, competition_id=competition.id or 0, expert_id=call.param(param))
                reminders, invitations = _expert_letters(work)
                person: Any = work.expert
            else:
                work = supervisor_work(
                    session,
                    competition_id=competition.id or 0,
                    supervisor_id=call.param(param),
                    config=config,
                )
                reminders, invitations = _supervisor_letters(work, today)
                person = work.supervisor
            if form is None:
                form = Form(kind=kind.key, values=_values(person))
            page = PersonPage(kind, work, form, today, reminders, invitations, list(config.communities))
        status = 422 if form.errors or form.message else 200
        return call.render("admin/person.html", {"page": page}, competition=competition, status_code=status)

    def find(session: Session, call: Call, competition: Competition) -> Any:
        if kind.key == "experts":
            return expert_in(session, competition_id=competition.id or 0, expert_id=call.param(param))
        return supervisor_in(session, competition_id=competition.id or 0, supervisor_id=call.param(param))

    def show(call: Call) -> Response:
        return person_page(call)

    def edit(call: Call) -> Response:
        form = Form.of(call.fields, kind.key)
        with call.session() as session:
            competition = call.competition(session)
            row = find(session, call, competition)
            person = person_of(form, list(competition_config(competition).communities))
            changed = False
            if person is not None:
                try:
                    changed = edit_person(
                        session, row=row, person=person, entity=kind.entity, actor=call.actor
                    )
                except Conflict as exc:
                    form.errors["email"] = sentence(str(exc))
        if form.errors:
            return person_page(call, form)
        return call.redirect(
            f"/admin/c/{competition.slug}/people/{kind.key}/{row.id}",
            notice="edited" if changed else "unchanged",
        )

    def active(call: Call) -> Response:
        wanted = call.fields.get("active") == "1"
        reason = " ".join(call.fields.get("reason", "").split())[:REASON_MAX]
        if not wanted and not reason:
            with call.session() as session:
                values = _values(find(session, call, call.competition(session)))
            form = Form(kind=kind.key, values=values)
            form.message = sentence("请写明停用的理由 / give the reason for the deactivation")
            return person_page(call, form)
        values: dict[str, str] = {}
        try:
            with call.session() as session:
                competition = call.competition(session)
                lock_competition(session, competition.id or 0)
                row = find(session, call, competition)
                values = _values(row)
                if wanted:
                    again = reason or "重新启用 / reactivated"
                    set_active(
                        session, row=row, active=True, entity=kind.entity, actor=call.actor, reason=again
                    )
                elif kind.key == "experts":
                    if deactivate_expert(session, expert_id=row.id, actor=call.actor, reason=reason):
                        queue_invitations(session, competition=competition, settings=call.settings)
                else:
                    deactivate_supervisor(session, supervisor_id=row.id, actor=call.actor, reason=reason)
        except Conflict as exc:
            form = Form(kind=kind.key, values=values)
            form.message = sentence(str(exc))
            return person_page(call, form)
        return call.redirect(
            f"/admin/c/{competition.slug}/people/{kind.key}/{row.id}",
            notice="activated" if wanted else "deactivated",
        )

    def letters(call: Call) -> Response:
        what = call.fields.get("what", "")
        with call.session() as session:
            competition = call.competition(session)
            row = find(session, call, competition)  # an id of nobody is not found, whatever was asked
            if what not in ("remind", "invite"):
                raise InputError(Problem("", "what", "请选择提醒或重发邀请", "choose remind or invite"))
            lock_competition(session, competition.id or 0)
            row = find(session, call, competition)
            made = send_by_hand(session, competition, kind, row, what, call)
            new = [letter for letter, fresh in made if fresh]
            if new:
                call.audit(
                    session,
                    entity=kind.entity,
                    entity_id=row.id,
                    action="remind" if what == "remind" else "invite_again",
                    reason="管理员立即提醒 / reminded now"
                    if what == "remind"
                    else "管理员重发邀请 / invitation sent again",
                    data={"letters": [letter.id for letter in new]},
                )
        notice = f"{what}_none" if not made else (f"{what}_sent" if new else f"{what}_today")
        return call.redirect(f"/admin/c/{competition.slug}/people/{kind.key}/{row.id}#letters", notice=notice)

    show.__name__ = f"{kind.entity}_page"
    edit.__name__ = f"{kind.entity}_edit"
    active.__name__ = f"{kind.entity}_active"
    letters.__name__ = f"{kind.entity}_letters"
    console.page(base)(show)
    console.action(f"{base}/edit")(edit)
    console.action(f"{base}/active")(active)
    console.action(f"{base}/letters")(letters)


def send_by_hand(
    session: Session, competition: Competition, kind: Kind, row: Any, what: str, call: Call
) -> list[tuple[Any, bool]]:
    """The letters "remind now" / "send the invitation again" queue for one person: (letter, new)."""
    settings, now = call.settings, call.now
    if kind.key == "supervisors":
        return supervisor_letters_by_hand(
            session,
            competition=competition,
            settings=settings,
            supervisor_id=row.id,
            now=now,
            invitation=what == "invite",
        )
    review: Callable[..., Any] = remind_expert if what == "remind" else resend_invitation
    made = [
        review(session, competition=competition, settings=settings, expert_id=row.id, now=now),
        panel_letter_by_hand(
            session,
            competition=competition,
            settings=settings,
            expert_id=row.id,
            now=now,
            invitation=what == "invite",
        ),
    ]
    return [m for m in made if m is not None]


def _values(row: Any) -> dict[str, str]:
    return {
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "organisation": row.organisation_name,
        "community": getattr(row, "community", ""),
        "expertise": row.expertise,
    }
