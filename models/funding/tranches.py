"""分期拨付 Tranches: the configured plan per grant, released or withheld at their gates.

``plan_tranches`` turns the competition's plan (e.g. 50% at signing, 30% after 中期评估, 20% after
结项评估) into one row per tranche. **Rounding:** every tranche but the last is its percentage of the
grant rounded half-up to the fen; the last is the grant minus the others, so the tranches always
add up to the grant exactly (``models.money.split_by_percent``; the agreement states the same rule).

``open_gate(session, grant_id=…, gate=…, passed=…, reason=…, actor=…)`` is the one door for a
checkpoint's outcome (supervision calls it; signing calls it with ``gate="signing"``): passed →
the tranche is released (拨款通知 document, its 文号 from the registry, and the ``tranche_paid``
letter); not passed → withheld with the reason. Re-opening a gate that was already released
changes nothing. The 结项 releases the final tranche with the amount the settlement rule gives
(``amount_fen``, ``net_settlement``): less than planned, the rest is recorded as settled off
(``reduced_fen``, 据实结算核减); nothing, the tranche is cancelled with its whole amount settled off.

The money of a grant in parts, and the settlement rule's arithmetic, are ``models.funding.money``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models.bilingual import chinese
from models.competition.config import CompetitionConfig, NumberedKind
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import cn_day
from models.documents.numbering import assign_number
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.errors import InputError, NotFound, Problem
from models.funding.tables import Grant, Tranche
from models.intake.correspondence import write_to_applicant
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.money import Fen, format_yuan, split_by_percent, yuan_in_capitals
from models.states import TrancheState

STAGE = "implementation"
SIGNING = "signing"


def gate_text(gate: str, config: CompetitionConfig) -> str:
    """The condition of a tranche as the agreement prints it."""
    if gate == SIGNING:
        return "资助协议签订后"
    checkpoint = next((c for c in config.checkpoints if c.code == gate), None)
    return f"{checkpoint.name if checkpoint else gate}合格后"


def plan_tranches(session: Session, *, grant: Grant, config: CompetitionConfig) -> list[Tranche]:
    """The grant's tranche rows (made once; the same rows on a second call)."""
    existing = list(
        session.exec(select(Tranche).where(Tranche.grant_id == grant.id).order_by(col(Tranche.seq)))
    )
    if existing:
        return existing
    assert grant.id is not None
    amounts = split_by_percent(grant.amount_fen, [t.percent for t in config.tranches])
    rows = [
        Tranche(
            grant_id=grant.id,
            seq=seq,
            label=item.label,
            percent=item.percent,
            amount_fen=amount,
            gate=item.gate,
        )
        for seq, (item, amount) in enumerate(zip(config.tranches, amounts, strict=True), start=1)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def tranches_of(session: Session, *, grant_id: int) -> list[Tranche]:
    return list(session.exec(select(Tranche).where(Tranche.grant_id == grant_id).order_by(col(Tranche.seq))))


def tranche_rows(tranches: list[Tranche], config: CompetitionConfig) -> list[dict[str, Any]]:
    """The plan as documents print it (label, percent, amount, condition)."""
    return [
        {
            "label": t.label,
            "percent": t.percent,
            "amount_fen": t.amount_fen,
            "gate": gate_text(t.gate, config),
        }
        for t in tranches
    ]


def _grant_parts(session: Session, grant: Grant) -> tuple[Competition, Application, Organisation]:
    application = session.get(Application, grant.application_id)
    assert application is not None
    organisation = session.get(Organisation, application.organisation_id)
    competition = session.get(Competition, grant.competition_id)
    assert organisation is not None and competition is not None
    return competition, application, organisation


def _payment_notice(
    session: Session, *, grant: Grant, tranche: Tranche, on: date, reason: str, documents_dir: Path
) -> GeneratedDocument:
    competition, application, organisation = _grant_parts(session, grant)
    config = competition_config(competition)
    paid_before = sum(
        t.paid_fen
        for t in tranches_of(session, grant_id=grant.id or 0)
        if t.state is TrancheState.released and t.seq < tranche.seq
    )
    return write_document(
        session,
        role="payment_notice",
        context={
            "doc_number": assign_number(
                session,
                competition=competition,
                kind=NumberedKind.payment_notice,
                subject_entity="tranche",
                subject_id=tranche.id or 0,
                issued_on=on,
            ),
            "finance_office": config.funding.finance_office,
            "competition_name": competition.name,
            "organisation_name": organisation.name,
            "project_title": application.title,
            "agreement_number": grant.agreement_no,
            "tranche_label": tranche.label,
            "tranche_percent": tranche.percent,
            "planned_fen": tranche.amount_fen,
            "reduced_fen": tranche.reduced_fen,
            "amount_fen": tranche.paid_fen,
            "gate_result": chinese(reason),
            "grant_fen": grant.amount_fen,
            "paid_before_fen": paid_before,
            "bank_name": "以资助协议约定的账户为准",
            "bank_account": "以资助协议约定的账户为准",
            "organiser": competition.organiser,
            "issue_date": on,
        },
        competition_id=competition.id,
        stage=STAGE,
        subject_entity="tranche",
        subject_id=tranche.id,
        filename=f"拨款通知-{application.ref}-{tranche.label}.docx",
        documents_dir=documents_dir,
    )


def open_gate(
    session: Session,
    *,
    grant_id: int,
    gate: str,
    passed: bool,
    reason: str,
    actor: str,
    on: date | None = None,
    documents_dir: Path | None = None,
    amount_fen: Fen | None = None,
) -> Tranche:
    """Release (``passed``) or withhold the grant's tranche gated on ``gate``; see the module docstring.

    ``on`` is the day of release (default today, Beijing time); the 拨款通知 goes under
    ``documents_dir`` (default: the configured documents folder). ``amount_fen`` is what the
    settlement pays of it (default: the whole tranche; 0 cancels it, settled off). The caller commits.
    """
    from models.settings import get_settings

    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助 #{grant_id} / no grant #{grant_id}")
    tranche = session.exec(select(Tranche).where(Tranche.grant_id == grant_id, Tranche.gate == gate)).first()
    if tranche is None:
        raise InputError(
            Problem(
                f"grant #{grant_id}",
                "gate",
                f"没有以“{gate}”为条件的拨付",
                f"no tranche is gated on {gate!r}",
            )
        )
    if tranche.state in (TrancheState.released, TrancheState.cancelled):
        return tranche
    settings = get_settings()
    day = on or _today(settings.timezone)
    if not passed:
        if tranche.state is not TrancheState.withheld:
            tranche.note = reason
            set_state(session, tranche, TrancheState.withheld, actor=actor, reason=reason)
        return tranche
    pay = tranche.amount_fen if amount_fen is None else max(0, min(amount_fen, tranche.amount_fen))
    tranche.reduced_fen = tranche.amount_fen - pay
    if pay == 0:
        tranche.note = f"{reason}；{tranche.label}据实结算核减为零，不再拨付"
        set_state(session, tranche, TrancheState.cancelled, actor=actor, reason=tranche.note)
        return tranche
    if tranche.state is not TrancheState.due:
        set_state(session, tranche, TrancheState.due, actor=actor, reason=reason)
    tranche.note, tranche.released_on, tranche.paid_fen = reason, day, pay
    settled_off = f"（据实结算核减{format_yuan(tranche.reduced_fen)}元）" if tranche.reduced_fen else ""
    set_state(
        session,
        tranche,
        TrancheState.released,
        actor=actor,
        reason=f"{reason}；拨付{tranche.label}{format_yuan(pay)}元{settled_off} / released",
    )
    document = _payment_notice(
        session,
        grant=grant,
        tranche=tranche,
        on=day,
        reason=reason,
        documents_dir=documents_dir or settings.documents_dir,
    )
    competition, application, organisation = _grant_parts(session, grant)
    if application.contact_email:
        write_to_applicant(
            session,
            competition=competition,
            role="tranche_paid",
            stage=STAGE,
            application=application,
            organisation=organisation,
            occasion=f"tranche-{tranche.id}",
            attachments=[document.id] if document.id is not None else [],
            context={
                "tranche_label": f"{tranche.label}（{tranche.percent}%）",
                "amount": format_yuan(pay),
                "paid_on": cn_day(day),
            },
        )
    session.flush()
    return tranche


def _today(timezone: str) -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone)).date()


def tranche_report(session: Session, *, competition_id: int) -> list[dict[str, Any]]:
    """Every tranche of the competition's grants: due / released / withheld, with reasons."""
    rows = session.exec(
        select(Tranche, Grant, Application)
        .join(Grant, col(Grant.id) == col(Tranche.grant_id))
        .join(Application, col(Application.id) == col(Grant.application_id))
        .where(Grant.competition_id == competition_id)
        .order_by(col(Application.ref), col(Tranche.seq))
    ).all()
    return [
        {
            "ref": application.ref,
            "title": application.title,
            "agreement_no": grant.agreement_no,
            "seq": tranche.seq,
            "label": tranche.label,
            "percent": str(tranche.percent),
            "amount_fen": tranche.amount_fen,
            "amount_in_capitals": yuan_in_capitals(tranche.amount_fen),
            "paid_fen": tranche.paid_fen,
            "reduced_fen": tranche.reduced_fen,
            "gate": tranche.gate,
            "state": str(tranche.state),
            "released_on": tranche.released_on.isoformat() if tranche.released_on else None,
            "note": tranche.note,
        }
        for tranche, grant, application in rows
    ]
