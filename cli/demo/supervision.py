"""The demo's supervision (督导), replaying the example's 2025 timeline after funding.

On 2 June the mid-term checkpoints open: supervisors are assigned, each supervisor gets one link
per checkpoint and each project a link for its 中期报告. By 20 June every project reports and every
supervisor fills the 督导记录表 through the real portal over HTTP, with one upload each; the second
project fails its mid-term (tranche withheld, 整改通知) and the third too. On 3 July the re-checks:
the second passes (the withheld tranche is released), the third fails again; on 4 July the
administrator terminates it (终止通知, claw-back). The first project's mid-term passes on 20 June.

On 16 September the 结项评估 checkpoints open; by 10 October every running project files its 结项报告
and its supervisor the 结项 record (all passing); the final evaluation (``cli/demo/evaluation.py``)
then settles them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from cli.console import console, line
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 6, 2, 9, 0, tzinfo=BEIJING)
MIDTERM_AT = datetime(2025, 6, 20, 15, 0, tzinfo=BEIJING)
RECHECK_AT = datetime(2025, 7, 3, 15, 0, tzinfo=BEIJING)
TERMINATE_AT = datetime(2025, 7, 4, 10, 0, tzinfo=BEIJING)
FINAL_OPEN_AT = datetime(2025, 9, 16, 9, 0, tzinfo=BEIJING)
FINAL_REPORTS_AT = datetime(2025, 10, 10, 15, 0, tzinfo=BEIJING)
ACTOR = "admin:demo"
TERMINATION_REASON = "中期评估不合格，整改复查仍不合格 / failed the mid-term and its re-check"


def _grants(run: DemoRun) -> list[int]:
    """The running grants by 申报编号: the demo's second fails once, its third twice."""
    from models.db import session_scope
    from models.supervision.supervisors import running_grants

    with session_scope() as session:
        return [g.id or 0 for g, _, _ in running_grants(session, competition_id=run.competition_id or 0)]


def step_supervision_open(run: DemoRun) -> str:
    from flows.supervision import supervision

    result = asyncio.run(supervision(run.slug, actor=ACTOR, as_of=OPEN_AT))
    return (
        f"督导 / supervision: {result['assigned']} 个项目分配督导 assigned，检查点 checkpoints "
        f"{result['scheduled']}（开放 open {result['opened']}），链接信 letters {result['invitations']}"
    )


def _fill(run: DemoRun, *, recheck: bool, at: datetime, verdicts: dict[int, str]) -> int:
    from models.db import default_engine
    from models.settings import get_settings
    from portal.demo_experts import running_portal
    from portal.demo_supervisors import fill_checkpoints, first_round_links, recheck_links

    settings = get_settings()
    choose = recheck_links if recheck else first_round_links
    links = choose(default_engine(), competition_id=run.competition_id or 0, settings=settings)
    with running_portal(settings, clock=lambda: at) as base_url:
        report = fill_checkpoints(links, verdicts=verdicts, visit_day=at.date(), base_url=base_url)
    return report.records


def _follow_up(run: DemoRun, at: datetime) -> list[dict[str, object]]:
    from flows.supervision import checkpoint_follow_up

    return list(asyncio.run(checkpoint_follow_up(run.slug, actor=ACTOR, as_of=at))["settled"])


def step_midterm(run: DemoRun) -> str:
    grants = _grants(run)
    verdicts = {g: "fail" for g in grants[1:3]}
    run.facts["supervision_failing"] = grants[1:3]
    records = _fill(run, recheck=False, at=MIDTERM_AT, verdicts=verdicts)
    settled = _follow_up(run, MIDTERM_AT)
    passed = sum(1 for s in settled if s["passed"])
    return (
        f"中期评估 / mid-term: {records} 份督导记录 records（含上传 with uploads），"
        f"通过 passed {passed}，未通过 failed {len(settled) - passed}"
        "（暂缓拨付、整改通知 withheld, rectification）"
    )


def step_recheck(run: DemoRun) -> str:
    failing: list[int] = run.facts.get("supervision_failing", [])
    verdicts = {g: ("pass" if i == 0 else "fail") for i, g in enumerate(failing)}
    records = _fill(run, recheck=True, at=RECHECK_AT, verdicts=verdicts)
    settled = _follow_up(run, RECHECK_AT)
    passed = sum(1 for s in settled if s["passed"])
    return (
        f"整改复查 / re-checks: {records} 份 records，通过 passed {passed}（暂缓的款项拨付 released），"
        f"仍未通过 failed again {len(settled) - passed}"
    )


def step_termination(run: DemoRun) -> str:
    from models.competition.tables import Competition
    from models.db import session_scope
    from models.money import format_yuan
    from models.settings import get_settings
    from models.supervision.notices import queue_outcome_letters
    from models.supervision.outcomes import terminate_grant

    failing: list[int] = run.facts.get("supervision_failing", [])
    if len(failing) < 2:
        return "终止 / termination: 无 none"
    with session_scope() as session:
        termination = terminate_grant(
            session, grant_id=failing[1], reason=TERMINATION_REASON, actor=ACTOR, now=TERMINATE_AT
        )
        competition = session.get(Competition, run.competition_id)
        assert competition is not None
        queue_outcome_letters(session, competition=competition, settings=get_settings(), now=TERMINATE_AT)
        clawback = termination.clawback_fen
    return (
        f"终止 / termination: 1 个项目 project，应退回 claw back {format_yuan(clawback)} 元，"
        "终止通知已发出 / letter queued"
    )


def show_supervision(run: DemoRun) -> None:
    """Every grant with its checkpoints and tranches."""
    from models.db import session_scope
    from models.supervision.status import supervision_status

    if run.competition_id is None:
        return
    with session_scope() as session:
        entries = supervision_status(session, competition_id=run.competition_id)
    console.print("\n[bold]督导 / supervision[/bold]")
    for e in entries:
        checkpoints = "，".join(f"{c['code']}#{c['round']} {c['state_label']}" for c in e["checkpoints"])
        tranches = "，".join(f"{t['label']} {t['state_label']}" for t in e["tranches"])
        line(f"  {e['ref']} {e['title']} — {e['state_label']}：{checkpoints}；拨付 {tranches}")


def step_final_reports(run: DemoRun) -> str:
    """The 结项 checkpoints open; every running project and its supervisor report through the portal."""
    from flows.supervision import supervision

    opened = asyncio.run(supervision(run.slug, actor=ACTOR, as_of=FINAL_OPEN_AT))
    records = _fill(run, recheck=False, at=FINAL_REPORTS_AT, verdicts={})
    return (
        f"结项报告 / final reports: 检查点开放 opened {opened['opened']}，"
        f"结项报告与督导记录 {records} 份 / reports and records filed through the portal"
    )


STEPS = [
    ("督导开始 / supervision opens", step_supervision_open),
    ("中期评估 / mid-term", step_midterm),
    ("整改复查 / re-checks", step_recheck),
    ("终止 / termination", step_termination),
    ("结项报告 / final reports", step_final_reports),
]
