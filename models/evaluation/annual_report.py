"""年度总结报告: the year's figures (``annual.annual_figures``) as the annual_report document, with
its four charts drawn at print resolution (300 dpi) in Noto Sans CJK SC: money by community,
money by category, planned against delivered person-times by category, and the grade distribution.

The highlights and problems are sentences made from the figures, never typed by hand; every
number in them is one of the figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from models.competition.tables import Competition, competition_config
from models.documents.engine.charts import bar_chart, grouped_bar_chart, pie_chart
from models.documents.engine.cn_format import percent
from models.documents.engine.docx import InlineImage
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.evaluation.annual import annual_figures, money_lines
from models.money import format_yuan
from models.settings import Settings

PRINT_DPI = 300


def _yuan(fen: int) -> int:
    return fen // 100  # whole yuan, for a chart's bars only


def charts(figures: dict[str, Any]) -> dict[str, InlineImage]:
    communities = figures["by_community"]
    categories = figures["by_category"]
    return {
        "chart_communities": InlineImage(
            bar_chart(
                [row["name"] for row in communities],
                [_yuan(row["granted_fen"]) for row in communities],
                title="各社区立项资助金额",
                unit="元",
                dpi=PRINT_DPI,
            ),
            width_mm=150,
            description="各社区立项资助金额柱状图",
        ),
        "chart_categories": InlineImage(
            pie_chart(
                [row["name"] for row in categories],
                [row["granted_fen"] for row in categories],
                title="资助金额按服务领域构成",
                dpi=PRINT_DPI,
            ),
            width_mm=110,
            description="资助金额按服务领域构成饼图",
        ),
        "chart_delivery": InlineImage(
            grouped_bar_chart(
                [row["name"] for row in categories],
                [
                    ("计划服务人次", [row["planned_person_times"] for row in categories]),
                    ("实际服务人次", [row["person_times"] for row in categories]),
                ],
                title="各服务领域计划与实际服务人次",
                unit="人次",
                dpi=PRINT_DPI,
            ),
            width_mm=150,
            description="计划与实际服务人次对比柱状图",
        ),
        "chart_grades": InlineImage(
            bar_chart(
                [row["grade"] for row in figures["grades"]],
                [row["count"] for row in figures["grades"]],
                title="结项评估等级分布",
                unit="项目数",
                dpi=PRINT_DPI,
            ),
            width_mm=120,
            description="结项评估等级分布柱状图",
        ),
    }


def _sentences(figures: dict[str, Any]) -> tuple[list[str], list[str]]:
    delivery, outcomes = figures["delivery"], figures["outcomes"]
    covered = [row["name"] for row in figures["by_category"] if row["funded"]]
    highlights = [
        f"立项项目覆盖{figures['communities_covered']}个社区（共{figures['communities_total']}个），"
        f"涉及{'、'.join(covered) or '—'}{len(covered)}个公益领域；",
        f"开展活动{delivery['sessions']}场（计划{delivery['planned_sessions']}场），"
        f"服务{delivery['person_times']}人次（计划{delivery['planned_person_times']}人次，"
        f"完成{percent(delivery['person_times'], delivery['planned_person_times'])}）；",
    ]
    passed = sum(row["count"] for row in figures["grades"] if row["passed"])
    evaluated = sum(row["count"] for row in figures["grades"])
    if evaluated:
        highlights.append(f"{evaluated}个项目完成结项评估，{passed}个评估合格。")
    problems = []
    if outcomes["rectified"]:
        problems.append(f"{outcomes['rectified']}个项目评估未达标，经限期整改；")
    if outcomes["terminated"]:
        problems.append(f"{outcomes['terminated']}个项目终止资助，相关单位按规定暂停申报资格；")
    empty = [row["name"] for row in figures["by_community"] if not row["funded"]]
    if empty:
        problems.append(f"{'、'.join(empty)}社区本年度没有立项项目，需加强动员和培育；")
    if figures["money"]["to_return_fen"]:
        problems.append(
            f"{len(figures['returns'])}个项目应退回资金合计{format_yuan(figures['money']['to_return_fen'])}元"
            "（明细见第一部分），须按通知期限退回。"
        )
    return highlights, problems or ["无。"]


def annual_report_context(
    figures: dict[str, Any], *, organiser: str, operator: str, issue_date: date
) -> dict[str, Any]:
    """The annual_report role's context from the year's figures."""
    money, delivery, outcomes = figures["money"], figures["delivery"], figures["outcomes"]
    highlights, problems = _sentences(figures)
    agreement = figures["review_agreement"]
    return {
        "competition_name": figures["name"],
        "year": figures["year"],
        "organiser": organiser,
        "operator": operator,
        "applications_count": figures["applications"]["received"],
        "eligible_count": figures["applications"]["eligible"],
        "funded_count": figures["applications"]["funded"],
        "completed_count": outcomes["completed"],
        "terminated_count": outcomes["terminated"],
        "rectified_count": outcomes["rectified"],
        "pool_fen": money["pool_fen"],
        "requested_fen": money["requested_fen"],
        "money_lines": money_lines(money),
        "to_return_fen": money["to_return_fen"],
        "returns": figures["returns"],
        "sessions_total": delivery["sessions"],
        "planned_sessions": delivery["planned_sessions"],
        "participants_total": delivery["person_times"],
        "planned_participants": delivery["planned_person_times"],
        "communities_covered": figures["communities_covered"],
        "communities_total": figures["communities_total"],
        "by_pool": figures["by_pool"],
        "by_category": figures["by_category"],
        "by_community": figures["by_community"],
        "grades": figures["grades"],
        "agreement": agreement["summary"]["zh"],
        "timeline": [{**row, "date": date.fromisoformat(row["date"])} for row in figures["timeline"]],
        "highlights": highlights,
        "problems": problems,
        "issue_date": issue_date,
        **charts(figures),
    }


def annual_report_of(session: Session, *, competition_id: int) -> GeneratedDocument | None:
    """The competition's 年度总结报告, once written."""
    return session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.role == "annual_report",
            GeneratedDocument.subject_entity == "competition",
            GeneratedDocument.subject_id == competition_id,
        )
    ).first()


def write_annual_report(
    session: Session, *, competition: Competition, issue_date: date, settings: Settings
) -> GeneratedDocument:
    """The year's 年度总结报告 under the documents folder, written once (a re-run returns it as it
    was, without drawing its charts again)."""
    assert competition.id is not None
    written = annual_report_of(session, competition_id=competition.id)
    if written is not None and (settings.documents_dir / written.path).is_file():
        return written
    config = competition_config(competition)
    figures = annual_figures(session, competition_id=competition.id, timezone=settings.timezone)
    context = annual_report_context(
        figures,
        organiser=competition.organiser,
        operator=config.competition.operator or competition.organiser,
        issue_date=issue_date,
    )
    return write_document(
        session,
        role="annual_report",
        context=context,
        competition_id=competition.id,
        stage="evaluation",
        subject_entity="competition",
        subject_id=competition.id,
        filename=f"年度总结报告-{competition.year}.docx",
        documents_dir=settings.documents_dir,
    )
