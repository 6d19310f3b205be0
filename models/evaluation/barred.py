"""The barred list that carries over to later years, derived from the stored outcomes.

An organisation whose grant was terminated, or whose 结项评估 failed for good (final tranche withheld,
or terminated), may not apply for ``evaluation.barred_years`` years after that competition's year
(the rule of the competition where it happened). Nobody types this list: it is read from the
grants and final evaluations, so it is always what the records say.

Screening consults it without importing this later stage: ``screen_applications(..., barred=...)``
takes any records with ``name``, ``registration_number``, ``reason_zh`` and ``reason_en``; the
screening task passes ``barred_organisations(session, year=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.evaluation.grading import Outcome
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.states import GrantState


def barred_through(outcome_year: int, barred_years: int) -> int:
    """The last year an organisation may not apply after an outcome in ``outcome_year``: the
    ``barred_years`` years that follow it (2025 and 2 years: 2026 and 2027; it may apply in 2028).
    The one rule — ``barred_organisations`` bars by it and its sentence states it."""
    return outcome_year + barred_years


def bar_sentence(until_year: int) -> tuple[str, str]:
    """What a bar through ``until_year`` means, as the refusal says it (zh, en)."""
    return (
        f"{until_year}年（含）以前不得申报，{until_year + 1}年起可再申报",
        f"barred through {until_year}; may apply again from {until_year + 1}",
    )


@dataclass(frozen=True)
class BarredOrganisation:
    name: str
    registration_number: str
    year: int  # the competition year of the outcome
    until_year: int  # the last year it is barred
    reason_zh: str
    reason_en: str


def barred_organisations(session: Session, *, year: int) -> list[BarredOrganisation]:
    """Organisations barred from applying in ``year``, each with why and until when."""
    rows = session.exec(
        select(Grant, Application, Organisation, FinalEvaluation)
        .join(Application, col(Application.id) == col(Grant.application_id))
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .join(Competition, col(Competition.id) == col(Grant.competition_id))
        .join(FinalEvaluation, col(FinalEvaluation.grant_id) == col(Grant.id), isouter=True)
        .where(Competition.year < year)
        .where(
            sa.or_(
                col(Grant.state) == GrantState.terminated,
                sa.and_(
                    col(FinalEvaluation.passed).is_(False),
                    col(FinalEvaluation.outcome).in_([Outcome.withheld, Outcome.terminated]),
                ),
            )
        )
        .order_by(col(Competition.year), col(Organisation.name))
    )
    competitions = {c.id: c for c in session.exec(select(Competition).where(Competition.year < year))}
    barred = []
    for grant, application, organisation, evaluation in rows:
        competition = competitions[grant.competition_id]
        until = barred_through(competition.year, competition_config(competition).evaluation.barred_years)
        if year > until:
            continue
        if grant.state is GrantState.terminated:
            zh = f"{competition.year}年项目“{application.title}”（{application.ref}）被终止资助"
            en = f"{competition.year}: grant for {application.ref} {application.title!r} was terminated"
        else:
            assert evaluation is not None
            zh = f"{competition.year}年项目“{application.title}”（{application.ref}）结项评估不合格"
            en = f"{competition.year}: {application.ref} {application.title!r} failed its final evaluation"
        bar_zh, bar_en = bar_sentence(until)
        barred.append(
            BarredOrganisation(
                name=organisation.name,
                registration_number=organisation.registration_number,
                year=competition.year,
                until_year=until,
                reason_zh=f"{zh}，{bar_zh}",
                reason_en=f"{en}; {bar_en}",
            )
        )
    return barred
