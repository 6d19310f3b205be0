"""Screening the next year through its task consults the barred list derived from the stored
outcomes: the organisation whose 2025 grant was terminated is ineligible in 2026, with the reason."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from models.call.notices import open_call, write_call_documents
from models.db import session_scope
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.intake.imports import import_applications
from models.intake.tables import Application, EligibilityCheck
from models.screening.notices import open_screening
from models.settings import get_settings
from models.setup import create_competition
from models.states import ApplicationState, GrantState
from tasks.screening import screen_task
from tests.support.factories import EXAMPLE_CONFIG, example_config_text
from tests.support.year import Year, example_files, year_template

__all__ = ["year_template"]


def test_next_years_screening_bars_a_terminated_organisation(year_template: Path, settings_env: Path):
    settings_env.mkdir(parents=True, exist_ok=True)
    shutil.copy(year_template, settings_env / "grantflow.db")
    with session_scope() as session:
        year = Year.load(session)
        competition = year.competition
        competition.config_yaml = competition.config_yaml.replace(
            "on_fail: rectify_once", "on_fail: terminate"
        )
        session.add(competition)
        open_evaluation(session, competition=competition, actor="admin:test")
        evaluate_grants(
            session, competition_id=year.competition_id, actor="admin:test", on=date(2025, 10, 20)
        )
        terminated = session.get(Application, year.grants[year.refs()[3]].application_id)
        assert year.grants[year.refs()[3]].state is GrantState.terminated
        source_file = terminated.source.split(":")[0]
        organisation_id = terminated.organisation_id
    with session_scope() as session:
        text = example_config_text(
            **{"slug: jiangtou-2025": "slug: jiangtou-2026", "year: 2025": "year: 2026"}
        )
        next_year = create_competition(session, text=text, source=str(EXAMPLE_CONFIG), actor="admin:test")
        call_at = datetime(2025, 1, 6, tzinfo=UTC)
        write_call_documents(session, competition=next_year, now=call_at, settings=get_settings())
        open_call(session, competition=next_year, now=call_at, actor="admin:test")
        import_applications(
            session,
            competition_id=next_year.id,
            path=next(f for f in example_files() if f.name == Path(source_file).name),
            actor="admin:test",
            now=datetime(2025, 2, 28, tzinfo=UTC),
        )
        open_screening(
            session, competition=next_year, now=datetime(2025, 3, 3, tzinfo=UTC), actor="admin:test"
        )
        next_id = next_year.id
    screen_task.fn(next_id, datetime(2025, 3, 3, 1, 0, tzinfo=UTC), "admin:test")
    with session_scope() as session:
        application = session.exec(
            select(Application).where(
                Application.competition_id == next_id, Application.organisation_id == organisation_id
            )
        ).one()
        assert application.state is ApplicationState.ineligible
        check = session.exec(
            select(EligibilityCheck).where(
                EligibilityCheck.application_id == application.id, EligibilityCheck.rule == "barred"
            )
        ).one()
        assert (
            not check.passed
            and "终止资助" in check.reason
            and "2027年（含）以前不得申报，2028年起可再申报" in check.reason
        )
        failed = session.exec(
            select(EligibilityCheck.rule).where(
                EligibilityCheck.application_id == application.id,
                EligibilityCheck.passed == False,  # noqa: E712
            )
        ).all()
        assert failed == ["barred"]  # the same application passed every rule in 2025
