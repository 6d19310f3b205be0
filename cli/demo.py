"""``grantflow demo``: the whole lifecycle on the bundled 江头街道 example, in one process.

Everything the demo makes — database, documents, letters — lands in ``--out`` (default
``./demo-output``) unless ``GRANTFLOW_DATABASE_URL`` / ``GRANTFLOW_SMTP_HOST`` point elsewhere.
A second run starts afresh: the folder is cleared, but only when an earlier demo made it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console
from cli.demo_review import (
    show_ranking,
    step_early_experts,
    step_reminders,
    step_review_close,
    step_review_open,
)
from cli.demo_selection import show_applications, step_call, step_intake, step_screening
from models.errors import ConfigError
from models.settings import EXAMPLES_DIR

MARKER = ".grantflow-demo"
EXAMPLE = EXAMPLES_DIR / "jiangtou-2025"


@dataclass
class DemoRun:
    """What the steps share: where things are, and what each step reported."""

    out: Path
    example: Path
    competition_id: int | None = None
    slug: str = ""
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def prepare_folder(out: Path) -> None:
    """Make ``out`` empty and ours; refuse to clear a folder the demo did not make."""
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"{out} 不是文件夹 / {out} is not a folder")
        if any(out.iterdir()):
            if not (out / MARKER).exists():
                raise ConfigError(
                    f"{out} 不是空文件夹，也不是上次演示的输出，拒绝清空 / {out} is not empty and was not "
                    "made by grantflow demo: refusing to clear it (choose another --out)"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by grantflow demo; cleared by the next run\n", encoding="utf-8")


def step_database(run: DemoRun) -> str:
    from models.competition import purge_competition
    from models.config import load_config
    from models.db import default_engine, session_scope, upgrade_database
    from models.settings import get_settings

    engine = default_engine()
    upgrade_database(engine)
    url = engine.url.render_as_string(hide_password=True)
    if get_settings().database_url:  # a shared database: start afresh by removing the last demo's rows
        slug = load_config(run.example / "competition.yaml").competition.slug
        with session_scope() as session:
            if purge_competition(session, slug=slug, actor="admin:demo"):
                return f"数据库 / database: {url}（已清除上次演示的 {slug} / removed the last demo's {slug}）"
    return f"数据库 / database: {url}"


def step_setup(run: DemoRun) -> str:
    from flows.setup import setup_competition
    from models.competition import get_competition
    from models.db import session_scope

    run.competition_id = setup_competition(str(run.example / "competition.yaml"), actor="admin:demo")
    with session_scope() as session:
        competition = get_competition(session)
        run.slug = competition.slug
        return f"筹备 / setup: 已创建竞赛 {competition.name} ({competition.slug})"


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
]


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
    run = DemoRun(out=out, example=EXAMPLE)
    settings = get_settings()
    console.print(f"[bold]grantflow demo[/bold] — 江头街道微公益创投 → {out}")
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
            line = step(run)
            progress.console.print(f"  ✓ {line}", markup=False, soft_wrap=True)
            progress.advance(bar)
    show_applications(run)
    show_ranking(run)
    console.print("\n[bold]输出 / outputs[/bold]")
    console.print(f"  数据库 / database: {settings.effective_database_url}")
    console.print(f"  文档 / documents: {settings.documents_dir}")
    for note in run.notes:
        console.print(f"  {note}")
    console.print(
        f"  查看状态 / see where everything stands: GRANTFLOW_DATA_DIR={out} {_program()} status",
        markup=False,
        soft_wrap=True,
    )


def _program() -> str:
    """How this command was called (``.venv/bin/grantflow`` under ``make demo``)."""
    name = Path(sys.argv[0])
    return str(name) if name.name == "grantflow" else "grantflow"
