"""``grantflow tranches``: every tranche — planned, due, released or withheld, with its reason."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.console import cell, console, line, print_json, print_table
from cli.options import CompetitionOption, JsonOption, pick

COLUMNS = (
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
)
NARROW_COLUMNS = tuple(c for c in COLUMNS if c not in ("协议编号", "比例", "说明 Note"))
WIDE = 140  # columns: the whole table fits without folding a word into single characters


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
    wide = console.width >= WIDE  # narrower: the agreement and the notes go beneath the table
    table = Table()  # codes, amounts and days never break inside their cell; words wrap
    for header in COLUMNS if wide else NARROW_COLUMNS:
        table.add_column(header, no_wrap=header in ("编号 Ref", "比例", "金额(元)", "实拨(元)", "拨付日"))
    for row in rows:
        label = TRANCHE_LABELS[TrancheState(row["state"])]
        cells = {
            "编号 Ref": row["ref"],
            "协议编号": row["agreement_no"],
            "期次": row["label"],
            "比例": f"{row['percent']}%",
            "金额(元)": format_yuan(row["amount_fen"]),
            "实拨(元)": format_yuan(row["paid_fen"]) if row["state"] == "released" else "—",
            "条件 Gate": gate_text(row["gate"], config),
            "状态 State": label if not wide else f"{label} ({row['state']})",
            "拨付日": row["released_on"] or "—",
            "说明 Note": row["note"],
        }
        table.add_row(*(cell(cells[header]) for header in (COLUMNS if wide else NARROW_COLUMNS)))
    print_table(table)
    if not wide:
        notes = [row for row in rows if row["note"]]
        if notes:
            line("说明 / notes:")
        for row in notes:
            line(f"  {row['ref']} {row['label']}（{row['percent']}%）：{row['note']}")
