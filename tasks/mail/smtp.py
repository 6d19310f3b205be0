"""How we talk to an SMTP server: where it is and how to connect (``SmtpServer``), what its answers
mean for a letter (``classify``), and how fast to go (``RateLimit``). No Prefect, no database."""

from __future__ import annotations

import asyncio
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
    timeout: float = 30.0
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


class Outcome(Enum):
    transient = "transient"  # try again later
    permanent = "permanent"  # this letter cannot be delivered: failed
    fatal = "fatal"  # the settings are wrong: stop the run


# a TLS session cut short is a network problem; a certificate or protocol refusal is a setting
_TLS_TRANSIENT = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def classify(error: BaseException) -> tuple[Outcome, str]:
    """What an exception from aiosmtplib means for the letter being sent."""
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
