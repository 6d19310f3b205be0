"""``grantflow competition create|show``."""

from __future__ import annotations

from datetime import date
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
    start_on: Annotated[
        str | None,
        typer.Option(
            "--start-on",
            metavar="DATE",
            help="征集公告发布日（YYYY-MM-DD 或 today）：所有日期平移相同天数 / "
            "the call's date (YYYY-MM-DD or today): every date moves by the same number of days",
        ),
    ] = None,
    deployment: Annotated[
        bool,
        typer.Option(
            "--deployment",
            help="把配置内容发给服务器上的 setup 部署运行（grantflow up 或 PREFECT_API_URL）并等待 / "
            "send the file's text to the server's setup deployment and wait for the run",
        ),
    ] = False,
) -> None:
    """校验配置并创建竞赛 / validate the configuration and create the competition."""
    from models.competition.config_file import read_config_text
    from models.competition.shift import start_on as shifted_to
    from models.db import default_engine, session_scope, upgrade_database
    from models.setup import create_competition

    text = read_config_text(file)
    source = str(file)
    if start_on is not None:
        day = _day(start_on)
        text = shifted_to(text, day, source=source)
        source = f"{file} (--start-on {day})"
    if deployment:
        _create_on_server(text, source, actor)
        return
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = create_competition(session, text=text, source=source, actor=actor)
    say(
        "已创建竞赛 / created competition [bold]{slug}[/bold]: {name}",
        slug=competition.slug,
        name=competition.name,
    )


SETUP_DEPLOYMENT = "setup/setup"  # deployments/prefect.yaml: flow "setup", deployment "setup"


def _create_on_server(text: str, source: str, actor: str) -> None:
    """A run of the setup deployment with the configuration's text (checked here before it is sent)."""
    from cli.on_server import run_on_server
    from models.competition.config_file import parse_config

    info = parse_config(text, source=source).competition
    run_on_server(
        SETUP_DEPLOYMENT,
        {"config_text": text, "config_name": source, "actor": actor},
        timeout=600,
        read_result=False,
    )
    say("已创建竞赛 / created competition [bold]{slug}[/bold]: {name}", slug=info.slug, name=info.name)


def _day(value: str) -> date:
    from models.errors import InputError, Problem
    from models.settings import get_settings
    from models.types import utcnow

    if value.strip().lower() in ("today", "今天"):
        from models.documents.engine.cn_format import local_date

        return local_date(utcnow(), get_settings().timezone)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            Problem(
                "--start-on",
                "",
                f"日期无效：{value}（应为 YYYY-MM-DD 或 today）",
                f"not a date: {value!r} (use YYYY-MM-DD or today)",
            )
        ) from None


@app.command("copy")
def copy(
    slug: Annotated[str, typer.Argument(help="已有竞赛的代码 / the slug of an existing competition")],
    new_file: Annotated[Path, typer.Argument(help="新竞赛配置写到此 YAML / write the new YAML here")],
    new_slug: Annotated[
        str | None, typer.Option("--slug", help="新竞赛代码 / the new slug (default: the year in it moved)")
    ] = None,
    years: Annotated[int, typer.Option(min=1, max=10, help="平移年数 / years later")] = 1,
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件 / overwrite the file")] = False,
) -> None:
    """以本届配置生成下一届 / next year's competition from this one: every date a year later
    (month and day kept), a new slug and year. Writes the file only; review it, then
    ``grantflow competition create NEW.yaml``."""
    from models.competition.shift import next_year
    from models.competition.tables import get_competition
    from models.db import session_scope
    from models.errors import InputError, Problem

    with session_scope() as session:
        competition = get_competition(session, slug=slug)
        text, year = competition.config_yaml, competition.year
    if new_slug is None:
        new_slug = (
            slug.replace(str(year), str(year + years)) if str(year) in slug else f"{slug}-{year + years}"
        )
    if new_file.exists() and not force:
        raise InputError(
            Problem(
                str(new_file),
                "",
                "文件已存在（加 --force 覆盖）",
                "the file exists (add --force to overwrite)",
            )
        )
    copied = next_year(text, slug=new_slug, years=years, source=f"competition {slug}")
    new_file.parent.mkdir(parents=True, exist_ok=True)
    new_file.write_text(copied, encoding="utf-8")
    line(
        f"已写出 / wrote {new_file}: {new_slug}，{year + years} 年，"
        f"日期推后 {years} 年 / dates {years} year(s) later"
    )
    line(
        "节假日与调休（holidays, make_up_workdays）未改动，请按新年度核对 / "
        "the holiday calendar was not moved: check it for the new year"
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
