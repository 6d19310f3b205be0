"""``grantflow competition create|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import cell, console, line, print_json, say

app = typer.Typer(help="竞赛配置 / the competition and its configuration", no_args_is_help=True)


@app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="竞赛配置 YAML / the competition's YAML file")],
    actor: Annotated[str, typer.Option(help="操作人 / who does this (audited)")] = "admin:cli",
) -> None:
    """校验配置并创建竞赛 / validate the configuration and create the competition."""
    from models.competition.config import read_config_text
    from models.db import default_engine, session_scope, upgrade_database
    from models.setup import create_competition

    text = read_config_text(file)
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = create_competition(session, text=text, source=str(file), actor=actor)
    say(
        "已创建竞赛 / created competition [bold]{slug}[/bold]: {name}",
        slug=competition.slug,
        name=competition.name,
    )


def describe(slug: str | None) -> dict[str, Any]:
    """The configuration summary shown by ``competition show``."""
    from models.competition.tables import competition_config, get_competition
    from models.db import session_scope

    with session_scope() as session:
        competition = get_competition(session, slug=slug)
    config = competition_config(competition)
    summary: dict[str, Any] = config.model_dump(mode="json")
    summary["stage"] = str(competition.stage)
    summary["config_sha256"] = competition.config_sha256
    return summary


@app.command("show")
def show(
    slug: Annotated[str | None, typer.Argument(help="竞赛代码 / slug (default: the newest)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 / print JSON")] = False,
) -> None:
    """显示竞赛配置 / show the competition and its configuration."""
    from models.money import format_yuan

    summary = describe(slug)
    if as_json:
        print_json(summary)
        return
    info, budget = summary["competition"], summary["budget"]
    say(
        "[bold]{name}[/bold] ({slug}) — {stage}", name=info["name"], slug=info["slug"], stage=summary["stage"]
    )
    line(f"主办 / organiser: {info['organiser']}    承办 / operator: {info['operator']}")
    line(f"服务期 / service period: {info['service_period']['start']} – {info['service_period']['end']}")
    line(
        f"经费 / budget: {format_yuan(budget['service_budget'])} 元, 创投资金池 / pool "
        f"{format_yuan(budget['pool'])} 元, 单项 / per project {format_yuan(budget['per_project_min'])}"
        f"–{format_yuan(budget['per_project_cap'])} 元"
    )
    line("社区 / communities: " + "、".join(summary["communities"]))
    line("类别 / categories: " + "、".join(c["name"] for c in summary["categories"]))
    line("分组 / pools: " + "、".join(p["name"] for p in summary["pools"]))
    rubric = Table("评分标准 Criterion", "满分 Max", "权重 Weight", title="评分标准 / rubric")
    for c in summary["rubric"]["criteria"]:
        rubric.add_row(cell(c["name"]), cell(c["max_points"]), cell(c["weight"]))
    console.print(rubric)
    line(
        "拨付 / tranches: "
        + "，".join(f"{t['label']} {t['percent']}%（{t['gate']}）" for t in summary["tranches"])
    )
    d = summary["deadlines"]
    line(f"申报截止 / applications close: {d['applications_close']}")
    line(f"评审截止 / review closes: {d['review_close']}")
