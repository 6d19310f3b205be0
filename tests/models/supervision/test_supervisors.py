"""Supervisors: the Excel list, balanced assignment that never picks the grantee's own organisation,
and the administrator's audited re-assignment (old links stop opening)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.errors import Conflict, InputError, NotFound
from models.funding.grants import grant_by_ref
from models.links import LinkRefused
from models.supervision.links import checkpoint_token, open_checkpoint_link
from models.supervision.plan import grant_parts
from models.supervision.schedule import open_checkpoints, schedule_checkpoints
from models.supervision.supervisors import (
    assign_supervisors,
    grant_supervisors,
    load_supervisors,
    reassign,
    supervisor_by_email,
)
from models.supervision.tables import Checkpoint, GrantSupervisor

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _sheet(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "电子邮箱", "电话", "单位", "专长"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def session(funded):
    with Session(funded.engine, expire_on_commit=False) as session:
        yield session


def test_supervisors_from_excel_balanced_and_never_from_the_grantees_own_organisation(
    funded, session, tmp_path
):
    _, _, own = grant_parts(session, funded.grant_ids[0])
    path = _sheet(
        tmp_path / "督导名单.xlsx",
        [
            ["周明", "zhou.ming@sv.example.org", "13900000001", own.name, "社会工作"],
            ["陈芳", "chen.fang@sv.example.org", "13900000002", "厦门市社会工作协会", "项目评估"],
            ["李强", "li.qiang@sv.example.org", "13900000003", "集美大学", "财务"],
        ],
    )
    people = load_supervisors(session, competition_id=funded.competition_id, actor="admin", path=path)
    # the two of the configuration (stored at setup) and the three of the sheet
    assert [p.name for p in people] == ["许文婷", "杨国栋", "周明", "陈芳", "李强"]
    assert people[2].expertise == "社会工作" and people[2].organisation_name == own.name
    links = assign_supervisors(session, competition_id=funded.competition_id, actor="admin")
    assert len(links) == 3
    lead = {g: grant_supervisors(session, grant_id=g)[0] for g in funded.grant_ids}
    assert lead[funded.grant_ids[0]].name != "周明"
    assert max(Counter(s.id for s in lead.values()).values()) == 1  # three grants, five supervisors
    assert assign_supervisors(session, competition_id=funded.competition_id, actor="admin") == []
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "supervisor_assigned")).all()
    assert len(audit) == 3


def test_bad_supervisor_sheet_names_the_cell(funded, session, tmp_path):
    path = _sheet(tmp_path / "bad.xlsx", [["周明", "not-an-email", "", "", ""]])
    with pytest.raises(InputError) as caught:
        load_supervisors(session, competition_id=funded.competition_id, actor="admin", path=path)
    assert "bad.xlsx" in caught.value.problems[0].where


def test_assignment_refused_when_only_insiders_are_left(funded, session):
    from models.competition.config import Person
    from models.supervision.tables import Supervisor

    _, _, own = grant_parts(session, funded.grant_ids[0])
    for supervisor in session.exec(select(Supervisor)):
        supervisor.organisation_name = own.name  # everyone works for the first grantee
        session.add(supervisor)
    load_supervisors(
        session,
        competition_id=funded.competition_id,
        actor="admin",
        people=[Person(name="某", email="a@b.org", organisation=own.name)],
    )
    with pytest.raises(InputError) as caught:
        assign_supervisors(session, competition_id=funded.competition_id, actor="admin")
    assert "same organisation" in caught.value.problems[0].en
    assert session.exec(select(GrantSupervisor)).all() == []


def test_reassignment_is_audited_and_revokes_the_old_link(funded, session):
    load_supervisors(session, competition_id=funded.competition_id, actor="admin")
    assign_supervisors(session, competition_id=funded.competition_id, actor="admin")
    schedule_checkpoints(session, competition_id=funded.competition_id, actor="admin")
    open_checkpoints(session, competition_id=funded.competition_id, today=NOW.date(), actor="admin")
    grant = grant_by_ref(
        session, competition_id=funded.competition_id, ref=grant_parts(session, funded.grant_ids[0])[1].ref
    )
    checkpoint = session.exec(
        select(Checkpoint).where(Checkpoint.grant_id == grant.id, Checkpoint.code == "midterm")
    ).one()
    old_token = checkpoint_token(checkpoint, funded.settings)
    assert (
        open_checkpoint_link(session, token=old_token, settings=funded.settings, now=NOW).id == checkpoint.id
    )
    current = grant_supervisors(session, grant_id=grant.id)[0]
    other = next(
        s
        for s in (
            supervisor_by_email(session, competition_id=funded.competition_id, email=e)
            for e in ("xu.wenting@supervisors.example.org", "yang.guodong@supervisors.example.org")
        )
        if s.id != current.id
    )
    with pytest.raises(InputError):
        reassign(session, grant_id=grant.id, supervisor_id=other.id, actor="admin", reason=" ")
    moved = reassign(session, grant_id=grant.id, supervisor_id=other.id, actor="admin", reason="原督导出差")
    assert [c.id for c in moved] == [
        c.id for c in session.exec(select(Checkpoint).where(Checkpoint.grant_id == grant.id))
    ]
    assert grant_supervisors(session, grant_id=grant.id)[0].id == other.id
    with pytest.raises(LinkRefused):
        open_checkpoint_link(session, token=old_token, settings=funded.settings, now=NOW)
    new_token = checkpoint_token(checkpoint, funded.settings)
    assert (
        open_checkpoint_link(session, token=new_token, settings=funded.settings, now=NOW).supervisor_id
        == other.id
    )
    (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "supervisor_reassigned")).all()
    assert event.reason == "原督导出差" and event.data["from"] == current.id and event.data["to"] == other.id
    with pytest.raises(NotFound):
        grant_by_ref(session, competition_id=funded.competition_id, ref="JT-NOPE")


def test_reassignment_to_the_grantees_own_organisation_is_refused(funded, session):
    _, _, own = grant_parts(session, funded.grant_ids[0])
    from models.competition.config import Person

    insider = load_supervisors(
        session,
        competition_id=funded.competition_id,
        actor="admin",
        people=[Person(name="内部人", email="insider@sv.example.org", organisation=own.name)],
    )[-1]
    with pytest.raises(Conflict):
        reassign(
            session, grant_id=funded.grant_ids[0], supervisor_id=insider.id, actor="admin", reason="试试"
        )
