"""The bytes of a letter on the wire: a MIME message built from an outbox row. Pure; no network.

- ``multipart/mixed`` of a ``multipart/alternative`` (text/plain and text/html, UTF-8, base64)
  and the attachments; Word files go as
  ``application/vnd.openxmlformats-officedocument.wordprocessingml.document``.
- Chinese subjects and display names are RFC 2047 encoded words, written here (``encoded_words``):
  at most 75 characters each (§2), split only between characters (§5: a word holds whole
  characters), the first sized to fit its header's first line; Chinese file names use the
  RFC 2231 ``filename*=utf-8''…`` parameter. Every header is plain ASCII, so any SMTP server
  takes the message (no SMTPUTF8 needed).
- ``Message-ID`` comes from the outbox row (fixed before the first attempt, the same on every
  re-send); ``Date`` is given by the caller.
- A subject, display name or file name can never inject a header: CR, LF and every other control
  character are folded into a space first, and a header holding a line break is refused.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import encoders, policy
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from models.documents.engine.templating import clean_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_CONTROLS = re.compile(r"[\s\x00-\x1f\x7f\u2028\u2029]+")
_PATH_PARTS = re.compile(r"[\\/]+")
_ADDRESS = re.compile(r"^[^@\s<>(),;:\\\"\[\]]+@[^@\s<>(),;:\\\"\[\]]+$")
# The compat32 generator is about three times faster than EmailMessage with policy.SMTP and
# writes the same standard bytes; every header value below is made ASCII-safe by us first (its own
# ``email.header.Header`` writes encoded words of 76 characters, one over RFC 2047's limit).
WIRE = policy.compat32.clone(linesep="\r\n")
ENCODED_WORD_LIMIT = 75  # RFC 2047 §2
LINE_LIMIT = 78  # RFC 5322 §2.1.1: lines SHOULD be no longer
_PREFIX, _SUFFIX = "=?utf-8?b?", "?="


def one_line(value: str) -> str:
    """Fold every run of whitespace and control characters (CR and LF included) into one space."""
    return _CONTROLS.sub(" ", clean_text(value)).strip()


@dataclass(frozen=True)
class Attachment:
    filename: str  # what the recipient sees, e.g. 受理回执-JT2025-001.docx
    content: bytes
    content_type: str = ""  # guessed from the file name when empty

    @property
    def mime_type(self) -> tuple[str, str]:
        kind = self.content_type
        if not kind:
            kind = DOCX_TYPE if self.filename.lower().endswith(".docx") else ""
            kind = kind or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        return maintype, subtype


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def header(self, field: str = "To") -> str:
        """``=?utf-8?b?…?= <a@b>`` for a Chinese name, ``"A. B" <a@b>`` for an ASCII one."""
        return _address_header(self, header=field)


def mailbox(address: str, name: str = "") -> Mailbox:
    """An address for a header; the display name is folded onto one line."""
    address = address.strip()
    if not _ADDRESS.match(address) or not address.isascii():
        raise ValueError(f"不是可用的电子邮箱 / not a usable email address: {address!r}")
    return Mailbox(address, one_line(name))


def parse_mailbox(text: str) -> Mailbox:
    """``江头街道社工站 <noreply@jiangtou.example.org>`` → a Mailbox (for ``mail_from``)."""
    name, address = parseaddr(text)
    return mailbox(address or text, name)


def message_domain(mail_from: str) -> str:
    """The domain our Message-IDs end with: the sender's."""
    return parse_mailbox(mail_from).domain


def _room(length: int) -> int:
    """How many UTF-8 bytes fit one base64 encoded word of at most ``length`` characters."""
    return max((length - len(_PREFIX) - len(_SUFFIX)) // 4 * 3, 4)


def encoded_words(text: str, *, first: int = ENCODED_WORD_LIMIT) -> str:
    """``text`` as RFC 2047 ``=?utf-8?b?…?=`` words separated by spaces (a folding point each).

    Every word is at most 75 characters and holds whole characters (a 4-byte character fits any
    word); the first is at most ``first`` characters, so that it fits beside the header's name.
    Readers join adjacent encoded words without the space between them (RFC 2047 §6.2), so the
    text reads back exactly, its own spaces included.
    """
    words: list[str] = []
    chunk = b""
    room = _room(min(first, ENCODED_WORD_LIMIT))
    for character in text:
        encoded = character.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > room:
            words.append(_PREFIX + base64.b64encode(chunk).decode("ascii") + _SUFFIX)
            chunk, room = b"", _room(ENCODED_WORD_LIMIT)
        chunk += encoded
    if chunk:
        words.append(_PREFIX + base64.b64encode(chunk).decode("ascii") + _SUFFIX)
    return " ".join(words)


def _header_text(value: str, *, header: str) -> str:
    """A header's value in ASCII: as it is when it is ASCII, else encoded words."""
    value = one_line(value)
    if value.isascii():
        return value
    return encoded_words(value, first=LINE_LIMIT - len(header) - 2)  # "Subject: " is on that line


def _address_header(box: Mailbox, *, header: str) -> str:
    """``"A. B" <a@b>`` for an ASCII name; ``=?utf-8?b?…?= <a@b>`` for any other."""
    if box.name.isascii():
        return formataddr((box.name, box.address))
    return f"{encoded_words(box.name, first=LINE_LIMIT - len(header) - 2)} <{box.address}>"


def build_message(
    *,
    sender: Mailbox,
    recipient_email: str,
    recipient_name: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    attachments: Sequence[Attachment] = (),
) -> Message:
    """The complete message for one letter (headers in ASCII, bodies in UTF-8 base64)."""
    body: Message = MIMEText(clean_text(text), "plain", "utf-8")
    if html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(clean_text(html), "html", "utf-8"))
        body = alternative
    message = body
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for item in attachments:
            part = MIMEBase(*item.mime_type)
            part.set_payload(item.content)
            encoders.encode_base64(part)
            filename = one_line(_PATH_PARTS.sub("_", item.filename)) or "attachment"
            # RFC 2231: filename*=utf-8''%E5%8F%97… for a Chinese name
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
            message.attach(part)
    message["From"] = sender.header("From")
    message["To"] = mailbox(recipient_email, recipient_name).header("To")
    message["Subject"] = _header_text(subject, header="Subject")
    message["Date"] = format_datetime(date)
    message["Message-ID"] = one_line(message_id)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    for name, value in message.items():
        if "\r" in str(value) or "\n" in str(value):  # pragma: no cover - one_line makes this impossible
            raise ValueError(f"header {name} contains a line break")
    return message


def message_bytes(message: Message) -> bytes:
    """The message as sent: CRLF line ends, headers folded at 78 characters, 7-bit clean."""
    return message.as_bytes(policy=WIRE)
