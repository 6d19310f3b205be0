"""The console's readings of the example's year (``tests.support.year``: the real stages up to the
submitted 结项 reports): the 申报一览 query (filters, sorts, pages, the export), the 首页's figures
recomputed another way, the timeline, what needs the administrator, and one application's dossier
— which refuses an id of another competition."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlmodel import Session, select

from models.competition.tables import competition_config
from models.dossier import application_in, document_in, dossier_of, evidence_in, letter_in
from models.errors import NotFound
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.mail.outbox import OutboxLetter
from models.overview import counts, needs_attention, stage_timeline
from models.review.tables import ReviewAssignment
from models.roster import RosterQuery, count_applications, roster_page, roster_rows, write_roster_xlsx
from models.states import ApplicationState, AssignmentState, CompetitionStage, GrantState
from models.timeline import Step, next_step_of
from tests.support.factories import example_config_text, make_competition
from tests.support.year import Year

pytestmark = pytest.mark.slow
NOW = datetime(2025, 10, 12, 2, 0, tzinfo=UTC)  # the 结项 reports are in, before the final evaluation


def applications(session: Session, year: Year) -> list[tuple[Application, Organisation]]:
    return list(
        session.exec(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Application.competition_id == year.competition_id)
        )
    )


def everything(session: Session, year: Year, query: RosterQuery) -> list[int]:
    """Every row of a view, page after page."""
    ids: list[int] = []
    page = 1
    while True:
        shown = roster_page(
            session, competition_id=year.competition_id, query=RosterQuery(**{**query.__dict__, "page": page})
        )
        ids += [row.id for row in shown.rows]
        if page >= shown.pages:
            return ids
        page += 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"standing": "eligible"},
        {"standing": "funded"},
        {"standing": "ineligible"},
        {"pool": "volunteer"},
        {"category": "elderly", "community": "江头"},
        {"organisation": "社会工作服务中心"},
        {"q": "2025-00"},
        {"q": "100%"},
        {"q": "_"},
        {"standing": "funded", "pool": "registered", "sort": "granted", "dir": "desc"},
    ],
)
def test_every_filter_counts_and_lists_what_a_recount_finds(
    year_session: Session, year: Year, params
) -> None:
    query = RosterQuery.from_params({**params, "per_page": "25"})
    grants = {g.application_id for g in year_session.exec(select(Grant))}

    def matches(app: Application, org: Organisation) -> bool:
        standing = params.get("standing", "")
        if standing == "eligible" and app.state in (
            ApplicationState.submitted,
            ApplicationState.ineligible,
            ApplicationState.withdrawn,
        ):
            return False
        if standing == "funded" and app.id not in grants:
            return False
        if standing not in ("", "eligible", "funded") and app.state != standing:
            return False
        for key in ("pool", "category", "community"):
            if params.get(key) and getattr(app, key) != params[key]:
                return False
        if params.get("organisation") and params["organisation"] not in org.name:
            return False
        text = params.get("q", "")
        return not text or any(
            text.lower() in v.lower() for v in (app.ref, app.title, org.name, app.contact_name)
        )

    expected = {app.id for app, org in applications(year_session, year) if matches(app, org)}
    listed = everything(year_session, year, query)
    assert (
        len(listed)
        == len(set(listed))
        == count_applications(year_session, competition_id=year.competition_id, query=query)
    )
    assert set(listed) == expected
    if params == {"q": "2025-00"}:
        assert len(expected) == 9


def test_sorting_is_done_by_the_database_with_empty_values_last(year_session: Session, year: Year) -> None:
    for direction in ("", "desc"):
        rows = roster_page(
            year_session,
            competition_id=year.competition_id,
            query=RosterQuery.from_params({"sort": "rank", "dir": direction, "per_page": "200"}),
        ).rows
        ranks = [r.rank for r in rows if r.rank is not None]
        assert ranks == sorted(ranks, reverse=direction == "desc")
        assert all(r.rank is None for r in rows[len(ranks) :]) and rows[-1].rank is None
    amounts = [
        r.amount_fen
        for r in roster_page(
            year_session,
            competition_id=year.competition_id,
            query=RosterQuery(sort="amount", descending=True),
        ).rows
    ]
    assert amounts == sorted(amounts, reverse=True)


def test_a_page_past_the_last_shows_the_last_and_junk_parameters_fall_back(
    year_session: Session, year: Year
) -> None:
    query = RosterQuery.from_params(
        {"page": "999", "per_page": "25", "sort": "drop table", "standing": "nonsense"}
    )
    assert (query.sort, query.standing, query.per_page) == ("ref", "", 25)
    shown = roster_page(year_session, competition_id=year.competition_id, query=query)
    assert shown.query.page == shown.pages == 2 and shown.first == 26 and shown.last == shown.total
    assert RosterQuery.from_params({"page": "１２", "per_page": "7"}) == RosterQuery()
    assert RosterQuery(standing="funded", page=2).params() == {"standing": "funded", "page": "2"}


def test_the_export_holds_the_whole_view_and_text_is_never_a_formula(
    year_session: Session, year: Year
) -> None:
    application = year_session.exec(select(Application).order_by(Application.id)).first()
    assert application is not None
    application.title = '=HYPERLINK("http://evil.example","点我")\x07'
    year_session.add(application)
    year_session.flush()
    query = RosterQuery(standing="eligible", per_page=25)
    data, count = write_roster_xlsx(
        year_session,
        competition_id=year.competition_id,
        query=query,
        config=competition_config(year.competition),
        timezone="Asia/Shanghai",
    )
    assert count == count_applications(year_session, competition_id=year.competition_id, query=query) > 25
    sheet = openpyxl.load_workbook(io.BytesIO(data))["申报一览"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0][:3]] == ["申报编号", "项目名称", "申报单位"] and len(rows) == count + 1
    assert rows[1][6].number_format == "#,##0.00" and isinstance(rows[1][6].value, (int, float))
    listed = [r.ref for r in roster_rows(year_session, competition_id=year.competition_id, query=query)]
    assert listed == [row[0].value for row in rows[1:]]
    one, _ = write_roster_xlsx(
        year_session,
        competition_id=year.competition_id,
        query=RosterQuery(text=application.ref),
        config=competition_config(year.competition),
        timezone="Asia/Shanghai",
    )
    cell = openpyxl.load_workbook(io.BytesIO(one))["申报一览"]["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example","点我")'


def test_the_figures_are_the_rows_counted_another_way(year_session: Session, year: Year) -> None:
    figures = counts(year_session, year.competition_id, today=NOW.date())
    states = Counter(app.state for app, _ in applications(year_session, year))
    sheets = Counter(s.state for s in year_session.exec(select(ReviewAssignment)))
    grants = year_session.exec(select(Grant)).all()
    assert figures.received == sum(states.values()) == 31
    assert figures.eligible == sum(
        n for s, n in states.items() if s not in ("submitted", "ineligible", "withdrawn")
    )
    assert figures.funded == len(grants) > 0
    assert figures.sheets_in == sheets[AssignmentState.submitted]
    assert figures.sheets_due == sum(n for s, n in sheets.items() if s not in ("declined", "conflicted"))
    letters = Counter(letter.state for letter in year_session.exec(select(OutboxLetter)))
    assert figures.letters_queued == letters["queued"] + letters["sending"]
    assert (figures.letters_held, figures.letters_failed) == (letters["draft"], letters["failed"])


def test_the_timeline_has_every_stage_with_its_planned_and_actual_day(
    year_session: Session, year: Year
) -> None:
    rows = stage_timeline(
        year_session, year.competition, competition_config(year.competition), timezone="Asia/Shanghai"
    )
    assert [r.stage for r in rows][:2] == [CompetitionStage.draft, CompetitionStage.call_open]
    current = [r for r in rows if r.state == "current"]
    assert [r.stage for r in current] == [year.competition.stage]
    call = rows[1]
    assert str(call.planned) == "2025-01-06" and call.began is not None and call.state == "done"
    assert rows[-1].began is None and rows[-1].state == "upcoming"
    implementation = next(r for r in rows if r.stage is CompetitionStage.implementation)
    assert [d.label for d in implementation.due] == ["协议签订截止", "中期评估"]


def test_what_needs_her_names_the_applications_concerned(year_session: Session, year: Year) -> None:
    config = competition_config(year.competition)
    assert needs_attention(year_session, year.competition, config, now=NOW, timezone="Asia/Shanghai") == []
    late = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
    grant = year_session.exec(select(Grant).where(Grant.state == GrantState.active)).first()
    assert grant is not None
    grant.state, grant.signed_on = GrantState.awarded, None  # as a grant whose agreement is still unsigned
    year_session.add(grant)
    year_session.flush()
    found = {
        a.key: a
        for a in needs_attention(year_session, year.competition, config, now=late, timezone="Asia/Shanghai")
    }
    assert set(found) == {"sign_by"}
    assert [item.application_id for item in found["sign_by"].items] == [grant.application_id]
    assert found["sign_by"].items[0].note == "2025-04-15"


def test_the_next_step_is_read_from_the_tables(year_session: Session, year: Year) -> None:
    decision = next_step_of(year_session, year.competition, now=NOW, timezone="Asia/Shanghai")
    assert decision.step is Step.final_evaluation


def test_a_dossier_holds_every_stage_of_a_funded_application(year_session: Session, year: Year) -> None:
    grant = next(iter(year.grants.values()))
    dossier = dossier_of(
        year_session,
        competition=year.competition,
        config=competition_config(year.competition),
        application_id=grant.application_id,
    )
    assert dossier.grant is not None and dossier.grant.id == grant.id
    assert dossier.screening and all(row.check.passed for row in dossier.screening)
    assert len(dossier.sheets) == 5 and {s.dropped for s in dossier.sheets} == {None, "high", "low"}
    assert dossier.result is not None and dossier.decision is not None and dossier.decision.funded
    assert [t.seq for t, _ in dossier.tranches] == [1, 2, 3]
    assert {row.checkpoint.code for row in dossier.checkpoints} == {"midterm", "final"}
    assert all(row.progress is not None for row in dossier.checkpoints)
    roles = {d.role for d in dossier.documents}
    assert "payment_notice" in roles  # the year of tests.support.year writes the stages' own documents only
    assert dossier.letters and all(letter.competition_id == year.competition_id for letter in dossier.letters)
    entities = {e.entity for e in dossier.history}
    assert {"application", "grant", "tranche", "checkpoint", "assignment"} <= entities
    assert [e.id for e in dossier.history] == sorted(e.id for e in dossier.history)


def test_an_id_of_another_competition_is_not_found(year_session: Session, year: Year) -> None:
    other = make_competition(
        year_session, text=example_config_text(**{"slug: jiangtou-2025": "slug: other-2025"})
    )
    grant = next(iter(year.grants.values()))
    document = dossier_of(
        year_session,
        competition=year.competition,
        config=competition_config(year.competition),
        application_id=grant.application_id,
    ).documents[0]
    letter = year_session.exec(select(OutboxLetter)).first()
    assert letter is not None
    assert application_in(year_session, competition=year.competition, application_id=grant.application_id)
    for find, value in (
        (lambda c, i: application_in(year_session, competition=c, application_id=i), grant.application_id),
        (lambda c, i: document_in(year_session, competition=c, document_id=i), document.id),
        (lambda c, i: letter_in(year_session, competition=c, letter_id=i), letter.id),
        (lambda c, i: evidence_in(year_session, competition=c, evidence_id=i), 1),
    ):
        with pytest.raises(NotFound):
            find(other, value)
