"""``grantflow report``: the year's figures, as a readable table or ``--json``."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from cli.console import cell, line, print_json, print_table, say
from cli.options import CompetitionOption, JsonOption, pick


def _yuan(fen: int) -> str:
    from models.money import format_yuan

    return format_yuan(fen)


def _breakdown(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(
        title,
        "申报",
        "通过审查",
        "立项",
        "申请(元)",
        "资助(元)",
        "拨付(元)",
        "计划人次",
        "实际人次",
        title_justify="left",
    )
    for row in rows:
        table.add_row(
            cell(row["name"]),
            cell(row["received"]),
            cell(row["eligible"]),
            cell(row["funded"]),
            cell(_yuan(row["requested_fen"])),
            cell(_yuan(row["granted_fen"])),
            cell(_yuan(row["paid_fen"])),
            cell(row["planned_person_times"]),
            cell(row["person_times"]),
        )
    return table


def report(competition: CompetitionOption = None, as_json: JsonOption = False) -> None:
    """本年度数据：申报、资助、拨付、服务成效、等级 / the year's figures (also --json)."""
    from models.db import session_scope
    from models.evaluation.annual import annual_figures, money_lines
    from models.settings import get_settings

    with session_scope() as session:
        comp = pick(session, competition)
        assert comp.id is not None
        figures = annual_figures(session, competition_id=comp.id, timezone=get_settings().timezone)
    if as_json:
        print_json(figures)
        return
    apps, money, delivery, outcomes = (
        figures["applications"],
        figures["money"],
        figures["delivery"],
        figures["outcomes"],
    )
    say("[bold]{name}[/bold]（{year}）", name=figures["name"], year=figures["year"])
    line(
        f"申报 received {apps['received']} · 通过审查 eligible {apps['eligible']} · "
        f"立项 funded {apps['funded']} · "
        f"结项 completed {outcomes['completed']} · 终止 terminated {outcomes['terminated']} · "
        f"整改 rectified {outcomes['rectified']}"
    )
    line(
        f"资金 money: 资金池 pool {_yuan(money['pool_fen'])} 元 · "
        f"申请 requested {_yuan(money['requested_fen'])} 元 · "
        f"立项资助 granted {_yuan(money['granted_fen'])} 元"
    )
    for sentence in money_lines(money):  # the 年度总结报告's own sentences: each whole with its parts
        line(f"  {sentence}")
    for row in figures["returns"]:
        line(
            f"  应退回 to return {row['ref']} {row['title']}：已拨付 {_yuan(row['paid_fen'])} 元 − "
            f"核定支出 {_yuan(row['spent_fen'])} 元 = {_yuan(row['to_return_fen'])} 元"
            f"（{row['why']}{'，' + row['doc_number'] if row['doc_number'] else ''}）"
        )
    line(
        f"活动 activities {delivery['sessions']}/{delivery['planned_sessions']} 场 · "
        f"服务 person-times {delivery['person_times']}/{delivery['planned_person_times']} 人次（实际/计划）· "
        f"覆盖社区 {figures['communities_covered']}/{figures['communities_total']}"
    )
    for title, key in (
        ("组别 Pool", "by_pool"),
        ("领域 Category", "by_category"),
        ("社区 Community", "by_community"),
    ):
        print_table(_breakdown(title, figures[key]))
    line("等级 grades: " + " · ".join(f"{row['grade']} {row['count']}" for row in figures["grades"]))
    summary = figures["review_agreement"]["summary"]  # the one figure the papers print
    line(f"评审一致性 agreement: {summary['zh']}")
    line(f"  {summary['en']}")
    line("进程 timeline: " + " → ".join(f"{row['label']} {row['date']}" for row in figures["timeline"]))
