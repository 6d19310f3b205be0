"""The supervision flows under Prefect's harness, on the funded example: links go out once, the
follow-up releases a passed checkpoint's tranche and opens a rectification for a failed one, the
papers are written, and re-runs send nothing twice."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlmodel import Session, col, select

from models.competition.tables import Competition
from models.documents.tables import GeneratedDocument
from models.funding.tables import Tranche
from models.mail.outbox import OutboxLetter
from models.states import CheckpointState, TrancheState
from models.supervision.records import save_progress_report, save_record
from models.supervision.tables import Checkpoint, Rectification
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
from tests.support.supervision import OPEN_AT, VISIT_AT, progress_fields, record_fields

pytestmark = pytest.mark.flows
SUPERVISE = re.compile(r"http://127\.0\.0\.1:8000/supervise/[A-Za-z0-9_\-.]+")
REPORT = re.compile(r"http://127\.0\.0\.1:8000/report/[A-Za-z0-9_\-.]+")


def _messages(world) -> list:
    folder = world.settings.mail_dir
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.rglob("*.eml"))]


def _fill(world, checkpoint: Checkpoint, *, share: float) -> None:
    with Session(world.engine) as session:
        competition = session.get(Competition, world.competition_id)
        save_progress_report(
            session,
            checkpoint_id=checkpoint.id,
            fields=progress_fields(session, grant_id=checkpoint.grant_id),
            submit=True,
            actor="grantee",
            now=VISIT_AT,
        )
        save_record(
            session,
            checkpoint_id=checkpoint.id,
            fields=record_fields(session, competition, code="midterm", share=share, rectify="补齐签到表"),
            submit=True,
            actor="supervisor",
            now=VISIT_AT,
        )
        session.commit()


def test_supervision_then_follow_up(prefect_harness, funded):  # noqa: F811  (the imported fixture)
    from flows.supervision import checkpoint_follow_up, supervision

    result = asyncio.run(supervision(funded.slug, as_of=OPEN_AT))
    assert (result["supervisors"], result["assigned"], result["scheduled"], result["opened"]) == (2, 3, 6, 3)
    assert result["invitations"] == 6
    letters = _messages(funded)
    assert len(letters) == 6
    bodies = [m.get_body(("plain",)).get_content() for m in letters]
    assert (
        sum(1 for b in bodies if SUPERVISE.search(b)) == 3 and sum(1 for b in bodies if REPORT.search(b)) == 3
    )

    again = asyncio.run(supervision(funded.slug, as_of=OPEN_AT))
    assert (again["assigned"], again["scheduled"], again["invitations"]) == (0, 0, 0)
    assert len(_messages(funded)) == 6

    with Session(funded.engine) as session:
        first, second = (
            session.exec(
                select(Checkpoint).where(Checkpoint.grant_id == g, Checkpoint.code == "midterm")
            ).one()
            for g in funded.grant_ids[:2]
        )
    _fill(funded, first, share=0.8)
    _fill(funded, second, share=0.3)
    followed = asyncio.run(checkpoint_follow_up(funded.slug, as_of=VISIT_AT))
    assert sorted((s["checkpoint_id"], s["passed"]) for s in followed["settled"]) == [
        (first.id, True),
        (second.id, False),
    ]
    with Session(funded.engine) as session:
        tranche = {t.grant_id: t for t in session.exec(select(Tranche).where(Tranche.gate == "midterm"))}
        assert tranche[first.grant_id].state is TrancheState.released
        assert tranche[second.grant_id].state is TrancheState.withheld
        rectification = session.exec(select(Rectification)).one()
        recheck = session.get(Checkpoint, rectification.recheck_id)
        assert recheck.state is CheckpointState.open  # the re-check opened at once
        roles = sorted(
            d.role for d in session.exec(select(GeneratedDocument).where(GeneratedDocument.role != ""))
        )
        assert roles.count("supervision_record") == 2 and roles.count("midterm_opinion") == 2
        assert roles.count("rectification_notice") == 1
        new = sorted(
            lt.role for lt in session.exec(select(OutboxLetter).where(OutboxLetter.stage == "supervision"))
        )
        paid = session.exec(
            select(OutboxLetter).where(
                OutboxLetter.role == "tranche_paid",
                col(OutboxLetter.idempotency_key).endswith(f":tranche-{tranche[first.grant_id].id}"),
            )
        ).all()
    assert new.count("rectification") == 1
    assert len(paid) == 1, "the mid-term tranche's 拨款通知 letter, once (sent by funding's open_gate)"
    assert new.count("supervision_request") == 4  # the re-check's link went to its supervisor
    rectification_mail = next(m for m in _messages(funded) if "整改通知" in str(m["subject"]))
    assert any(part.get_filename() for part in rectification_mail.iter_attachments())

    count = len(_messages(funded))
    later = asyncio.run(checkpoint_follow_up(funded.slug, as_of=VISIT_AT + timedelta(hours=1)))
    assert later["settled"] == [] and later["letters"] >= 0
    assert len(_messages(funded)) == count  # nothing sent twice
