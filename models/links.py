"""Personal links: signed, expiring tokens that open exactly one thing for one person.

A token is an itsdangerous ``URLSafeTimedSerializer`` signature, keyed by ``settings.secret_key``
with one salt per purpose, over ``[subject id, holder id, nonce]`` (or ``[…, expiry]`` for a link
whose life is fixed when it is signed):

    purpose      subject              holder        nonce
    review       ReviewAssignment.id  Expert.id     ReviewAssignment.token_nonce
    checkpoint   Checkpoint.id        Supervisor.id Checkpoint.token_nonce
    report       Checkpoint.id        Grant.id      Checkpoint.report_nonce (the grantee's report)
    final_review PanelSheet.id        Expert.id     PanelSheet.token_nonce (结项专家评审)
    expert       Expert.id            Expert.id     Expert.token_nonce (the expert's list of sheets)

A token is refused with ``AccessDenied`` when its signature does not hold (forged, altered, signed
for another purpose or with another key), when its expiry has passed, when the subject is gone,
when the holder is not the subject's holder (someone else's link), or when the nonce no longer
matches (the link was revoked by ``rotate_review_link``).

A link's life follows its subject in the database, not a date frozen in the token: a review link
opens until the sheet's deadline plus ``READABLE_AFTER_DEADLINE`` (until the deadline the sheet
can be changed; after it, the same link shows the sheet read-only for that grace period, then is
refused), and the deadline is read from the database on every request — so extending a deadline
extends the links already sent. A token signed with a date of its own (``expires_at``) is never
accepted after that date either.

Signing and reading are pure and know no stage; each stage binds them to its own table
(``models.review.links``: ``review_link``, ``open_review_link``, ``rotate_review_link``). A sheet an
expert opens — a review sheet, a 结项 panel sheet — is an ``ExpertSheet`` (id, expert, nonce,
deadline), and ``sheet_token`` / ``open_sheet_link`` are the whole binding for one. Nothing here
talks HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple, Protocol, TypeVar

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from models.errors import AccessDenied
from models.settings import Settings

Purpose = Literal["review", "checkpoint", "report", "final_review", "expert"]
PURPOSES: tuple[Purpose, ...] = ("review", "checkpoint", "report", "final_review", "expert")
READABLE_AFTER_DEADLINE = timedelta(days=14)
_PATHS: dict[Purpose, str] = {
    "review": "review",
    "checkpoint": "supervise",
    "report": "report",
    "final_review": "final-review",
    "expert": "expert",
}


class LinkClaim(NamedTuple):
    """What a valid token says: which subject, for whom, with which nonce, until when."""

    purpose: Purpose
    subject_id: int
    holder_id: int
    nonce: str
    expires_at: datetime | None  # None: the link lives as long as its subject says (database)


class LinkRefused(AccessDenied):
    """A personal link that does not open: ``reason`` is one of forged, expired, missing, holder, revoked.

    ``competition_id``: the competition of the row a genuine token named, when there is one (the
    refusal page then gives that competition's contact); None for a forged token or a missing row."""

    def __init__(self, reason: str, zh: str, en: str, *, competition_id: int | None = None) -> None:
        self.reason = reason
        self.competition_id = competition_id
        super().__init__(f"{zh} / {en}")


@functools.lru_cache(maxsize=32)
def _serializer(purpose: Purpose, secret: str) -> URLSafeTimedSerializer:
    """One serializer per purpose and key, built once (it holds no state between calls)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(secret, salt=f"grantflow.link.{purpose}")


def link_secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def new_nonce() -> str:
    """A fresh random nonce (rotating it revokes every link signed with the old one)."""
    return secrets.token_urlsafe(12)


def token_fingerprint(token: str) -> str:
    """A short, non-reversible name for a token, safe to write into logs."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


def sign_link(
    *,
    purpose: Purpose,
    subject_id: int,
    holder_id: int,
    nonce: str,
    secret: str,
    expires_at: datetime | None = None,
) -> str:
    """A URL-safe token for ``holder_id`` to open ``subject_id``; with ``expires_at`` (aware) its
    life is frozen into the token, without it the stage decides from the database."""
    payload: list[object] = [subject_id, holder_id, nonce]
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must carry a timezone / 到期时间须带时区")
        payload.append(int(expires_at.timestamp()))
    return str(_serializer(purpose, secret).dumps(payload))


def expired(competition_id: int | None = None) -> LinkRefused:
    return LinkRefused("expired", "链接已过期", "link refused: it has expired", competition_id=competition_id)


def read_link(token: str, *, purpose: Purpose, secret: str, now: datetime) -> LinkClaim:
    """The claim of a genuine token, unexpired if it carries a date; ``LinkRefused`` (forged /
    expired) otherwise. A token without a date: its stage checks the subject's life (database)."""
    try:
        payload = _serializer(purpose, secret).loads(token)
        if not isinstance(payload, list) or len(payload) not in (3, 4):
            raise ValueError(payload)
        subject_id, holder_id, nonce, *rest = payload
        if not (isinstance(subject_id, int) and isinstance(holder_id, int) and isinstance(nonce, str)):
            raise ValueError(payload)
        if any(isinstance(v, bool) for v in (subject_id, holder_id, *rest)):
            raise ValueError(payload)
        if rest and not isinstance(rest[0], int):
            raise ValueError(payload)
        expires_at = datetime.fromtimestamp(rest[0], UTC) if rest else None
    except (BadSignature, ValueError, TypeError, OverflowError, OSError):
        raise LinkRefused(
            "forged", "链接无效（签名不符）", "link refused: the signature does not hold"
        ) from None
    if expires_at is not None and now >= expires_at:
        raise expired()
    return LinkClaim(purpose, subject_id, holder_id, nonce, expires_at)


def portal_link(purpose: Purpose, token: str, settings: Settings) -> str:
    """The full URL of a token on the portal (``settings.portal_url``)."""
    return f"{settings.portal_url.rstrip('/')}/{_PATHS[purpose]}/{token}"


class ExpertSheet(Protocol):
    """A row one expert opens with a personal link until its deadline (plus the read-only grace)."""

    @property
    def id(self) -> int | None: ...

    @property
    def expert_id(self) -> int: ...

    @property
    def token_nonce(self) -> str: ...

    @property
    def deadline(self) -> datetime: ...

    @property
    def competition_id(self) -> int: ...


Sheet = TypeVar("Sheet", bound=ExpertSheet)


def sheet_expiry(sheet: ExpertSheet) -> datetime:
    """When a sheet's link stops opening at all: its deadline plus the read-only grace period."""
    return sheet.deadline + READABLE_AFTER_DEADLINE


def sheet_token(purpose: Purpose, sheet: ExpertSheet, settings: Settings) -> str:
    """The token of ``sheet``'s personal link, for its expert only."""
    return sheet_signer(purpose, sheet, settings)()


def sheet_signer(purpose: Purpose, sheet: ExpertSheet, settings: Settings) -> Callable[[], str]:
    """``sheet_token`` to be signed later, only if asked for: the sheet's fields are read now (a page
    lists many sheets and links only some; the row may be gone from its session by then)."""
    if sheet.id is None:
        raise ValueError("the sheet has no id yet: flush it before signing its link")
    return functools.partial(
        sign_link,
        purpose=purpose,
        subject_id=sheet.id,
        holder_id=sheet.expert_id,
        nonce=sheet.token_nonce,
        secret=link_secret(settings),
    )


def open_sheet_link(
    session: Session,
    table: type[Sheet],
    *,
    purpose: Purpose,
    token: str,
    settings: Settings,
    now: datetime,
    named: tuple[str, str],
) -> Sheet:
    """The one ``table`` row ``token`` opens; ``LinkRefused`` when forged, expired (past the
    deadline as the database has it now, plus the grace), someone else's or revoked. ``named`` is
    what the row is called in the refusal, Chinese and English (``("评审任务", "review sheet")``)."""
    claim = read_link(token, purpose=purpose, secret=link_secret(settings), now=now)
    sheet = session.get(table, claim.subject_id)
    zh, en = named
    if sheet is None:
        raise LinkRefused("missing", f"链接对应的{zh}不存在", f"link refused: its {en} does not exist")
    check_holder(sheet.competition_id, sheet.expert_id, sheet.token_nonce, claim, named=zh)
    if now >= sheet_expiry(sheet):
        raise expired(sheet.competition_id)
    return sheet


def check_holder(competition_id: int, holder_id: int, nonce: str, claim: LinkClaim, *, named: str) -> None:
    """``LinkRefused`` unless the claim's holder and nonce are the row's (someone else's link, or revoked)."""
    if holder_id != claim.holder_id:
        raise LinkRefused(
            "holder",
            f"此链接不属于该{named}的专家",
            "link refused: it belongs to someone else",
            competition_id=competition_id,
        )
    if not nonce or not secrets.compare_digest(nonce, claim.nonce):
        raise LinkRefused(
            "revoked",
            "链接已被撤销，请使用最新邮件中的链接",
            "link refused: it was revoked; use the link in the latest letter",
            competition_id=competition_id,
        )
