"""One typed settings object for the whole product.

Every setting comes from an environment variable with the ``GRANTFLOW_`` prefix or from a ``.env``
file in the working folder. Nothing else in the code base reads ``os.environ``; ``apply_prefect_defaults``
sets Prefect's offline defaults there before Prefect is imported.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import ConfigError, GrantflowError

DEVELOPMENT_SECRET = "development-only-secret-change-me"
DEVELOPMENT_PORTAL_URL = "http://127.0.0.1:8000"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
EXAMPLES_DIR = PROJECT_ROOT / "examples"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class SmtpTls(StrEnum):
    """How the SMTP connection is secured: none, STARTTLS, or implicit TLS (port 465)."""

    none = "none"
    starttls = "starttls"
    implicit = "implicit"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRANTFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.development
    data_dir: Path = Field(default=Path("grantflow-data"))
    home: Path | None = None  # the project folder on a worker (deployments/prefect.yaml's pull step)
    database_url: str | None = None
    # SQLite: how long a writer waits for another one's lock before "database is locked"
    database_busy_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: SmtpTls = SmtpTls.none
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "江头街道社工站 <noreply@jiangtou.example.org>"
    smtp_connections: int = Field(default=4, ge=1, le=64)  # concurrent SMTP connections per sender
    smtp_max_per_second: float = Field(default=0, ge=0)  # rate limit for all connections; 0 = none
    # messages sent over one connection before a fresh one (providers cap a session's messages)
    smtp_messages_per_connection: int = Field(default=100, ge=1, le=10_000)
    smtp_timeout_seconds: float = Field(default=30, gt=0)  # per command (greeting, MAIL, RCPT …)
    # the reply to the final "." of DATA: RFC 5321 §4.5.3.2.6 gives it 10 minutes, so that a slow
    # server that has stored the message is not sent it again
    smtp_data_timeout_seconds: float = Field(default=600, gt=0)
    # a stage's delivery waits this long for retries that come due (a server briefly away); letters
    # due later wait for the next delivery, and the stage says so
    smtp_linger_seconds: float = Field(default=120, ge=0, le=3600)
    portal_url: str = DEVELOPMENT_PORTAL_URL  # the base of every personal link in letters
    # the portal refuses a request body larger than this before reading it (413), and a form with
    # more fields than this (the applicants' web form has about 300 with every budget line)
    portal_max_body_bytes: int = Field(default=1_048_576, ge=4096)
    portal_max_form_fields: int = Field(default=600, ge=50)
    # seconds the portal waits for the next part of a request body (a slow-body attack is refused, 408)
    portal_body_seconds: float = Field(default=60.0, gt=0, le=3600)
    # the forms that take evidence files (/supervise, /report) may send this much; each file is then
    # checked against the competition's own upload limits (supervision.uploads), named in the answer
    portal_max_upload_body_bytes: int = Field(default=80 * 1024 * 1024, ge=4096)
    # who a refused page tells people to call when it cannot tell the competition (a forged link);
    # empty: the contact of the newest competition (competition.contact in its configuration)
    portal_contact: str = Field(default="", max_length=200)
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # the administrator's console (/admin): a session ends after this long without a request, and
    # this long after sign-in at the latest; a name is locked after so many wrong passwords within
    # the lock-out window (models.accounts.login)
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    console_login_failures: int = Field(default=5, ge=1, le=100)
    console_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"
    # the font file the charts draw Chinese in (.ttc, .otf or .ttf); unset: found under the usual
    # font folders (models/fonts.py)
    cjk_font: Path | None = None

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if (
            not _INSPECTING.get()
            and self.environment is Environment.production
            and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ConfigError(
                "GRANTFLOW_SECRET_KEY 仍为开发默认值，生产环境拒绝启动 / "
                "GRANTFLOW_SECRET_KEY is the development default; refused outside development. "
                f"Set it, e.g. GRANTFLOW_SECRET_KEY={secrets.token_urlsafe(32)}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_loopback_portal_in_production(self) -> Settings:
        if self.environment is Environment.production and not _INSPECTING.get():
            problem = portal_url_problem(self.portal_url)
            if problem:
                raise ConfigError(
                    f"GRANTFLOW_PORTAL_URL {problem[0]}，生产环境拒绝启动（信中的个人链接都以它开头）/ "
                    f"GRANTFLOW_PORTAL_URL {problem[1]}; refused in production (every personal link in "
                    "the letters starts with it). Set it to the portal's public address, e.g. "
                    "GRANTFLOW_PORTAL_URL=https://portal.example.org"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'grantflow.db').resolve()}"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def mail_dir(self) -> Path:
        """Where the embedded SMTP sink writes .eml files when no SMTP host is configured."""
        return self.data_dir / "mail"


def portal_url_problem(url: str) -> tuple[str, str] | None:
    """Why ``url`` cannot be the base of personal links people open elsewhere (zh, en), or None.

    Unset, not http(s), without a host, or a loopback / unspecified host (127.0.0.0/8, ::1,
    localhost, 0.0.0.0): a link to it opens nothing on the recipient's computer.
    """
    text = url.strip()
    if not text:
        return "未设置", "is not set"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"不是 http(s) 网址：{text!r}", f"is not an http(s) address: {text!r}"
    host = parts.hostname.rstrip(".").lower()
    loopback = host == "localhost" or host.endswith(".localhost")
    try:
        address = ipaddress.ip_address(host)
        loopback = loopback or address.is_loopback or address.is_unspecified
    except ValueError:
        pass
    if loopback:
        return f"指向本机 {text}", f"points at this machine ({text})"
    return None


_current: Settings | None = None
# while set, the production refusals above are left to the caller (``settings_as_configured``)
_INSPECTING: ContextVar[bool] = ContextVar("grantflow_settings_inspecting", default=False)


def settings_as_configured() -> Settings:
    """The settings as the environment gives them, without the production refusals — for
    ``grantflow doctor``, which reports each refusal as a failed check with its fix instead."""
    token = _INSPECTING.set(True)
    try:
        return Settings()
    finally:
        _INSPECTING.reset(token)


def get_settings() -> Settings:
    """The settings of this process, read once from the environment and ``.env``."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def override_settings(**changes: Any) -> Settings:
    """Replace some settings for the rest of the process (the demo points the data folder elsewhere)."""
    global _current
    _current = get_settings().model_copy(update=changes)
    return _current


def reset_settings() -> None:
    """Forget the settings; the next ``get_settings`` reads the environment again."""
    global _current
    _current = None


# Prefect must never reach the network, and its temporary server may take long to start on a busy
# machine. Prefect reads these when it is first imported, so every entry package (cli, flows,
# tasks, portal) calls this before anything imports Prefect — wherever the command is started from
# (prefect.toml is read only in the project's own folder). Values already set win.
PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


RUN_STATE_FILE = "state.json"  # written by ``grantflow up`` under <data_dir>/run/


def apply_prefect_defaults() -> None:
    """Set Prefect's offline defaults in the environment unless they are set already.

    While ``grantflow up`` runs a Prefect server for this data folder, point ``PREFECT_API_URL`` at
    it (unless set), so commands run against that server instead of starting a temporary one.
    """
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if "PREFECT_API_URL" not in os.environ:
        api_url = running_server_url()
        if api_url:
            os.environ["PREFECT_API_URL"] = api_url


def running_server_url() -> str | None:
    """The API URL ``grantflow up`` recorded for this data folder, while its server process lives.

    Never under ``GRANTFLOW_ENVIRONMENT=test`` (a test must not find a developer's server). Settings
    are read afresh here (not cached): this runs when a package is imported, before any command.
    """
    import json

    try:
        settings = Settings()
        if settings.environment is Environment.test:
            return None
        run = settings.data_dir.resolve() / "run"
        pid = int((run / "prefect-server.pid").read_text().strip())
        os.kill(pid, 0)
        url = json.loads((run / RUN_STATE_FILE).read_text(encoding="utf-8"))["api_url"]
    except (GrantflowError, OSError, ValueError, KeyError, TypeError):
        return None
    return url if isinstance(url, str) else None
