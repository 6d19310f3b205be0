"""The demo year the whole-year crash tests kill: run ``grantflow demo``'s steps from one of them on.

    python -m tests.support.crash_year --out DIR --smtp-port P [--from N] [--kill-at STEP:POINT:HIT]
        [--strike COMMAND_JSON] [--census]

It runs the demo's own step functions (``cli.demo.command.STEPS``, each through ``run_step`` as
``grantflow demo`` runs it) against the data folder DIR — and the database of
``GRANTFLOW_DATABASE_URL`` when it is set — sending letters to the SMTP server on loopback port P.
``grantflow demo`` cannot continue a year: each run starts afresh. Here ``--from 0`` starts afresh
(the demo's folder is cleared, as ``grantflow demo`` does); ``--from N`` continues a year whose
step N was interrupted, re-running step N whole against the same database and documents (a setup
killed after its commit is refused as "exists already", as ``competition create`` refuses it: the
year goes on with the competition it made). Before each step it prints ``step N``, after it
``said N "its line"``.

``--kill-at STEP:POINT:HIT`` arms a fault point (``models/faults.py``) as step STEP begins: on the
HIT-th arrival there the process prints ``fault POINT WHAT`` and kills itself with SIGKILL; if
STEP ends without it, the process prints ``survived`` and stops (exit 3). With ``--strike`` the
arrival runs that command instead (a JSON list: the test's way to kill the SMTP server or the
PostgreSQL server there) and the step goes on without the server; the process stops after STEP
all the same (exit 3), or with the step's error as ``grantflow`` reports it (``report_error``: one
line, exit 1). ``--census`` counts the arrivals at every point in each step and prints
``census N {json}`` after it.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--from", dest="start", type=int, default=0)
    parser.add_argument("--kill-at", default=None, help="STEP:POINT:HIT, e.g. 4:document:12")
    parser.add_argument("--strike", default=None, help='a command run at the point, e.g. ["kill", "-9", "7"]')
    parser.add_argument("--census", action="store_true")
    args = parser.parse_args()

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from cli.demo.command import STEPS, run_step
    from cli.demo.run import EXAMPLE, DemoRun, prepare_folder
    from cli.flow_runs import quiet_console
    from cli.main import report_error
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
    kill_step, point, hit = (None, "", 0)
    if args.kill_at:
        step_text, point, hit_text = args.kill_at.split(":")
        kill_step, hit = int(step_text), int(hit_text)
    strike = None
    if args.strike:
        command = json.loads(args.strike)

        def strike() -> None:
            subprocess.run(command, check=True, capture_output=True, timeout=120)
            print("struck", flush=True)

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        quiet_console(floor=logging.INFO)  # as grantflow demo
        try:
            if args.start > 1:  # after setup: the competition the interrupted year made
                with session_scope(default_engine()) as session:
                    competition = get_competition(session)
                    run.competition_id, run.slug = competition.id, competition.slug
            for index in range(args.start, len(STEPS)):
                print(f"step {index}", flush=True)
                counted = faults.count() if args.census else None
                if index == kill_step:
                    faults.arm(point, hit=hit, strike=strike)
                try:
                    said = run_step(run, STEPS[index][1])
                except Conflict:
                    # setup killed after its commit: ``competition create`` refuses the same
                    # competition again in one line (tests/cli/test_cli.py); the year goes on with it
                    if not (index == args.start == 1):
                        raise
                    said = "setup found done"
                    with session_scope(default_engine()) as session:
                        competition = get_competition(session)
                        run.competition_id, run.slug = competition.id, competition.slug
                print(f"said {index} {json.dumps(said, ensure_ascii=False)}", flush=True)
                if counted is not None:
                    print(f"census {index} {json.dumps(dict(counted))}", flush=True)
                if index == kill_step:
                    print("survived", flush=True)
                    sys.exit(3)
        except Exception as exc:  # as ``grantflow demo`` ends on an error: one line, its exit code
            print("stopped", flush=True)
            sys.exit(report_error(exc))
    print("done", flush=True)


if __name__ == "__main__":
    main()
