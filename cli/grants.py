"""``grantflow grants list|sign|lapse|terminate``: the agreements (资助协议书), their signing, and
termination (the command lives in ``cli.grants_terminate``, beside supervision)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.console import cell, line, print_json, print_table
from cli.flow_runs import ready, run_flow
from cli.grants_terminate import terminate
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.competition.tables import Competition

app = typer.Typer(help="资助协议 / grants and agreements", no_args_is_help=True)
app.command("terminate")(terminate)


@app.command("list")
def list_command(competition: CompetitionOption = None, as_json: JsonOption = False) -> None:
    """每项资助：协议编号、金额、签订期限与日期、状态 / every grant and its agreement."""
    from models.db import session_scope
    from models.funding.tables import grants_of
    from models.intake.tables import Application
    from models.money import format_yuan
    from models.states import GRANT_LABELS, GrantState

    with session_scope() as session:
        comp = pick(session, competition)
        rows = []
        for grant in grants_of(session, competition_id=comp.id or 0):
            application = session.get(Application, grant.application_id)
            rows.append(
                {
                    "ref": application.ref if application else "",
                    "title": application.title if application else "",
                    "agreement_no": grant.agreement_no,
                    "amount_fen": grant.amount_fen,
                    "sign_by": grant.sign_by,
                    "signed_on": grant.signed_on,
                    "state": str(grant.state),
                }
            )
    if as_json:
        print_json(rows)
        return
    table = Table("编号 Ref", "项目 Title", "协议编号", "金额(元)", "签订期限", "签订日期", "状态 State")
    for row in rows:
        table.add_row(
            cell(row["ref"]),
            cell(row["title"]),
            cell(row["agreement_no"]),
            cell(format_yuan(row["amount_fen"])),
            cell(row["sign_by"] or "—"),
            cell(row["signed_on"] or "—"),
            cell(f"{GRANT_LABELS[GrantState(row['state'])]} ({row['state']})"),
        )
    print_table(table)


@app.command("sign")
def sign_command(
    ref: Annotated[str | None, typer.Argument(help="申报编号 / the application's ref")] = None,
    on: Annotated[
        datetime | None, typer.Option("--on", formats=["%Y-%m-%d"], help="签订日期 / signed on")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="签订日期表 .xlsx（申报编号、签订日期）/ signing dates")
    ] = None,
    future: Annotated[
        bool,
        typer.Option("--future", help="签订日期晚于今天（预先登记）/ a signing date after today is intended"),
    ] = False,
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """登记协议签订，拨付首期资金 / record signing; the signing tranche is released. A date after
    today is refused unless --future says it is intended."""
    from flows.grants import grants_sign
    from models.errors import InputError, Problem

    if xlsx is None and (ref is None or on is None):
        raise InputError(
            Problem(
                "grants sign",
                "REF --on",
                "请给出申报编号和 --on 日期，或 --xlsx 文件",
                "give REF and --on, or --xlsx",
            )
        )
    from models.documents.engine.cn_format import local_date
    from models.funding.grants import check_signing_day, grant_by_ref, signings_from_xlsx
    from models.settings import get_settings
    from models.stage_order import StageRun
    from models.types import utcnow

    rows = [(ref, on.date(), f"grants sign {ref}")] if ref is not None and on is not None else []
    if xlsx is not None:  # read here, so a bad row is reported before any flow starts
        rows += signings_from_xlsx(xlsx)
    moment = utcnow()
    today = local_date(moment, get_settings().timezone)

    def signable(session: Session, comp: Competition) -> None:
        for row_ref, day, where in rows:  # what the run's task checks first, read-only
            check_signing_day(day, today=today, future=future, where=where)
            grant_by_ref(session, competition_id=comp.id or 0, ref=row_ref)

    slug = ready(competition, StageRun.grants_sign, signable)
    signings = [(row_ref, day) for row_ref, day, _ in rows]
    result = run_flow(grants_sign, slug, signings=signings, actor=actor, future=future, as_of=moment)
    line(f"已登记签订 / signed: {result['signed']}（首期拨款通知已发出 / first tranches released）")


@app.command("lapse")
def lapse_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_of: AsOfOption = None
) -> None:
    """逾期未签的协议失效 / agreements not signed by their date lapse."""
    from flows.grants import agreements_lapse
    from models.stage_order import StageRun

    slug = ready(competition, StageRun.grants_lapse)
    result = run_flow(agreements_lapse, slug, as_of=aware(as_of), actor=actor)
    line(f"逾期失效 / lapsed: {result['lapsed']}")
