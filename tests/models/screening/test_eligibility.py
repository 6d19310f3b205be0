"""Eligibility screening: each configured rule, the stored results, idempotence and overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from models.audit import AuditEvent, history
from models.competition.config import CompetitionConfig
from models.competition.config_file import load_config, parse_config
from models.errors import IllegalTransition, InputError
from models.intake.imports import import_applications
from models.intake.tables import Application, EligibilityCheck, Organisation
from models.lifecycle import set_state
from models.screening.eligibility import (
    RULES,
    RuleResult,
    ScreeningOutcome,
    check_application,
    checks_of,
    override_check,
    screen_applications,
    sheet_rows,
    uscc_is_valid,
)
from models.states import ApplicationState, OrganisationKind
from tests.support.factories import example_config_text, make_competition

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "jiangtou-2025"
CONFIG = load_config(EXAMPLE / "competition.yaml")
NOW = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
VALID_USCC = "52350206MJ0112301Y"  # 厦门市湖里区乐龄社会工作服务中心 in the example


def _organisation(**fields: object) -> Organisation:
    values: dict[str, object] = {
        "name": "厦门市湖里区测试社会工作服务中心",
        "kind": OrganisationKind.registered,
        "registration_number": VALID_USCC,
        "founded_on": date(2018, 1, 1),
    }
    return Organisation(**(values | fields))  # type: ignore[arg-type]


def _application(**fields: object) -> Application:
    values: dict[str, object] = {
        "competition_id": 1,
        "organisation_id": 1,
        "ref": "2025-001",
        "title": "测试项目",
        "category": "elderly",
        "pool": "registered",
        "community": "江头",
        "communities": ["江头"],
        "amount_fen": 500_000,
    }
    return Application(**(values | fields))  # type: ignore[arg-type]


def _failed(results: list[RuleResult]) -> dict[str, str]:
    return {r.rule: r.zh for r in results if not r.passed}


def _config(**replacements: str) -> CompetitionConfig:
    return parse_config(example_config_text(**replacements))


# ---- the rules (pure) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["914403001922038216", "9144030071526726XG", "91110000100006194G", VALID_USCC]
)
def test_uscc_is_valid_accepts_real_codes(code: str) -> None:
    assert uscc_is_valid(code)


@pytest.mark.parametrize("code", ["914403001922038217", "52350206MJ0112301", "", "I14403001922038216"])
def test_uscc_is_valid_refuses_wrong_check_character_and_shape(code: str) -> None:
    assert not uscc_is_valid(code)


def test_check_application_passes_every_rule_for_a_good_application() -> None:
    results = check_application(_application(), _organisation(), config=CONFIG)

    assert [r.rule for r in results] == list(RULES)
    assert all(r.passed for r in results)
    assert all(r.zh and r.en for r in results)


@pytest.mark.parametrize(
    ("organisation", "application", "rule", "reason"),
    [
        ({"registration_number": ""}, {}, "registration", "未填写统一社会信用代码或登记证号（备案号）"),
        (
            {"registration_number": "52350206MJ0112301X"},
            {},
            "registration",
            "统一社会信用代码 52350206MJ0112301X 校验位不正确",
        ),
        ({"name": "厦门市某某失信社会服务中心"}, {}, "barred", "申报单位在禁止申报名单中（失信或违约记录）"),
        (
            {"name": " 厦门市某某失信 社会服务中心"},
            {},
            "barred",
            "申报单位在禁止申报名单中（失信或违约记录）",
        ),
        ({}, {"communities": ["江头", "湖边"]}, "community", "服务社区“湖边”不在本街道辖区内"),
        ({}, {"amount_fen": 900_000}, "amount", "申请金额 9,000.00 元不在 2,000.00–8,000.00 元之间"),
        ({}, {"amount_fen": 150_000}, "amount", "申请金额 1,500.00 元不在 2,000.00–8,000.00 元之间"),
    ],
)
def test_check_application_fails_one_rule_with_its_reason(
    organisation: dict[str, object], application: dict[str, object], rule: str, reason: str
) -> None:
    results = check_application(_application(**application), _organisation(**organisation), config=CONFIG)

    assert _failed(results) == {rule: reason}


def test_check_application_accepts_a_volunteer_teams_filing_number() -> None:
    organisation = _organisation(
        kind=OrganisationKind.volunteer_team, registration_number="湖里志备〔2023〕011号"
    )

    assert _failed(check_application(_application(), organisation, config=CONFIG)) == {}


def test_check_application_allows_only_the_first_application_of_an_organisation() -> None:
    first = _application(ref="2025-003", title="银龄共膳")

    results = check_application(_application(ref="2025-009"), _organisation(), config=CONFIG, earlier=[first])

    assert _failed(results) == {
        "one_per_organisation": "同一单位只能申报一个项目，本单位已申报 2025-003“银龄共膳”"
    }
    unlimited = _config(
        **{"one_application_per_organisation: true": "one_application_per_organisation: false"}
    )
    assert (
        _failed(check_application(_application(), _organisation(), config=unlimited, earlier=[first])) == {}
    )


def test_check_application_follows_configured_kinds_age_and_attachments() -> None:
    kinds = "organisation_kinds: [registered, volunteer_team, community_office]"
    attachments = "required_attachments: [登记证书复印件, 项目预算表]\n  min_founded_months: 12"
    config = _config(**{kinds: "organisation_kinds: [registered]", "required_attachments: []": attachments})
    team = _organisation(
        kind=OrganisationKind.volunteer_team,
        registration_number="湖里志备〔2024〕090号",
        founded_on=date(2024, 9, 1),
    )

    results = check_application(
        _application(details={"attachments": ["登记证书复印件"]}), team, config=config
    )

    assert _failed(results) == {
        "organisation_kind": "备案志愿服务团队不在本次申报主体范围内（社会组织）",
        "founded": "成立不满12个月（2024-09-01 成立）",
        "attachments": "缺少必备附件：项目预算表",
    }


# ---- screening stored applications ------------------------------------------------------------------


def _screened(session: Session) -> tuple[int, list[ScreeningOutcome]]:
    competition = make_competition(session)
    assert competition.id is not None
    import_applications(
        session,
        competition_id=competition.id,
        path=EXAMPLE / "applications.xlsx",
        actor="admin:test",
        now=NOW,
    )
    outcomes = screen_applications(session, competition_id=competition.id, actor="admin:screening")
    session.commit()
    return competition.id, outcomes


def _by_title(session: Session, title: str) -> Application:
    return session.exec(select(Application).where(Application.title == title)).one()


def test_screen_applications_finds_the_three_ineligible_examples(session: Session) -> None:
    _, outcomes = _screened(session)

    failed = {}
    for outcome in outcomes:
        application = session.get(Application, outcome.application_id)
        assert application is not None
        expected = ApplicationState.eligible if outcome.passed else ApplicationState.ineligible
        assert application.state is expected
        if not outcome.passed:
            failed[application.title] = [
                c.rule for c in checks_of(session, application_id=application.id or 0) if not c.passed
            ]
    assert len(outcomes) == 24
    barred_outcome = next(o for o in outcomes if not o.passed)
    assert barred_outcome.reasons == ["禁止申报名单：申报单位在禁止申报名单中（失信或违约记录）"]
    assert barred_outcome.reasons_en == [
        "barred: the organisation is on the barred list (breach or dishonesty record)"
    ]
    assert failed == {
        "江村邻里文化节": ["barred"],
        "智享银龄——吕岭长者智能手机课堂": ["one_per_organisation"],
        "银龄互助——后埔老伙伴结对关怀": ["registration"],
    }
    assert session.exec(select(func.count()).select_from(EligibilityCheck)).one() == 24 * len(RULES)
    barred = _by_title(session, "江村邻里文化节")
    last = history(session, entity="application", entity_id=barred.id or 0)[-1]
    assert (last.actor, last.from_state, last.to_state) == ("admin:screening", "submitted", "ineligible")
    assert "禁止申报名单" in last.reason and last.data == {"failed": ["barred"]}


def test_screen_applications_again_changes_nothing(session: Session) -> None:
    competition_id, _ = _screened(session)
    audits = session.exec(select(func.count()).select_from(AuditEvent)).one()
    checked = [(c.id, c.checked_at) for c in session.exec(select(EligibilityCheck))]

    again = screen_applications(session, competition_id=competition_id, actor="admin:screening")
    session.commit()

    assert again == []
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == audits
    assert [(c.id, c.checked_at) for c in session.exec(select(EligibilityCheck))] == checked


def test_sheet_rows_show_why(session: Session) -> None:
    _screened(session)
    application = _by_title(session, "银龄互助——后埔老伙伴结对关怀")

    rows = sheet_rows(checks_of(session, application_id=application.id or 0), CONFIG)

    assert rows[1] == {
        "rule": "登记或备案",
        "requirement": "须提供统一社会信用代码、登记证号或备案号",
        "result": "不符合",
        "note": "未填写统一社会信用代码或登记证号（备案号）",
    }
    assert [r["result"] for r in rows].count("符合") == len(RULES) - 1


# ---- overrides --------------------------------------------------------------------------------------


def test_override_check_makes_an_application_eligible_and_is_audited(session: Session) -> None:
    competition_id, _ = _screened(session)
    application = _by_title(session, "银龄互助——后埔老伙伴结对关怀")
    reason = "已补交街道志愿服务备案证明（湖里志备〔2023〕128号）"

    check = override_check(
        session,
        application_id=application.id or 0,
        rule="registration",
        passed=True,
        reason=reason,
        actor="admin:lin",
    )
    session.commit()

    assert (check.passed, check.overridden_by, check.override_reason) == (True, "admin:lin", reason)
    assert application.state is ApplicationState.eligible
    events = history(session, entity="application", entity_id=application.id or 0)
    assert [(e.action, e.actor) for e in events[-2:]] == [
        ("eligibility_override", "admin:lin"),
        ("state", "admin:lin"),
    ]
    assert events[-2].data == {"rule": "registration", "from": False, "to": True}
    assert reason in events[-1].reason
    assert "管理员改判：" in sheet_rows([check], CONFIG)[0]["note"]
    # screening again keeps the administrator's decision
    assert screen_applications(session, competition_id=competition_id, actor="admin:screening") == []
    assert session.get(EligibilityCheck, check.id).passed is True  # type: ignore[union-attr]


def test_override_check_failing_a_rule_makes_an_eligible_application_ineligible(session: Session) -> None:
    _screened(session)
    application = _by_title(session, "江村邻里文化节")
    eligible = _by_title(session, "小小科学家——江村科普基地周末课堂")

    override_check(
        session,
        application_id=eligible.id or 0,
        rule="community",
        passed=False,
        reason="实际服务地点在辖区外",
        actor="admin:lin",
    )
    override_check(
        session,
        application_id=application.id or 0,
        rule="amount",
        passed=False,
        reason="预算虚高",
        actor="admin:lin",
    )

    assert eligible.state is ApplicationState.ineligible
    assert (
        application.state is ApplicationState.ineligible
    )  # still failing: no move, but the change is audited
    assert (
        history(session, entity="application", entity_id=application.id or 0)[-1].action
        == "eligibility_override"
    )


def test_override_check_needs_a_reason(session: Session) -> None:
    _screened(session)
    application = _by_title(session, "银龄互助——后埔老伙伴结对关怀")

    with pytest.raises(InputError, match="改判须填写理由"):
        override_check(
            session,
            application_id=application.id or 0,
            rule="registration",
            passed=True,
            reason="  ",
            actor="admin:lin",
        )

    assert application.state is ApplicationState.ineligible


def test_override_check_cannot_disqualify_an_application_under_review(session: Session) -> None:
    _screened(session)
    application = _by_title(session, "小小科学家——江村科普基地周末课堂")
    set_state(session, application, ApplicationState.in_review, actor="admin:review")
    session.commit()

    with pytest.raises(IllegalTransition):
        override_check(
            session,
            application_id=application.id or 0,
            rule="barred",
            passed=False,
            reason="发现失信记录",
            actor="admin:lin",
        )

    check = next(c for c in checks_of(session, application_id=application.id or 0) if c.rule == "barred")
    assert (check.passed, check.overridden_by) == (True, "")
    assert application.state is ApplicationState.in_review
