"""Personal links: a token opens exactly one sheet, for its expert, until it expires or is revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models.audit import history
from models.db import session_scope
from models.links import READABLE_AFTER_DEADLINE, LinkRefused, read_link, sign_link
from models.review.links import (
    expert_token,
    open_expert_link,
    open_review_link,
    review_link,
    review_token,
    rotate_review_link,
)
from models.review.tables import Expert, ReviewAssignment
from models.types import utcnow
from tests.portal.conftest import ReviewWorld

SECRET = "a-test-secret-of-enough-length"
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _token(**changes: object) -> str:
    fields: dict[str, object] = {
        "purpose": "review",
        "subject_id": 7,
        "holder_id": 3,
        "nonce": "n0nce",
        "expires_at": NOW + timedelta(days=1),
        "secret": SECRET,
    }
    fields.update(changes)
    return sign_link(**fields)  # type: ignore[arg-type]


def test_read_link_genuine_returns_claim() -> None:
    claim = read_link(_token(), purpose="review", secret=SECRET, now=NOW)
    assert (claim.subject_id, claim.holder_id, claim.nonce) == (7, 3, "n0nce")
    assert claim.expires_at == NOW + timedelta(days=1)


def _flip(token: str, position: int) -> str:
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature"])
def test_read_link_altered_token_is_forged(where: str) -> None:
    token = _token()
    payload, _timestamp, _signature = token.split(".")
    position = {"payload": 2, "timestamp": len(payload) + 2, "signature": len(token) - 5}[where]
    with pytest.raises(LinkRefused) as refused:
        read_link(_flip(token, position), purpose="review", secret=SECRET, now=NOW)
    assert refused.value.reason == "forged"


def test_read_link_payload_of_another_sheet_with_this_signature_is_forged() -> None:
    mine, theirs = _token(subject_id=7), _token(subject_id=8)
    spliced = ".".join([theirs.split(".")[0], *mine.split(".")[1:]])
    with pytest.raises(LinkRefused) as refused:
        read_link(spliced, purpose="review", secret=SECRET, now=NOW)
    assert refused.value.reason == "forged"


def test_read_link_other_secret_is_forged() -> None:
    with pytest.raises(LinkRefused) as refused:
        read_link(_token(secret="another-secret-entirely"), purpose="review", secret=SECRET, now=NOW)
    assert refused.value.reason == "forged"


def test_read_link_checkpoint_token_does_not_open_a_review() -> None:
    with pytest.raises(LinkRefused) as refused:
        read_link(_token(purpose="checkpoint"), purpose="review", secret=SECRET, now=NOW)
    assert refused.value.reason == "forged"


def test_read_link_after_expiry_is_expired() -> None:
    token = _token(expires_at=NOW + timedelta(minutes=5))
    assert read_link(token, purpose="review", secret=SECRET, now=NOW + timedelta(minutes=4)).subject_id == 7
    with pytest.raises(LinkRefused) as refused:
        read_link(token, purpose="review", secret=SECRET, now=NOW + timedelta(minutes=5))
    assert refused.value.reason == "expired"


def test_read_link_garbage_is_forged() -> None:
    for garbage in ["", "x", "not.a.token", "W10.abc.def"]:
        with pytest.raises(LinkRefused):
            read_link(garbage, purpose="review", secret=SECRET, now=NOW)


def test_sign_link_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _token(expires_at=datetime(2025, 3, 2))


def test_review_link_points_at_the_portal(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    link = review_link(sheet, world.settings.model_copy(update={"portal_url": "https://pf.example.org/"}))
    assert link == f"https://pf.example.org/review/{review_token(sheet, world.settings)}"


def test_open_review_link_opens_its_own_sheet(world: ReviewWorld) -> None:
    for sheet in world.sheets[:3]:
        with session_scope(world.engine) as session:
            opened = open_review_link(
                session, token=review_token(sheet, world.settings), settings=world.settings, now=utcnow()
            )
            assert (opened.id, opened.expert_id) == (sheet.id, sheet.expert_id)


def test_open_review_link_someone_elses_claim_is_refused(world: ReviewWorld) -> None:
    mine = world.sheets[0]
    other = world.other_expert_sheet(mine)
    # a genuine signature that names this sheet but another expert (as if issued to them)
    token = sign_link(
        purpose="review",
        subject_id=mine.id or 0,
        holder_id=other.expert_id,
        nonce=mine.token_nonce,
        expires_at=utcnow() + timedelta(days=1),
        secret=world.settings.secret_key.get_secret_value(),
    )
    with session_scope(world.engine) as session, pytest.raises(LinkRefused) as refused:
        open_review_link(session, token=token, settings=world.settings, now=utcnow())
    assert refused.value.reason == "holder"


def test_open_review_link_rotated_nonce_is_revoked(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    old = review_token(sheet, world.settings)
    with session_scope(world.engine) as session:
        rotated = rotate_review_link(
            session, assignment_id=sheet.id or 0, actor="admin:test", reason="邮件误发"
        )
        new = review_token(rotated, world.settings)
        actions = [e.action for e in history(session, entity="assignment", entity_id=sheet.id or 0)]
        assert actions == ["create", "link_rotated"]
    with session_scope(world.engine) as session:
        with pytest.raises(LinkRefused) as refused:
            open_review_link(session, token=old, settings=world.settings, now=utcnow())
        assert refused.value.reason == "revoked"
        assert open_review_link(session, token=new, settings=world.settings, now=utcnow()).id == sheet.id


def test_open_review_link_missing_sheet_is_refused(world: ReviewWorld) -> None:
    token = sign_link(
        purpose="review",
        subject_id=99_999,
        holder_id=1,
        nonce="x",
        expires_at=utcnow() + timedelta(days=1),
        secret=world.settings.secret_key.get_secret_value(),
    )
    with session_scope(world.engine) as session, pytest.raises(LinkRefused) as refused:
        open_review_link(session, token=token, settings=world.settings, now=utcnow())
    assert refused.value.reason == "missing"


def _move_deadline(world: ReviewWorld, sheet_id: int, deadline: datetime) -> None:
    """The sheet's deadline changed in the database after its link was sent."""
    with session_scope(world.engine) as session:
        found = session.get(ReviewAssignment, sheet_id)
        assert found is not None
        found.deadline = deadline
        session.add(found)


def test_review_link_expires_after_the_read_only_grace(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    token = review_token(sheet, world.settings)
    with session_scope(world.engine) as session:
        opened = open_review_link(
            session, token=token, settings=world.settings, now=sheet.deadline + timedelta(days=1)
        )
        assert opened.id == sheet.id
    with session_scope(world.engine) as session, pytest.raises(LinkRefused) as refused:
        open_review_link(
            session, token=token, settings=world.settings, now=sheet.deadline + READABLE_AFTER_DEADLINE
        )
    assert refused.value.reason == "expired"


def test_review_link_follows_an_extended_deadline(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    token = review_token(sheet, world.settings)  # the link in the invitation already sent
    later = sheet.deadline + READABLE_AFTER_DEADLINE + timedelta(days=3)
    _move_deadline(world, sheet.id, sheet.deadline + timedelta(days=30))
    with session_scope(world.engine) as session:
        assert open_review_link(session, token=token, settings=world.settings, now=later).id == sheet.id


def test_review_link_follows_a_shortened_deadline(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    token = review_token(sheet, world.settings)
    _move_deadline(world, sheet.id, utcnow() - READABLE_AFTER_DEADLINE - timedelta(hours=1))
    with session_scope(world.engine) as session, pytest.raises(LinkRefused) as refused:
        open_review_link(session, token=token, settings=world.settings, now=utcnow())
    assert refused.value.reason == "expired"


def test_review_link_token_carries_no_date(world: ReviewWorld) -> None:
    sheet = world.sheets[0]
    secret = world.settings.secret_key.get_secret_value()
    claim = read_link(review_token(sheet, world.settings), purpose="review", secret=secret, now=NOW)
    assert claim.expires_at is None and claim.subject_id == sheet.id


# ---- the expert's own link: the list of their sheets ------------------------------------------------


def _expert(world: ReviewWorld) -> Expert:
    with session_scope(world.engine) as session:
        expert = session.get(Expert, world.sheets[0].expert_id)
        assert expert is not None and expert.token_nonce  # every expert has a nonce of their own
        return expert


def test_expert_link_opens_for_its_expert_until_their_last_sheet_closes(world: ReviewWorld) -> None:
    expert = _expert(world)
    token = expert_token(expert, world.settings)
    last = max(s.deadline for s in world.sheets if s.expert_id == expert.id)
    with session_scope(world.engine) as session:
        opened = open_expert_link(session, token=token, settings=world.settings, now=utcnow())
        assert opened.id == expert.id
        with pytest.raises(LinkRefused) as refused:
            open_expert_link(
                session, token=token, settings=world.settings, now=last + READABLE_AFTER_DEADLINE
            )
        assert refused.value.reason == "expired" and refused.value.competition_id == world.competition_id
        later = last + timedelta(days=60)  # a later stage's sheet of theirs (the 结项 panel) keeps it open
        kept = open_expert_link(
            session,
            token=token,
            settings=world.settings,
            now=last + READABLE_AFTER_DEADLINE,
            later=lambda expert_id: [later] if expert_id == expert.id else [],
        )
        assert kept.id == expert.id


def test_expert_link_of_another_purpose_or_a_new_nonce_is_refused(world: ReviewWorld) -> None:
    expert = _expert(world)
    sheet_token = review_token(world.sheets[0], world.settings)
    with session_scope(world.engine) as session:
        with pytest.raises(LinkRefused) as forged:
            open_expert_link(session, token=sheet_token, settings=world.settings, now=utcnow())
        assert forged.value.reason == "forged" and forged.value.competition_id is None
        token = expert_token(expert, world.settings)
        stored = session.get(Expert, expert.id)
        assert stored is not None
        stored.token_nonce = "rotated"
        session.add(stored)
        session.flush()
        with pytest.raises(LinkRefused) as revoked:
            open_expert_link(session, token=token, settings=world.settings, now=utcnow())
        assert revoked.value.reason == "revoked"


def test_review_invitation_carries_one_link_the_experts_own_page(world: ReviewWorld) -> None:
    import re

    from models.competition.tables import Competition
    from models.review.notices import queue_invitations

    with session_scope(world.engine) as session:
        competition = session.get(Competition, world.competition_id)
        assert competition is not None
        letters = queue_invitations(session, competition=competition, settings=world.settings)
        assert len(letters) == len({s.expert_id for s in world.sheets})
        for letter in letters:
            links = re.findall(r"https?://\S+", letter.body_text)
            assert len(links) == 1 and "/expert/" in links[0], links
            expert = session.exec(select(Expert).where(Expert.email == letter.recipient_email)).one()
            opened = open_expert_link(
                session, token=links[0].rsplit("/", 1)[1], settings=world.settings, now=utcnow()
            )
            assert opened.id == expert.id
            refs = re.findall(r"\d{4}-\d{3}", letter.body_text)
            assert len(set(refs)) == len(letter.extra["assignments"])  # each application named
