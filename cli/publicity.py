"""``grantflow publicity show|close`` and ``publicity objection add|resolve``: the 公示 and its objections."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import line, print_json
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.competition.tables import Competition

app = typer.Typer(help="公示 / the public notice", no_args_is_help=True)
objection_app = typer.Typer(help="公示期异议 / objections during the notice", no_args_is_help=True)
app.add_typer(objection_app, name="objection")


def _now(as_of: datetime | None) -> datetime:
    from models.types import utcnow

    return aware(as_of) or utcnow()


@app.command("show")
def show_command(competition: CompetitionOption = None, as_json: JsonOption = False) -> None:
    """公示与异议 / every notice (window) and objection."""
    from models.db import session_scope
    from models.funding.publicity import publicity_report

    with session_scope() as session:
        comp = pick(session, competition)
        report = publicity_report(session, competition_id=comp.id or 0)
    if as_json:
        print_json(report)
        return
    for n in report["notices"]:
        status = (
            "已结束 closed"
            if n["closed_at"]
            else "已撤换 superseded"
            if n["superseded_at"]
            else "公示中 open"
        )
        line(
            f"公示第{n['seq']}次 / notice {n['seq']}: {n['first_day']} 起 {n['working_days']} 个工作日，"
            f"至 {n['ends_at']} — {status}"
        )
    for o in report["objections"]:
        line(
            f"  #{o['id']} {o['ref']} {o['by']}: {o['text']} — {o['state']}"
            + (f"（{o['resolution']}）" if o["resolution"] else "")
        )


@objection_app.command("add")
def add_command(
    ref: Annotated[str, typer.Argument(help="被异议项目的申报编号 / the project objected to")],
    by: Annotated[str, typer.Option("--by", help="异议人（实名）/ who objects")],
    text: Annotated[str, typer.Option("--text", help="异议的事实与理由 / the facts")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
) -> None:
    """登记公示期内的实名异议 / record a named objection during the window."""
    from models.db import session_scope
    from models.funding.publicity import add_objection

    with session_scope() as session:
        comp = pick(session, competition)
        objection = add_objection(
            session,
            competition_id=comp.id or 0,
            ref=ref,
            raised_by=by,
            text=text,
            now=_now(as_of),
            actor=actor,
        )
        number = objection.id
    line(f"已登记异议 / objection recorded: #{number}（{ref}）")


@objection_app.command("resolve")
def resolve_command(
    objection_id: Annotated[int, typer.Argument(help="异议编号 / the objection's number")],
    reason: Annotated[str, typer.Option("--reason", help="核实结论与理由 / the finding")],
    upheld: Annotated[
        bool, typer.Option("--upheld/--dismissed", help="异议成立 / 不成立 — upheld or dismissed")
    ] = False,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
) -> None:
    """处理异议：成立则修订方案并重新公示；不成立则记录理由 / uphold (revise, re-publish) or dismiss."""
    from models.db import session_scope
    from models.funding.publicity import current_notice, resolve_objection
    from models.settings import get_settings

    with session_scope() as session:
        objection = resolve_objection(
            session,
            objection_id=objection_id,
            upheld=upheld,
            reason=reason,
            now=_now(as_of),
            actor=actor,
            documents_dir=get_settings().documents_dir,
        )
        notice = current_notice(session, competition_id=objection.competition_id)
        state = str(objection.state)
        window = f"；公示第{notice.seq}次至 {notice.ends_at.isoformat()}" if notice is not None else ""
    line(f"异议 #{objection_id}: {state}{window}")
    if upheld and notice is None:
        line(
            "资助方案已修订，待管理员处理同分或其他异议后批准 / revised: decide the tie or the other "
            "objections, then grantflow funding approve"
        )


@app.command("close")
def close_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_of: AsOfOption = None
) -> None:
    """公示期满且无异议时结束公示，立项并发出通知书和协议书 / close the notice, award, send letters."""
    from flows.publicity import publicity_close
    from models.errors import Conflict
    from models.funding.publicity import why_notice_stays_open
    from models.stage_order import StageRun
    from models.states import CompetitionStage

    moment = _now(as_of)

    def may_close(session: Session, comp: Competition) -> None:
        if comp.stage is CompetitionStage.publicity:  # closed already: the run finishes the letters
            refusal = why_notice_stays_open(session, competition_id=comp.id or 0, now=moment)
            if refusal is not None:
                raise refusal

    slug = ready(competition, StageRun.publicity_close, may_close)
    result = run_flow(publicity_close, slug, as_of=moment, actor=actor)
    if result["stage"] != "implementation":  # an objection came in meanwhile
        raise Conflict("公示尚不能结束（公示期未满或有异议未处理）/ the notice cannot close yet")
    line(f"公示结束 / closed: 资助 grants {result['grants']}，通知 letters {result['letters']}")
