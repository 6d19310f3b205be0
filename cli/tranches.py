"""``grantflow tranches``: every tranche — planned, due, released or withheld, with its reason."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.console import cell, print_json, print_table
from cli.options import CompetitionOption, JsonOption, pick


def tranches(
    competition: CompetitionOption = None,
    as_json: JsonOption = False,
    state: Annotated[
        str | None, typer.Option("--state", help="只看某一状态 / only this state (due, released, withheld…)")
    ] = None,
) -> None:
    """分期拨付：应拨、已拨、暂缓及理由 / tranches due, released and withheld, with reasons."""
    from models.competition.tables import competition_config
    from models.db import session_scope
    from models.funding.tranches import gate_text, tranche_report
    from models.money import format_yuan
    from models.states import TRANCHE_LABELS, TrancheState

    with session_scope() as session:
        comp = pick(session, competition)
        rows = tranche_report(session, competition_id=comp.id or 0)
    config = competition_config(comp)
    if state:
        rows = [r for r in rows if r["state"] == state]
    if as_json:
        print_json(rows)
        return
    table = Table()  # codes, amounts and days never break inside their cell; words wrap
    for header in (
        "编号 Ref",
        "协议编号",
        "期次",
        "比例",
        "金额(元)",
        "实拨(元)",
        "条件 Gate",
        "状态 State",
        "拨付日",
        "说明 Note",
    ):
        table.add_column(header, no_wrap=header in ("编号 Ref", "比例", "金额(元)", "实拨(元)", "拨付日"))
    for row in rows:
        table.add_row(
            cell(row["ref"]),
            cell(row["agreement_no"]),
            cell(row["label"]),
            cell(f"{row['percent']}%"),
            cell(format_yuan(row["amount_fen"])),
            cell(format_yuan(row["paid_fen"]) if row["state"] == "released" else "—"),
            cell(gate_text(row["gate"], config)),
            cell(f"{TRANCHE_LABELS[TrancheState(row['state'])]} ({row['state']})"),
            cell(row["released_on"] or "—"),
            cell(row["note"]),
        )
    print_table(table)
