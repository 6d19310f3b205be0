"""``grantflow intake import|template``: applications in, receipts and refusal letters out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import error_line, line, print_json, say
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, resolve_slug

app = typer.Typer(help="申报受理 / intake of applications", no_args_is_help=True)


def print_file_report(report: dict[str, Any]) -> None:
    accepted, duplicates, refused = report["accepted"], report["duplicates"], report["refused"]
    late = "（逾期补录 / late, with the administrator's reason）" if report["late"] else ""
    say(
        "[bold]{file}[/bold]{late}: 受理 / accepted {accepted}，重复 / duplicates {duplicates}，"
        "未受理 / refused {refused}",
        file=report["file"],
        late=late,
        accepted=len(accepted),
        duplicates=len(duplicates),
        refused=len(refused),
    )
    for notice in report.get("notices", []):
        line(f"  ! {notice['where']}: {notice['zh']} / {notice['en']}")
    for row in accepted:
        line(f"  ✓ {row['ref']}  {row['title']}  ({row['source']})")
    for row in duplicates:
        line(f"  = {row['where']}: 已受理过 / already received as {row['ref']}  {row['title']}")
    for row in refused:
        who = " · ".join(x for x in (row["title"], row["organisation"]) if x) or "（未填写项目名称）"
        mail = (
            f" → {row['email']}" if row["email"] else " （无有效邮箱，不发信 / no usable email: no letter）"
        )
        line(f"  ✗ {row['where']}: {who}{mail}")
        for problem in row["problems"]:
            place = f"{problem['where']}: " if problem["where"] not in ("", row["where"]) else ""
            field = f"{problem['field']}: " if problem["field"] else ""
            line(f"      - {place}{field}{problem['zh']} / {problem['en']}")


@app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="申报文件 .xlsx .csv .json .docx / files to import")],
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason", help="截止后补录的理由（记入审计）/ why a late import is allowed (audited)"
        ),
    ] = None,
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """导入申报，发送受理回执和未受理通知 / import applications; receipts and refusals are mailed."""
    from flows.intake import intake
    from models.intake.rows import check_file

    for file in files:
        check_file(file, name=str(file))
    result = asyncio.run(
        intake(
            resolve_slug(competition),
            files=[str(f.resolve()) for f in files],
            as_of=aware(as_of),
            override_reason=override_reason,
            actor=actor,
        )
    )
    failed = [r for r in result["files"] if r["error"]]
    if as_json:
        print_json(result)
    else:
        for report in result["files"]:
            if not report["error"]:
                print_file_report(report)
        line(f"受理回执 / receipts: {result['receipts']}；未受理通知 / refusal letters: {result['refusals']}")
    for report in failed:
        error_line(report["error"])
    if failed:
        raise typer.Exit(1)


@app.command("template")
def template_command(
    file: Annotated[Path, typer.Argument(help="输出的 .xlsx 文件 / where to write the workbook")],
    competition: CompetitionOption = None,
) -> None:
    """生成 Excel 申报汇总表模板 / write the Excel intake template of the competition."""
    from models.competition.tables import competition_config, get_competition
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.intake.template import write_intake_template

    if file.suffix.lower() != ".xlsx":
        raise InputError(Problem(str(file), "", "模板须为 .xlsx 文件", "the template must be an .xlsx file"))
    with session_scope() as session:
        config = competition_config(get_competition(session, slug=competition))
    written = write_intake_template(file, config)
    line(f"已生成模板 / template written: {written}")
