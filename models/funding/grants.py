"""资助 Grants: made when the 公示 closes, their letters and agreements, signing and lapse.

- ``award_grants``: one ``Grant`` per funded project (agreement number, amount, sign-by date) with its
  tranche plan; made once.
- ``write_award_letters``: the 立项通知书 and the 资助协议书 (attached to the award letter) to every
  funded applicant, the 未入选通知 with its one-sentence reason — and, when configured, the experts'
  comments without their names — to every other applicant of the decision. Letters are keyed by
  the grant or the decision, so a re-run never sends twice.
- ``record_signing`` (or ``signings_from_xlsx``): the agreement is signed; the grant and the project
  become active and the signing tranche is released (``tranches.open_gate``).
- ``lapse_unsigned``: an agreement not signed by its date lapses (audited, letter); with
  ``funding.lapsed: next_in_line`` its money goes to the best-ranked project of the same pool that
  reached the threshold, was not funded and fits, which is awarded in turn.

Long by design: one agreement's lifecycle — award, 资助协议书, letters, signing, lapse — in one place.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models.audit import record
from models.bilingual import chinese
from models.competition.config import CompetitionConfig, LapsedRule, NumberedKind
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import cn_day
from models.documents.numbering import assign_number
from models.documents.registry import write_document
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.allocation import BELOW_MINIMUM, BELOW_THRESHOLD, EXCLUDED
from models.funding.decision import competition_of, decisions_of
from models.funding.tables import FundingDecision, Grant, grants_of
from models.funding.tranches import SIGNING, open_gate, plan_tranches, tranche_rows, tranches_of
from models.funding.workdays import add_working_days
from models.intake.correspondence import write_to_applicant
from models.intake.plan import application_plan
from models.intake.tables import Application, BudgetLine, Organisation
from models.lifecycle import set_state
from models.money import format_yuan, yuan_in_capitals
from models.review.tables import ReviewAssignment
from models.states import ApplicationState, CompetitionStage, GrantState, TrancheState

STAGE = "funding"
_REF_NUMBER = re.compile(r"^(?P<head>.*?)-?(?P<number>\d+)$")
BLANK = "＿＿＿＿＿＿＿＿＿＿＿＿"


def agreement_number(ref: str) -> str:
    """``JT2025-003`` → ``JT2025-XY-003`` (协议编号); other forms → ``XY-<ref>``."""
    m = _REF_NUMBER.match(ref)
    if m and m["head"]:
        return f"{m['head']}-XY-{m['number']}"
    return f"XY-{ref}"


def _award(
    session: Session, *, decision: FundingDecision, config: CompetitionConfig, actor: str
) -> Grant | None:
    existing = session.exec(select(Grant).where(Grant.application_id == decision.application_id)).first()
    if existing is not None:
        return None
    application = session.get(Application, decision.application_id)
    assert application is not None
    grant = Grant(
        competition_id=decision.competition_id,
        application_id=decision.application_id,
        amount_fen=decision.amount_fen,
        agreement_no=agreement_number(application.ref),
        sign_by=config.deadlines.agreements_by,
    )
    session.add(grant)
    session.flush()
    plan_tranches(session, grant=grant, config=config)
    record(
        session,
        actor=actor,
        entity="grant",
        entity_id=grant.id or 0,
        action="grant_awarded",
        reason=f"{application.ref} 立项，资助{format_yuan(grant.amount_fen)}元，"
        f"协议编号{grant.agreement_no} / "
        f"grant of {format_yuan(grant.amount_fen)} yuan",
    )
    return grant


def award_grants(session: Session, *, competition_id: int, actor: str) -> list[Grant]:
    """A grant (and its tranches) for every funded project without one; returns those made now."""
    _, config = competition_of(session, competition_id)
    made = []
    for decision in decisions_of(session, competition_id=competition_id):
        application = session.get(Application, decision.application_id)
        if decision.funded and application is not None and application.state is ApplicationState.funded:
            grant = _award(session, decision=decision, config=config, actor=actor)
            if grant is not None:
                made.append(grant)
    session.flush()
    return made


def agreement_context(session: Session, *, grant: Grant) -> dict[str, Any]:
    """资助协议书: parties, number, amount (figures and capitals), tranche plan, budget, duties."""
    competition = session.get(Competition, grant.competition_id)
    application = session.get(Application, grant.application_id)
    assert competition is not None and application is not None
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    config = competition_config(competition)
    lines: list[dict[str, Any]] = [
        {"item": line.item, "purpose": line.purpose, "amount_fen": line.amount_fen}
        for line in session.exec(
            select(BudgetLine)
            .where(BudgetLine.application_id == application.id)
            .order_by(col(BudgetLine.position))
        )
    ]
    difference = grant.amount_fen - sum(line["amount_fen"] for line in lines)
    if lines and difference:
        lines.append(
            {
                "item": "按资助金额核减",
                "purpose": "申请额与资助额之差，由乙方在实施中相应调整",
                "amount_fen": difference,
            }
        )
    period = config.competition.projects_run
    return {
        "agreement_number": grant.agreement_no,
        "competition_name": competition.name,
        "organiser": competition.organiser,
        "organiser_address": config.competition.address or competition.organiser,
        "operator": config.competition.operator or competition.organiser,
        "organisation_name": organisation.name,
        "legal_representative": organisation.legal_representative or BLANK,
        "registration_number": organisation.registration_number or BLANK,
        "org_address": organisation.address or BLANK,
        "contact_name": application.contact_name or BLANK,
        "contact_phone": application.contact_phone or BLANK,
        "bank_name": BLANK,
        "bank_account": BLANK,
        "project_title": application.title,
        "application_ref": application.ref,
        "period_start": application.period_start or period.start,
        "period_end": application.period_end or period.end,
        "amount_fen": grant.amount_fen,
        "tranches": tranche_rows(tranches_of(session, grant_id=grant.id or 0), config),
        "budget_lines": lines,
        "plan_commitment": application_plan(application).commitment,
        "sign_date": grant.signed_on,
        "payment_days": config.funding.payment_days,
    }


def _comments(session: Session, application_id: int) -> list[str]:
    """The experts' comments on their submitted sheets, without their names, in sheet order: each
    once (two experts writing the same sentence make one item)."""
    query = select(ReviewAssignment).where(
        ReviewAssignment.application_id == application_id, col(ReviewAssignment.submitted_at).is_not(None)
    )
    comments = (a.comment.strip() for a in session.exec(query.order_by(col(ReviewAssignment.id))))
    return list(dict.fromkeys(c for c in comments if c))


def write_award_letters(
    session: Session, *, competition_id: int, issue_date: date, documents_dir: Path
) -> list[int]:
    """立项通知书 + 资助协议书 to the funded, 未入选通知 to the others; returns the letters' ids."""
    competition, config = competition_of(session, competition_id)
    if competition.stage not in (CompetitionStage.implementation, CompetitionStage.evaluation):
        raise Conflict("公示结束后才能发立项通知 / the award letters go out after the notice closes")
    letters: list[int] = []
    grants = {g.application_id: g for g in grants_of(session, competition_id=competition_id)}
    for decision in decisions_of(session, competition_id=competition_id):
        application = session.get(Application, decision.application_id)
        assert application is not None and application.id is not None
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None
        grant = grants.get(application.id)
        score = decision.score.quantize(Decimal("0.01")) if decision.score is not None else ""
        if grant is not None:
            award = write_document(
                session,
                role="award_notice",
                context={
                    "doc_number": assign_number(
                        session,
                        competition=competition,
                        kind=NumberedKind.award_notice,
                        subject_entity="application",
                        subject_id=application.id,
                        issued_on=issue_date,
                    ),
                    "organisation_name": organisation.name,
                    "competition_name": competition.name,
                    "project_title": application.title,
                    "application_ref": application.ref,
                    "score": score,
                    "amount_fen": grant.amount_fen,
                    "tranches": tranche_rows(tranches_of(session, grant_id=grant.id or 0), config),
                    "agreements_by": grant.sign_by or "",
                    "contact": config.competition.contact,
                    "organiser": competition.organiser,
                    "issue_date": issue_date,
                },
                competition_id=competition_id,
                stage=STAGE,
                subject_entity="application",
                subject_id=application.id,
                filename=f"立项通知书-{application.ref}.docx",
                documents_dir=documents_dir,
            )
            agreement = write_document(
                session,
                role="grant_agreement",
                context=agreement_context(session, grant=grant),
                competition_id=competition_id,
                stage=STAGE,
                subject_entity="grant",
                subject_id=grant.id,
                filename=f"资助协议书-{grant.agreement_no}.docx",
                documents_dir=documents_dir,
            )
            if application.contact_email:
                letter = write_to_applicant(
                    session,
                    competition=competition,
                    role="award",
                    stage=STAGE,
                    application=application,
                    organisation=organisation,
                    occasion=f"grant-{grant.id}",
                    attachments=[d.id for d in (award, agreement) if d.id is not None],
                    context={
                        "amount": format_yuan(grant.amount_fen),
                        "amount_in_capitals": yuan_in_capitals(grant.amount_fen),
                        "agreement_deadline": cn_day(grant.sign_by) if grant.sign_by else "协议约定日期",
                    },
                )
                letters.append(letter.id or 0)
            continue
        if application.state is not ApplicationState.not_funded:
            continue
        zh = chinese(decision.explanation)
        comments = _comments(session, application.id) if config.funding.expert_comments_in_rejection else []
        notice = write_document(
            session,
            role="rejection_notice",
            context={
                "organisation_name": organisation.name,
                "competition_name": competition.name,
                "project_title": application.title,
                "application_ref": application.ref,
                "score": score,
                "reason": zh,
                "comments": comments,
                "contact": config.competition.contact,
                "organiser": competition.organiser,
                "issue_date": issue_date,
            },
            competition_id=competition_id,
            stage=STAGE,
            subject_entity="application",
            subject_id=application.id,
            filename=f"未入选通知-{application.ref}.docx",
            documents_dir=documents_dir,
        )
        if application.contact_email:
            letter = write_to_applicant(
                session,
                competition=competition,
                role="not_selected",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"decision-{decision.id}",
                attachments=[notice.id] if notice.id is not None else [],
                context={"reason": zh, "comments": comments},
            )
            letters.append(letter.id or 0)
    session.flush()
    return letters


def grant_by_ref(session: Session, *, competition_id: int, ref: str) -> Grant:
    """The grant of the application with 申报编号 ``ref``; ``NotFound`` names the ref.

    Found through the application's unique (competition, ref) — one index lookup, not a walk over
    the competition's grants (which made signing 4,750 agreements quadratic)."""
    application_id = session.exec(
        select(Application.id).where(
            Application.competition_id == competition_id, Application.ref == ref.strip()
        )
    ).first()
    found = (
        session.exec(select(Grant).where(Grant.application_id == application_id)).first()
        if application_id is not None
        else None
    )
    if found is None:
        raise NotFound(f"申报编号 {ref} 没有资助（尚未立项？）/ no grant for application {ref}")
    return found


def check_signing_day(on: date, *, today: date, future: bool, where: str) -> None:
    """A signing dated after ``today`` is a typing mistake unless ``future`` says it is intended
    (an agreement recorded ahead of its signing): ``InputError`` naming the row, nothing stored."""
    if on > today and not future:
        raise InputError(
            Problem(
                where,
                "--on",
                f"签订日期 {on} 晚于今天（{today}）；若确为预先登记，请加 --future",
                f"signed on {on}, after today ({today}): add --future if that is intended",
            )
        )


def record_signing(
    session: Session, *, grant_id: int, on: date, actor: str, documents_dir: Path, where: str = ""
) -> Grant:
    """The agreement is signed on ``on``: grant and project active, the signing tranche released."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助 #{grant_id} / no grant #{grant_id}")
    application = session.get(Application, grant.application_id)
    assert application is not None
    where = where or f"grants sign {application.ref}"
    if grant.state is not GrantState.awarded:
        if grant.signed_on == on:
            return grant  # recorded before: nothing changes
        raise InputError(
            Problem(
                where,
                "--on",
                f"资助状态为“{grant.state}”，不能再登记签订"
                + (f"（已于{grant.signed_on}签订）" if grant.signed_on else ""),
                f"the grant is {grant.state}: signing cannot be recorded"
                + (f" (signed on {grant.signed_on})" if grant.signed_on else ""),
            )
        )
    if grant.sign_by is not None and on > grant.sign_by:
        raise InputError(
            Problem(
                where,
                "--on",
                f"签订日期{on}晚于协议签订期限{grant.sign_by}",
                f"signed on {on}, after the deadline {grant.sign_by}",
            )
        )
    grant.signed_on = on
    set_state(session, grant, GrantState.active, actor=actor, reason=f"资助协议于{on}签订 / signed on {on}")
    set_state(
        session, application, ApplicationState.active, actor=actor, reason=f"资助协议于{on}签订 / signed"
    )
    open_gate(
        session,
        grant_id=grant_id,
        gate=SIGNING,
        passed=True,
        reason=f"资助协议（编号{grant.agreement_no}）已于{cn_day(on)}签订",
        actor=actor,
        on=on,
        documents_dir=documents_dir,
    )
    return grant


def signings_from_xlsx(path: Path) -> list[tuple[str, date, str]]:
    """(申报编号, 签订日期, where) from an .xlsx with columns 申报编号 and 签订日期 (first sheet)."""
    from models.review.workbook import read_table  # bounded: a far cell or a zip bomb is refused

    table = read_table(path, markers=("申报编号", "签订日期"))
    missing = [name for name in ("申报编号", "签订日期") if name not in table.columns]
    if missing:
        raise InputError(
            Problem(
                table.where(table.header_row), "、".join(missing), "缺少列", f"missing column(s) {missing}"
            )
        )
    found: list[tuple[str, date, str]] = []
    problems: list[Problem] = []
    for number, row in table.rows:
        where = table.where(number)
        ref = str(table.value(row, "申报编号") or "").strip()
        value = table.value(row, "签订日期")
        if not ref and value in (None, ""):
            continue
        if not ref:
            problems.append(Problem(where, "申报编号", "缺少申报编号", "the 申报编号 is missing"))
            continue
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(value.strip().replace("/", "-"))
        if not isinstance(value, date):
            problems.append(
                Problem(where, "签订日期", f"不是日期：{value!r:.60}", f"not a date: {value!r:.60}")
            )
            continue
        found.append((ref, value, where))
    if problems:
        raise InputError(problems)
    return found


def lapse_unsigned(
    session: Session, *, competition_id: int, today: date, actor: str, documents_dir: Path
) -> list[Grant]:
    """Agreements not signed by their date lapse; returns the grants that lapsed now."""
    competition, config = competition_of(session, competition_id)
    lapsed = []
    for grant in grants_of(session, competition_id=competition_id):
        if grant.state is not GrantState.awarded or grant.sign_by is None or today <= grant.sign_by:
            continue
        application = session.get(Application, grant.application_id)
        assert application is not None
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None
        reason = (
            f"资助协议未在{cn_day(grant.sign_by)}前签订，视为放弃资助 / not signed by {grant.sign_by}: lapsed"
        )
        set_state(session, grant, GrantState.terminated, actor=actor, reason=reason)
        set_state(session, application, ApplicationState.withdrawn, actor=actor, reason=reason)
        for tranche in tranches_of(session, grant_id=grant.id or 0):
            if tranche.state in (TrancheState.planned, TrancheState.due, TrancheState.withheld):
                set_state(session, tranche, TrancheState.cancelled, actor=actor, reason=reason)
        if application.contact_email:
            write_to_applicant(
                session,
                competition=competition,
                role="agreement_lapsed",
                stage=STAGE,
                application=application,
                organisation=organisation,
                occasion=f"grant-{grant.id}",
                context={"sign_by": cn_day(grant.sign_by), "amount": format_yuan(grant.amount_fen)},
            )
        lapsed.append(grant)
        decision = session.exec(
            select(FundingDecision).where(FundingDecision.application_id == grant.application_id)
        ).one()
        decision.funded, decision.amount_fen, decision.rule = False, 0, "lapsed"
        zh, _, en = decision.explanation.partition(" / ")
        decision.explanation = (
            f"{zh.removesuffix('。')}；资助协议未在{cn_day(grant.sign_by)}前签订，资助失效。 / "
            f"{en.removesuffix('.')}; the agreement was not signed by {grant.sign_by}: the grant lapsed."
        )
        session.add(decision)
        if config.funding.lapsed is LapsedRule.next_in_line:
            _next_in_line(
                session, grant=grant, config=config, actor=actor, documents_dir=documents_dir, today=today
            )
    session.flush()
    return lapsed


def _next_in_line(
    session: Session, *, grant: Grant, config: CompetitionConfig, actor: str, documents_dir: Path, today: date
) -> Grant | None:
    """Offer the lapsed money to the best-ranked unfunded project of the same pool that fits."""
    lapsed_decision = session.exec(
        select(FundingDecision).where(FundingDecision.application_id == grant.application_id)
    ).one()
    for decision in decisions_of(session, competition_id=grant.competition_id):
        if decision.pool != lapsed_decision.pool or decision.funded:
            continue
        if decision.rule in (BELOW_THRESHOLD, EXCLUDED, BELOW_MINIMUM) or decision.computed_fen:
            continue
        application = session.get(Application, decision.application_id)
        assert application is not None
        amount = min(application.amount_fen, config.budget.per_project_cap)
        if application.state is not ApplicationState.not_funded or amount > grant.amount_fen:
            continue
        previous = session.get(Application, grant.application_id)
        ref = previous.ref if previous else str(grant.application_id)
        decision.funded, decision.amount_fen, decision.rule = True, amount, "next_in_line"
        decision.explanation = (
            f"{decision.explanation.partition(' / ')[0].removesuffix('。')}；{ref}的资助协议逾期未签，"
            f"其资金{format_yuan(grant.amount_fen)}元按规则递补本项目{format_yuan(amount)}元。 / "
            f"{decision.explanation.partition(' / ')[2].removesuffix('.')}; funded {format_yuan(amount)} "
            f"yuan from the lapsed grant of {ref}."
        )
        session.add(decision)
        set_state(
            session, application, ApplicationState.shortlisted, actor=actor, reason=decision.explanation
        )
        set_state(session, application, ApplicationState.funded, actor=actor, reason=decision.explanation)
        made = _award(session, decision=decision, config=config, actor=actor)
        if made is not None:
            made.sign_by = add_working_days(
                today + timedelta(days=1),
                config.funding.successor_sign_days,
                holidays=config.holidays,
                make_up=config.make_up_workdays,
            )
            session.add(made)
            write_award_letters(
                session, competition_id=grant.competition_id, issue_date=today, documents_dir=documents_dir
            )
        return made
    return None
