"""Drive the 江头街道 example through the deployments of a running Prefect server, as the demo does
in one process: ``python -m tests.support.year_on_server EXAMPLE_DIR`` with ``PREFECT_API_URL`` and the
``GRANTFLOW_*`` settings of the server's workers in the environment.

Each stage runs as a deployment (``run_deployment``) picked up by the worker; the sample experts
fill their sheets through a portal in this process (with the demo's clock), whose events reach the
server, so the last sheet fires the trigger that closes the review. Prints one JSON line: what each
run ended in, and the ranking.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cli.demo import review as demo_review
from cli.demo import selection as demo_selection
from cli.demo.people.experts import fill_sheets, open_sheet_links
from cli.demo.people.portal import running_portal
from models.competition.tables import get_competition
from models.db import default_engine, session_scope
from models.review.results import review_report
from models.settings import get_settings
from models.states import CompetitionStage

ACTOR = "admin:server-test"
CLOSE_WAIT_SECONDS = 600


def run(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    from prefect.deployments import run_deployment

    started = time.monotonic()
    flow_run = run_deployment(name, parameters=parameters, timeout=900)
    state = flow_run.state
    print(
        f"{name}: {state.type.value if state else None} in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return {"deployment": name, "state": state.type.value if state else None, "run": flow_run.name}


def import_with_the_cli(slug: str, files: list[str]) -> dict[str, Any]:
    """The intake step as an administrator on another machine takes it: ``grantflow intake import
    --deployment`` sends the files as bytes to the intake deployment and prints the run's result."""
    started = time.monotonic()
    as_of = demo_selection.INTAKE_AT.astimezone(demo_selection.BEIJING).strftime("%Y-%m-%dT%H:%M:%S")
    command = ["intake", "import", *files, "--deployment", "--competition", slug, "--as-of", as_of]
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *command, "--actor", ACTOR, "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    print(
        f"grantflow intake import --deployment: exit {done.returncode} in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    if done.returncode != 0:
        return {"deployment": "intake/intake (CLI)", "state": "FAILED", "run": done.stderr[-2000:]}
    result = json.loads(done.stdout)
    accepted = sum(len(report["accepted"]) for report in result["files"])
    return {"deployment": "intake/intake (CLI)", "state": "COMPLETED", "run": f"accepted {accepted}"}


def main(example: Path) -> dict[str, Any]:
    runs = [run("setup/setup", {"config_path": str(example / "competition.yaml"), "actor": ACTOR})]
    with session_scope() as session:
        competition = get_competition(session)
        slug, competition_id = competition.slug, competition.id or 0
    files = [str(f) for f in demo_selection.intake_files(demo_selection_run(example))]
    runs += [
        run("call/call", {"slug": slug, "as_of": demo_selection.CALL_AT.isoformat(), "actor": ACTOR}),
        import_with_the_cli(slug, files),
        run(
            "screening/screening",
            {"slug": slug, "as_of": demo_selection.SCREENING_AT.isoformat(), "actor": ACTOR},
        ),
        run("review-open/review-open", {"slug": slug, "actor": ACTOR}),
    ]
    settings = get_settings()
    links = open_sheet_links(default_engine(), competition_id=competition_id, settings=settings)
    with running_portal(settings, clock=lambda: demo_review.LATE_EXPERTS_AT) as base_url:
        submitted = fill_sheets(links, base_url=base_url).submitted
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    stage = None
    while time.monotonic() < deadline:
        with session_scope() as session:
            stage = get_competition(session, slug=slug).stage
        if stage is CompetitionStage.funding:
            break
        time.sleep(2)
    with session_scope() as session:
        report = review_report(session, competition_id=competition_id)
    ranking = [[row["ref"], row["rank"], row["aggregate"]] for row in report["applications"]]
    return {"runs": runs, "sheets": submitted, "stage": str(stage), "ranking": ranking}


def demo_selection_run(example: Path) -> Any:
    from cli.demo.run import DemoRun

    return DemoRun(out=Path(get_settings().data_dir), example=example)


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), ensure_ascii=False), flush=True)
