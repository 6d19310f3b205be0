"""发信箱: a competition's letters filtered and paged by the database, and what a release or a
retry would touch — the console's outbox reads it, and the 首页's letter counts are its counts.

A ``LetterQuery`` is what the administrator chose: a state (``queued`` counts the letters being
sent too, as the 首页 does), a letter role, a text found in the recipient's name or address or the
subject, and a page. One SELECT of the page, one count; the counts per state are one GROUP BY
(``models.mail.outbox.count_by_state``).

``batch_of`` is the confirmation before a release or a retry: the letters asked for (by id, or
every letter in the state that move starts from), checked to belong to the competition, those no
longer in that state set apart, and to whom they go — counted by recipient and by role.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.errors import NotFound
from models.mail.outbox import OutboxLetter, count_by_state
from models.paging import Paged, changed_params, like, number, search_text, within
from models.states import LetterState

PAGE_SIZES = (25, 50, 100, 200)
# the filter's states, in the order of the tabs; ``queued`` is waiting or being sent
STATES: Mapping[str, tuple[LetterState, ...]] = {
    "draft": (LetterState.draft,),
    "queued": (LetterState.queued, LetterState.sending),
    "sent": (LetterState.sent,),
    "failed": (LetterState.failed,),
}
# the administrator's two moves: which state each starts from
MOVES: Mapping[str, LetterState] = {"release": LetterState.draft, "retry": LetterState.failed}


@dataclass(frozen=True)
class LetterQuery:
    state: str = ""  # "" | a key of STATES
    role: str = ""  # a letter role (receipt, award, review_reminder …)
    text: str = ""  # part of the recipient's name or address, or of the subject
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LetterQuery:
        """The query a page's parameters ask for; anything unknown falls back to its default."""
        state, per_page = search_text(params, "state"), number(params.get("per_page"), 50)
        return cls(
            state=state if state in STATES else "",
            role=search_text(params, "role")[:60],
            text=search_text(params, "q"),
            page=max(1, number(params.get("page"), 1)),
            per_page=per_page if per_page in PAGE_SIZES else 50,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The page parameters of this query (with ``changes``), defaults left out."""
        return changed_params(self, {"text": "q"}, **changes)


@dataclass(frozen=True)
class LetterPage(Paged):
    rows: list[OutboxLetter]
    total: int  # letters matching the filters, on every page
    query: LetterQuery
    counts: dict[str, int]  # per key of STATES, and "" for every letter of the competition
    roles: list[tuple[str, int]]  # the roles the competition's letters have, with their counts


def letter_counts(session: Session, *, competition_id: int) -> dict[str, int]:
    """Letters per filter state (``queued`` with those being sent), and ``""``: all of them."""
    by_state = count_by_state(session, competition_id=competition_id)
    counts = {key: sum(by_state.get(s.value, 0) for s in states) for key, states in STATES.items()}
    counts[""] = sum(by_state.values())
    return counts


def _conditions(competition_id: int, query: LetterQuery) -> list[Any]:
    conditions: list[Any] = [col(OutboxLetter.competition_id) == competition_id]
    if query.state:
        conditions.append(col(OutboxLetter.state).in_(STATES[query.state]))
    if query.role:
        conditions.append(col(OutboxLetter.role) == query.role)
    if query.text:
        pattern = like(query.text)
        conditions.append(
            sa.or_(
                *[
                    col(column).ilike(pattern, escape="\\")
                    for column in (
                        OutboxLetter.recipient_name,
                        OutboxLetter.recipient_email,
                        OutboxLetter.subject,
                    )
                ]
            )
        )
    return conditions


def letter_page(session: Session, *, competition_id: int, query: LetterQuery) -> LetterPage:
    """One page of the competition's letters, newest first (a page past the last shows the last)."""
    conditions = _conditions(competition_id, query)
    total = int(session.exec(select(func.count()).select_from(OutboxLetter).where(*conditions)).one())
    query = within(query, total)
    rows = list(
        session.exec(
            select(OutboxLetter)
            .where(*conditions)
            .order_by(col(OutboxLetter.id).desc())
            .offset((query.page - 1) * query.per_page)
            .limit(query.per_page)
        )
    )
    roles = [
        (str(role), int(n))
        for role, n in session.exec(
            select(OutboxLetter.role, func.count())
            .where(OutboxLetter.competition_id == competition_id)
            .group_by(col(OutboxLetter.role))
            .order_by(col(OutboxLetter.role))
        )
    ]
    return LetterPage(
        rows=rows,
        total=total,
        query=query,
        counts=letter_counts(session, competition_id=competition_id),
        roles=roles,
    )


@dataclass(frozen=True)
class Batch:
    """The letters a release or a retry would move, and to whom they go."""

    move: str  # release | retry
    letters: list[OutboxLetter]  # in the state the move starts from
    gone: list[OutboxLetter]  # asked for, but in another state now (moved by someone else)

    @property
    def ids(self) -> list[int]:
        return [letter.id for letter in self.letters if letter.id is not None]

    @property
    def recipients(self) -> list[tuple[str, str, int]]:
        """(name, address, letters) for each recipient, the most letters first."""
        names: dict[str, str] = {}
        counted: Counter[str] = Counter()
        for letter in self.letters:
            address = letter.recipient_email.casefold()
            names.setdefault(address, letter.recipient_name)
            counted[address] += 1
        return [(names[a], a, n) for a, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]

    @property
    def roles(self) -> list[tuple[str, int]]:
        return sorted(Counter(letter.role for letter in self.letters).items(), key=lambda item: -item[1])


def batch_of(session: Session, *, competition_id: int, move: str, ids: Sequence[int] | None = None) -> Batch:
    """The letters ``move`` (release | retry) would touch: ``ids`` (each of this competition, else
    ``NotFound``), or without ids every letter of the competition in the state it starts from."""
    start = MOVES[move]
    if ids is None:
        found = list(
            session.exec(
                select(OutboxLetter)
                .where(OutboxLetter.competition_id == competition_id, OutboxLetter.state == start)
                .order_by(col(OutboxLetter.id))
            )
        )
    else:
        wanted = sorted(set(ids))
        found = list(
            session.exec(
                select(OutboxLetter)
                .where(col(OutboxLetter.id).in_(wanted), OutboxLetter.competition_id == competition_id)
                .order_by(col(OutboxLetter.id))
            )
        )
        missing = sorted(set(wanted) - {letter.id for letter in found})
        if missing:
            shown = "、".join(str(i) for i in missing[:10])
            raise NotFound(f"本竞赛没有信件 {shown} / no letter {shown} here")
    return Batch(
        move=move,
        letters=[letter for letter in found if letter.state is start],
        gone=[letter for letter in found if letter.state is not start],
    )
