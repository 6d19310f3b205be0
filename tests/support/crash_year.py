"""The demo year the whole-year crash test kills: run ``grantflow demo``'s steps from one of them on.

    python -m tests.support.crash_year --out DIR --smtp-port P [--from N] [--kill-at STEP:POINT:HIT]
        [--census]

It runs the demo's own step functions (``cli.demo.command.STEPS``) against the data folder DIR,
sending letters to the SMTP server on loopback port P. ``grantflow demo`` cannot continue a year:
each run starts afresh. Here ``--from 0`` starts afresh (the demo's folder is cleared, as
``grantflow demo`` does); ``--from N`` continues a year whose step N was interrupted, re-running
step N whole against the same database and documents (a setup killed after its commit is refused
as "exists already", as ``competition create`` refuses it: the year goes on with the competition
it made). Before each step it prints ``step N``. ``--kill-at STEP:POINT:HIT`` arms a fault point
(``models/faults.py``) as step STEP begins: on the HIT-th arrival there the process prints
``fault POINT WHAT`` and kills itself with SIGKILL; if STEP ends without it, the process prints
``survived`` and stops. ``--census`` counts the arrivals at every point in each step and prints
``census N {json}`` after it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--from", dest="start", type=int, default=0)
    parser.add_argument("--kill-at", default=None, help="STEP:POINT:HIT, e.g. 4:document:12")
    parser.add_argument("--census", action="store_true")
    args = parser.parse_args()

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from cli.demo.command import STEPS
    from cli.demo.run import EXAMPLE, DemoRun, prepare_folder
    from models import faults
    from models.competition.tables import get_competition
    from models.db import default_engine, session_scope
    from models.errors import Conflict
    from models.settings import override_settings

    out = args.out.resolve()
    if args.start == 0:
        prepare_folder(out)
    override_settings(data_dir=out, smtp_host="127.0.0.1", smtp_port=args.smtp_port)
    run = DemoRun(out=out, example=EXAMPLE)
    if args.start > 1:  # after setup: the competition the interrupted year made
        with session_scope(default_engine()) as session:
            competition = get_competition(session)
            run.competition_id, run.slug = competition.id, competition.slug
    kill_step, point, hit = (None, "", 0)
    if args.kill_at:
        step_text, point, hit_text = args.kill_at.split(":")
        kill_step, hit = int(step_text), int(hit_text)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        for index in range(args.start, len(STEPS)):
            print(f"step {index}", flush=True)
            counted = faults.count() if args.census else None
            if index == kill_step:
                faults.arm(point, hit=hit)
            try:
                STEPS[index][1](run)
            except Conflict:
                # setup killed after its commit: ``competition create`` refuses the same
                # competition again in one line (tests/cli/test_cli.py); the year goes on with it
                if not (index == args.start == 1):
                    raise
                print("setup found done", flush=True)
                with session_scope(default_engine()) as session:
                    competition = get_competition(session)
                    run.competition_id, run.slug = competition.id, competition.slug
            if counted is not None:
                print(f"census {index} {json.dumps(dict(counted))}", flush=True)
            if index == kill_step:
                print("survived", flush=True)
                sys.exit(3)
    print("done", flush=True)


if __name__ == "__main__":
    main()
