"""Serving the portal: in the foreground (``grantflow portal``) or on a background thread (the demo,
where sample experts fill their sheets over HTTP, and the browser tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


@contextmanager
def serve_in_background(
    app: FastAPI, *, host: str = "127.0.0.1", port: int = 0, access_log: bool = False
) -> Iterator[str]:
    """Run ``app`` with uvicorn on a thread; yields its base URL (a free port when ``port`` is 0).
    ``access_log``: uvicorn's access lines at info level, as ``grantflow portal`` writes them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="info" if access_log else "warning", lifespan="off", access_log=access_log
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="grantflow-portal", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start / 门户未能启动")
            time.sleep(0.02)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
