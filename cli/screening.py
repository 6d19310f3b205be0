"""``grantflow screening run|override``: the eligibility screening from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.console import line, print_json
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware, pick

app = typer.Typer(help="资格审查 / eligibility screening", no_args_is_help=True)

ReviewerOption = Annotated[
    str,
    typer.Option(
        help="审查人（资格审查表签名；默认配置中的 competition.prepared_by 或承办单位）/ who signs the "
        "资格审查表 (default: competition.prepared_by, else the operator)"
    ),
]


def print_screening(rows: list[dict[str, Any]]) -> None:
    passed = [r for r in rows if r["eligible"]]
    line(f"通过 / eligible: {len(passed)}；未通过 / ineligible: {len(rows) - len(passed)}")
    for row in rows:
        if not row["eligible"]:
            text = f"  ✗ {row['ref']}  {row['title']}（{row['organisation']}）: " + "；".join(row["reasons"])
            line(text)
        for override in row["overrides"]:
            verdict = "符合" if override["passed"] else "不符合"
            text = f"    {row['ref']} 改判 / override {override['rule']} → {verdict}: {override['reason']}"
            line(text)


@app.command("run")
def run_command(
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    reviewer: ReviewerOption = "",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """资格审查：逐条审查、生成资格审查表、通知申报单位 / screen, write the sheets, send the results."""
    from flows.screening import screening
    from models.screening.notices import check_screening_may_run
    from models.stage_order import StageRun
    from models.types import utcnow

    moment = aware(as_of) or utcnow()
    slug = ready(competition, StageRun.screening, lambda _, comp: check_screening_may_run(comp, now=moment))
    result = run_flow(screening, slug, as_of=moment, actor=actor, reviewer=reviewer)
    if as_json:
        print_json(result)
        return
    line(
        f"本次审查 / screened now: {result['screened']}；资格审查表 / sheets written: {result['sheets']}；"
        f"结果通知 / result letters: {result['letters']}"
    )
    print_screening(result["applications"])


@app.command("override")
def override_command(
    ref: Annotated[str, typer.Argument(help="申报编号 / the application's reference, e.g. 2025-022")],
    rule: Annotated[
        str, typer.Argument(help="审查规则代码或名称 / rule code or name, e.g. barred, 禁止申报名单")
    ],
    passed: Annotated[bool, typer.Option("--pass/--fail", help="改判为符合或不符合 / the new result")],
    reason: Annotated[str, typer.Option("--reason", help="改判理由（记入审计）/ why (audited)")],
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    reviewer: ReviewerOption = "",
    as_of: AsOfOption = None,
) -> None:
    """改判一条审查结果（须写理由），并更新资格审查表、通知申报单位 / override one rule's result."""
    from flows.screening import screening
    from models.db import session_scope
    from models.screening.eligibility import override_check
    from models.screening.notices import application_by_ref, rule_code
    from models.stage_order import StageRun, require_stage
    from models.states import STATE_LABELS

    with session_scope() as session:
        comp = pick(session, competition)
        # the screening writes the override's sheet and letter: refused before it could
        require_stage(StageRun.screening, slug=comp.slug, stage=comp.stage)
        application = application_by_ref(session, competition_id=comp.id or 0, ref=ref)
        code = rule_code(rule)
        override_check(
            session, application_id=application.id or 0, rule=code, passed=passed, reason=reason, actor=actor
        )
        state = application.state
        slug = comp.slug
    line(
        f"已改判 / overridden: {ref} {code} → {'符合' if passed else '不符合'}；"
        f"申报状态 / application: {STATE_LABELS.get(state, state)} ({state})"
    )
    result = run_flow(screening, slug, as_of=aware(as_of), actor=actor, reviewer=reviewer)
    line(
        f"改判后的资格审查表 / sheets for the ruling: {result['sheets']}；"
        f"结果通知 / result letters: {result['letters']}"
    )
