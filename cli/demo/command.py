"""``grantflow demo``: the steps of the lifecycle in order, with a progress bar."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, line, say
from cli.demo import evaluation as demo_evaluation
from cli.demo import supervision as demo_supervision
from cli.demo.console import step_console
from cli.demo.funding import (
    show_funding,
    step_funding_approve,
    step_funding_draft,
    step_objection,
    step_publicity_close,
    step_signatures,
)
from cli.demo.review import (
    show_ranking,
    step_early_experts,
    step_reminders,
    step_review_close,
    step_review_open,
)
from cli.demo.run import EXAMPLE, DemoRun, prepare_folder
from cli.demo.selection import show_applications, step_call, step_intake, step_screening, waiting_note
from cli.demo.setup import step_database, step_setup
from cli.flow_runs import quiet_console

STEPS: list[tuple[str, Callable[[DemoRun], str]]] = [
    ("数据库 / database", step_database),
    ("筹备 / setup", step_setup),
    ("征集 / call", step_call),
    ("受理 / intake", step_intake),
    ("资格审查 / screening", step_screening),
    ("专家评审 / review", step_review_open),
    ("专家评分 / experts score", step_early_experts),
    ("评审提醒 / reminders", step_reminders),
    ("评审结束 / review closes", step_review_close),
    ("资助方案 / funding draft", step_funding_draft),
    ("批准与公示 / approve, notice", step_funding_approve),
    ("公示期异议 / objection", step_objection),
    ("公示结束 / notice closes", step_publicity_close),
    ("协议签订 / agreements signed", step_signatures),
    *demo_supervision.STEPS,
    *demo_evaluation.STEPS,
    ("管理后台 / console", step_console),
]


def run_step(run: DemoRun, step: Callable[[DemoRun], str]) -> str:
    """One step, and what it did; when letters of the year wait for a retry after it (the SMTP
    server was away), the line says how many and till when, and so does the demo's end."""
    done = step(run)
    if run.competition_id is None:
        return done
    from cli.delivery import next_attempt_text
    from models.db import session_scope
    from models.mail.outbox import count_by_state, next_due_at
    from models.settings import get_settings

    with session_scope() as session:
        waiting = count_by_state(session, competition_id=run.competition_id).get("queued", 0)
        due = next_due_at(session, competition_id=run.competition_id) if waiting else None
    if not waiting:
        return done
    note = waiting_note(waiting, next_attempt_text({"next_attempt_at": due}, get_settings().timezone))
    run.notes = [n for n in run.notes if "letters wait for a retry" not in n] + [note]
    return done if "waiting for a retry" in done else f"{done} — {note}"


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="输出文件夹 / where the demo keeps what it makes")
    ] = Path("demo-output"),
) -> None:
    """演示：用江头街道示例跑完整流程 / run the whole lifecycle on the bundled 江头街道 example."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from models.settings import get_settings, override_settings

    out = out.resolve()
    prepare_folder(out)
    override_settings(data_dir=out)
    # the runs' progress stays on the console; a step that fails is one line (cli.main), never
    # Prefect's traceback of it (a database gone mid-step: tests/cli/test_demo_outages.py)
    quiet_console(floor=logging.INFO)
    run = DemoRun(out=out, example=EXAMPLE)
    settings = get_settings()
    say("[bold]grantflow demo[/bold] — 江头街道微公益创投 → {out}", out=out)
    with (
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        bar = progress.add_task("演示 / demo", total=len(STEPS))
        for label, step in STEPS:
            progress.update(bar, description=label)
            done = run_step(run, step)
            line(f"  ✓ {done}")
            progress.advance(bar)
    # The year is done: Prefect's own line about stopping its temporary server (at exit) would
    # otherwise be the last thing the newcomer reads, after the console's address.
    logging.getLogger("prefect").setLevel(logging.WARNING)
    show_applications(run)
    show_ranking(run)
    show_funding(run)
    demo_supervision.show_supervision(run)
    demo_evaluation.show_results(run)
    console.print("\n[bold]输出 / outputs[/bold]")
    line(f"  数据库 / database: {settings.effective_database_url}")
    line(f"  文档 / documents: {settings.documents_dir}")
    for note in run.notes:
        line(f"  {note}")
    line(f"  查看状态 / see where everything stands: GRANTFLOW_DATA_DIR={out} {_program()} status")
    account = run.facts["console"]
    console.print("\n[bold]在管理后台查看这一年 / open the finished year in the console[/bold]")
    line(f"  GRANTFLOW_DATA_DIR={out} {_program()} portal")
    line(
        f"  然后打开 / then open http://127.0.0.1:8000/admin  "
        f"用户 / user: {account['name']}  密码 / password: {account['password']}"
    )


def _program() -> str:
    """How this command was called (``.venv/bin/grantflow`` under ``make demo``)."""
    name = Path(sys.argv[0])
    return str(name) if name.name == "grantflow" else "grantflow"
