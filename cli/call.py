"""``grantflow call publish``: publish the competition's call."""

from __future__ import annotations

import typer

from cli.console import line, print_json
from cli.flow_runs import ready, run_flow
from cli.options import ActorOption, AsOfOption, CompetitionOption, JsonOption, aware

app = typer.Typer(help="征集 / the call for applications", no_args_is_help=True)


@app.command("publish")
def publish(
    competition: CompetitionOption = None,
    actor: ActorOption = "admin:cli",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """发布征集公告：生成征集公告和空白申报书，发送给邮件列表 / publish the call to the mailing list."""
    from flows.call import publish_call
    from models.call.notices import ensure_call_may_open
    from models.stage_order import StageRun
    from models.types import utcnow

    moment = aware(as_of) or utcnow()
    slug = ready(competition, StageRun.publish_call, lambda _, comp: ensure_call_may_open(comp, now=moment))
    result = run_flow(publish_call, slug, as_of=moment, actor=actor)
    if as_json:
        print_json(result)
        return
    state = "已发布 / published" if result["opened"] else "此前已发布 / was published already"
    line(
        f"征集公告{state}; 文书 / documents: {len(result['documents'])}; "
        f"新发信件 / new letters: {len(result['letters'])}"
    )
