"""The sender the crash test kills: deliver the outbox of a database, print a JSON report.

    python -m tests.support.crash_sender --database sqlite:///…/crash.db --data DIR [--host H --port P]
        [--kill-at accepted:37]

Without ``--host`` it uses the embedded default (an aiosmtpd sink inside this process, saving to
DIR/mail). Each run takes over every ``sending`` row left by the killed one (``takeover``), which
is right when a single sender runs at a time (the test kills one before it starts the next).
``--kill-at POINT:N`` arms a fault point (``models/faults.py``): on the N-th arrival there the
sender prints ``fault POINT LETTER_ID`` and kills itself with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--kill-at", default=None, help="POINT:N, e.g. accepted:37")
    args = parser.parse_args()

    from models import faults
    from models.db import get_engine
    from models.settings import Settings
    from tasks.mail.delivery import deliver_configured

    if args.kill_at:
        point, hit = args.kill_at.split(":")
        faults.arm(point, hit=int(hit))
    settings = Settings(
        data_dir=args.data,
        database_url=args.database,
        smtp_host=args.host,
        smtp_port=args.port,
        smtp_connections=args.connections,
    )
    print("ready", flush=True)
    report = asyncio.run(
        deliver_configured(
            settings=settings,
            engine=get_engine(args.database),
            takeover=True,
            retry_base=timedelta(milliseconds=5),
            retry_cap=timedelta(milliseconds=50),
        )
    )
    print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
