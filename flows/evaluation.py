"""结项 Final evaluation and the year's report: grade every project, settle its final tranche, tell
the applicant with the 结项评估报告 (and a failed one's 整改通知), close the competition; then the
年度总结报告."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.naming import run_name
from models.stage_order import StageRun
from models.types import utcnow
from tasks.artifacts import documents_artifact
from tasks.competition import competition_id_for
from tasks.doctor import preflight
from tasks.evaluation import (
    annual_report_task,
    assign_panel_task,
    close_task,
    evaluate_task,
    export_task,
    open_evaluation_task,
    publish_figures,
    queue_rectifications_task,
    queue_results_task,
    write_reports_task,
)
from tasks.mail.deliver import deliver_pending


@flow(name="final-evaluation", flow_run_name=run_name("结项评估 final evaluation"))
async def final_evaluation(
    slug: str | None = None, as_of: datetime | None = None, actor: str = "admin"
) -> dict[str, Any]:
    """Once the 结项 reports are in (and the expert panel's sheets, when one is configured): grade,
    settle, report, letter; close when every grant is done."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.final_evaluation)
    opened = open_evaluation_task(competition_id, actor, moment)
    panel = assign_panel_task(competition_id, actor, moment)  # nothing unless a panel is configured
    settled = evaluate_task(competition_id, actor, moment)
    reports = write_reports_task(competition_id, moment)
    letters = queue_results_task(competition_id, moment)
    rectifications = queue_rectifications_task(competition_id, moment)
    closed = close_task(competition_id, actor, moment)
    delivery = await deliver_pending(competition_id)
    documents_artifact(competition_id, slug or "")
    return {
        "opened": opened,
        "panel": panel,
        "evaluated": settled,
        "reports": len(reports),
        "letters": len(letters),
        "rectification_notices": len(rectifications),
        "closed": closed,
        "delivery": delivery,
    }


@flow(name="annual-report", flow_run_name=run_name("年度总结报告 annual report"))
def annual_report(slug: str | None = None, as_of: datetime | None = None) -> dict[str, Any]:
    """The year's figures (artifact) and the 年度总结报告 with its charts."""
    preflight()
    moment = as_of or utcnow()
    competition_id = competition_id_for(slug, StageRun.annual_report)
    figures = publish_figures(competition_id)
    document = annual_report_task(competition_id, moment)
    documents_artifact(competition_id, slug or "")
    return {"document": document, "figures": figures}


@flow(name="export-year", flow_run_name=run_name("导出 export"))
def export_year(slug: str | None, path: str) -> dict[str, int]:
    """Every table of the competition to one .xlsx workbook."""
    preflight()
    return export_task(competition_id_for(slug), path)
