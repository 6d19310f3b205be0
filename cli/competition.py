"""``grantflow competition create|copy|list|show``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import cell, line, print_json, print_table, say
from cli.options import CompetitionOption, JsonOption, aware, pick

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
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="筹备的生效时间（默认现在；年度时间线由此开始）/ when the setup takes effect "
            "(default: now; the year's timeline starts there)",
        ),
    ] = None,
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
    moment = aware(as_of)
    if deployment:
        _create_on_server(text, source, actor, moment)
        return
    upgrade_database(default_engine())
    with session_scope(as_of=moment) as session:
        competition = create_competition(session, text=text, source=source, actor=actor)
    say(
        "已创建竞赛 / created competition [bold]{slug}[/bold]: {name}",
        slug=competition.slug,
        name=competition.name,
    )


SETUP_DEPLOYMENT = "setup/setup"  # deployments/prefect.yaml: flow "setup", deployment "setup"


def _create_on_server(text: str, source: str, actor: str, as_of: datetime | None) -> None:
    """A run of the setup deployment with the configuration's text (checked here before it is sent)."""
    from cli.on_server import run_on_server
    from models.competition.config_file import parse_config

    info = parse_config(text, source=source).competition
    parameters = {"config_text": text, "config_name": source, "actor": actor}
    if as_of is not None:
        parameters["as_of"] = as_of.isoformat()
    run_on_server(SETUP_DEPLOYMENT, parameters, timeout=600, read_result=False)
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
    new_file: Annotated[Path, typer.Argument(help="新竞赛配置写到此 YAML / write the new YAML here")],
    competition: CompetitionOption = None,
    new_slug: Annotated[
        str | None, typer.Option("--slug", help="新竞赛代码 / the new slug (default: the year in it moved)")
    ] = None,
    years: Annotated[int, typer.Option(min=1, max=10, help="平移年数 / years later")] = 1,
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件 / overwrite the file")] = False,
) -> None:
    """以本届配置生成下一届 / next year's competition from this one (-c, default: the newest):
    every date a year later (month and day kept, then off weekends and holidays), a new slug, the
    year moved everywhere in the file. Writes the file only; review it, then
    ``grantflow competition create NEW.yaml``."""
    from models.competition.shift import next_year
    from models.competition.tables import competition_config
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.funding.workdays import calendar_knows, is_working_day

    with session_scope() as session:
        chosen = pick(session, competition)
        slug, text, year = chosen.slug, chosen.config_yaml, chosen.year
        calendar = competition_config(chosen)
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

    def working_day(day: date) -> bool:
        return is_working_day(day, holidays=calendar.holidays, make_up=calendar.make_up_workdays)

    copied = next_year(
        text, slug=new_slug, years=years, source=f"competition {slug}", working_day=working_day
    )
    new_file.parent.mkdir(parents=True, exist_ok=True)
    new_file.write_text(copied.text, encoding="utf-8")
    new_year = year + years
    line(
        f"已写出 / wrote {new_file}: {new_slug}，{new_year} 年，日期推后 {years} 年，"
        f"文中的 {year} 年一并改为 {new_year} 年 / dates {years} year(s) later, "
        f"the year {year} → {new_year} throughout"
    )
    for day in copied.moved:
        line(
            f"  {day.field}: {day.fell_on}（{_weekday(day.fell_on)}，非工作日 / not a working day）"
            f" → {day.moved_to}（{_weekday(day.moved_to)}）"
        )
    for field, on in copied.weekend_workdays:
        line(f"  {field}: {on}（{_weekday(on)}）是调休工作日 / a make-up working day, kept")
    if not calendar_knows(new_year):
        line(
            f"本机日历尚无 {new_year} 年的法定节假日：日期只避开了周末，请按国务院通知核对 / the holidays "
            f"of {new_year} are not known here yet: only weekends were avoided, check the dates"
        )
    if copied.calendar_fields:
        names = ", ".join(copied.calendar_fields)
        line(
            f"{names} 仍是 {year} 年的日期（未改动），请按 {new_year} 年的通知改写 / {names} still hold "
            f"the dates of {year} (not moved): rewrite them for {new_year}"
        )


WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """全部竞赛：代码、年度、阶段 / every competition: slug, year, stage (the newest first)."""
    from models.competition.tables import list_competitions
    from models.db import session_scope
    from models.states import STATE_LABELS

    with session_scope() as session:
        rows = [
            {
                "slug": c.slug,
                "name": c.name,
                "year": c.year,
                "stage": str(c.stage),
                "stage_label": STATE_LABELS[c.stage],
                "created_at": c.created_at,
            }
            for c in list_competitions(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        line("还没有竞赛（grantflow competition create FILE）/ no competition yet")
        return
    table = Table("代码 Slug", "年度 Year", "阶段 Stage", "名称 Name")
    for row in rows:
        table.add_row(
            cell(row["slug"]),
            cell(row["year"]),
            cell(f"{row['stage_label']} ({row['stage']})"),
            cell(row["name"]),
        )
    print_table(table)


def describe(slug: str | None) -> dict[str, Any]:
    """The configuration summary shown by ``competition show``."""
    from models.competition.tables import competition_config
    from models.db import session_scope

    with session_scope() as session:
        competition = pick(session, slug)
    config = competition_config(competition)
    summary: dict[str, Any] = config.model_dump(mode="json")
    summary["stage"] = str(competition.stage)
    summary["config_sha256"] = competition.config_sha256
    return summary


@app.command("show")
def show(competition: CompetitionOption = None, as_json: JsonOption = False) -> None:
    """显示竞赛配置 / show the competition and its configuration."""
    from models.money import format_yuan
    from models.states import STATE_LABELS, CompetitionStage

    summary = describe(competition)
    if as_json:
        print_json(summary)
        return
    info, budget = summary["competition"], summary["budget"]
    stage = CompetitionStage(summary["stage"])
    say(
        "[bold]{name}[/bold] ({slug}) — {label} ({stage})",
        name=info["name"],
        slug=info["slug"],
        label=STATE_LABELS[stage],
        stage=stage,
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
    print_table(rubric)
    line(
        "拨付 / tranches: "
        + "，".join(f"{t['label']} {t['percent']}%（{t['gate']}）" for t in summary["tranches"])
    )
    d = summary["deadlines"]
    line(f"申报截止 / applications close: {d['applications_close']}")
    line(f"评审截止 / review closes: {d['review_close']}")
