"""``grantflow evaluation run|annual-report``: the 结项 and the year's report from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.console import cell, line, print_json, print_table
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware

app = typer.Typer(help="结项评估与年度总结 / final evaluation and the year's report", no_args_is_help=True)


@app.command("run")
def run_command(
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """结项评估：评分定级、尾款、结果通知 / grade each project, settle its final tranche, send the results."""
    from flows.evaluation import final_evaluation
    from models.stage_order import StageRun

    slug = ready(competition, StageRun.final_evaluation)
    result = run_flow(final_evaluation, slug, as_of=aware(as_of), actor=actor)
    if as_json:
        print_json(result)
        return
    table = Table("资助 Grant", "轮次 Round", "得分 Score", "等级 Grade", "结论 Outcome")
    for row in result["evaluated"]:
        table.add_row(
            cell(row["grant_id"]),
            cell(row["round"]),
            cell(row["score"]),
            cell(row["grade"]),
            cell(row["outcome"]),
        )
    print_table(table)
    panel = result.get("panel") or {}
    if panel.get("sheets") or panel.get("letters"):
        line(
            f"结项专家评审 / expert panel: {panel['sheets']} 份评分表 sheets，"
            f"{panel['letters']} 封邀请 letters"
        )
    line(
        f"结项评估报告 / reports: {result['reports']}；结果通知 / letters: {result['letters']}；"
        f"{'竞赛已结束 / competition closed' if result['closed'] else '尚有项目未结项 / grants still open'}"
    )


@app.command("annual-report")
def annual_report_command(competition: CompetitionOption = None, as_of: AsOfOption = None) -> None:
    """生成年度总结报告（含图表）/ write the year's report with its charts."""
    from flows.evaluation import annual_report
    from models.db import session_scope
    from models.documents.tables import GeneratedDocument
    from models.settings import get_settings
    from models.stage_order import StageRun

    result = run_flow(annual_report, ready(competition, StageRun.annual_report), as_of=aware(as_of))
    with session_scope() as session:
        document = session.get(GeneratedDocument, result["document"])
        assert document is not None
        path = get_settings().documents_dir / document.path
    line(f"年度总结报告 / annual report: {path}")
