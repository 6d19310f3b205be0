"""受理 Intake's paperwork: a 受理回执 (document and letter) for every accepted application, and a
clear 未受理 letter, with every reason, for each refused row that gave a usable email address.

Both are idempotent. A receipt goes to every application of the competition that has none yet —
so an import that stopped after storing its applications gets its receipts on the next run. A
refusal letter is keyed by the row and its reasons: importing the same broken file again sends
nothing new, while a row refused again for other reasons gets a new letter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePath
from typing import Any

from sqlmodel import Session, col, select

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import cn_day, cn_moment
from models.documents.registry import write_document
from models.intake.correspondence import write_to_applicant
from models.intake.imports import ImportReport, RefusedRow
from models.intake.tables import Application, Organisation
from models.mail.correspondence import write_to
from models.mail.outbox import OutboxLetter, letter_ids
from models.money import format_yuan
from models.settings import Settings
from models.states import ApplicationState

STAGE = "intake"
CHANNELS = {  # official papers are Chinese: the kind of file, not its program's name
    ".xlsx": "电子表格申报汇总表",
    ".xlsm": "电子表格申报汇总表",
    ".csv": "文本格式申报汇总表",
    ".json": "数据文件",
    ".docx": "电子版申报书",
}


def channel_of(source: str) -> str:
    """How an application arrived, from its source (``applications.xlsx:第3行 (row 3)``)."""
    if source.startswith("网上申报"):
        return "网上申报"
    name = source.split(":", 1)[0]
    return CHANNELS.get(PurePath(name).suffix.lower(), "申报材料")


def category_name(config: CompetitionConfig, code: str) -> str:
    category = config.category(code)
    return category.name if category is not None else code


# ---- the import's report, as data (CLI, JSON, the refusal letters) -------------------------------


def refused_summary(row: RefusedRow) -> dict[str, Any]:
    return {
        "where": row.where,
        "title": row.title,
        "organisation": row.organisation,
        "contact_name": row.contact_name,
        "email": row.email,
        "reasons": row.reasons,
        "reasons_en": row.reasons_en,
        "problems": [{"where": p.where, "field": p.field, "zh": p.zh, "en": p.en} for p in row.problems],
        "held": row.held,
    }


def report_summary(session: Session, report: ImportReport) -> dict[str, Any]:
    """What one file's import did: accepted (with the 申报编号 given), duplicates, refused rows."""
    accepted = []
    for application_id in report.accepted:
        application = session.get(Application, application_id)
        assert application is not None
        accepted.append(
            {
                "id": application_id,
                "ref": application.ref,
                "title": application.title,
                "source": application.source,
            }
        )
    return {
        "file": report.file,
        "late": report.late,
        "accepted": accepted,
        "duplicates": [
            {"where": d.where, "application_id": d.application_id, "ref": d.ref, "title": d.title}
            for d in report.duplicates
        ],
        "refused": [refused_summary(row) for row in report.refused],
        "held": [{"rule": rule, "rows": rows, "of": report.rows} for rule, rows in report.held.items()],
        "notices": [{"where": n.where, "zh": n.zh, "en": n.en} for n in report.notices],
        "error": None,
    }


# ---- receipts ---------------------------------------------------------------------------------


def receipt_context(
    application: Application,
    organisation: Organisation,
    *,
    competition: Competition,
    config: CompetitionConfig,
    issue_date: date,
    timezone: str,
) -> dict[str, Any]:
    """受理回执: who applied for what, when and how it arrived, and when screening reports back."""
    info = config.competition
    return {
        "competition_name": competition.name,
        "application_ref": application.ref,
        "project_title": application.title,
        "organisation_name": organisation.name,
        "contact_name": application.contact_name,
        "submitted_at": application.submitted_at,
        "amount_fen": application.amount_fen,
        "category": category_name(config, application.category),
        "communities": list(application.communities or [application.community]),
        "channel": channel_of(application.source),
        "screening_by": config.deadlines.screening_by,
        "operator": info.operator or info.organiser,
        "contact": info.contact,
        "issue_date": issue_date,
    }


def applications_without_receipt(session: Session, *, competition_id: int) -> list[Application]:
    """Applications of the competition that no receipt letter was written for yet, by 申报编号."""
    receipted = select(OutboxLetter.subject_id).where(
        OutboxLetter.competition_id == competition_id,
        OutboxLetter.role == "receipt",
        OutboxLetter.subject_entity == "application",
    )
    return list(
        session.exec(
            select(Application)
            .where(
                Application.competition_id == competition_id,
                Application.state != ApplicationState.withdrawn,
                Application.contact_email != "",
                col(Application.id).not_in(receipted),
            )
            .order_by(col(Application.ref))
        )
    )


def queue_receipts(
    session: Session, *, competition: Competition, issue_date: date, settings: Settings
) -> list[OutboxLetter]:
    """A 受理回执 document and a receipt letter (with it attached) for each application without one."""
    assert competition.id is not None
    config = competition_config(competition)
    letters = []
    for application in applications_without_receipt(session, competition_id=competition.id):
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None and application.id is not None
        document = write_document(
            session,
            role="receipt",
            context=receipt_context(
                application,
                organisation,
                competition=competition,
                config=config,
                issue_date=issue_date,
                timezone=settings.timezone,
            ),
            competition_id=competition.id,
            stage=STAGE,
            subject_entity="application",
            subject_id=application.id,
            filename=f"受理回执-{application.ref}.docx",
            documents_dir=settings.documents_dir,
        )
        letters.append(
            write_to_applicant(
                session,
                competition=competition,
                role="receipt",
                stage=STAGE,
                application=application,
                organisation=organisation,
                attachments=[document.id or 0],
                context={
                    "amount": format_yuan(application.amount_fen),
                    "received_at": cn_moment(application.submitted_at, settings.timezone),
                    "screening_by": cn_day(config.deadlines.screening_by),
                },
            )
        )
    session.flush()
    return letters


# ---- refusals ---------------------------------------------------------------------------------


def _occasion(row: Mapping[str, Any]) -> str:
    text = "\n".join([row["where"], row["title"], *row["reasons"]])
    return "refused-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def queue_refusals(
    session: Session, *, competition: Competition, refused: Sequence[Mapping[str, Any]], settings: Settings
) -> list[OutboxLetter]:
    """A 申报未受理 letter, listing every reason, for each refused row with a usable address.

    ``refused`` are rows as ``refused_summary`` gives them; rows without an address are skipped. A
    row marked ``held`` (its rule refused most of its file) gets its letter as a draft, which waits
    for ``grantflow outbox release``. Returns the letters queued now: a row refused again for the
    same reasons gets no second letter.
    """
    assert competition.id is not None
    config = competition_config(competition)
    before = letter_ids(session, competition_id=competition.id, role="rejection")
    letters = []
    for row in refused:
        if not row.get("email"):
            continue
        name = row["organisation"] or row["contact_name"] or str(row["email"])
        letters.append(
            write_to(
                session,
                competition=competition,
                role="rejection",
                stage=STAGE,
                email=str(row["email"]),
                name=name,
                subject_entity="submission",
                occasion=_occasion(row),
                context={
                    "project_title": row["title"] or "（未填写项目名称）",
                    "reasons": list(row["reasons"]),
                    "applications_close": cn_moment(config.deadlines.applications_close, settings.timezone),
                },
                hold=str(row.get("held") or ""),
            )
        )
    session.flush()
    return [letter for letter in letters if letter.id not in before]
