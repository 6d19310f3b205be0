"""The demo's expert review, replaying the 2025 example's timeline.

The review opens on 5 March (every expert gets one letter with a personal link per sheet). Five of
the seven sample experts fill their sheets through the real portal over HTTP by 14 March; on
18 March, three days before the deadline, the other two get a reminder and then finish; the review
closes after the deadline on 21 March with the ranking and its documents.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.console import line, say
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 3, 5, 9, 0, tzinfo=BEIJING)
EARLY_EXPERTS_AT = datetime(2025, 3, 14, 20, 0, tzinfo=BEIJING)
REMINDERS_AT = datetime(2025, 3, 18, 17, 30, tzinfo=BEIJING)
LATE_EXPERTS_AT = datetime(2025, 3, 20, 21, 0, tzinfo=BEIJING)
CLOSE_AT = datetime(2025, 3, 21, 17, 30, tzinfo=BEIJING)
LATE_EXPERTS = 2  # how many sample experts wait for the reminder
ACTOR = "admin:demo"


def step_review_open(run: DemoRun) -> str:
    from flows.review import open_review

    result = asyncio.run(open_review(run.slug, actor=ACTOR, as_of=OPEN_AT))
    return (
        f"专家评审 / review: {result['applications']} 个项目，{result['sheets']} 份评分表 sheets，"
        f"{result['experts']} 位专家 experts，邀请信 invitations {result['invitations']}"
    )


def _fill(run: DemoRun, *, late: bool, at: datetime) -> int:
    from cli.demo.people.experts import fill_sheets, open_sheet_links
    from cli.demo.people.portal import running_portal
    from models.db import default_engine
    from models.settings import get_settings

    settings = get_settings()
    links = open_sheet_links(default_engine(), competition_id=run.competition_id or 0, settings=settings)
    experts = sorted({link.expert_id for link in links})
    late_ones = set(experts[-LATE_EXPERTS:]) if not late else set(experts)
    chosen = [link for link in links if (link.expert_id in late_ones) == late]
    with running_portal(settings, clock=lambda: at) as base_url:
        report = fill_sheets(chosen, base_url=base_url)
    return report.submitted


def step_early_experts(run: DemoRun) -> str:
    submitted = _fill(run, late=False, at=EARLY_EXPERTS_AT)
    return f"专家评分 / experts: 通过门户提交 {submitted} 份评分表 / {submitted} sheets submitted (portal)"


def step_reminders(run: DemoRun) -> str:
    from flows.review import review_reminders

    result = asyncio.run(review_reminders(run.slug, as_of=REMINDERS_AT))
    late = _fill(run, late=True, at=LATE_EXPERTS_AT)
    reminders = result["reminders"]
    return (
        f"评审提醒 / reminders: {reminders} 封提醒信 letters；之后又提交 {late} 份 / then {late} more sheets"
    )


def step_review_close(run: DemoRun) -> str:
    from flows.review import close_review

    result = asyncio.run(asyncio.to_thread(close_review, run.slug, ACTOR, CLOSE_AT, "林老师"))
    run.facts["panel"] = result["panel"]
    return (
        f"评审结束 / review closed: {result['results']} 个项目已排名 ranked，"
        f"专家评分表与评分汇总表 documents {result['documents']}"
    )


def show_ranking(run: DemoRun, *, top: int = 10) -> None:
    """The best-ranked applications of each pool, with the dropped totals and the panel's agreement:
    the figures that apply to the panel's design (the review report's ``applies``)."""
    from models.db import session_scope
    from models.review.agreement import NAMES
    from models.review.results import review_report

    if run.competition_id is None or "panel" not in run.facts:
        return
    with session_scope() as session:
        report: dict[str, Any] = review_report(session, competition_id=run.competition_id)
    line("")
    say(
        "[bold]评审排名 / ranking[/bold]（{method}，前 {top} 名 / top {top}）",
        method=report["method"],
        top=top,
    )
    for entry in [e for e in report["applications"] if e["rank"] is not None][:top]:
        dropped = "、".join(e["total"] for e in entry["experts"] if e["dropped"]) or "—"
        flags = "；".join(f["zh"] for f in entry["flags"])
        line(
            f"  {entry['rank']:>2}. {entry['ref']} {entry['title']} — {entry['aggregate']} "
            f"（去掉 dropped: {dropped}）{'  ⚑ ' + flags if flags else ''}"
        )
    panel = report["panel"]
    parts = []
    for key in panel.get("applies") or []:
        stat = panel.get(key) or {}
        name = NAMES[key]
        if key == "icc1_k" and panel.get("k0"):
            name = f"{name} (k̄ = k₀ = {panel['k0']})"
        value = stat.get("value")
        parts.append(f"{name} = {value}" if value is not None else f"{name}: 不适用 / not available")
    design = f"（{panel['design_text']}）" if panel.get("design_text") else ""
    line(f"  评审一致性 / agreement{design}: " + ("，".join(parts) or "—"))
