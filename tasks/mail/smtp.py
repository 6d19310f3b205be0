"""How we talk to an SMTP server: where it is and how to connect (``SmtpServer``), one message's
transaction (``transmit``), what its answers mean for a letter (``classify``), and how fast to go
(``RateLimit``). No Prefect, no database.

Two timeouts, as RFC 5321 §4.5.3.2 asks: every command waits ``timeout`` (30 s by default), but
the reply to the final "." of DATA waits ``data_timeout`` (10 minutes): a slow server may be
storing the message, and giving up early would send it again. When even that reply does not come,
the server may or may not hold the message: ``transmit`` raises ``NoFinalReply`` and the letter's
outcome is *unknown* (``Outcome.unknown``) — settled by asking the receiving side, or by one more
send at most (models/mail/sending.py ``mark_unknown``), never by retrying in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from enum import Enum

import aiosmtplib

from models.errors import DeliveryError
from models.settings import Settings, SmtpTls


@dataclass(frozen=True)
class SmtpServer:
    """Where letters go and how to talk to it (from settings, or the embedded sink)."""

    host: str
    port: int
    tls: SmtpTls = SmtpTls.none
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0  # every command
    data_timeout: float = 600.0  # the reply to the final "." of DATA (RFC 5321 §4.5.3.2.6)
    tls_context: ssl.SSLContext | None = None  # None: the system's trusted certificates

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer:
        if not settings.smtp_host:
            raise DeliveryError("未配置 SMTP 服务器 / GRANTFLOW_SMTP_HOST is not set")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout_seconds,
            data_timeout=settings.smtp_data_timeout_seconds,
        )

    def client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls is SmtpTls.implicit,
            start_tls=self.tls is SmtpTls.starttls,  # never an unasked STARTTLS on a plain setting
            username=self.user,
            password=self.password,
            timeout=self.timeout,
            tls_context=self.tls_context,
        )

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.tls.value})"


class NoFinalReply(Exception):
    """The message went over the wire in full, but the server did not answer its final "." in time:
    it may hold the message (and answer late), or not."""


async def transmit(
    smtp: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes, *, data_timeout: float
) -> str:
    """One SMTP transaction (MAIL, RCPT, DATA) on an open connection; returns the server's answer.

    Each command waits the connection's own timeout; DATA waits ``data_timeout`` (for its 354 and
    for the reply to the final "."). A timeout there raises ``NoFinalReply`` — the outcome is unknown,
    so it must not be handled like a refusal. A refusal resets the envelope (RSET) and is raised as
    aiosmtplib raised it.
    """
    options = [f"SIZE={len(data)}"] if smtp.supports_extension("size") else []
    try:
        await smtp.mail(sender, options=options)
        await smtp.rcpt(recipient)
        try:
            response = await smtp.data(data, timeout=data_timeout)
        except aiosmtplib.SMTPTimeoutError as exc:
            raise NoFinalReply(
                f"服务器在 {data_timeout:g} 秒内未答复 DATA，结果未知 / "
                f"no answer to DATA within {data_timeout:g} s: outcome unknown"
            ) from exc
    except aiosmtplib.SMTPResponseException:
        if smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.rset()
        raise
    return response.message


class Outcome(Enum):
    transient = "transient"  # try again later
    permanent = "permanent"  # this letter cannot be delivered: failed
    fatal = "fatal"  # the settings are wrong: stop the run
    unknown = "unknown"  # sent in full, never answered: the server may hold it


# a TLS session cut short is a network problem; a certificate or protocol refusal is a setting
_TLS_TRANSIENT = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def classify(error: BaseException) -> tuple[Outcome, str]:
    """What an exception from aiosmtplib means for the letter being sent."""
    if isinstance(error, NoFinalReply):
        return Outcome.unknown, str(error)
    cause: BaseException | None = error
    while cause is not None:  # aiosmtplib wraps a certificate failure in SMTPConnectError
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, _TLS_TRANSIENT):
            return Outcome.fatal, f"TLS 失败 / TLS failed: {cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        kind = Outcome.permanent if 500 <= refused.code < 600 else Outcome.transient
        return kind, f"{refused.code} {refused.message}"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return Outcome.fatal, f"登录被拒绝 / login refused: {error.code} {error.message}"
    if isinstance(error, aiosmtplib.SMTPSenderRefused) and error.code >= 500:
        return Outcome.fatal, f"发件地址被拒绝 / sender refused: {error.code} {error.message}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        kind = Outcome.permanent if 500 <= error.code < 600 else Outcome.transient
        return kind, f"{error.code} {error.message}"
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return Outcome.fatal, f"TLS 失败 / TLS failed: {error}"
    if isinstance(error, aiosmtplib.SMTPException | OSError | TimeoutError):
        return Outcome.transient, f"连接问题 / connection problem: {type(error).__name__}: {error}"
    return Outcome.permanent, f"{type(error).__name__}: {error}"


class RateLimit:
    """At most ``per_second`` messages a second, evenly spaced, across every connection."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
