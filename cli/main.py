"""``grantflow``: the administrator's command line. It only translates: arguments become calls to
flows and models/, results become tables or ``--json``, and every grantflow error becomes one line
per problem on stderr and exit code 1 — never a traceback. An error we did not foresee is still one
line (exit code 2), with the traceback written to a file it names."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from cli.admin import app as admin_app
from cli.backup import backup, restore
from cli.call import app as call_app
from cli.competition import app as competition_app
from cli.console import cell, console, error_line, line, print_json, print_table, say
from cli.demo.command import demo
from cli.doctor import doctor
from cli.evaluation import app as evaluation_app
from cli.example import app as example_app
from cli.export import export
from cli.funding import app as funding_app
from cli.grants import app as grants_app
from cli.intake import app as intake_app
from cli.options import CompetitionOption, JsonOption, pick
from cli.outbox import app as outbox_app
from cli.portal import portal
from cli.publicity import app as publicity_app
from cli.report import report
from cli.review import app as review_app
from cli.screening import app as screening_app
from cli.supervision import app as supervision_app
from cli.tranches import tranches
from cli.up import down, up
from models.errors import ConfigError, GrantflowError, InputError

app = typer.Typer(
    name="grantflow",
    help="微公益创投全流程管理 / micro-venture philanthropy competitions, end to end.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(competition_app, name="competition")
app.add_typer(call_app, name="call")
app.add_typer(intake_app, name="intake")
app.add_typer(screening_app, name="screening")
app.add_typer(review_app, name="review")
app.add_typer(funding_app, name="funding")
app.add_typer(publicity_app, name="publicity")
app.add_typer(grants_app, name="grants")
app.command("tranches")(tranches)
app.add_typer(supervision_app, name="supervision")
app.add_typer(outbox_app, name="outbox")
app.add_typer(evaluation_app, name="evaluation")
app.command("report")(report)
app.command("export")(export)
app.command("backup")(backup)
app.command("restore")(restore)
app.command()(demo)
app.add_typer(example_app, name="example")
app.command("portal")(portal)
app.command("doctor")(doctor)
app.command("up")(up)
app.command("down")(down)
app.add_typer(admin_app, name="admin")


@app.command()
def init() -> None:
    """创建或升级数据库 / create the database, or upgrade an older one in place (data kept)."""
    from models.db import current_revision, default_engine, upgrade_database
    from models.settings import get_settings

    engine = default_engine()
    before = current_revision(engine)
    upgrade_database(engine)
    after = current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if before == after:
        line(f"数据库已是最新 / database is up to date: {url} (revision {after})")
    else:
        line(
            f"数据库已{'升级' if before else '创建'} / database {'upgraded' if before else 'created'}: "
            f"{url} ({before or 'empty'} → {after})"
        )


@app.command()
def status(
    competition: CompetitionOption = None,
    as_json: JsonOption = False,
) -> None:
    """每个申报项目的当前状态 / where every application stands."""
    from models.db import session_scope
    from models.evaluation.tables import final_results
    from models.intake.tables import application_standing
    from models.money import format_yuan
    from models.states import STATE_LABELS

    with session_scope() as session:
        comp = pick(session, competition)
        assert comp.id is not None
        rows = application_standing(session, competition_id=comp.id)
        finals = final_results(session, competition_id=comp.id)
    for row in rows:
        row["final"] = finals.get(row["id"])  # 结项: score, grade, outcome, round (None before)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    if as_json:
        print_json(
            {
                "competition": {"slug": comp.slug, "name": comp.name, "stage": str(comp.stage)},
                "counts": counts,
                "applications": rows,
            }
        )
        return
    say(
        "[bold]{name}[/bold] — 阶段 / stage: {label} ({stage})",
        name=comp.name,
        label=STATE_LABELS[comp.stage],
        stage=comp.stage,
    )
    if not rows:
        console.print("还没有申报项目 / no applications yet")
        return
    # codes, amounts and grades never break inside their cell; a title, a name and a state wrap
    table = Table()
    table.add_column("编号 Ref", no_wrap=True)
    table.add_column("项目 Title", min_width=8)
    table.add_column("申报单位 Organisation", min_width=6)
    table.add_column("社区")
    for header in ("金额(元)", "状态 State", "结项 Final"):
        table.add_column(header, no_wrap=header != "状态 State")
    for row in rows:
        final = row["final"]
        table.add_row(
            cell(row["ref"]),
            cell(row["title"]),
            cell(row["organisation"]),
            cell(row["community"]),
            cell(format_yuan(row["amount_fen"])),
            cell(f"{row['state_label']} ({row['state']})"),
            cell(f"{final['score']} {final['grade']}" if final else ""),
        )
    print_table(table)
    say("{counts}", counts="  ".join(f"{STATE_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items())))


def report_error(exc: BaseException) -> int:
    """Print an error as the administrator should see it; returns the exit code."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if isinstance(exc, ConfigError | InputError):
        for problem in exc.problems:
            error_line(problem)
        return 1
    if isinstance(exc, GrantflowError):
        error_line(exc)
        return 1
    from models.db import database_fault, database_fault_message

    if (fault := database_fault(exc)) is not None:  # locked past the busy timeout, a server restarting
        error_line(database_fault_message(fault))
        return 1
    older = _older_schema(exc, ProgrammingError)
    if isinstance(exc, OperationalError) or older:
        if "no such table" in str(exc.orig):
            hint = "（请先运行 grantflow init / run grantflow init first）"
        elif older:
            hint = (
                "（数据库版本较旧，请运行 grantflow init 升级，数据保留 / the database is older than "
                "this version: run grantflow init to upgrade it, data kept）"
            )
        else:
            hint = ""
        error_line(f"{exc.orig}{hint}", label="数据库错误 / database error:")
        return 1
    error_line(
        f"{type(exc).__name__}: {exc}（程序缺陷，请报告 / a bug, please report it; {_keep_traceback(exc)}）",
        label="意外错误 / unexpected error:",
    )
    return 2


def _older_schema(exc: BaseException, programming_error: type[Exception]) -> bool:
    """A column or table this version reads is missing: the database predates a migration
    (SQLite: "no such column"; PostgreSQL: UndefinedColumn / UndefinedTable, "does not exist")."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError | programming_error):
        return False
    message = str(getattr(exc, "orig", exc))
    if isinstance(exc, OperationalError):
        return "no such column" in message
    return type(getattr(exc, "orig", None)).__name__ in {"UndefinedColumn", "UndefinedTable"}


def _keep_traceback(exc: BaseException) -> str:
    """Write the traceback beside the data (never on the administrator's screen); say where."""
    import traceback

    from models.settings import get_settings
    from models.types import utcnow

    try:
        folder = get_settings().data_dir / "errors"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"cli-{utcnow():%Y%m%dT%H%M%S%f}.txt"
        target.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except Exception:  # the report of a bug must not raise a second one
        return "traceback not kept"
    return f"traceback: {target}"


def main() -> None:
    """Entry point: every error becomes one line per problem and a non-zero exit code."""
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        sys.exit(report_error(exc))


def run() -> None:
    """The console script: ``main``, then leave without tearing the interpreter down.

    A stage command has imported Prefect, SQLAlchemy and pydantic; finalising those modules at exit
    takes a second or more after the work is done (``bench/bench_cli.py``). Prefect's log and event
    workers are drained first (``_drain_prefect``, while the server is still up), then the exit
    handlers run — the temporary server's stop, logging's flush — then the streams are flushed and
    the process ends with its exit code. Every database session and file is closed by then (each is a
    ``with`` block). ``main`` stays the in-process entry point for tests.
    """
    import atexit
    import os
    from contextlib import suppress

    code: int | str | None = 0
    try:
        main()
    except SystemExit as exit:
        code = exit.code
    except KeyboardInterrupt:
        code = 130
    if isinstance(code, str):  # sys.exit("message"): printed, exit status 1
        print(code, file=sys.stderr)
        code = 1
    _drain_prefect()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code or 0)


def _drain_prefect(timeout: float = 5.0) -> None:
    """Send the logs and events a run queued while the Prefect server they go to still runs.

    Prefect drains its log and event workers when the interpreter's threads shut down — after the
    exit handlers, one of which stops the temporary server (and ``os._exit`` skips that shutdown
    altogether). Draining first delivers them, and no "Error logging to API" follows a command.
    """
    from contextlib import suppress

    if "prefect.logging.handlers" not in sys.modules:  # no Prefect in this command: nothing queued
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with suppress(Exception):  # a server that went away: what is queued cannot be sent
            worker.drain_all(timeout=timeout)


if __name__ == "__main__":
    run()
