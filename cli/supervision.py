"""``grantflow supervision supervisors|run|follow-up|status|reassign``: 督导 from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import cell, line, print_json, print_table
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

app = typer.Typer(help="督导 / supervision of funded projects", no_args_is_help=True)


def _competition_id(slug: str | None) -> int:
    from models.db import session_scope

    with session_scope() as session:
        competition = pick(session, slug)
        assert competition.id is not None
        return competition.id


@app.command("supervisors")
def supervisors_command(
    file: Annotated[
        Path, typer.Argument(help="督导名单 .xlsx（姓名、电子邮箱、电话、单位、专长）/ supervisors")
    ],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """导入督导名单并分配到资助项目 / import the supervisors list and assign them to the grants."""
    from models.db import session_scope
    from models.supervision.supervisors import assign_supervisors, load_supervisors

    competition_id = _competition_id(competition)
    with session_scope() as session:
        people = load_supervisors(session, competition_id=competition_id, actor=actor, path=file)
        assigned = assign_supervisors(session, competition_id=competition_id, actor=actor)
    line(f"督导 / supervisors: {len(people)}；新分配 / newly assigned: {len(assigned)}")


@app.command("run")
def run_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_of: AsOfOption = None
) -> None:
    """排期、发链接与提醒、逾期与结果 / schedule, invite, remind, mark overdue, settle."""
    from flows.supervision import supervision
    from models.stage_order import StageRun

    slug = ready(competition, StageRun.supervision)
    result = run_flow(supervision, slug, actor=actor, as_of=aware(as_of))
    line(
        f"检查点 / checkpoints: 新排期 scheduled {result['scheduled']}，开放 opened {result['opened']}；"
        f"邀请 invitations {result['invitations']}，提醒 reminders {result['reminders']}；"
        f"已判定 settled {len(result['settled'])}；"
        f"文书 documents {result['documents']}，信件 letters {result['letters']}"
    )


@app.command("follow-up")
def follow_up_command(
    competition: CompetitionOption = None, actor: ActorOption = "admin:cli", as_of: AsOfOption = None
) -> None:
    """判定已提交的检查点：拨付或暂缓、整改通知 / settle the submitted checkpoints."""
    from flows.supervision import checkpoint_follow_up
    from models.stage_order import StageRun

    slug = ready(competition, StageRun.supervision)
    result = run_flow(checkpoint_follow_up, slug, actor=actor, as_of=aware(as_of))
    for item in result["settled"]:
        verdict = "通过 passed" if item["passed"] else "未通过 failed"
        line(f"检查点 #{item['checkpoint_id']}: {verdict} — {item['reason']}")
    line(f"文书 / documents: {result['documents']}；信件 / letters: {result['letters']}")


@app.command("reassign")
def reassign_command(
    ref: Annotated[str, typer.Argument(help="申报编号 / the application's reference")],
    email: Annotated[str, typer.Argument(help="新督导的电子邮箱 / the new supervisor's email")],
    reason: Annotated[str, typer.Option("--reason", help="更换理由（记入审计）/ why (audited)")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
) -> None:
    """更换项目的督导（审计）/ hand a grant to another supervisor (audited)."""
    from models.db import session_scope
    from models.funding.grants import grant_by_ref
    from models.supervision.supervisors import reassign, supervisor_by_email

    competition_id = _competition_id(competition)
    with session_scope() as session:
        grant = grant_by_ref(session, competition_id=competition_id, ref=ref)
        supervisor = supervisor_by_email(session, competition_id=competition_id, email=email)
        moved = reassign(
            session, grant_id=grant.id or 0, supervisor_id=supervisor.id or 0, actor=actor, reason=reason
        )
        name = supervisor.name
    line(f"{ref} → {name}；检查点 / checkpoints moved: {len(moved)}")


@app.command("status")
def status_command(competition: CompetitionOption = None, json_output: JsonOption = False) -> None:
    """每个资助项目的督导、检查点、整改与拨付 / every grant: checkpoints, outcomes, tranches."""
    from models.db import session_scope
    from models.supervision.status import supervision_status

    competition_id = _competition_id(competition)
    with session_scope() as session:
        entries: list[dict[str, Any]] = supervision_status(session, competition_id=competition_id)
    if json_output:
        print_json({"grants": entries})
        return
    table = Table(title="督导 / supervision")
    for column in ("申报编号", "项目", "状态", "督导", "检查点", "拨付"):
        table.add_column(column)
    for e in entries:
        checkpoints = "\n".join(
            f"{c['code']}#{c['round']} {c['due_on']} {c['state_label']}"
            + (f" {c['score']}" if c["score"] is not None else "")
            for c in e["checkpoints"]
        )
        tranches = "\n".join(f"{t['label']} {t['amount_yuan']} {t['state_label']}" for t in e["tranches"])
        state = e["state_label"] + (
            f"\n应退回 clawback {e['termination']['clawback_yuan']}" if e["termination"] else ""
        )
        table.add_row(
            cell(e["ref"]),
            cell(e["title"]),
            cell(state),
            cell("、".join(s["name"] for s in e["supervisors"])),
            cell(checkpoints),
            cell(tranches),
        )
    print_table(table)
