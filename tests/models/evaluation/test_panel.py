"""The 结项 expert panel on the example year: assignment (conflicts, balance, re-runs, a pool too
small), the letters, the sheets, the wait for them, the combined score and the report's words."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.competition.tables import competition_config
from models.errors import ConfigError, Conflict, InputError
from models.evaluation.checkpoints import final_checkpoint
from models.evaluation.evaluating import evaluate_grants, finals_ready, open_evaluation
from models.evaluation.grading import Outcome
from models.evaluation.notices import panel_note, report_context
from models.evaluation.panel import assign_panel, panel_status, sheets_of
from models.evaluation.panel_links import open_panel_link, panel_token
from models.evaluation.panel_notices import queue_panel_invitations
from models.evaluation.panel_sheets import save_panel_sheet
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.intake.tables import Application, Organisation
from models.links import LinkRefused
from models.mail.outbox import OutboxLetter
from models.review.links import expert_link
from models.review.reviewing import load_experts
from models.review.tables import ConflictDeclaration, Expert
from models.settings import get_settings
from models.states import AssignmentState
from tests.support.year import Year

ACTOR = "admin:test"
ZONE = "Asia/Shanghai"
ASSIGNED_AT = datetime(2025, 10, 16, 1, 0, tzinfo=UTC)  # the day after the 结项 is due (15 October)
ON = date(2025, 10, 16)
DUE = date(2025, 10, 23)  # due_days: 7
PANEL = '  expert_panel: {experts_per_grant: 3, weight: "0.5", due_days: 7}\n'


def _with_panel(session: Session, year: Year, panel: str = PANEL) -> None:
    competition = year.competition
    anchor = "  barred_years: 2\n"
    assert anchor in competition.config_yaml
    competition.config_yaml = competition.config_yaml.replace(anchor, anchor + panel)
    session.add(competition)
    session.flush()


def _assign(session: Session, year: Year) -> list[PanelSheet]:
    return assign_panel(
        session, competition_id=year.competition_id, actor=ACTOR, now=ASSIGNED_AT, timezone=ZONE
    )


def _evaluate(session: Session, year: Year, on: date = ON) -> dict[str, Outcome]:
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    settled = evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=on)
    by_grant = {g.id: ref for ref, g in year.grants.items()}
    return {by_grant[s.grant_id]: s.outcome for s in settled}


def _sheets(session: Session, year: Year, ref: str) -> list[PanelSheet]:
    checkpoint = year.final_checkpoints[ref]
    return sheets_of(session, checkpoint_id=checkpoint.id)


def _submit(session: Session, sheet: PanelSheet, score: str, at: datetime = ASSIGNED_AT) -> None:
    save_panel_sheet(
        session, sheet_id=sheet.id, score=score, comment="完成情况良好", submit=True, actor="expert", now=at
    )


def _evaluation(session: Session, year: Year, ref: str) -> FinalEvaluation:
    return session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == year.grants[ref].id)).one()


def test_every_grant_gets_its_experts_without_conflicts_and_balanced(year_session, year):
    _with_panel(year_session, year)
    sheets = _assign(year_session, year)
    refs = year.refs()
    assert len(sheets) == 3 * len(refs) == 33
    experts = {e.id: e for e in year_session.exec(select(Expert))}
    for ref in refs:
        mine = _sheets(year_session, year, ref)
        assert len({s.expert_id for s in mine}) == 3
        application = year_session.exec(select(Application).where(Application.ref == ref)).one()
        organisation = year_session.get(Organisation, application.organisation_id)
        served = {application.community, *application.communities}
        for sheet in mine:
            expert = experts[sheet.expert_id]
            assert expert.organisation_name != organisation.name
            assert not expert.community or expert.community not in served  # exclude_same_community
            assert (sheet.state, sheet.due_on) == (AssignmentState.invited, DUE)
    loads = Counter(s.expert_id for s in sheets)
    assert max(loads.values()) - min(loads.values()) <= 1


def test_the_community_rule_excludes_an_expert_from_a_community_served(year_session, year):
    _with_panel(year_session, year)
    ref = year.refs()[0]
    application = year_session.get(Application, year.grants[ref].application_id)
    competition = year.competition  # 蔡美玲 now lives in the community this project serves
    competition.config_yaml = competition.config_yaml.replace(
        "community: 吕岭", f"community: {application.community}"
    )
    year_session.add(competition)
    load_experts(year_session, competition_id=year.competition_id, actor=ACTOR)
    cai = year_session.exec(select(Expert).where(Expert.name == "蔡美玲")).one()
    assert cai.community == application.community
    _assign(year_session, year)
    assert cai.id not in {s.expert_id for s in _sheets(year_session, year, ref)}
    assert cai.id in {s.expert_id for s in year_session.exec(select(PanelSheet))}  # she sits elsewhere


def test_a_declared_conflict_is_honoured(year_session, year):
    _with_panel(year_session, year)
    ref = year.refs()[0]
    application_id = year.grants[ref].application_id
    experts = list(year_session.exec(select(Expert).order_by(Expert.id)))
    for expert in experts[:4]:  # four of seven declared a conflict with this project
        year_session.add(
            ConflictDeclaration(expert_id=expert.id, application_id=application_id, reason="亲属")
        )
    year_session.flush()
    _assign(year_session, year)
    assert {s.expert_id for s in _sheets(year_session, year, ref)} & {e.id for e in experts[:4]} == set()


def test_too_many_conflicts_name_the_project_and_the_field(year_session, year):
    _with_panel(year_session, year)
    ref = year.refs()[0]
    for expert in list(year_session.exec(select(Expert)))[:5]:
        year_session.add(
            ConflictDeclaration(expert_id=expert.id, application_id=year.grants[ref].application_id)
        )
    year_session.flush()
    with pytest.raises(InputError) as caught:
        _assign(year_session, year)
    (problem,) = caught.value.problems
    assert problem.field == "evaluation.expert_panel.experts_per_grant"
    assert ref in problem.where and "申报回避或谢绝" in problem.zh
    assert year_session.exec(select(func.count()).select_from(PanelSheet)).one() == 0


def test_a_pool_smaller_than_the_panel_is_a_clear_config_error(year_session, year):
    _with_panel(year_session, year, '  expert_panel: {experts_per_grant: 8, weight: "0.4"}\n')
    with pytest.raises(ConfigError) as caught:
        _assign(year_session, year)
    (problem,) = caught.value.problems
    assert problem.field == "evaluation.expert_panel.experts_per_grant"
    assert "专家库只有 7 位" in problem.zh and "the pool has 7" in problem.en


def test_rerun_assigns_nothing_and_sends_no_second_letter(year_session, year):
    _with_panel(year_session, year)
    settings = get_settings()
    _assign(year_session, year)
    letters = queue_panel_invitations(year_session, competition=year.competition, settings=settings)
    year_session.commit()
    assert len(letters) == 7  # one per expert, listing every sheet of theirs
    listed = sorted(i for letter in letters for i in letter.extra["panel_sheets"])
    assert listed == sorted(s.id for s in year_session.exec(select(PanelSheet)))
    first = letters[0]
    assert first.role == "final_review_invitation" and "/final-review/" in first.body_text
    assert "2025年10月23日 23:59" in first.body_text
    expert = year_session.get(Expert, first.subject_id)
    assert expert is not None
    # the expert's one page for all: the link as signed now, less its signing moment and signature
    # (an itsdangerous token: payload.timestamp.signature — the letter was signed a moment earlier)
    page = expert_link(expert, settings).rsplit(".", 2)[0] + "."
    assert page in first.body_text and f'href="{page}' in first.body_html
    audit = year_session.exec(select(func.count()).select_from(AuditEvent)).one()
    assert _assign(year_session, year) == []
    assert queue_panel_invitations(year_session, competition=year.competition, settings=settings) == []
    assert (
        year_session.exec(
            select(func.count())
            .select_from(OutboxLetter)
            .where(OutboxLetter.role == "final_review_invitation")
        ).one()
        == 7
    )
    assert year_session.exec(select(func.count()).select_from(AuditEvent)).one() == audit


def test_without_a_panel_nothing_is_assigned_and_the_year_is_as_before(year_session, year):
    assert competition_config(year.competition).evaluation.expert_panel is None
    assert _assign(year_session, year) == []
    outcomes = _evaluate(year_session, year)
    assert len(outcomes) == 11
    evaluation = _evaluation(year_session, year, year.refs()[0])
    assert (evaluation.score, evaluation.panel_weight, evaluation.panel_score) == (
        Decimal("85.00"),
        None,
        None,
    )
    assert panel_note(evaluation) == ""


def test_a_grant_waits_for_its_panel_then_combines_both_parts(year_session, year):
    _with_panel(year_session, year)
    _assign(year_session, year)
    assert _evaluate(year_session, year) == {}  # nobody's sheets are in
    best = year.refs()[0]
    for sheet, score in zip(_sheets(year_session, year, best), ("90", "80", "70.5"), strict=True):
        _submit(year_session, sheet, score)
    assert _evaluate(year_session, year) == {best: Outcome.released}  # only the complete panel
    evaluation = _evaluation(year_session, year, best)
    # supervisors 85.00 × 0.5 + the panel's weighted mean 80.17 (240.5 / 3) × 0.5 = 82.585 → 82.59
    assert (evaluation.supervisor_score, evaluation.panel_score, evaluation.panel_weight) == (
        Decimal("85.00"),
        Decimal("80.17"),
        Decimal("0.5"),
    )
    assert (evaluation.score, evaluation.grade, evaluation.panel_counted, evaluation.panel_assigned) == (
        Decimal("82.59"),
        "良好",
        3,
        3,
    )


def test_past_the_panel_due_day_the_missing_sheets_do_not_count(year_session, year):
    _with_panel(year_session, year)
    _assign(year_session, year)
    first, second = year.refs()[:2]
    one, _, _ = _sheets(year_session, year, first)
    _submit(year_session, one, "60")
    save_panel_sheet(  # a draft is not a submitted sheet: it does not count either
        year_session,
        sheet_id=_sheets(year_session, year, first)[1].id,
        score="100",
        submit=False,
        actor="expert",
        now=ASSIGNED_AT,
    )
    assert _evaluate(year_session, year, DUE) == {}  # the due day itself still waits
    outcomes = _evaluate(year_session, year, DUE + timedelta(days=1))
    assert len(outcomes) == 11
    partial = _evaluation(year_session, year, first)
    assert (partial.score, partial.panel_score, partial.panel_counted, partial.panel_assigned) == (
        Decimal("72.50"),  # 85 × 0.5 + 60 × 0.5
        Decimal("60.00"),
        1,
        3,
    )
    assert "另有2份逾期未交，不计入" in panel_note(partial) and "权重50%" in panel_note(partial)
    none_in = _evaluation(year_session, year, second)
    assert (none_in.score, none_in.panel_score, none_in.panel_counted) == (Decimal("85.00"), None, 0)
    assert "专家组评分未在期限内提交" in panel_note(none_in)


def test_the_report_names_the_panel_its_aggregate_and_the_weights(year_session, year):
    _with_panel(year_session, year, '  expert_panel: {experts_per_grant: 3, weight: "0.4", due_days: 7}\n')
    _assign(year_session, year)
    best = year.refs()[0]
    for sheet in _sheets(year_session, year, best):
        _submit(year_session, sheet, "95")
    _evaluate(year_session, year)
    evaluation = _evaluation(year_session, year, best)
    assert evaluation.score == Decimal("89.00")  # 85 × 0.6 + 95 × 0.4
    grant = year.grants[best]
    application = year_session.get(Application, grant.application_id)
    context = report_context(
        year_session,
        competition=year.competition,
        config=competition_config(year.competition),
        evaluation=evaluation,
        grant=grant,
        application=application,
        organisation=year_session.get(Organisation, application.organisation_id),
        issue_date=ON,
    )
    assert context["conclusion"].startswith(
        "督导评分85.00分（权重60%），专家组评分95.00分（权重40%，按期提交3/3份）。结项评估得分89.00分"
    )
    panel = [n for n in context["evaluators"] if n.endswith("（结项评审专家）")]
    assert len(panel) == 3
    # 六、督导意见与存在不足: the supervisors' findings, then the three experts' opinions, unsigned
    assert context["shortcomings"].startswith(evaluation.summary.strip())
    assert context["shortcomings"].endswith("专家组意见：完成情况良好；完成情况良好；完成情况良好。")


def test_the_opinions_read_as_one_paragraph_whatever_was_written():
    from models.evaluation.notices import opinions

    assert opinions("", []) == "无"
    assert opinions("台账齐全", []) == "台账齐全"
    assert opinions("台账齐全", ["成效明显"]) == "台账齐全。专家组意见：成效明显。"
    assert opinions("台账齐全。", ["成效明显", "宣传不足"]) == "台账齐全。专家组意见：成效明显；宣传不足。"
    assert opinions("", ["成效明显"]) == "专家组意见：成效明显。"


def test_a_sheet_refuses_bad_scores_at_their_field_and_changes_after_the_deadline(year_session, year):
    _with_panel(year_session, year)
    _assign(year_session, year)
    sheet = _sheets(year_session, year, year.refs()[0])[0]
    for typed, words in (
        ("", "请填写评分"),
        ("abc", "评分须为数字"),
        ("101", "评分须在 0 到 100 之间"),
        ("-1", "评分须在 0 到 100 之间"),
        ("85.555", "评分最多两位小数"),
        ("NaN", "评分须为数字"),
    ):
        with pytest.raises(InputError) as caught:
            _submit(year_session, sheet, typed)
        assert [(p.field, words in p.zh) for p in caught.value.problems] == [("score", True)], typed
    with pytest.raises(InputError) as caught:
        save_panel_sheet(
            year_session,
            sheet_id=sheet.id,
            score="８５",
            comment="长" * 2001,
            submit=True,
            actor="e",
            now=ASSIGNED_AT,
        )
    assert [p.field for p in caught.value.problems] == ["comment"]  # full-width 85 is a good score
    _submit(year_session, sheet, "８５")
    assert (sheet.state, sheet.score) == (AssignmentState.submitted, Decimal(85))
    with pytest.raises(Conflict):  # a submitted sheet is changed by submitting again, not by a draft
        save_panel_sheet(
            year_session, sheet_id=sheet.id, score="80", submit=False, actor="e", now=ASSIGNED_AT
        )
    late = datetime(2025, 10, 23, 16, 0, tzinfo=UTC)  # 24 October 00:00 in Xiamen
    with pytest.raises(Conflict):
        _submit(year_session, sheet, "80", at=late)
    assert year_session.get(PanelSheet, sheet.id).score == Decimal(85)


def test_a_sheet_opens_only_by_its_own_link(year_session, year):
    _with_panel(year_session, year)
    _assign(year_session, year)
    settings = get_settings()
    sheet, other, _ = _sheets(year_session, year, year.refs()[0])
    token = panel_token(sheet, settings)
    assert open_panel_link(year_session, token=token, settings=settings, now=ASSIGNED_AT).id == sheet.id
    with pytest.raises(LinkRefused) as caught:
        open_panel_link(year_session, token=token + "x", settings=settings, now=ASSIGNED_AT)
    assert caught.value.reason == "forged"
    with pytest.raises(LinkRefused) as caught:
        open_panel_link(year_session, token=token, settings=settings, now=ASSIGNED_AT + timedelta(days=30))
    assert caught.value.reason == "expired"
    sheet.token_nonce = "rotated"
    year_session.add(sheet)
    year_session.flush()
    with pytest.raises(LinkRefused) as caught:
        open_panel_link(year_session, token=token, settings=settings, now=ASSIGNED_AT)
    assert caught.value.reason == "revoked"
    assert panel_status(year_session, checkpoint_id=other.checkpoint_id, on=ON).ready is False


def test_a_rectification_round_gets_a_panel_of_its_own(year_session, year):
    _with_panel(year_session, year)
    _assign(year_session, year)
    failing = year.refs()[3]  # the supervisors scored it 55
    for sheet in year_session.exec(select(PanelSheet)):
        _submit(year_session, sheet, "50" if sheet.grant_id == year.grants[failing].id else "90")
    assert _evaluate(year_session, year)[failing] is Outcome.rectification
    assert _evaluation(year_session, year, failing).score == Decimal("52.50")
    # the 整改 re-check's record (as tests/models/evaluation/test_evaluating.py files it)
    from tests.models.evaluation.test_evaluating import _second_round

    _second_round(year_session, year, failing, "80")
    later = datetime(2025, 10, 31, 1, 0, tzinfo=UTC)
    second = assign_panel(
        year_session, competition_id=year.competition_id, actor=ACTOR, now=later, timezone=ZONE
    )
    round_two = final_checkpoint(year_session, grant_id=year.grants[failing].id)
    assert {s.checkpoint_id for s in second} == {round_two.id} and len(second) == 3
    letters = queue_panel_invitations(year_session, competition=year.competition, settings=get_settings())
    assert sorted(i for x in letters for i in x.extra["panel_sheets"]) == sorted(s.id for s in second)
    assert _evaluate(year_session, year, date(2025, 10, 31)) == {}  # round two waits for its panel
    for sheet in second:
        _submit(year_session, sheet, "70", at=later)
    assert _evaluate(year_session, year, date(2025, 10, 31)) == {failing: Outcome.released}
    evaluation = _evaluation(year_session, year, failing)
    assert (evaluation.round, evaluation.score, evaluation.panel_score) == (
        2,
        Decimal("75.00"),
        Decimal("70.00"),
    )


def test_the_lifecycle_counts_a_grant_waiting_for_its_panel_only_once_it_can_move(year_session, year):
    _with_panel(year_session, year)
    ready = lambda on=ON: finals_ready(year_session, competition_id=year.competition_id, on=on)  # noqa: E731
    assert ready() == 11  # reports in, the panel still to assign: a run has work to do
    _assign(year_session, year)
    assert ready() == 0  # every grant waits for its panel's sheets
    for sheet in _sheets(year_session, year, year.refs()[0]):
        _submit(year_session, sheet, "80")
    assert ready() == 1
    assert ready(DUE + timedelta(days=1)) == 11
