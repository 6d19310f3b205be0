"""Real SMTP servers for the mail tests: the embedded sink, one that misbehaves on purpose, and a
self-signed certificate for STARTTLS / implicit TLS with AUTH.

``FaultySink`` decides each message's fate from its recipient (seeded), so a run is repeatable
whatever order the connections deliver in: a share of messages first meets 421 or 451 answers
or a dropped connection; some are stored and *then* the connection drops before the 250 reaches
the client (the client cannot know it was delivered — the crash window on the wire); chosen
addresses get 550. After its planned faults a message is accepted like in the plain sink.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import ssl
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tasks.mail.sink import EmlSink, message_id_of

USER, PASSWORD = "grantflow", "s3cret-密码"
ANSWERS = {
    "421": "4.3.2 服务暂停 Service shutting down, try again later",
    "451": "4.3.0 临时故障 Temporary failure, try again later",
    "554": "5.6.0 拒收 Message rejected as spam",
}


@dataclass
class FaultySink(EmlSink):
    faulty_share: float = 1 / 3  # messages that meet 421/451/drops before they get through
    lost_reply_share: float = 0.0  # messages stored, then the connection drops before the 250
    reject: frozenset[str] = frozenset()  # addresses answered 550 at RCPT
    always: str = ""  # e.g. "451" or "554": answer every message so, for ever
    seed: int = 7
    attempts: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    sessions: set[int] = field(default_factory=set)

    def plan(self, key: str) -> list[str]:
        """What happens to a message (keyed by its recipient) on its 1st, 2nd … attempt."""
        if self.always:
            return [self.always] * 1000
        rng = random.Random(f"{self.seed}:{key}")
        steps: list[str] = []
        if rng.random() < self.faulty_share:
            steps = [rng.choice(["421", "451", "drop"]) for _ in range(rng.randint(1, 2))]
        if rng.random() < self.lost_reply_share:
            steps.append("lost-reply")
        return steps

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.sessions.add(id(session))
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            self.events["550"] += 1
            return f"550 5.1.1 <{address}>: 收件人不存在 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        message_id = message_id_of(data)
        self.attempts[message_id] += 1
        steps = self.plan(",".join(envelope.rcpt_tos))
        step = steps[self.attempts[message_id] - 1] if self.attempts[message_id] <= len(steps) else "accept"
        self.events[step] += 1
        if step.isdigit():
            return f"{step} {ANSWERS.get(step, 'injected answer')}"
        if step == "drop":
            server.transport.close()
            return "421 4.4.2 connection dropped"
        answer = self.store(data, envelope.mail_from or "", tuple(envelope.rcpt_tos))
        if step == "lost-reply":
            server.transport.close()
        return answer


@dataclass
class CountingSink(EmlSink):
    """The plain sink that also counts SMTP sessions (one EHLO each)."""

    sessions: set[int] = field(default_factory=set)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.sessions.add(id(session))
        return responses


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(cert_path, key_path)


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself
