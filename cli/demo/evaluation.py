"""The demo's last steps, replaying the 2025 example's year end: the 结项评估 on 20 October (each
project graded, its final tranche settled, the applicant told with the 结项评估报告; a failed one
gets its 整改通知), the 整改 re-check of a failed 结项 filed from the year's data and evaluated on
29 October, the 年度总结报告 on 10 November, and the whole year exported to Excel.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cli.console import console, line
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
EVALUATION_AT = datetime(2025, 10, 20, 9, 0, tzinfo=BEIJING)
RECHECK_OPEN_AT = datetime(2025, 10, 27, 9, 0, tzinfo=BEIJING)  # the daily supervision run opens it
RECHECK_EVALUATION_AT = datetime(2025, 10, 29, 9, 0, tzinfo=BEIJING)
ANNUAL_REPORT_AT = datetime(2025, 11, 10, 9, 0, tzinfo=BEIJING)
ACTOR = "admin:demo"


def step_final_evaluation(run: DemoRun) -> str:
    from flows.evaluation import final_evaluation

    result = asyncio.run(final_evaluation(run.slug, as_of=EVALUATION_AT, actor=ACTOR))
    run.facts["evaluation"] = result["evaluated"]
    passed = sum(1 for row in result["evaluated"] if row["outcome"] == "released")
    ranked = sorted(result["evaluated"], key=lambda row: Decimal(str(row["score"])), reverse=True)
    grades = [str(row["grade"]) for row in ranked]
    spread = "、".join(f"{grade} {grades.count(grade)}" for grade in dict.fromkeys(grades))
    return (
        f"结项评估 / final evaluation: {len(result['evaluated'])} 个项目 projects（{spread}），"
        f"通过 passed {passed}；"
        f"结项评估报告 reports {result['reports']}，结果通知 letters {result['letters']}"
        + ("；竞赛已结束 / competition closed" if result["closed"] else "")
    )


def step_final_recheck(run: DemoRun) -> str:
    """A failed 结项's 整改 re-check: opened by the supervision run, its report and record filed
    through the portal from the year's data, then the second 结项评估."""
    from cli.demo.people.supervisors import fill_from_year
    from flows.evaluation import final_evaluation
    from flows.supervision import supervision

    asyncio.run(supervision(run.slug, actor=ACTOR, as_of=RECHECK_OPEN_AT))
    filed = fill_from_year(run.competition_id or 0, recheck=True, at=RECHECK_EVALUATION_AT).records
    if not filed:
        return "结项整改复查 / final re-checks: 无 none"
    result = asyncio.run(final_evaluation(run.slug, as_of=RECHECK_EVALUATION_AT, actor=ACTOR))
    outcomes = [row["outcome"] for row in result["evaluated"]]
    return (
        f"结项整改复查 / final re-checks: {filed} 个项目复查 rechecked，合格 passed "
        f"{outcomes.count('released')}，终止 terminated {outcomes.count('terminated')}"
        + ("；竞赛已结束 / competition closed" if result["closed"] else "")
    )


def step_annual_report(run: DemoRun) -> str:
    from flows.evaluation import annual_report
    from models.db import session_scope
    from models.documents.tables import GeneratedDocument
    from models.settings import get_settings

    result = annual_report(run.slug, as_of=ANNUAL_REPORT_AT)
    run.facts["figures"] = result["figures"]
    with session_scope() as session:
        document = session.get(GeneratedDocument, result["document"])
        assert document is not None
        path = get_settings().documents_dir / document.path
    run.notes.append(f"年度总结报告 / annual report: {path}")
    delivery = result["figures"]["delivery"]
    return (
        f"年度总结 / annual report: 服务 {delivery['person_times']} 人次 person-times"
        f"（计划 planned {delivery['planned_person_times']}），活动 {delivery['sessions']} 场 activities"
    )


def step_export(run: DemoRun) -> str:
    from flows.evaluation import export_year

    path = run.out / f"{run.slug}.xlsx"
    counts = export_year(run.slug, str(path))
    run.notes.append(f"全部数据 / every table (.xlsx): {path}")
    return f"导出 / export: {len(counts)} 张表 sheets，{sum(counts.values())} 行 rows → {path.name}"


def show_results(run: DemoRun) -> None:
    """Each project's final score, grade and outcome; the year's headline figures."""
    figures: dict[str, Any] | None = run.facts.get("figures")
    if run.competition_id is None or figures is None:
        return
    from models.db import session_scope
    from models.evaluation.tables import final_results
    from models.intake.tables import application_standing

    with session_scope() as session:
        finals = final_results(session, competition_id=run.competition_id)
        rows = application_standing(session, competition_id=run.competition_id)
    console.print("\n[bold]结项评估 / final evaluation[/bold]")
    for row in rows:
        final = finals.get(row["id"])
        if final is not None:
            line(f"  {row['ref']} {row['title']} — {final['score']} {final['grade']}（{row['state_label']}）")
    money = figures["money_yuan"]
    line(
        f"  资助 granted {money['granted']} 元 · 拨付 paid {money['paid']} 元 · "
        f"应退回 to return {money['to_return']} 元"
    )


STEPS = [
    ("结项评估 / final evaluation", step_final_evaluation),
    ("结项整改复查 / final re-checks", step_final_recheck),
    ("年度总结 / annual report", step_annual_report),
    ("导出 / export", step_export),
]
