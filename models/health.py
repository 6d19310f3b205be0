"""Is this machine ready to run grantflow? The checks that need no Prefect and no network.

Each check returns a ``Check``: what was looked at, ✓ or ✗, what was found, and — when it fails —
the fix, in Chinese and English. ``grantflow doctor`` prints them all (with the Prefect and SMTP
checks of ``tasks/doctor.py``); the stage flows run the cheap ones at start (``tasks.doctor.preflight``)
so a worker missing its environment fails at once with the fix, not late and obscurely.
"""

from __future__ import annotations

import ipaddress
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from models.fonts import FIX, FONT_FOLDERS, find_cjk_font
from models.settings import DEVELOPMENT_SECRET, PROJECT_ROOT, Environment, Settings

# What a project root (the code a worker runs) must hold.
PROJECT_FILES = (
    "flows/lifecycle.py",
    "flows/deliver.py",
    "templates/docs",
    "templates/mail",
    "templates/web",
    "models/migrations/versions",
    "deployments/prefect.yaml",
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_database(settings: Settings) -> Check:
    """Reachable, and migrated to the newest revision."""
    from models.db import current_revision, get_engine, head_revision

    name = "数据库 database"
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return Check(  # connecting would create an empty file (and its folder)
            name,
            False,
            f"{url}: 数据库文件不存在 / no database file yet",
            "运行 grantflow init / run `grantflow init`",
        )
    try:
        engine = get_engine(url)
        url = engine.url.render_as_string(hide_password=True)
        revision = current_revision(engine)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(
            name,
            False,
            f"无法连接 / cannot connect: {reason}",
            "检查 GRANTFLOW_DATABASE_URL 与数据库服务 / "
            "check GRANTFLOW_DATABASE_URL and that the server runs",
        )
    head = head_revision()
    if revision != head:
        return Check(
            name,
            False,
            f"{url}: 版本 {revision or '空库'}，最新 {head} / revision {revision or 'empty'}, newest {head}",
            "运行 grantflow init（升级并保留数据） / run `grantflow init` (upgrades in place, data kept)",
        )
    return Check(name, True, f"{url} (revision {revision})")


def check_data_folder(settings: Settings) -> Check:
    """The data folder exists and this process can write in it."""
    name = "数据目录 data folder"
    folder = settings.data_dir.resolve()
    fix = (
        f"创建目录并赋予写权限，或设置 GRANTFLOW_DATA_DIR / create {folder} and make it writable, "
        "or set GRANTFLOW_DATA_DIR (every worker must see the same folder)"
    )
    if not folder.is_dir():
        return Check(name, False, f"{folder} 不存在 / does not exist", fix)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{folder} 不可写 / not writable: {exc.strerror}", fix)
    return Check(name, True, str(folder))


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_portal_url(settings: Settings) -> Check:
    """The address written into letters: absolute, and not loopback in production."""
    name = "门户地址 portal URL"
    parts = urlsplit(settings.portal_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Check(
            name,
            False,
            f"{settings.portal_url} 不是完整网址 / is not an absolute http(s) URL",
            "设置 GRANTFLOW_PORTAL_URL，如 https://gongyi.example.org / set GRANTFLOW_PORTAL_URL",
        )
    if settings.environment is Environment.production and _is_loopback(parts.hostname):
        return Check(
            name,
            False,
            f"{settings.portal_url} 指向本机，信中的链接对专家无效 / points at this machine: "
            "links in letters would not open for anyone else",
            "设置 GRANTFLOW_PORTAL_URL 为对外地址 / set GRANTFLOW_PORTAL_URL to the public address",
        )
    return Check(name, True, settings.portal_url)


def check_secret_key(settings: Settings) -> Check:
    """Not the development default in production (the portal and the workers must share it)."""
    name = "签名密钥 secret key"
    default = settings.secret_key.get_secret_value() == DEVELOPMENT_SECRET
    if default and settings.environment is Environment.production:  # Settings refuses this already
        return Check(
            name, False, "仍为开发默认值 / still the development default", "设置 / set GRANTFLOW_SECRET_KEY"
        )
    if default:
        return Check(name, True, f"开发默认值（{settings.environment}） / the development default")
    return Check(
        name,
        True,
        "已设置；门户与各 worker 须使用同一值 / set; the portal and every worker must use the same value",
    )


def check_project_root(settings: Settings) -> Check:
    """The code this process runs has its templates and flows (and GRANTFLOW_HOME, if set, too)."""
    name = "项目目录 project root"
    roots = [PROJECT_ROOT]
    if settings.home is not None:
        roots.append(settings.home.resolve())
    for root in roots:
        missing = [item for item in PROJECT_FILES if not (root / item).exists()]
        if missing:
            return Check(
                name,
                False,
                f"{root} 缺少 / lacks: {', '.join(missing)}",
                "GRANTFLOW_HOME 须为完整的 grantflow 项目目录（worker 在此运行） / GRANTFLOW_HOME must be "
                "the grantflow project folder (the worker runs the flows from there)",
            )
    return Check(name, True, " = ".join(dict.fromkeys(str(r) for r in roots)))


def check_cjk_font(settings: Settings, folders: Sequence[Path] = FONT_FOLDERS) -> Check:
    """A CJK font file the charts can draw Chinese in (found by file, as the charts find it)."""
    name = "中文字体 CJK font"
    found = find_cjk_font(settings.cjk_font, folders)
    if found is None:
        return Check(
            name,
            False,
            "找不到中文字体文件，图表中的汉字会显示为方框 / no CJK font: charts would print boxes",
            FIX,
        )
    if not found.is_file():
        return Check(name, False, f"GRANTFLOW_CJK_FONT {found} 不存在 / does not exist", FIX)
    return Check(name, True, str(found))


def local_checks(settings: Settings) -> list[Check]:
    """Every check of this module, in the order ``grantflow doctor`` prints them."""
    return [
        check_project_root(settings),
        check_data_folder(settings),
        check_database(settings),
        check_portal_url(settings),
        check_secret_key(settings),
        check_cjk_font(settings),
    ]


def fixes(checks: list[Check]) -> str:
    """The failed checks as one message: what is wrong and how to fix it."""
    return "\n".join(f"✗ {c.name}: {c.detail} → {c.fix}" for c in checks if not c.ok)
