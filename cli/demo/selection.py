"""The demo's call → intake → screening steps, replaying the 2025 example's timeline.

Each step runs the stage's flow ``as_of`` a moment inside the example's 2025 timeline (the call on
6 January, the imports on the closing day, screening the Monday after) and returns a one-line
summary; ``show_applications`` prints who was accepted, refused and found ineligible, and why.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.console import console, line
from cli.demo.run import DemoRun

BEIJING = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
SCREENING_AT = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
ACTOR = "admin:demo"


def waiting_note(waiting: int, when: str) -> str:
    """The sentence for letters left waiting for a retry (the server was away): how many, till when."""
    return (
        f"{waiting} 封信待重试，下次尝试 {when}，届时运行 grantflow outbox send / "
        f"{waiting} letters wait for a retry, next attempt at {when}: run `grantflow outbox send` then"
    )


def _mail_note(run: DemoRun, delivery: dict[str, Any]) -> str:
    """What became of the letters, for the step's line — "all sent" only when none waits or failed —
    and a note for the end of the demo: where the .eml files are, or what still waits and till when."""
    from cli.delivery import delivery_summary, next_attempt_text
    from models.settings import get_settings

    timezone = get_settings().timezone
    folder = delivery.get("mail_dir")
    notes = [f"信件 / letters (.eml): {folder}"] if folder else []
    if delivery["waiting"]:
        when = next_attempt_text(delivery, timezone)
        notes.append(waiting_note(delivery["waiting"], when))
    if delivery["failed"]:
        notes.append(
            f"{len(delivery['failed'])} 封信发送失败，见 grantflow outbox list --state failed / "
            f"{len(delivery['failed'])} letters failed: see `grantflow outbox list --state failed`"
        )
    for note in notes:
        if note not in run.notes:
            run.notes.append(note)
    return delivery_summary(delivery, timezone)


def step_call(run: DemoRun) -> str:
    from flows.call import publish_call

    result = asyncio.run(publish_call(run.slug, as_of=CALL_AT, actor=ACTOR))
    mail = _mail_note(run, result["delivery"])
    return (
        f"征集 / call: 征集公告和空白申报书寄往邮件列表 {len(result['letters'])} 个地址 / "
        f"call notice and blank form for {len(result['letters'])} addresses — {mail}"
    )


def intake_files(run: DemoRun) -> list[str]:
    example = run.example
    forms = sorted((example / "forms").glob("*.docx"))
    files = [example / "applications.xlsx", example / "applications-gbk.csv", *forms, example / "broken.xlsx"]
    return [str(f) for f in files]


def step_intake(run: DemoRun) -> str:
    from flows.intake import intake

    files = intake_files(run)
    in_process = intake.with_options(persist_result=False)  # nobody reads the result from the API
    result = asyncio.run(in_process(run.slug, files=files, as_of=INTAKE_AT, actor=ACTOR))
    run.facts["intake"] = result["files"]
    accepted = sum(len(f["accepted"]) for f in result["files"])
    refused = sum(len(f["refused"]) for f in result["files"])
    return (
        f"受理 / intake: {len(files)} 个文件 files，受理 accepted {accepted}，未受理 refused {refused}；"
        f"受理回执 receipts {result['receipts']}，未受理通知 refusal letters {result['refusals']}"
    )


def step_screening(run: DemoRun) -> str:
    from flows.screening import screening

    result = asyncio.run(screening(run.slug, as_of=SCREENING_AT, actor=ACTOR, reviewer="林老师"))
    run.facts["screening"] = result["applications"]
    return (
        f"资格审查 / screening: 通过 eligible {result['eligible']}，"
        f"未通过 ineligible {result['ineligible']}；"
        f"资格审查表 sheets {result['sheets']}，结果通知 letters {result['letters']}"
    )


def _line(text: str) -> None:
    line(text)


def show_applications(run: DemoRun) -> None:
    """Accepted (per file), refused rows (one line each) and ineligible applications, with reasons."""
    files: list[dict[str, Any]] = run.facts.get("intake", [])
    screened: list[dict[str, Any]] = run.facts.get("screening", [])
    if not files:
        return
    console.print("\n[bold]申报结果 / applications[/bold]")
    line(f"受理 / accepted ({sum(len(f['accepted']) for f in files)}):")
    for report in files:
        refs = [row["ref"] for row in report["accepted"]]
        if refs:
            span = refs[0] if len(refs) == 1 else f"{refs[0]} … {refs[-1]}"
            _line(f"  {report['file']}: {len(refs)} 项 ({span})")
    refused = [row for report in files for row in report["refused"]]
    line(f"未受理 / refused ({len(refused)}):")
    for row in refused:
        mail = "" if row["email"] else "（无有效邮箱 / no usable email）"
        _line(f"  ✗ {row['where']}: {'；'.join(row['reasons'])}{mail}")
    ineligible = [row for row in screened if not row["eligible"]]
    line(f"资格审查未通过 / ineligible ({len(ineligible)}):")
    for row in ineligible:
        _line(f"  ✗ {row['ref']} {row['title']}（{row['organisation']}）: {'；'.join(row['reasons'])}")
