"""The supervision flows under Prefect's harness, on the funded example: links go out once, the
follow-up releases a passed checkpoint's tranche and opens a rectification for a failed one, the
papers are written once (a re-check that passes never rewrites the failed round's opinion), and
re-runs send and write nothing twice."""

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
from tests.support.mailbox import docx_text
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


def test_a_failed_midterm_opinion_is_never_rewritten_by_its_passed_recheck(prefect_harness, funded):  # noqa: F811
    """The 中期评估意见 of a failed round is the record of that decision: the re-check that passes
    writes its own opinion (citing the 整改通知 and the 拨款通知 by 文号) and the first one's bytes stay."""
    from flows.supervision import checkpoint_follow_up, supervision
    from models.documents.tables import DocumentNumber

    asyncio.run(supervision(funded.slug, as_of=OPEN_AT))
    grant_id = funded.grant_ids[1]
    with Session(funded.engine) as session:
        first = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == grant_id, Checkpoint.code == "midterm")
        ).one()
    _fill(funded, first, share=0.3)
    asyncio.run(checkpoint_follow_up(funded.slug, as_of=VISIT_AT))
    documents = funded.settings.documents_dir

    def opinion(checkpoint_id: int) -> GeneratedDocument:
        with Session(funded.engine) as session:
            return session.exec(
                select(GeneratedDocument).where(
                    GeneratedDocument.role == "midterm_opinion", GeneratedDocument.subject_id == checkpoint_id
                )
            ).one()

    failed = opinion(first.id)
    failed_bytes = (documents / failed.path).read_bytes()
    with Session(funded.engine) as session:
        rectification = session.exec(select(Rectification).where(Rectification.grant_id == grant_id)).one()
        recheck = session.get(Checkpoint, rectification.recheck_id)
        notice = session.exec(
            select(DocumentNumber).where(
                DocumentNumber.kind == "rectification_notice", DocumentNumber.subject_id == rectification.id
            )
        ).one()
    assert recheck.state is CheckpointState.open
    text = docx_text(documents / failed.path)
    assert "暂缓拨付" in text and "同意拨付" not in text and f"整改通知（{notice.number}）" in text

    recheck_at = VISIT_AT + timedelta(days=13)  # before the rectification's deadline (15 days)
    with Session(funded.engine) as session:
        competition = session.get(Competition, funded.competition_id)
        save_progress_report(
            session,
            checkpoint_id=recheck.id,
            fields=progress_fields(session, grant_id=grant_id),
            submit=True,
            actor="grantee",
            now=recheck_at,
        )
        save_record(
            session,
            checkpoint_id=recheck.id,
            fields=record_fields(session, competition, code="midterm", share=0.8),
            submit=True,
            actor="supervisor",
            now=recheck_at,
        )
        session.commit()
    followed = asyncio.run(checkpoint_follow_up(funded.slug, as_of=recheck_at))
    assert [(s["checkpoint_id"], s["passed"]) for s in followed["settled"]] == [(recheck.id, True)]
    with Session(funded.engine) as session:
        tranche = session.exec(
            select(Tranche).where(Tranche.grant_id == grant_id, Tranche.gate == "midterm")
        ).one()
        paid = session.exec(
            select(DocumentNumber).where(
                DocumentNumber.kind == "payment_notice", DocumentNumber.subject_id == tranche.id
            )
        ).one()
    assert tranche.state is TrancheState.released

    # the first round's opinion: the same row, the same bytes — it still says what was decided then
    assert opinion(first.id).sha256 == failed.sha256
    assert (documents / failed.path).read_bytes() == failed_bytes
    # the re-check's own opinion says what it decided, citing the earlier paper and the payment
    passed = docx_text(documents / opinion(recheck.id).path)
    assert f"按整改通知（{notice.number}）整改后经复查合格" in passed
    assert "同意拨付中期拨付" in passed and f"拨款通知（{paid.number}）" in passed
    assert re.fullmatch(r"江头社工〔2025〕[1-9]\d*号", notice.number) and paid.number != notice.number

    # re-running the stage writes nothing new: no document, no number
    with Session(funded.engine) as session:
        before = sorted((d.id, d.sha256) for d in session.exec(select(GeneratedDocument)))
        numbers = len(session.exec(select(DocumentNumber)).all())
    again = asyncio.run(checkpoint_follow_up(funded.slug, as_of=recheck_at + timedelta(hours=2)))
    assert (
        again["settled"] == [] and again["documents"] == 4
    )  # both rounds: 督导记录表, 中期评估意见 as they were
    with Session(funded.engine) as session:
        assert sorted((d.id, d.sha256) for d in session.exec(select(GeneratedDocument))) == before
        assert len(session.exec(select(DocumentNumber)).all()) == numbers
