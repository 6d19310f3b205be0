"""发信箱: every letter of a competition, held, queued, sent or failed; a letter's HTML shown safely;
releasing and retrying — one letter or many, after a confirmation that says how many go to whom —
and sending the due letters now.

    GET  /admin/c/{slug}/outbox                   the letters (``models.mailroom.LetterQuery``)
    GET  /admin/c/{slug}/outbox/release           the confirmation: ``?ids=1,2`` or every held letter
    POST /admin/c/{slug}/outbox/release           release them (``models.mail.outbox.release_letters``)
    GET  /admin/c/{slug}/outbox/retry             the same for failed letters
    POST /admin/c/{slug}/outbox/retry             (``retry_letters``)
    POST /admin/c/{slug}/outbox/send              deliver the due letters now, in the background
    GET  /admin/c/{slug}/outbox/sending           where that delivery stands (polled by htmx)
    GET  /admin/c/{slug}/letters/{id}/html        a letter's HTML part, for a sandboxed frame

Release and retry are the functions ``grantflow outbox release|retry`` runs, audited with the
viewer as actor; a letter already moved by someone else (a second click, another administrator)
is set apart on the confirmation and never moved twice. "Send now" runs the delivery of
``grantflow outbox send`` (``portal.admin.sending``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response

from models.accounts.roles import Power
from models.dossier import letter_in
from models.mail.letters import LETTERS
from models.mail.outbox import release_letters, retry_letters
from models.mailroom import PAGE_SIZES, STATES, Batch, LetterPage, LetterQuery, batch_of, letter_page
from portal.admin.console import Call, Console, Nav
from portal.admin.sending import Sending

NAV = Nav("outbox", "outbox", 50)
MAX_IDS = 5000  # letters one confirmation may name
# the letter's own page: its HTML part runs nothing and reaches nothing (no script, no request)
LETTER_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'none'"
)
MOVES = {"release": release_letters, "retry": retry_letters}
LETTER_TITLES = {role.name: role.title for role in LETTERS}


@dataclass(frozen=True)
class OutboxPage:
    slug: str
    letters: LetterPage
    per_page: tuple[int, ...]
    sending: Any  # portal.admin.sending.Progress
    titles: dict[str, str]  # a letter role → its title (受理回执 …)

    @property
    def states(self) -> tuple[str, ...]:
        return ("", *STATES)

    def href(self, **changes: Any) -> str:
        params = self.letters.query.params(**changes)
        return f"/admin/c/{self.slug}/outbox" + (f"?{urlencode(params)}" if params else "")


def parse_ids(text: str) -> list[int] | None:
    """``1,2,3`` (also with spaces) → the ids; empty → None (every letter the move starts from)."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if not parts:
        return None
    ids = [int(p) for p in parts[:MAX_IDS] if p.isascii() and p.isdigit() and len(p) < 10]
    return ids or None


def register(console: Console) -> None:
    sending = Sending(console)

    @console.page("/admin/c/{slug}/outbox", nav=NAV)
    def outbox(call: Call) -> Response:
        query = LetterQuery.from_params(dict(call.request.query_params))
        with call.session() as session:
            competition = call.competition(session)
            letters = letter_page(session, competition_id=competition.id or 0, query=query)
            progress = sending.progress(session, competition)
        page = OutboxPage(competition.slug, letters, PAGE_SIZES, progress, LETTER_TITLES)
        response = call.render("admin/outbox.html", {"box": page}, competition=competition)
        if call.request.headers.get("HX-Request") == "true":
            response.headers["HX-Push-Url"] = page.href()
        return response

    def confirmation(call: Call, move: str) -> Response:
        ids = parse_ids(",".join(call.request.query_params.getlist("ids")))
        with call.session() as session:
            competition = call.competition(session)
            batch = batch_of(session, competition_id=competition.id or 0, move=move, ids=ids)
        return call.render(
            "admin/outbox_confirm.html",
            {"batch": batch, "chosen": ids is not None, "titles": LETTER_TITLES},
            competition=competition,
        )

    def act(call: Call, move: str) -> Response:
        ids = parse_ids(call.fields.get("ids", ""))
        with call.session() as session:
            competition = call.competition(session)
            batch: Batch = batch_of(session, competition_id=competition.id or 0, move=move, ids=ids or [])
            if batch.ids:
                MOVES[move](session, actor=call.actor, ids=batch.ids)
        target = f"/admin/c/{competition.slug}/outbox?state=" + ("queued" if batch.ids else "")
        if not batch.ids:
            return call.redirect(target, notice=f"{move}_none")
        return call.redirect(target, notice=f"{move}d" if move == "release" else "retried")

    @console.page("/admin/c/{slug}/outbox/release", power=Power.act)
    def release_confirm(call: Call) -> Response:
        return confirmation(call, "release")

    @console.action("/admin/c/{slug}/outbox/release")
    def release(call: Call) -> Response:
        return act(call, "release")

    @console.page("/admin/c/{slug}/outbox/retry", power=Power.act)
    def retry_confirm(call: Call) -> Response:
        return confirmation(call, "retry")

    @console.action("/admin/c/{slug}/outbox/retry")
    def retry(call: Call) -> Response:
        return act(call, "retry")

    @console.action("/admin/c/{slug}/outbox/send")
    def send(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
        started = sending.start(competition, actor=call.actor)
        return call.redirect(
            f"/admin/c/{competition.slug}/outbox#sending", notice="sending" if started else "sending_already"
        )

    @console.page("/admin/c/{slug}/outbox/sending")
    def sending_status(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            progress = sending.progress(session, competition)
        return call.render("admin/outbox_sending.html", {"sending": progress}, competition=competition)

    @console.page("/admin/c/{slug}/letters/{letter_id:int}/html")
    def letter_html(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            letter = letter_in(session, competition=competition, letter_id=call.param("letter_id"))
        body = letter.body_html or "<p>（此信没有 HTML 正文 / this letter has no HTML part）</p>"
        response = Response(body, media_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = LETTER_HTML_POLICY
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return console.site.finish(call.request, response)
