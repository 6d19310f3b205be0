"""发信箱 through the real app on the held year (``pages_world``: every letter waits for release, a
real SMTP server refuses one address): the list and its counts, the confirmation before a release
or a retry, two clicks, "send now" delivering in the background, and a letter's HTML kept in a
sandbox."""

from __future__ import annotations

import re
import time

import pytest
from sqlmodel import Session, col, func, select

from models.audit import AuditEvent
from models.mail.outbox import OutboxLetter, count_by_state
from models.mailroom import letter_counts
from models.states import LetterState
from tests.portal.admin.console_world import SLUG, ConsoleWorld, csrf_of
from tests.portal.admin.pages_world import PagesWorld

pytestmark = pytest.mark.slow

BASE = f"/admin/c/{SLUG}/outbox"


def letters(world: ConsoleWorld, state: LetterState | None = None) -> list[OutboxLetter]:
    with Session(world.engine) as session:
        query = select(OutboxLetter).order_by(col(OutboxLetter.id))
        if state is not None:
            query = query.where(OutboxLetter.state == state)
        return list(session.exec(query))


def audited(world: ConsoleWorld, action: str) -> list[AuditEvent]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.actor == "admin:lin", AuditEvent.action == action)
            )
        )


def moves(world: ConsoleWorld, to: LetterState) -> list[AuditEvent]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.entity == "letter",
                    AuditEvent.to_state == str(to),
                    AuditEvent.actor == "admin:lin",
                )
            )
        )


def confirm_and_post(client, path: str) -> tuple[str, object]:
    """Open a confirmation page, post its form as shown; the page and the answer."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    ids = re.search(r'name="ids" value="([0-9,]*)"', page.text)
    assert ids, "the confirmation names the letters it moves"
    action = re.search(r'<form method="post" action="([^"]+)" class="confirm-form"', page.text)
    assert action
    answer = client.post(action.group(1), data={"csrf_token": csrf_of(page.text), "ids": ids.group(1)})
    return page.text, answer


def test_the_outbox_counts_and_filters_the_letters_on_the_server(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("du")  # 只读 reads the outbox
    everything = letters(world)
    page = client.get(BASE)
    assert page.status_code == 200
    with Session(world.engine) as session:
        counts = letter_counts(session, competition_id=everything[0].competition_id or 0)
        assert counts["draft"] == count_by_state(session)["draft"] == len(everything)  # every letter held
    for key, count in counts.items():
        assert f'id="tab-{key or "all"}" data-count="{count}"' in page.text
    assert "send-now" not in page.text and "release-all" not in page.text  # 只读 sees no button

    held = client.get(BASE, params={"state": "draft", "per_page": "25", "page": "2"})
    shown = re.findall(r'<tr data-id="(\d+)" data-state="draft">', held.text)
    newest_first = sorted((x.id for x in everything), reverse=True)
    assert [int(i) for i in shown] == newest_first[25:50]

    invitation = next(x for x in everything if x.role == "final_review_invitation")
    by_role = client.get(BASE, params={"role": "final_review_invitation"})
    shown = {int(i) for i in re.findall(r'<tr data-id="(\d+)"', by_role.text)}
    assert shown == {x.id for x in everything if x.role == "final_review_invitation"}
    found = client.get(BASE, params={"q": invitation.recipient_email.upper()})
    assert invitation.id in {int(i) for i in re.findall(r'<tr data-id="(\d+)"', found.text)}
    assert all(
        invitation.recipient_email in row or "final" not in row
        for row in re.findall(r'<tr data-id="\d+".*?</tr>', found.text, re.S)
    )

    home = client.get(f"/admin/c/{SLUG}")  # the 首页's "held" figure links here, with the same count
    assert f'href="{BASE}?state=draft"' in home.text
    assert f'id="count-letters_held" data-value="{counts["draft"]}"' in home.text


def test_a_release_says_how_many_letters_go_to_whom_before_it_moves_them(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    chosen = [x for x in letters(world) if x.role == "final_review_invitation"][:3]
    query = "&".join(f"ids={x.id}" for x in chosen)
    before = world.counts()
    shown = client.get(f"{BASE}/release?{query}")
    assert world.counts() == before  # the confirmation writes nothing
    assert f'data-count="{len(chosen)}"' in shown.text
    assert (
        f"将放行 {len(chosen)} 封信，寄给 {len({x.recipient_email for x in chosen})} 位收件人" in shown.text
    )
    for letter in chosen:
        assert letter.recipient_email in shown.text

    _, answer = confirm_and_post(client, f"{BASE}/release?{query}")
    assert answer.status_code == 303 and "done=released" in answer.headers["location"]
    queued = {x.id for x in letters(world, LetterState.queued)}
    assert queued == {x.id for x in chosen}
    assert {e.entity_id for e in moves(world, LetterState.queued)} == queued  # audited, the user as actor

    # the same form posted again (a second click, another tab): nothing moves twice
    token = csrf_of(client.get(BASE).text)
    again = client.post(
        f"{BASE}/release", data={"csrf_token": token, "ids": ",".join(str(x.id) for x in chosen)}
    )
    assert "done=release_none" in again.headers["location"]
    assert len(moves(world, LetterState.queued)) == len(chosen)
    page = client.get(f"{BASE}/release?{query}")
    assert 'id="confirm-gone"' in page.text and 'id="confirm-none"' in page.text


def test_release_all_then_send_now_delivers_in_the_background_and_a_refused_address_fails(
    pages: PagesWorld,
) -> None:
    world = pages.world
    client = world.signed_in("lin")
    everything = letters(world)
    page, answer = confirm_and_post(client, f"{BASE}/release")  # no ids: every held letter
    assert f"将放行 {len(everything)} 封信" in page
    assert answer.status_code == 303
    assert len(letters(world, LetterState.queued)) == len(everything)

    token = csrf_of(client.get(BASE).text)
    started = client.post(f"{BASE}/send", data={"csrf_token": token})
    assert started.status_code == 303 and "done=sending" in started.headers["location"]
    second = client.post(f"{BASE}/send", data={"csrf_token": token})  # a second click meanwhile
    assert second.status_code == 303
    status = wait_until_sent(client)
    assert 'id="sending-result"' in status
    failed = letters(world, LetterState.failed)
    sent = letters(world, LetterState.sent)
    assert failed and {x.recipient_email.lower() for x in failed} == {pages.refused}
    assert len(sent) + len(failed) == len(everything)
    assert len(pages.sink.files()) == len(sent)  # each delivered once, whatever the second click did
    assert all(x.last_answer.startswith("550") for x in failed)
    assert [e.reason for e in audited(world, "deliver")]  # "send now" audited with the user

    page, answer = confirm_and_post(client, f"{BASE}/retry")
    assert f"将重新发送 {len(failed)} 封发送失败的信" in page and pages.refused in page
    assert "done=retried" in answer.headers["location"]
    retried = [x for x in letters(world) if x.id in {f.id for f in failed}]
    assert {x.state for x in retried} == {LetterState.queued} and {x.attempts for x in retried} == {0}
    assert {e.entity_id for e in moves(world, LetterState.queued) if e.from_state == "failed"} == {
        x.id for x in failed
    }


def wait_until_sent(client, timeout: float = 120) -> str:
    """The outbox's delivery status once no delivery runs (the page polls it the same way)."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"{BASE}/sending").text
        if 'data-running="false"' in status:
            return status
        assert time.monotonic() < deadline, "the delivery did not end"
        time.sleep(0.2)


def test_a_letter_shows_its_html_in_a_sandbox_and_its_attachments(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    with_attachment = next(x for x in letters(world) if x.attachments and x.body_html)
    page = client.get(f"/admin/c/{SLUG}/letters/{with_attachment.id}")
    assert f'src="/admin/c/{SLUG}/letters/{with_attachment.id}/html"' in page.text
    assert re.search(r'<iframe sandbox=""', page.text)
    for document_id in with_attachment.attachments:
        assert f'href="/admin/c/{SLUG}/documents/{document_id}"' in page.text
    assert f'href="{BASE}/release?ids={with_attachment.id}"' in page.text  # its own release, confirmed first

    html = client.get(f"/admin/c/{SLUG}/letters/{with_attachment.id}/html")
    assert html.status_code == 200 and html.text == with_attachment.body_html
    policy = html.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    assert client.get(f"/admin/c/{SLUG}").headers["x-frame-options"] == "DENY"  # every other page


def test_ids_of_another_competition_are_refused_on_the_confirmation(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    with Session(world.engine) as session:
        largest = session.exec(select(func.max(OutboxLetter.id))).one()
    page = client.get(f"{BASE}/release", params={"ids": f"{largest + 1}"})
    assert page.status_code == 404
    before = world.counts()
    token = csrf_of(client.get(BASE).text)
    answer = client.post(f"{BASE}/release", data={"csrf_token": token, "ids": f"{largest + 1}"})
    assert answer.status_code == 404 and world.counts() == before
