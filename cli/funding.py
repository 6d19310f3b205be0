"""``grantflow funding draft|show|adjust|decide-tie|approve``: the staged funding decision."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.console import cell, line, print_json, print_table
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.competition.tables import Competition

app = typer.Typer(help="立项决定 / the funding decision", no_args_is_help=True)


def _yuan(fen: int | None) -> str:
    from models.money import format_yuan

    return "—" if fen is None else format_yuan(fen)


def print_allocation(report: dict[str, Any], *, reasons: bool = True) -> None:
    """The decision as a table (user text never read as markup), the pools and the reconciliation."""
    table = Table(
        "编号 Ref",
        "组 Pool",
        "总/组内",
        "得分",
        "申请(元)",
        "资助(元)",
        "规则 Rule",
        title="资助方案 / funding",
    )
    for row in report["applications"]:
        table.add_row(
            cell(row["ref"]),
            cell(row["pool"]),
            cell(f"{row['rank'] or '—'}/{row['pool_rank'] or '—'}"),
            cell(row["score"] or "—"),
            cell(_yuan(row["requested_fen"])),
            cell(_yuan(row["amount_fen"]) + (" *" if row["adjusted_fen"] is not None else "")),
            cell(row["rule"] + (" ⚑" if row["tie_open"] else "")),
        )
    print_table(table)
    if reasons:
        for row in report["applications"]:
            line(f"  {row['ref']}  {row['explanation']}")
    for pool in report["pools"]:
        line(
            f"  {pool['name']} {pool['code']}: 预算 budget {_yuan(pool['budget_fen'])}，调入 in "
            f"{_yuan(pool['received_fen'])}，资助 funded {_yuan(pool['funded_fen'])}"
            f"（{pool['projects']}项），"
            f"调出 out {_yuan(pool['moved_fen'])}，退回 returned {_yuan(pool['returned_fen'])}"
        )
    line(
        f"  合计 / total: 资助 {_yuan(report['funded_fen'])} + 退回 {_yuan(report['returned_fen'])} = "
        f"资金池 {_yuan(report['pool_fen'])} "
        + ("✓" if report["reconciles"] else "✗ 不平 / does not reconcile")
    )
    for tie in report["ties"]:
        line(
            f"  ⚑ 同分待决定 / open tie: {'、'.join(tie)} → "
            f"grantflow funding decide-tie {' '.join(tie)} --reason …"
        )
    for quota in report["unmet_quotas"]:
        line(f"  ! 配额无法满足 / quota not met: {quota}")


def _report(slug: str | None) -> dict[str, Any]:
    from models.db import session_scope
    from models.funding.decision import funding_report

    with session_scope() as session:
        comp = pick(session, slug)
        return funding_report(session, competition_id=comp.id or 0)


@app.command("draft")
def draft_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_json: JsonOption = False
) -> None:
    """按配置规则拟定资助方案 / allocate the pools by the configured rules (safe to re-run)."""
    from flows.funding import funding_draft
    from models.stage_order import StageRun

    result = run_flow(funding_draft, ready(competition, StageRun.funding_draft), actor=actor)
    if as_json:
        print_json(result["report"])
        return
    if result["approved"]:
        line("资助方案已批准，未作改动 / the decision is approved: nothing changed")
    else:
        line(f"资助方案已拟定 / drafted: {result['changed']} 项有变化 rows changed")
    print_allocation(result["report"])


@app.command("show")
def show_command(
    competition: CompetitionOption = None,
    as_json: JsonOption = False,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="导出 Excel / write the table to an .xlsx")
    ] = None,
) -> None:
    """资助方案及每个项目的理由 / the decision with every project's reason."""
    report = _report(competition)
    if xlsx is not None:
        from models.funding.export import write_allocation_xlsx

        write_allocation_xlsx(report, xlsx)
        line(f"已导出 / written: {xlsx}")
    if as_json:
        print_json(report)
        return
    if xlsx is None:
        print_allocation(report)


@app.command("adjust")
def adjust_command(
    ref: Annotated[str, typer.Argument(help="申报编号 / the application's ref")],
    amount: Annotated[str, typer.Option("--amount", help="调整后的金额（元）/ the new amount in yuan")],
    reason: Annotated[str, typer.Option("--reason", help="理由，如核减某预算科目 / why")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """调整一个项目的资助金额（须写理由，记入审计）/ adjust one funded amount, with a reason."""
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.funding.decision import adjust_amount
    from models.money import MoneyError, parse_yuan

    try:
        fen = parse_yuan(amount)
    except MoneyError as exc:
        raise InputError(Problem(f"funding adjust {ref}", "--amount", "金额无效", str(exc))) from None
    with session_scope() as session:
        comp = pick(session, competition)
        decision = adjust_amount(
            session, competition_id=comp.id or 0, ref=ref, amount_fen=fen, reason=reason, actor=actor
        )
        line(f"{ref}: {decision.explanation}")


@app.command("decide-tie")
def decide_tie_command(
    refs: Annotated[list[str], typer.Argument(help="同分项目，按先后排列 / the tied refs, first = ahead")],
    reason: Annotated[str, typer.Option("--reason", help="决定理由 / why this order")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """决定同分项目的先后（记入审计）/ decide the order of projects tied at the cut."""
    from models.db import session_scope
    from models.funding.decision import decide_tie

    with session_scope() as session:
        comp = pick(session, competition)
        decide_tie(session, competition_id=comp.id or 0, refs=refs, reason=reason, actor=actor)
    line(f"已决定 / decided: {' > '.join(refs)}")
    print_allocation(_report(competition), reasons=False)


@app.command("approve")
def approve_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_of: AsOfOption = None
) -> None:
    """批准资助方案并发布公示（有同分待决定或异议未处理时拒绝）/ approve and publish the notice."""
    from flows.funding import funding_approve
    from models.funding.decision import check_may_approve
    from models.stage_order import StageRun
    from models.states import CompetitionStage

    def approvable(session: Session, comp: Competition) -> None:
        if comp.stage is CompetitionStage.funding:  # approved already: the run shows the notice
            check_may_approve(session, competition_id=comp.id or 0)

    slug = ready(competition, StageRun.funding_approve, approvable)
    result = run_flow(funding_approve, slug, actor=actor, as_of=aware(as_of))
    notice = result["notice"]
    verb = "已批准 / approved" if result["approved"] else "早已批准 / already approved"
    line(f"{verb}; 公示第{notice['seq']}次 / notice {notice['seq']}，至 / until {notice['ends_at']}")
