"""``grantflow intake import|template``: applications in, receipts and refusal letters out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import error_line, line, print_json, say
from cli.flow_runs import run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

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
    for held in report.get("held", []):
        line(
            f"  ‖ 同一原因退回 {held['rows']}/{held['of']} 行，未受理通知暂存待放行 / one rule refused "
            f"{held['rows']} of {held['of']} rows, their letters are held: {held['rule']}"
        )
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


INTAKE_DEPLOYMENT = "intake/intake"  # deployments/prefect.yaml: flow "intake", deployment "intake"


@app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="申报文件 .xlsx .csv .json .docx / files to import")],
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason", help="截止后补录的理由（记入审计）/ why a late import is allowed (audited)"
        ),
    ] = None,
    deployment: Annotated[
        bool,
        typer.Option(
            "--deployment",
            help="把文件内容发给服务器上的 intake 部署运行（grantflow up 或 PREFECT_API_URL）并等待结果 / "
            "send the files' bytes to the server's intake deployment and wait for its result",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=1, help="--deployment: 最多等待的秒数 / seconds to wait for the run at most"
        ),
    ] = 1800,
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """导入申报，发送受理回执和未受理通知 / import applications; receipts and refusals are mailed."""
    if deployment:
        result = _import_on_server(files, override_reason, competition, actor, aware(as_of), timeout)
    else:
        result = _import_here(files, override_reason, competition, actor, aware(as_of))
    print_intake_result(result, as_json=as_json)


def _import_here(
    files: list[Path], override_reason: str | None, competition: str | None, actor: str, as_of: Any
) -> dict[str, Any]:
    """The flow in this process, on the files' paths (its result is not persisted)."""
    from flows.intake import intake
    from models.competition.tables import competition_config
    from models.db import session_scope
    from models.errors import InputError
    from models.intake.imports import check_on_time
    from models.intake.rows import check_file
    from models.types import utcnow

    for file in files:
        check_file(file, name=str(file))
    moment = as_of or utcnow()
    with session_scope() as session:  # what each file's import asks first, before the run
        comp = pick(session, competition)
        config = competition_config(comp)
    problems = []
    for file in files:
        try:
            check_on_time(config, now=moment, override_reason=override_reason, name=file.name)
        except InputError as refused:
            problems += refused.problems
    if problems:
        raise InputError(problems)
    return run_flow(
        intake.with_options(persist_result=False),
        comp.slug,
        files=[str(f.resolve()) for f in files],
        as_of=moment,
        override_reason=override_reason,
        actor=actor,
    )


def _import_on_server(
    files: list[Path],
    override_reason: str | None,
    competition: str | None,
    actor: str,
    as_of: Any,
    timeout: float,
) -> dict[str, Any]:
    """A run of the intake deployment, the files travelling as bytes (checked before anything is sent)."""
    from cli.on_server import run_on_server
    from models.intake.inbox import uploads_from

    uploads = uploads_from(files)
    parameters: dict[str, Any] = {"uploads": uploads, "actor": actor}
    if competition:
        parameters["slug"] = competition
    if as_of is not None:
        parameters["as_of"] = as_of.isoformat()
    if override_reason is not None:
        parameters["override_reason"] = override_reason
    return run_on_server(INTAKE_DEPLOYMENT, parameters, timeout=timeout)


def print_intake_result(result: dict[str, Any], *, as_json: bool) -> None:
    """The summary of an intake run (in this process or on the server); exit 1 if a file failed."""
    failed = [r for r in result["files"] if r["error"]]
    if as_json:
        print_json(result)
    else:
        for report in result["files"]:
            if not report["error"]:
                print_file_report(report)
        line(f"受理回执 / receipts: {result['receipts']}；未受理通知 / refusal letters: {result['refusals']}")
        if result.get("held"):
            line(
                f"其中 {result['held']} 封暂存为草稿，未发出：请核对文件与竞赛配置，确认后 grantflow outbox "
                f"release --all / {result['held']} of them are held as drafts, not sent: check the file and "
                "the configuration, then grantflow outbox release --all"
            )
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
    from models.competition.tables import competition_config
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.intake.template import write_intake_template

    if file.suffix.lower() != ".xlsx":
        raise InputError(Problem(str(file), "", "模板须为 .xlsx 文件", "the template must be an .xlsx file"))
    with session_scope() as session:
        config = competition_config(pick(session, competition))
    written = write_intake_template(file, config)
    line(f"已生成模板 / template written: {written}")
