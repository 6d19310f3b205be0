"""``grantflow``: the administrator's command line. It only translates: arguments become calls to
flows and models/, results become tables or ``--json``, and every grantflow error becomes one line
on stderr and exit code 1 — never a traceback."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from cli.call import app as call_app
from cli.competition import app as competition_app
from cli.console import console, errors, print_json
from cli.demo.command import demo
from cli.intake import app as intake_app
from cli.options import JsonOption
from cli.outbox import app as outbox_app
from cli.portal import portal
from cli.review import app as review_app
from cli.screening import app as screening_app
from cli.supervision import app as supervision_app
from models.errors import GrantflowError

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
app.add_typer(supervision_app, name="supervision")
app.add_typer(outbox_app, name="outbox")
app.command()(demo)
app.command("portal")(portal)


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
        console.print(f"数据库已是最新 / database is up to date: {url} (revision {after})")
    else:
        console.print(
            f"数据库已{'升级' if before else '创建'} / database {'upgraded' if before else 'created'}: "
            f"{url} ({before or 'empty'} → {after})"
        )


@app.command()
def status(
    competition: Annotated[str | None, typer.Option("--competition", "-c", help="竞赛代码 / slug")] = None,
    as_json: JsonOption = False,
) -> None:
    """每个申报项目的当前状态 / where every application stands."""
    from models.competition.tables import get_competition
    from models.db import session_scope
    from models.intake.tables import application_standing
    from models.money import format_yuan
    from models.states import STATE_LABELS

    with session_scope() as session:
        comp = get_competition(session, slug=competition)
        assert comp.id is not None
        rows = application_standing(session, competition_id=comp.id)
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
    console.print(f"[bold]{comp.name}[/bold] — 阶段 / stage: {STATE_LABELS[comp.stage]} ({comp.stage})")
    if not rows:
        console.print("还没有申报项目 / no applications yet")
        return
    table = Table("编号 Ref", "项目 Title", "申报单位 Organisation", "社区", "金额(元)", "状态 State")
    for row in rows:
        table.add_row(
            row["ref"],
            row["title"],
            row["organisation"],
            row["community"],
            format_yuan(row["amount_fen"]),
            f"{row['state_label']} ({row['state']})",
        )
    console.print(table)
    console.print("  ".join(f"{STATE_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items())))


def main() -> None:
    """Entry point: grantflow errors become one line and exit code 1."""
    from sqlalchemy.exc import OperationalError

    try:
        app()
    except GrantflowError as exc:
        errors.print(f"[red]错误 / error:[/red] {exc}", markup=True)
        sys.exit(1)
    except OperationalError as exc:
        errors.print(f"[red]数据库错误 / database error:[/red] {exc.orig}", markup=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
