"""``grantflow portal``: serve the expert scoring portal (FastAPI) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.admin import console_lines
from cli.console import line


def portal(
    host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000,
) -> None:
    """启动专家评审门户 / serve the portal where experts score through their personal links."""
    import logging

    import uvicorn

    from models.db import default_engine, upgrade_database
    from models.settings import get_settings
    from portal.app import create_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("grantflow").setLevel(logging.INFO)  # refused links, events not sent
    settings = get_settings()
    upgrade_database(default_engine())
    line(
        f"评审门户 / portal: http://{host}:{port}  (邀请链接前缀 / links in letters start with "
        f"{settings.portal_url.rstrip('/')}/)"
    )
    for text in console_lines(f"http://{host}:{port}"):
        line(text)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=True)
