"""``grantflow competition create|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import console, print_json

app = typer.Typer(help="竞赛配置 / the competition and its configuration", no_args_is_help=True)


@app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="竞赛配置 YAML / the competition's YAML file")],
    actor: Annotated[str, typer.Option(help="操作人 / who does this (audited)")] = "admin:cli",
) -> None:
    """校验配置并创建竞赛 / validate the configuration and create the competition."""
    from models.db import default_engine, session_scope, upgrade_database
    from models.errors import ConfigError, Problem
    from models.setup import create_competition

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(str(file), "", "文件不存在", "file not found")) from None
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = create_competition(session, text=text, source=str(file), actor=actor)
    console.print(f"已创建竞赛 / created competition [bold]{competition.slug}[/bold]: {competition.name}")


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
    console.print(f"[bold]{info['name']}[/bold] ({info['slug']}) — {summary['stage']}")
    console.print(f"主办 / organiser: {info['organiser']}    承办 / operator: {info['operator']}")
    console.print(
        f"服务期 / service period: {info['service_period']['start']} – {info['service_period']['end']}"
    )
    console.print(
        f"经费 / budget: {format_yuan(budget['service_budget'])} 元, 创投资金池 / pool "
        f"{format_yuan(budget['pool'])} 元, 单项 / per project {format_yuan(budget['per_project_min'])}"
        f"–{format_yuan(budget['per_project_cap'])} 元"
    )
    console.print("社区 / communities: " + "、".join(summary["communities"]))
    console.print("类别 / categories: " + "、".join(c["name"] for c in summary["categories"]))
    console.print("分组 / pools: " + "、".join(p["name"] for p in summary["pools"]))
    rubric = Table("评分标准 Criterion", "满分 Max", "权重 Weight", title="评分标准 / rubric")
    for c in summary["rubric"]["criteria"]:
        rubric.add_row(c["name"], str(c["max_points"]), str(c["weight"]))
    console.print(rubric)
    console.print(
        "拨付 / tranches: "
        + "，".join(f"{t['label']} {t['percent']}%（{t['gate']}）" for t in summary["tranches"])
    )
    d = summary["deadlines"]
    console.print(f"申报截止 / applications close: {d['applications_close']}")
    console.print(f"评审截止 / review closes: {d['review_close']}")
