"""One typed settings object for the whole product.

Every setting comes from an environment variable with the ``GRANTFLOW_`` prefix or from a ``.env``
file in the working folder. Nothing else in the code base reads ``os.environ``; ``apply_prefect_defaults``
sets Prefect's offline defaults there before Prefect is imported.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import ConfigError

DEVELOPMENT_SECRET = "development-only-secret-change-me"
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
    database_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: SmtpTls = SmtpTls.none
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "江头街道社工站 <noreply@jiangtou.example.org>"
    smtp_connections: int = Field(default=4, ge=1, le=64)  # concurrent SMTP connections per sender
    smtp_max_per_second: float = Field(default=0, ge=0)  # rate limit for all connections; 0 = none
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    portal_url: str = "http://127.0.0.1:8000"
    # the portal refuses a request body larger than this before reading it (413), and a form with
    # more fields than this (the applicants' web form has about 300 with every budget line)
    portal_max_body_bytes: int = Field(default=1_048_576, ge=4096)
    portal_max_form_fields: int = Field(default=600, ge=50)
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if (
            self.environment is Environment.production
            and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ConfigError(
                "GRANTFLOW_SECRET_KEY 仍为开发默认值，生产环境拒绝启动 / "
                "GRANTFLOW_SECRET_KEY is the development default; refused outside development. "
                f"Set it, e.g. GRANTFLOW_SECRET_KEY={secrets.token_urlsafe(32)}"
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


_current: Settings | None = None


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


def apply_prefect_defaults() -> None:
    """Set Prefect's offline defaults in the environment unless they are set already."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
