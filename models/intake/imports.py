"""Intake (申报受理): import a file of applications into a competition.

``import_applications`` reads a file (.xlsx, .csv, .json, or a filled-in Word 申报书), validates each
application (``models.intake.validation``), and stores the valid ones; invalid ones are reported
with every problem and not stored. One file is one transaction (a SAVEPOINT): an unexpected error
half-way leaves the database as it was. Importing the same file again changes nothing: an
application is a duplicate when its organisation and project title, or its applicant-supplied
申报编号, are already stored. After ``deadlines.applications_close`` a file is refused unless the
administrator gives a reason, which is audited. When one rule refuses most of a file's rows
(``held_rules``), those rows are marked ``held``: their refusal letters wait as drafts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from models.audit import record
from models.competition.config import CompetitionConfig, IntakeLimits
from models.competition.tables import Competition, competition_config
from models.errors import InputError, NotFound, Problem
from models.intake.fields import RawRow
from models.intake.rows import read_application_file
from models.intake.tables import Application, BudgetLine, Organisation
from models.intake.validation import ApplicationCreate, usable_email, validate_row
from models.savepoints import savepoint
from models.states import STATE_LABELS, ApplicationState, CompetitionStage

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RefusedRow:
    """An application that was not stored, with every reason and, if usable, where to write.
    ``held``: the rule that refused most of its file, for which its letter waits (see ``held_rules``)."""

    where: str
    problems: list[Problem]
    email: str | None
    title: str = ""
    organisation: str = ""
    contact_name: str = ""
    held: str = ""

    @property
    def reasons(self) -> list[str]:
        """The problems as a refusal letter lists them: 字段：问题 (Chinese)."""
        return [f"{p.field}：{p.zh}" if p.field else p.zh for p in self.problems]

    @property
    def reasons_en(self) -> list[str]:
        return [f"{p.field}: {p.en}" if p.field else p.en for p in self.problems]


@dataclass(frozen=True)
class DuplicateRow:
    """An application already stored (same organisation and title, or the same 申报编号)."""

    where: str
    application_id: int
    ref: str
    title: str


@dataclass
class ImportReport:
    file: str
    accepted: list[int] = field(default_factory=list)  # new application ids, in file order
    duplicates: list[DuplicateRow] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    late: bool = False  # imported after the deadline, with an administrator's reason
    notices: list[Problem] = field(default_factory=list)  # how the file was read: hidden sheets, rows

    held: dict[str, int] = field(default_factory=dict)  # rule → rows it refused, when held (held_rules)

    @property
    def problems(self) -> list[Problem]:
        return [p for row in self.refused for p in row.problems]

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.duplicates) + len(self.refused)


_VALUES = re.compile(r"“[^”]*”|‘[^’]*’|'[^']*'|\d[\d,.:/\-年月日至]*")


def rule_of(problem: Problem) -> str:
    """The rule a problem states, its values left out: 项目周期：项目周期 … 须在项目执行期 … 之内."""
    said = _VALUES.sub("…", problem.zh)
    return f"{problem.field}：{said}" if problem.field else said


def held_rules(report: ImportReport, limits: IntakeLimits) -> dict[str, int]:
    """The rules that refuse more than ``limits.hold_refusals_share`` of the file's rows (and at least
    ``hold_refusals_min_rows`` rows), with how many: a file of the wrong year, a configuration with a
    mistake — a refusal letter to every applicant would be the software's error, not theirs."""
    counts: dict[str, int] = {}
    for row in report.refused:
        for rule in dict.fromkeys(rule_of(p) for p in row.problems):
            counts[rule] = counts.get(rule, 0) + 1
    share = limits.hold_refusals_share
    return {
        rule: count
        for rule, count in counts.items()
        if count >= limits.hold_refusals_min_rows and Decimal(count) > share * report.rows
    }


def hold_refusals(report: ImportReport, limits: IntakeLimits) -> None:
    """Mark the refused rows under a rule that refused most of the file (``held_rules``)."""
    report.held = held_rules(report, limits)
    if not report.held:
        return
    report.refused = [
        dataclasses.replace(
            row, held=next((rule_of(p) for p in row.problems if rule_of(p) in report.held), "")
        )
        for row in report.refused
    ]


def check_taking_files(competition: Competition) -> None:
    """Application files are imported while the call is open (征集中, late ones with a reason);
    before the call is published or once screening has begun an import would leave applications no
    stage will ever screen or score: ``InputError`` naming the stage. Asked by the console before
    its run."""
    if competition.stage is not CompetitionStage.call_open:
        label = STATE_LABELS[competition.stage]
        raise InputError(
            Problem(
                competition.slug,
                "",
                f"竞赛当前为“{label}”阶段，申报文件只在征集期（征集中）导入",
                f"the competition is at {competition.stage}: files are imported while the call is open",
            )
        )


def check_on_time(
    config: CompetitionConfig, *, now: datetime, override_reason: str | None, name: str
) -> bool:
    """Whether a file named ``name`` arrives late; after ``deadlines.applications_close`` it is
    refused (``InputError``) unless an administrator's ``override_reason`` says why. Asked by the
    import and, before its run, by the CLI."""
    close = config.deadlines.applications_close
    late = now > close
    if late and not (override_reason or "").strip():
        raise InputError(
            Problem(
                name,
                "",
                f"申报已于 {close.astimezone(BEIJING):%Y-%m-%d %H:%M}（北京时间）截止，不再受理；"
                "如需补录，须由管理员注明理由",
                f"applications closed at {close.isoformat()}; an administrator may import late with a reason",
            )
        )
    return late


def import_applications(
    session: Session,
    *,
    competition_id: int,
    path: Path | str,
    actor: str,
    now: datetime,
    override_reason: str | None = None,
    on_stored: Callable[[Application], None] | None = None,
) -> ImportReport:
    """Import every application in ``path``; the caller commits.

    ``on_stored`` is called after each application is stored (progress reporting); an exception it
    raises — like any unexpected error — rolls the whole file back.
    Raises ``InputError`` for a file that cannot be read, or that arrives after the deadline
    without ``override_reason``.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone / 时间须带时区")
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    config = competition_config(competition)
    name = Path(path).name
    late = check_on_time(config, now=now, override_reason=override_reason, name=name)
    reason = (override_reason or "").strip()
    read = read_application_file(path, config.intake)
    rows = read.rows
    report = ImportReport(file=name, late=late, notices=read.notices)
    with savepoint(session):
        for row in rows:
            _import_row(
                session,
                competition=competition,
                config=config,
                row=row,
                report=report,
                actor=actor,
                now=now,
                late_reason=reason if late else "",
                on_stored=on_stored,
            )
        hold_refusals(report, config.intake)
        if late and report.accepted:
            record(
                session,
                actor=actor,
                entity="competition",
                entity_id=competition_id,
                action="late_import",
                reason=reason,
                data={
                    "file": name,
                    "applications": report.accepted,
                    "deadline": config.deadlines.applications_close.isoformat(),
                    "imported_at": now.isoformat(),
                },
            )
            session.flush()
    return report


def _import_row(
    session: Session,
    *,
    competition: Competition,
    config: CompetitionConfig,
    row: RawRow,
    report: ImportReport,
    actor: str,
    now: datetime,
    late_reason: str,
    on_stored: Callable[[Application], None] | None,
) -> None:
    try:
        data = validate_row(row, config=config, today=now.astimezone(BEIJING).date())
    except InputError as exc:
        report.refused.append(
            RefusedRow(
                row.where,
                exc.problems,
                usable_email(row),
                row.text("title"),
                row.text("organisation"),
                row.text("contact_name"),
            )
        )
        return
    assert competition.id is not None
    existing, clash = find_duplicate(session, competition_id=competition.id, data=data)
    if clash is not None:
        report.refused.append(
            RefusedRow(
                row.where, [clash], data.contact_email, data.title, data.organisation.name, data.contact_name
            )
        )
        return
    if existing is not None:
        assert existing.id is not None
        report.duplicates.append(DuplicateRow(row.where, existing.id, existing.ref, existing.title))
        return
    application = store_application(
        session, competition=competition, data=data, actor=actor, now=now, late_reason=late_reason
    )
    assert application.id is not None
    report.accepted.append(application.id)
    if on_stored is not None:
        on_stored(application)


def find_duplicate(
    session: Session, *, competition_id: int, data: ApplicationCreate
) -> tuple[Application | None, Problem | None]:
    """The stored application ``data`` repeats, or a problem when its 申报编号 belongs to another one."""
    organisation = session.exec(
        select(Organisation).where(Organisation.name == data.organisation.name)
    ).first()
    if data.ref:
        by_ref = session.exec(
            select(Application).where(
                Application.competition_id == competition_id, Application.ref == data.ref
            )
        ).first()
        if by_ref is not None:
            same_organisation = organisation is not None and by_ref.organisation_id == organisation.id
            if same_organisation and by_ref.title == data.title:
                return by_ref, None
            return None, Problem(
                data.source,
                "申报编号",
                f"申报编号“{data.ref}”已用于另一项申报“{by_ref.title}”",
                f"the number {data.ref!r} belongs to another application, {by_ref.title!r}",
            )
    if organisation is None:
        return None, None
    same_title = session.exec(
        select(Application).where(
            Application.competition_id == competition_id,
            Application.organisation_id == organisation.id,
            Application.title == data.title,
        )
    ).first()
    return same_title, None


def store_application(
    session: Session,
    *,
    competition: Competition,
    data: ApplicationCreate,
    actor: str,
    now: datetime,
    late_reason: str = "",
) -> Application:
    """Store a validated application (state 已受理 submitted) with its budget lines; audited."""
    assert competition.id is not None
    organisation = _organisation_for(session, data)
    assert organisation.id is not None
    application = Application(
        competition_id=competition.id,
        organisation_id=organisation.id,
        ref=data.ref or next_ref(session, competition=competition),
        title=data.title,
        category=data.category,
        pool=data.pool,
        community=data.community,
        communities=list(data.communities),
        target_group=data.target_group,
        beneficiaries=data.beneficiaries,
        period_start=data.period_start,
        period_end=data.period_end,
        amount_fen=data.amount_fen,
        self_funded_fen=data.self_funded_fen,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        contact_email=data.contact_email,
        summary=data.summary,
        details=dict(data.details),
        state=ApplicationState.submitted,
        source=data.source[:500],
        submitted_at=now,
    )
    session.add(application)
    session.flush()
    assert application.id is not None
    for position, line in enumerate(data.budget, start=1):
        session.add(
            BudgetLine(
                application_id=application.id,
                position=position,
                item=line.item,
                purpose=line.purpose,
                unit_price_fen=line.unit_price_fen,
                quantity=line.quantity,
                amount_fen=line.amount_fen,
            )
        )
    audit_data: dict[str, str] = {"source": data.source}
    if late_reason:
        audit_data["late_override"] = late_reason
    record(
        session,
        actor=actor,
        entity="application",
        entity_id=application.id,
        action="create",
        to_state=str(ApplicationState.submitted),
        reason=f"受理 / received: {data.source}",
        data=audit_data,
    )
    session.flush()
    return application


_TAKEN_REFS = "grantflow.taken_refs"  # session.info: competition id -> (count, refs) as last read


def next_ref(session: Session, *, competition: Competition) -> str:
    """The next free 申报编号 of the form ``2025-007``.

    The refs already taken are read once per transaction and kept in the session (a file of 10,000
    rows read them 10,000 times: quadratic); the count, read each time, tells when another writer
    in the transaction added one, and then they are read again."""
    count = int(
        session.exec(
            select(func.count()).select_from(Application).where(Application.competition_id == competition.id)
        ).one()
    )
    cache: dict[int | None, tuple[int, set[str]]] = session.info.setdefault(_TAKEN_REFS, {})
    known, taken = cache.get(competition.id, (-1, set()))
    if known != count:
        taken = set(session.exec(select(Application.ref).where(Application.competition_id == competition.id)))
    number = count + 1
    while f"{competition.year}-{number:03d}" in taken:
        number += 1
    ref = f"{competition.year}-{number:03d}"
    taken.add(ref)
    cache[competition.id] = (count + 1, taken)  # the caller stores the application at once
    return ref


def _organisation_for(session: Session, data: ApplicationCreate) -> Organisation:
    """The stored organisation of that name (blank fields filled in), or a new one."""
    given = data.organisation
    found = session.exec(select(Organisation).where(Organisation.name == given.name)).first()
    if found is None:
        found = Organisation(
            name=given.name,
            kind=given.kind,
            registration_number=given.registration_number,
            founded_on=given.founded_on,
            rating=given.rating,
            legal_representative=given.legal_representative,
            community=data.community,
            address=given.address,
        )
    else:
        for attribute in ("registration_number", "founded_on", "rating", "legal_representative", "address"):
            if not getattr(found, attribute) and getattr(given, attribute):
                setattr(found, attribute, getattr(given, attribute))
        found.community = found.community or data.community
    session.add(found)
    session.flush()
    return found


def applications_of(session: Session, *, competition_id: int) -> list[Application]:
    """Every application of a competition, by 申报编号."""
    return list(
        session.exec(
            select(Application)
            .where(Application.competition_id == competition_id)
            .order_by(col(Application.ref))
        )
    )
