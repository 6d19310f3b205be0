"""公示 and after (SQLite and PostgreSQL): the notice and its window, objections dismissed and upheld,
closing, grants and their letters and agreements, signing and the first tranche, gates, lapse."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from models.documents.tables import GeneratedDocument
from models.errors import Conflict, InputError
from models.funding.decision import approve_decision, draft_decision, funding_report
from models.funding.grants import award_grants, lapse_unsigned, record_signing, write_award_letters
from models.funding.publicity import (
    add_objection,
    close_publicity,
    current_notice,
    publish_notice,
    resolve_objection,
)
from models.funding.tables import Tranche, grants_of
from models.funding.tranches import open_gate, tranches_of
from models.funding.workdays import BEIJING
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from models.states import ApplicationState, CompetitionStage, GrantState, ObjectionState, TrancheState
from tests.models.documents.test_registry import all_text
from tests.support.funding_data import APPROVED_AT, scored_competition

END = datetime(2025, 3, 28, 17, 30, tzinfo=BEIJING)  # Monday 24 March + 5 working days


@pytest.fixture
def in_publicity(session, settings_env):
    competition, apps = scored_competition(session, **{"unspent: other_pool": "unspent: returned"})
    draft_decision(session, competition_id=competition.id, actor="admin")
    approve_decision(session, competition_id=competition.id, actor="admin")
    notice = publish_notice(
        session, competition_id=competition.id, now=APPROVED_AT, actor="admin", documents_dir=settings_env
    )
    return competition, apps, notice, settings_env


def _letters(session, role):
    return session.exec(select(OutboxLetter).where(OutboxLetter.role == role)).all()


def test_notice_window_and_document(session, in_publicity):
    competition, _, notice, docs = in_publicity
    assert (notice.first_day, notice.ends_at) == (date(2025, 3, 24), END)
    document = session.get(GeneratedDocument, notice.document_id)
    assert document.role == "funding_publicity" and (docs / document.path).is_file()
    again = publish_notice(session, competition_id=competition.id, now=END, actor="admin", documents_dir=docs)
    assert again.id == notice.id  # idempotent while current


def test_dismissed_objection_keeps_the_reason_and_the_notice_closes_after_the_window(session, in_publicity):
    competition, apps, _, docs = in_publicity
    objection = add_objection(
        session,
        competition_id=competition.id,
        ref="JT2025-001",
        raised_by="张先生",
        text="该单位去年项目未结项",
        now=APPROVED_AT + timedelta(days=1),
        actor="admin",
    )
    assert not close_publicity(
        session, competition_id=competition.id, now=END + timedelta(hours=1), actor="a"
    )
    resolve_objection(
        session,
        objection_id=objection.id,
        upheld=False,
        reason="经核实该单位去年项目已按期结项",
        now=APPROVED_AT + timedelta(days=2),
        actor="admin",
        documents_dir=docs,
    )
    assert (objection.state, objection.resolution) == (
        ObjectionState.dismissed,
        "经核实该单位去年项目已按期结项",
    )
    assert not close_publicity(
        session, competition_id=competition.id, now=END - timedelta(minutes=1), actor="a"
    )
    assert close_publicity(session, competition_id=competition.id, now=END, actor="admin")
    assert competition.stage is CompetitionStage.implementation
    assert apps["JT2025-001"].state is ApplicationState.funded
    with pytest.raises(Conflict):
        add_objection(
            session,
            competition_id=competition.id,
            ref="JT2025-001",
            raised_by="李",
            text="x",
            now=END,
            actor="a",
        )


def test_objection_after_the_window_or_off_the_list_is_refused(session, in_publicity):
    competition, *_ = in_publicity
    with pytest.raises(InputError, match="逾期"):
        add_objection(
            session,
            competition_id=competition.id,
            ref="JT2025-001",
            raised_by="李",
            text="x",
            now=END,
            actor="a",
        )
    with pytest.raises(InputError, match="不在公示名单"):
        add_objection(
            session,
            competition_id=competition.id,
            ref="JT2025-005",
            raised_by="李",
            text="x",
            now=APPROVED_AT,
            actor="a",
        )


def test_upheld_objection_revises_the_decision_and_publishes_a_new_window(session, in_publicity):
    competition, apps, notice, docs = in_publicity
    objection = add_objection(
        session,
        competition_id=competition.id,
        ref="JT2025-002",
        raised_by="社区居民王某",
        text="申报书中的服务对象数据与实际不符",
        now=APPROVED_AT + timedelta(days=1),
        actor="admin",
    )
    later = datetime(2025, 3, 26, 9, 0, tzinfo=BEIJING)
    resolve_objection(
        session,
        objection_id=objection.id,
        upheld=True,
        reason="核实属实",
        now=later,
        actor="admin",
        documents_dir=docs,
    )
    report = {r["ref"]: r for r in funding_report(session, competition_id=competition.id)["applications"]}
    assert report["JT2025-002"]["amount_fen"] == 0 and "异议成立" in report["JT2025-002"]["explanation"]
    assert report["JT2025-005"]["amount_fen"] == 800_000  # the next in the pool moves up
    assert apps["JT2025-002"].state is ApplicationState.not_funded
    assert apps["JT2025-005"].state is ApplicationState.shortlisted
    new = current_notice(session, competition_id=competition.id)
    assert new.seq == 2 and notice.superseded_at is not None
    # published Wednesday 26 March 09:00: 26, 27, 28, 31 March and 1 April
    assert new.ends_at == datetime(2025, 4, 1, 17, 30, tzinfo=BEIJING)
    assert competition.stage is CompetitionStage.publicity


def test_grants_letters_signing_and_first_tranche(session, in_publicity):
    competition, apps, _, docs = in_publicity
    assert close_publicity(session, competition_id=competition.id, now=END, actor="admin")
    made = award_grants(session, competition_id=competition.id, actor="admin")
    assert len(made) == 6 and award_grants(session, competition_id=competition.id, actor="admin") == []
    letters = write_award_letters(
        session, competition_id=competition.id, issue_date=date(2025, 3, 31), documents_dir=docs
    )
    again = write_award_letters(
        session, competition_id=competition.id, issue_date=date(2025, 3, 31), documents_dir=docs
    )
    assert sorted(letters) == sorted(again)  # keyed: never doubled
    assert len(_letters(session, "award")) == 6 and len(_letters(session, "not_selected")) == 2
    award = next(letter for letter in _letters(session, "award") if "JT2025-001" in letter.subject)
    roles = {session.get(GeneratedDocument, i).role for i in award.attachments}
    assert roles == {"award_notice", "grant_agreement"}
    refused = next(letter for letter in _letters(session, "not_selected") if "JT2025-005" in letter.subject)
    assert "社会组织组此时仅剩4,000.00元" in refused.body_text
    notice = next(
        d for i in refused.attachments if (d := session.get(GeneratedDocument, i)).role == "rejection_notice"
    )
    printed = all_text((docs / notice.path).read_bytes())
    # five experts wrote the same sentence: one item, never five glued together
    assert "1. JT2025-005 的评审意见：活动安排可再细化。" in printed and "2. " not in printed
    assert printed.count("活动安排可再细化") == 1 and "。；" not in printed
    grant = next(
        g
        for g in grants_of(session, competition_id=competition.id)
        if g.application_id == apps["JT2025-001"].id
    )
    plan = tranches_of(session, grant_id=grant.id)
    assert [t.amount_fen for t in plan] == [400_000, 240_000, 160_000]
    assert sum(t.amount_fen for t in plan) == grant.amount_fen and grant.agreement_no == "JT2025-XY-001"
    record_signing(session, grant_id=grant.id, on=date(2025, 4, 3), actor="admin", documents_dir=docs)
    assert (grant.state, apps["JT2025-001"].state) == (GrantState.active, ApplicationState.active)
    first = plan[0]
    assert (first.state, first.released_on) == (TrancheState.released, date(2025, 4, 3))
    paid = [letter for letter in _letters(session, "tranche_paid")]
    assert len(paid) == 1 and session.get(GeneratedDocument, paid[0].attachments[0]).role == "payment_notice"
    # the same signing again changes nothing; another date is refused
    record_signing(session, grant_id=grant.id, on=date(2025, 4, 3), actor="admin", documents_dir=docs)
    with pytest.raises(InputError):
        record_signing(session, grant_id=grant.id, on=date(2025, 4, 4), actor="admin", documents_dir=docs)
    # the supervision's door: a failed midterm withholds, a later pass releases
    withheld = open_gate(
        session, grant_id=grant.id, gate="midterm", passed=False, reason="台账不全", actor="sup"
    )
    assert (withheld.state, withheld.note) == (TrancheState.withheld, "台账不全")
    released = open_gate(
        session,
        grant_id=grant.id,
        gate="midterm",
        passed=True,
        reason="整改后复查合格 / the re-check passed",
        actor="sup",
        on=date(2025, 7, 20),
    )
    assert released.state is TrancheState.released and len(_letters(session, "tranche_paid")) == 2
    assert released.note == "整改后复查合格 / the re-check passed"  # the CLI shows both halves …
    payment = session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.role == "payment_notice", GeneratedDocument.subject_id == released.id
        )
    ).one()
    # … the 拨款通知 to the 财政所 the Chinese one (written where open_gate writes: the settings' folder)
    printed = all_text((get_settings().documents_dir / payment.path).read_bytes())
    assert "整改后复查合格，符合中期拨付的拨付条件" in printed and "re-check" not in printed
    assert session.exec(select(Tranche).where(Tranche.state == TrancheState.released)).all()


def test_unsigned_agreements_lapse_after_their_date(session, in_publicity):
    competition, _, _, docs = in_publicity
    close_publicity(session, competition_id=competition.id, now=END, actor="admin")
    award_grants(session, competition_id=competition.id, actor="admin")
    grants = grants_of(session, competition_id=competition.id)
    record_signing(session, grant_id=grants[0].id, on=date(2025, 4, 10), actor="admin", documents_dir=docs)
    assert (
        lapse_unsigned(
            session, competition_id=competition.id, today=date(2025, 4, 15), actor="a", documents_dir=docs
        )
        == []
    )
    lapsed = lapse_unsigned(
        session, competition_id=competition.id, today=date(2025, 4, 16), actor="a", documents_dir=docs
    )
    assert len(lapsed) == 5 and all(g.state is GrantState.terminated for g in lapsed)
    assert grants[0].state is GrantState.active
    assert len(_letters(session, "agreement_lapsed")) == 5
    assert all(t.state is TrancheState.cancelled for t in tranches_of(session, grant_id=lapsed[0].id))
    assert (
        lapse_unsigned(
            session, competition_id=competition.id, today=date(2025, 4, 17), actor="a", documents_dir=docs
        )
        == []
    )
    assert tranches_of(session, grant_id=grants[0].id)[0].percent == Decimal(50)


def test_report_reconciles_after_signing_and_lapse(session, in_publicity):
    competition, apps, _, docs = in_publicity
    close_publicity(session, competition_id=competition.id, now=END, actor="admin")
    award_grants(session, competition_id=competition.id, actor="admin")
    first = next(
        g
        for g in grants_of(session, competition_id=competition.id)
        if g.application_id == apps["JT2025-001"].id
    )
    record_signing(session, grant_id=first.id, on=date(2025, 4, 10), actor="admin", documents_dir=docs)
    signed = funding_report(session, competition_id=competition.id)
    assert (signed["funded_fen"], signed["returned_fen"], signed["reconciles"]) == (
        4_800_000,
        1_200_000,
        True,
    )
    lapse_unsigned(
        session, competition_id=competition.id, today=date(2025, 4, 16), actor="a", documents_dir=docs
    )
    lapsed = funding_report(session, competition_id=competition.id)
    assert (lapsed["funded_fen"], lapsed["returned_fen"], lapsed["reconciles"]) == (800_000, 5_200_000, True)
    row = next(r for r in lapsed["applications"] if r["ref"] == "JT2025-002")
    assert row["rule"] == "lapsed" and "资助失效" in row["explanation"]


def test_lapsed_money_goes_to_the_next_in_line_when_configured(session, settings_env):
    competition, apps = scored_competition(
        session, **{"unspent: other_pool": "unspent: returned", "lapsed: returned": "lapsed: next_in_line"}
    )
    draft_decision(session, competition_id=competition.id, actor="admin")
    approve_decision(session, competition_id=competition.id, actor="admin")
    publish_notice(
        session, competition_id=competition.id, now=APPROVED_AT, actor="admin", documents_dir=settings_env
    )
    close_publicity(session, competition_id=competition.id, now=END, actor="admin")
    award_grants(session, competition_id=competition.id, actor="admin")
    for grant in grants_of(session, competition_id=competition.id):
        if grant.application_id != apps["JT2025-002"].id:
            record_signing(
                session, grant_id=grant.id, on=date(2025, 4, 10), actor="admin", documents_dir=settings_env
            )
    lapse_unsigned(
        session, competition_id=competition.id, today=date(2025, 4, 16), actor="a", documents_dir=settings_env
    )
    assert apps["JT2025-002"].state is ApplicationState.withdrawn
    assert apps["JT2025-005"].state is ApplicationState.funded  # next in line in the registered pool
    successor = next(
        g
        for g in grants_of(session, competition_id=competition.id)
        if g.application_id == apps["JT2025-005"].id
    )
    assert successor.amount_fen == 800_000 and successor.sign_by > date(2025, 4, 16)
    assert any("JT2025-005" in letter.subject for letter in _letters(session, "award"))
    report = funding_report(session, competition_id=competition.id)
    assert report["reconciles"] and report["funded_fen"] == 4_800_000


def test_purging_a_competition_removes_its_notices_and_objections(session, in_publicity):
    from models.funding.tables import Objection, PublicityNotice
    from models.setup import purge_competition

    competition, *_ = in_publicity
    add_objection(
        session,
        competition_id=competition.id,
        ref="JT2025-001",
        raised_by="李",
        text="x",
        now=APPROVED_AT,
        actor="a",
    )
    session.commit()
    if session.get_bind().dialect.name == "sqlite":  # it would reuse ids the audit log names: refused
        with pytest.raises(Conflict, match="SQLite"):
            purge_competition(session, slug=competition.slug, actor="admin")
        assert session.exec(select(Objection)).all() != []
        return
    assert purge_competition(session, slug=competition.slug, actor="admin")
    session.commit()
    assert session.exec(select(PublicityNotice)).all() == [] and session.exec(select(Objection)).all() == []
