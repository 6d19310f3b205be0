"""``grantflow outbox list|show|release|retry|send``: read the letters before they go, let them go."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import cell, clean, console, line, print_json, print_table, say
from cli.delivery import delivery_summary
from cli.options import ActorOption, CompetitionOption, JsonOption

app = typer.Typer(help="发信箱 / the outbox: preview, release and retry letters", no_args_is_help=True)

IdsArgument = Annotated[list[int] | None, typer.Argument(help="信件编号 / letter ids")]
STATE_NAMES = {
    "draft": "待放行",
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
}


def _competition_id(session: Any, slug: str | None) -> int | None:
    from models.competition.tables import get_competition

    if slug is None:
        return None
    competition = get_competition(session, slug=slug)
    return competition.id


def _summary(letter: Any) -> dict[str, Any]:
    return {
        "id": letter.id,
        "state": str(letter.state),
        "role": letter.role,
        "stage": letter.stage,
        "recipient_email": letter.recipient_email,
        "recipient_name": letter.recipient_name,
        "subject": letter.subject,
        "attempts": letter.attempts,
        "next_attempt_at": letter.next_attempt_at,
        "last_answer": letter.last_answer,
        "message_id": letter.message_id,
        "attachments": letter.attachments,
        "created_at": letter.created_at,
        "sent_at": letter.sent_at,
    }


@app.command("list")
def list_command(
    competition: CompetitionOption = None,
    state: Annotated[str | None, typer.Option(help="draft|queued|sending|sent|failed")] = None,
    limit: Annotated[int, typer.Option(help="最多显示 / at most this many")] = 200,
    as_json: JsonOption = False,
) -> None:
    """列出信件 / list the letters, with a count per state."""
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.mail.outbox import count_by_state, list_letters
    from models.states import LetterState

    if state is not None and state not in LetterState.__members__:
        raise InputError(Problem("--state", "state", f"没有状态 {state}", f"no letter state {state!r}"))
    with session_scope() as session:
        competition_id = _competition_id(session, competition)
        letters = list_letters(
            session,
            competition_id=competition_id,
            states=[LetterState(state)] if state else None,
            limit=limit,
        )
        counts = count_by_state(session, competition_id=competition_id)
    if as_json:
        print_json({"counts": counts, "letters": [_summary(letter) for letter in letters]})
        return
    table = Table("#", "状态 State", "角色 Role", "收件人 To", "主题 Subject", "次数", "服务器答复 Answer")
    for letter in letters:
        table.add_row(
            cell(letter.id),
            cell(f"{STATE_NAMES.get(str(letter.state), '')} {letter.state}"),
            cell(letter.role),
            cell(f"{letter.recipient_name} <{letter.recipient_email}>"),
            cell(letter.subject),
            cell(letter.attempts),
            cell(letter.last_answer[:60]),
        )
    print_table(table)
    line(
        "  ".join(f"{STATE_NAMES.get(k, k)} {k}: {v}" for k, v in sorted(counts.items()))
        or "发信箱为空 / empty"
    )


@app.command("show")
def show(
    letter_id: Annotated[int, typer.Argument(help="信件编号 / letter id")],
    html: Annotated[bool, typer.Option("--html", help="显示 HTML 正文 / print the HTML part")] = False,
    as_json: JsonOption = False,
) -> None:
    """预览一封信：信头、正文、附件 / preview one letter exactly as it will be sent."""
    from models.db import session_scope
    from models.documents.tables import GeneratedDocument
    from models.mail.outbox import get_letter

    with session_scope() as session:
        letter = get_letter(session, letter_id=letter_id)
        names = []
        for doc_id in letter.attachments:
            doc = session.get(GeneratedDocument, doc_id)
            names.append(doc.filename if doc else f"#{doc_id} (缺失 / missing)")
    if as_json:
        print_json(
            {
                **_summary(letter),
                "attachment_names": names,
                "body_text": letter.body_text,
                "body_html": letter.body_html,
            }
        )
        return
    say(
        "[bold]#{id}[/bold] {name} ({state}) · {role} · {stage}",
        id=letter.id,
        name=STATE_NAMES.get(str(letter.state), ""),
        state=letter.state,
        role=letter.role,
        stage=letter.stage,
    )
    line(f"收件人 To: {letter.recipient_name} <{letter.recipient_email}>")
    line(f"主题 Subject: {letter.subject}")
    if letter.message_id:
        line(f"Message-ID: {letter.message_id}")
    if names:
        line(f"附件 Attachments: {', '.join(names)}")
    if letter.last_answer:
        line(f"服务器答复 Last answer ({letter.attempts} 次 attempts): {letter.last_answer}")
    console.rule()
    console.print(clean(letter.body_html if html else letter.body_text), markup=False)


def _apply(
    command: Any, ids: list[int] | None, competition: str | None, every: bool, actor: str
) -> list[Any]:
    from models.db import session_scope
    from models.errors import InputError, Problem

    if not ids and not every and competition is None:
        raise InputError(
            Problem(
                "",
                "",
                "请给出信件编号，或 --all / --competition",
                "give letter ids, or --all / --competition",
            )
        )
    with session_scope() as session:
        competition_id = _competition_id(session, competition)
        letters: list[Any] = command(session, actor=actor, ids=ids or None, competition_id=competition_id)
        return [_summary(letter) for letter in letters]


def _report(letters: list[dict[str, Any]], verb_zh: str, verb_en: str, as_json: bool) -> None:
    if as_json:
        print_json({"count": len(letters), "letters": letters})
        return
    line(
        f"已{verb_zh} {len(letters)} 封 / {verb_en} {len(letters)} letter(s)"
        + (f": {', '.join(str(letter['id']) for letter in letters)}" if letters else "")
    )


@app.command("release")
def release(
    ids: IdsArgument = None,
    competition: CompetitionOption = None,
    every: Annotated[bool, typer.Option("--all", help="全部待放行的信 / every draft")] = False,
    actor: ActorOption = "admin:cli",
    as_json: JsonOption = False,
) -> None:
    """放行待审核的信（draft → queued）/ release draft letters for sending."""
    from models.mail.outbox import release_letters

    _report(_apply(release_letters, ids, competition, every, actor), "放行", "released", as_json)


@app.command("retry")
def retry(
    ids: IdsArgument = None,
    competition: CompetitionOption = None,
    every: Annotated[bool, typer.Option("--all", help="全部发送失败的信 / every failed letter")] = False,
    actor: ActorOption = "admin:cli",
    as_json: JsonOption = False,
) -> None:
    """重发失败的信（failed → queued）/ queue failed letters again."""
    from models.mail.outbox import retry_letters

    _report(_apply(retry_letters, ids, competition, every, actor), "重新排队", "queued again", as_json)


@app.command("send")
def send(
    competition: CompetitionOption = None,
    after_crash: Annotated[
        bool,
        typer.Option(
            "--after-crash",
            help="立即重新处理中断的发送（确认没有其他发送进程时）/ settle interrupted sends now "
            "(only when no other sender is running)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """立即发送到期的信 / deliver the due letters now (the deliver-letters flow)."""
    from cli.flow_runs import run_flow
    from flows.deliver import deliver_letters

    report: dict[str, Any] = run_flow(deliver_letters, competition, takeover=after_crash)
    if as_json:
        print_json(report)
        return
    from models.settings import get_settings

    line(f"{delivery_summary(report, get_settings().timezone)}  via {report['server']}")
    for failure in report["failed"]:
        line(f"  #{failure['id']} {failure['recipient']}: {failure['answer']}")
    if report["mail_dir"]:
        line(
            f"未配置 SMTP 服务器，信件已存为 .eml 文件 / letters saved as .eml files in {report['mail_dir']}"
        )
