"""``grantflow review open|remind|close|sheet-template|import-sheets|report``: the expert review from
the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.console import cell, line, print_json, print_table
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick, resolve_slug

app = typer.Typer(help="专家评审 / the expert review", no_args_is_help=True)


@app.command("open")
def open_command(
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    experts: Annotated[
        Path | None,
        typer.Option(
            "--experts", help="专家名单 .xlsx（姓名、电子邮箱、电话、单位、社区、专长）/ experts sheet"
        ),
    ] = None,
) -> None:
    """分配评审专家并发出邀请 / assign experts and send each one their personal links."""
    from flows.review import open_review
    from models.stage_order import StageRun

    if experts is not None and not experts.is_file():  # refused before any run starts
        from models.errors import InputError, Problem

        raise InputError(Problem(str(experts), "--experts", "文件不存在", "file not found"))
    slug = ready(competition, StageRun.review_open)
    experts_file = str(experts.resolve()) if experts else None
    result = run_flow(open_review, slug, actor=actor, experts_file=experts_file)
    line(
        f"已分配 / assigned: {result['sheets']} 份评分表 sheets to {result['experts']} 位专家 experts; "
        f"邀请信 / invitations: {result['invitations']}"
    )


@app.command("remind")
def remind_command(competition: CompetitionOption = None, as_of: AsOfOption = None) -> None:
    """提醒未完成评分的专家 / remind experts of unfinished sheets (once per configured offset)."""
    from flows.review import review_reminders

    result = run_flow(review_reminders, resolve_slug(competition), as_of=aware(as_of))
    panel = (
        f"; 结项专家评审 / final-evaluation panel: {result['panel_reminders']}"
        if result["panel_reminders"]
        else ""
    )
    line(f"提醒信 / reminders queued: {result['reminders']}{panel}")


@app.command("close")
def close_command(
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
    prepared_by: Annotated[
        str,
        typer.Option(
            "--prepared-by",
            help="制表人（默认配置中的 competition.prepared_by 或承办单位）/ who prepares the 评分汇总表 "
            "(default: competition.prepared_by, else the operator)",
        ),
    ] = "",
) -> None:
    """结束评审：汇总、排名、生成评分汇总表 / close the review: aggregate, rank, write the documents."""
    from flows.review import close_review
    from models.stage_order import StageRun

    slug = ready(competition, StageRun.review_close)
    result = run_flow(close_review, slug, actor=actor, as_of=aware(as_of), prepared_by=prepared_by)
    line(f"已汇总 / results: {result['results']}; 文书 / documents: {result['documents']}")


@app.command("sheet-template")
def sheet_template(
    file: Annotated[Path, typer.Argument(help="要写出的 .xlsx / the .xlsx to write")],
    competition: CompetitionOption = None,
) -> None:
    """写出路演纸质评分表模板（每份未提交的评分表一行，附说明页）/ write the paper score sheet workbook
    that import-sheets reads: one row per open sheet, and an instructions sheet."""
    from models.db import session_scope
    from models.review.paper_template import write_sheet_template

    with session_scope() as session:
        comp = pick(session, competition)
        listed = write_sheet_template(session, competition_id=comp.id or 0, path=file)
    if listed:
        line(f"已写出 / written {file}: {listed} 份未提交的评分表 open sheets")
    else:
        line(f"已写出空白模板 / written a blank template {file}（没有未提交的评分表 / no open sheets）")


@app.command("import-sheets")
def import_sheets(
    file: Annotated[Path, typer.Argument(help="路演纸质评分表 .xlsx / paper sheets of a roadshow")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """导入路演纸质评分表（全部正确才导入）/ import paper score sheets (all or nothing)."""
    from models.db import session_scope
    from models.review.score_sheets import import_paper_sheets

    with session_scope() as session:
        comp = pick(session, competition)
        sheets = import_paper_sheets(session, competition_id=comp.id or 0, path=file, actor=actor)
    line(f"已导入 / imported {len(sheets)} 份评分表 sheets from {file}")


def _report(slug: str | None) -> dict[str, Any]:
    from models.db import session_scope
    from models.review.results import review_report

    with session_scope() as session:
        comp = pick(session, slug)
        return review_report(session, competition_id=comp.id or 0)


@app.command("report")
def report_command(competition: CompetitionOption = None, as_json: JsonOption = False) -> None:
    """评分汇总与排名 / every expert's total, dropped totals, aggregate, rank, flags and agreement."""
    report = _report(competition)
    if as_json:
        print_json(report)
        return
    table = Table(
        "排名",
        "组内",
        "编号 Ref",
        "项目 Title",
        "各专家总分 Totals",
        "去掉 Dropped",
        "得分",
        "标记 Flags",
        title=Text(f"评分汇总 / ranking ({report['method']})"),
    )
    for entry in report["applications"]:
        totals = "、".join(e["total"] for e in entry["experts"])
        dropped = "、".join(e["total"] for e in entry["experts"] if e["dropped"])
        table.add_row(  # a title is data, never rich markup
            cell(_shown(entry["rank"])),
            cell(_shown(entry["pool_rank"])),
            cell(_shown(entry["ref"])),
            cell(_shown(entry["title"])),
            cell(_shown(totals)),
            cell(_shown(dropped)),
            cell(_shown(entry["aggregate"])),
            cell(_shown("；".join(f["zh"] for f in entry["flags"]))),
        )
    print_table(table)
    for text in panel_lines(report["panel"]):
        line(text)


def _shown(value: Any) -> str:
    """A report value for people: "—" for None or empty, never "None"."""
    return "—" if value is None or value == "" else str(value)


def panel_lines(panel: dict[str, Any]) -> list[str]:
    """The panel's agreement as text: the design, then each statistic — those that apply to the
    design first — with its value or why there is none, what it was computed on and its formula."""
    from models.review.agreement import NAMES

    applies = list(panel.get("applies") or [])
    lines = [f"评审一致性 / panel agreement — {_shown(panel.get('design_text'))}"]
    if not applies:  # no scores yet: nothing to show but that
        return lines
    others = [key for key in NAMES if key not in applies]
    for key in [*applies, *others]:
        stat = panel.get(key) or {}
        name = NAMES[key]
        if key == "icc1_k" and panel.get("k0"):
            name = f"{name} (k̄ = k₀ = {panel['k0']})"
        role = "适用 / applies" if key in applies else "参考 / for reference"
        value = stat.get("value")
        shown = f"= {value}" if value is not None else f"不适用 / not available: {_shown(stat.get('reason'))}"
        lines.append(f"  {name} {shown}  [{role}]")
        if stat.get("basis"):
            lines.append(f"      依据 / basis: {stat['basis']}")
        if stat.get("formula"):
            lines.append(f"      公式 / formula: {stat['formula']}")
    block = panel.get("block") or {}
    if block.get("applications"):
        lines.append(
            f"  最大完整子块 / largest complete block: {len(block['applications'])} 个申报 applications × "
            f"{len(block.get('experts') or [])} 位专家 experts"
        )
    return lines
