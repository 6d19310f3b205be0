"""The demo's funding decision, 公示 and agreements, replaying the 2025 example's timeline.

On Monday 24 March the administrator drafts the decision from the ranking and approves it; the
拟资助项目公示 opens for 5 working days (to Friday 28 March, 17:30). On 25 March a resident objects
to the best-ranked project; on 26 March the objection is dismissed with the finding. On Monday
31 March the lifecycle closes the notice: grants, 立项通知书 with the 资助协议书, 未入选通知. The
agreements are signed on 8 April and the first tranches are released with their 拨款通知.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.console import console, line
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
DECIDE_AT = datetime(2025, 3, 24, 9, 0, tzinfo=BEIJING)
OBJECTION_AT = datetime(2025, 3, 25, 10, 30, tzinfo=BEIJING)
RESOLVED_AT = datetime(2025, 3, 26, 15, 0, tzinfo=BEIJING)
CLOSE_AT = datetime(2025, 3, 31, 9, 5, tzinfo=BEIJING)
SIGNED_ON = date(2025, 4, 8)
ACTOR = "admin:demo"


def step_funding_draft(run: DemoRun) -> str:
    from flows.funding import funding_draft

    result = funding_draft(run.slug, actor=ACTOR)
    run.facts["funding"] = result["report"]
    from models.money import format_yuan

    return (
        f"资助方案 / funding draft: 资助 {result['funded']} 项，{format_yuan(result['funded_fen'])} 元；"
        f"退回 returned {format_yuan(result['returned_fen'])} 元；同分待决 open ties {len(result['ties'])}"
    )


def step_funding_approve(run: DemoRun) -> str:
    from flows.funding import funding_approve

    result = funding_approve(run.slug, actor=ACTOR, as_of=DECIDE_AT)
    notice = result["notice"]
    ends = datetime.fromisoformat(notice["ends_at"]).astimezone(BEIJING)
    return f"批准并公示 / approved, notice {notice['seq']} open until {ends:%Y-%m-%d %H:%M}（5个工作日）"


def step_objection(run: DemoRun) -> str:
    from models.db import session_scope
    from models.funding.publicity import add_objection, listed_projects, resolve_objection
    from models.settings import get_settings

    with session_scope() as session:
        _, application, _ = listed_projects(session, competition_id=run.competition_id or 0)[0]
        objection = add_objection(
            session,
            competition_id=run.competition_id or 0,
            ref=application.ref,
            raised_by="江头社区居民 陈先生",
            text="该项目的服务对象与本社区另一项目重复",
            now=OBJECTION_AT,
            actor=ACTOR,
        )
        resolve_objection(
            session,
            objection_id=objection.id or 0,
            upheld=False,
            reason="经核实，两个项目服务对象分别为独居老人和学龄儿童，不重复",
            now=RESOLVED_AT,
            actor=ACTOR,
            documents_dir=get_settings().documents_dir,
        )
        ref = application.ref
    return f"公示期异议 / objection to {ref}: 经核实不成立，理由已记录 / dismissed with the finding"


def step_publicity_close(run: DemoRun) -> str:
    from flows.lifecycle import advance

    result = asyncio.run(advance(run.slug, as_of=CLOSE_AT, actor="system:lifecycle"))
    outcome = result.get("result") or {}
    return (
        f"公示结束 / notice closed ({result.get('step')}): 立项 grants {outcome.get('grants', 0)}，"
        f"通知书与协议书 letters {outcome.get('letters', 0)}"
    )


def step_signatures(run: DemoRun) -> str:
    from flows.grants import grants_sign
    from models.db import session_scope
    from models.funding.tables import grants_of
    from models.intake.tables import Application

    with session_scope() as session:
        refs = [
            app.ref
            for grant in grants_of(session, competition_id=run.competition_id or 0)
            if (app := session.get(Application, grant.application_id)) is not None
        ]
    result = asyncio.run(grants_sign(run.slug, signings=[(ref, SIGNED_ON) for ref in refs], actor=ACTOR))
    return (
        f"协议签订 / agreements signed: {result['signed']} 份，首期拨款通知已发出 / first tranches released"
    )


def show_funding(run: DemoRun) -> None:
    """The decision with every project's reason, and what was paid at signing."""
    from models.db import session_scope
    from models.funding.decision import funding_report
    from models.funding.tranches import tranche_report
    from models.money import format_yuan

    if run.competition_id is None or "funding" not in run.facts:
        return
    with session_scope() as session:
        report: dict[str, Any] = funding_report(session, competition_id=run.competition_id)
        paid = [
            t for t in tranche_report(session, competition_id=run.competition_id) if t["state"] == "released"
        ]
    console.print("\n[bold]资助方案 / funding decision[/bold]（每项一句理由 / one sentence each）")
    for row in report["applications"]:
        line(
            f"  {row['ref']} {format_yuan(row['amount_fen']):>10} 元  "
            + row["explanation"].partition(" / ")[0]
        )
    line(
        f"  合计 / total: 资助 {format_yuan(report['funded_fen'])} + "
        f"退回 {format_yuan(report['returned_fen'])} = 资金池 {format_yuan(report['pool_fen'])}"
        + (" ✓" if report["reconciles"] else " ✗")
    )
    total = sum(t["amount_fen"] for t in paid)
    line(f"  已拨付 / tranches paid so far: {len(paid)} 笔，{format_yuan(total)} 元")
