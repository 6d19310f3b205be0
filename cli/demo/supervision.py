"""The demo's supervision (督导), replaying the example's 2025 timeline after funding.

What every grantee reports and every supervisor records is data: examples/jiangtou-2025/year.yaml
(``cli.demo.example.year``), typed into the portal over HTTP by the sample people
(``cli.demo.people.supervisors``), each form on its own day.

On 2 June the mid-term checkpoints open: supervisors are assigned, each supervisor gets one link
per checkpoint and each project a link for its 中期报告. Between 10 and 19 June every project reports
and every supervisor fills the 督导记录表 with one upload each; on 20 June they are settled. In the
example's data two projects fail their mid-term (tranche withheld, 整改通知); on 3 July the re-checks
settle: one passes (the withheld tranche is released), the other fails again, and on 4 July the
administrator terminates it (终止通知, claw-back) for the reason the data gives.

On 16 September the 结项评估 checkpoints open; by 10 October every running project files its 结项报告
and its supervisor the 结项 record; the final evaluation (``cli/demo/evaluation.py``) grades them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.console import console, line
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 6, 2, 9, 0, tzinfo=BEIJING)
MIDTERM_AT = datetime(2025, 6, 20, 15, 0, tzinfo=BEIJING)
RECHECK_AT = datetime(2025, 7, 3, 15, 0, tzinfo=BEIJING)
TERMINATE_AT = datetime(2025, 7, 4, 10, 0, tzinfo=BEIJING)
FINAL_OPEN_AT = datetime(2025, 9, 16, 9, 0, tzinfo=BEIJING)
FINAL_REPORTS_AT = datetime(2025, 10, 10, 18, 0, tzinfo=BEIJING)
ACTOR = "admin:demo"


def step_supervision_open(run: DemoRun) -> str:
    from flows.supervision import supervision

    result = asyncio.run(supervision(run.slug, actor=ACTOR, as_of=OPEN_AT))
    return (
        f"督导 / supervision: {result['assigned']} 个项目分配督导 assigned，检查点 checkpoints "
        f"{result['scheduled']}（开放 open {result['opened']}），链接信 letters {result['invitations']}"
    )


def fill_from_year(run: DemoRun, *, recheck: bool, at: datetime) -> int:
    from cli.demo.people.supervisors import fill_from_year as fill

    return fill(run.competition_id or 0, recheck=recheck, at=at).records


def _follow_up(run: DemoRun, at: datetime) -> list[dict[str, Any]]:
    from flows.supervision import checkpoint_follow_up

    return list(asyncio.run(checkpoint_follow_up(run.slug, actor=ACTOR, as_of=at))["settled"])


def _scores(settled: Sequence[dict[str, Any]]) -> str:
    """The settled records' scores, lowest to highest (what the demo's reader checks at a glance)."""
    from sqlmodel import col, select

    from models.db import session_scope
    from models.supervision.tables import CheckpointReport

    ids = [int(s["checkpoint_id"]) for s in settled]
    with session_scope() as session:
        scores = sorted(
            session.exec(select(CheckpointReport.score).where(col(CheckpointReport.checkpoint_id).in_(ids)))
        )
    return "、".join(str(score) for score in scores)


def step_midterm(run: DemoRun) -> str:
    records = fill_from_year(run, recheck=False, at=MIDTERM_AT)
    settled = _follow_up(run, MIDTERM_AT)
    passed = sum(1 for s in settled if s["passed"])
    return (
        f"中期评估 / mid-term: {records} 份督导记录 records（含上传 with uploads），得分 scores "
        f"{_scores(settled)}；通过 passed {passed}，未通过 failed {len(settled) - passed}"
        "（暂缓拨付、整改通知 withheld, rectification）"
    )


def step_recheck(run: DemoRun) -> str:
    records = fill_from_year(run, recheck=True, at=RECHECK_AT)
    settled = _follow_up(run, RECHECK_AT)
    passed = sum(1 for s in settled if s["passed"])
    return (
        f"整改复查 / re-checks: {records} 份 records，得分 scores {_scores(settled)}；"
        f"通过 passed {passed}（暂缓的款项拨付 released），仍未通过 failed again {len(settled) - passed}"
    )


def step_termination(run: DemoRun) -> str:
    """Each grant whose re-check failed is terminated, for the reason the year's data gives.

    The failed re-checks are read from the database, not from what the re-check step reported:
    a year continued after a crash in the re-checks finds them settled before the crash."""
    from sqlmodel import col, select

    from cli.demo.example.year import load_year
    from models.competition.tables import Competition
    from models.db import session_scope
    from models.funding.tables import Grant
    from models.money import format_yuan
    from models.settings import get_settings
    from models.states import CheckpointState, GrantState
    from models.supervision.notices import queue_outcome_letters
    from models.supervision.outcomes import terminate_grant
    from models.supervision.plan import grant_parts
    from models.supervision.tables import Checkpoint

    year = load_year()
    clawback = 0
    with session_scope() as session:
        failing = session.exec(
            select(Checkpoint)
            .join(Grant)
            .where(
                Grant.competition_id == run.competition_id,
                Grant.state != GrantState.terminated,
                Checkpoint.round == 2,
                Checkpoint.state == CheckpointState.failed,
            )
            .order_by(col(Checkpoint.id))
        ).all()
        if not failing:
            return "终止 / termination: 无 none"
        for checkpoint in failing:
            _, application, _ = grant_parts(session, checkpoint.grant_id)
            reason = year.project(application.title).termination or "整改复查仍不合格"
            termination = terminate_grant(
                session, grant_id=checkpoint.grant_id, reason=reason, actor=ACTOR, now=TERMINATE_AT
            )
            clawback += termination.clawback_fen
        competition = session.get(Competition, run.competition_id)
        assert competition is not None
        queue_outcome_letters(session, competition=competition, settings=get_settings(), now=TERMINATE_AT)
    return (
        f"终止 / termination: {len(failing)} 个项目 project，应退回 claw back {format_yuan(clawback)} 元，"
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
    records = fill_from_year(run, recheck=False, at=FINAL_REPORTS_AT)
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
