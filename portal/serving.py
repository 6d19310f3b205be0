"""Serving the portal: in the foreground (``grantflow portal``, one or more uvicorn worker
processes) or on a background thread (the demo, where sample experts fill their sheets over HTTP,
and the browser tests).

``grantflow portal --workers N`` starts N uvicorn worker processes, each building the app with
``portal.app.served_app`` (its settings from the environment, as every process of grantflow reads
them; logging as ``configure_logging`` sets it). The
recommended count is one per core (``recommended_workers``): a request is CPU-bound Python
(≈ 4–9 ms of ORM, signing and templates a sheet request) under one GIL per process, its database
work in that process's thread pool, so one process uses at most one core, and more processes than
cores only add memory and switching. SQLite in WAL mode takes the readers of every process in
parallel and one writer at a time (the busy timeout queues the others); PostgreSQL has no such limit.
"""

from __future__ import annotations

import logging
import os
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


def recommended_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def configure_logging() -> None:
    """What a portal process logs: warnings, and grantflow's own info lines (refused links, events
    not sent) — in each worker process too (``portal.app.served_app``)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("grantflow").setLevel(logging.INFO)
