"""``grantflow portal``: serve the expert scoring portal (FastAPI) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.admin import console_lines
from cli.console import line


def portal(
    host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="工作进程数，建议每核一个 / worker processes: one per core recommended (nproc)",
        ),
    ] = 1,
) -> None:
    """启动专家评审门户 / serve the portal where experts score through their personal links."""
    import uvicorn

    from models.db import default_engine, upgrade_database
    from models.settings import get_settings
    from portal.serving import configure_logging, recommended_workers

    configure_logging()
    settings = get_settings()
    upgrade_database(default_engine())
    line(
        f"评审门户 / portal: http://{host}:{port}  (邀请链接前缀 / links in letters start with "
        f"{settings.portal_url.rstrip('/')}/)"
    )
    for text in console_lines(f"http://{host}:{port}"):
        line(text)
    recommended = recommended_workers()
    line(f"工作进程 / worker processes: {workers} (建议每核一个 / recommended one per core: {recommended})")
    # every worker builds its app from the environment's settings, as this process did
    uvicorn.run(
        "portal.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )
