"""The checks that talk to other servers (SMTP, the Prefect API), and the flows' preflight.

``all_checks`` is what ``grantflow doctor`` prints: the local checks of ``models.health`` and
these. ``preflight`` is the cheap subset every stage flow runs first, on whichever worker picked
the run up: the project root, the data folder and the database — it raises ``ConfigError`` with
the fix, so a worker missing its environment fails at once and says what to set.
"""

from __future__ import annotations

import asyncio

import aiosmtplib
import httpx

from models.errors import ConfigError
from models.health import Check, check_data_folder, check_database, check_project_root, fixes, local_checks
from models.settings import Settings, get_settings
from tasks.mail.smtp import SmtpServer

TIMEOUT_SECONDS = 5.0


async def check_smtp(settings: Settings) -> Check:
    """Connect and EHLO (and log in, when a user is set) — or the embedded sink, which needs only
    the data folder."""
    name = "邮件服务器 SMTP"
    if not settings.smtp_host:
        return Check(
            name,
            True,
            f"未配置，信件存为 .eml 于 / not set: letters are kept as .eml files in {settings.mail_dir}",
        )
    server = SmtpServer.from_settings(settings)
    client = server.client()
    client.timeout = min(server.timeout, TIMEOUT_SECONDS)
    try:
        await client.connect()
        code, _message = await client.ehlo()
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Check(
            name,
            False,
            f"{server}: {exc}",
            "检查 GRANTFLOW_SMTP_HOST / _PORT / _TLS / _USER / _PASSWORD 与防火墙 / "
            "check the GRANTFLOW_SMTP_* settings and that this machine may reach the server",
        )
    return Check(name, True, f"{server}: EHLO {code}")


async def check_prefect_api() -> Check:
    """PREFECT_API_URL answers /health — or no URL: Prefect's temporary (ephemeral) server."""
    from prefect.settings import PREFECT_API_URL

    name = "Prefect API"
    url = PREFECT_API_URL.value()
    if not url:
        return Check(
            name,
            True,
            "未设置 PREFECT_API_URL：每个命令启动临时服务器（定时与部署需要 prefect server） / not set: "
            "each command starts a temporary server (schedules and deployments need `prefect server`)",
        )
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            answer = await client.get(f"{url.rstrip('/')}/health")
    except httpx.HTTPError as exc:
        return Check(
            name,
            False,
            f"{url}: {type(exc).__name__} {exc}",
            "启动 prefect server，或更正 PREFECT_API_URL（如 http://host:4200/api） / start `prefect server "
            "start`, or correct PREFECT_API_URL (e.g. http://host:4200/api)",
        )
    if answer.status_code != 200:
        return Check(
            name,
            False,
            f"{url}/health → HTTP {answer.status_code}",
            "PREFECT_API_URL 须指向 Prefect 的 /api / PREFECT_API_URL must end in the server's /api",
        )
    return Check(name, True, f"{url} (health: ok)")


def check_console(settings: Settings, *, database_ready: bool) -> Check:
    """An administrator can sign in to the console (/admin); asked only of a database at head."""
    from models.accounts.users import check_administrator
    from models.db import get_engine, session_scope

    if not database_ready:
        return Check(
            "管理后台 console administrator",
            False,
            "数据库未就绪，无法查看管理员 / the database is not ready: administrators cannot be read",
            "先按上面数据库一项修正 / fix the database first (see above)",
        )
    with session_scope(get_engine(settings.effective_database_url)) as session:
        return check_administrator(session)


async def all_checks(settings: Settings | None = None) -> list[Check]:
    """Every check, in the order ``grantflow doctor`` prints them."""
    settings = settings or get_settings()
    local = await asyncio.to_thread(local_checks, settings)
    ready = all(c.ok for c in local if c.name.startswith("数据库"))  # the database check (check_database)
    console = await asyncio.to_thread(check_console, settings, database_ready=ready)
    smtp, prefect = await asyncio.gather(check_smtp(settings), check_prefect_api())
    return [*local, console, smtp, prefect]


def preflight(settings: Settings | None = None) -> None:
    """The cheap checks a stage flow runs first; ``ConfigError`` naming each fix when one fails."""
    settings = settings or get_settings()
    checks = [check_project_root(settings), check_data_folder(settings), check_database(settings)]
    if not all(c.ok for c in checks):
        raise ConfigError(
            "此 worker 尚未就绪（grantflow doctor 可查看全部检查） / this worker is not ready "
            "(`grantflow doctor` shows every check):\n" + fixes(checks)
        )
