"""决定 (the decisions between the stages): the funding's tie and amounts, the 公示's objections,
the agreements' signing dates — each the same model function or flow as its ``grantflow`` command.

    GET  /admin/c/{slug}/decisions                           the draft, its open ties, the notice's
                                                             objections, the agreements to sign
    POST /admin/c/{slug}/decisions/tie                       同分先后 (管理员)        decide_tie
    POST /admin/c/{slug}/decisions/adjust                    调整金额 (管理员)        adjust_amount
    POST /admin/c/{slug}/decisions/objections                登记异议 (管理员)        add_objection
    POST /admin/c/{slug}/decisions/objections/{objection_id} 处理异议 (管理员)        resolve_objection
    POST /admin/c/{slug}/decisions/sheets                    路演纸质评分表 (管理员)  import_paper_sheets
    POST /admin/c/{slug}/decisions/signings                  签订日期 (管理员, 财务)  the grants-sign flow
                                                             (dates picked, or 签订日期.xlsx uploaded)

Every project and objection is chosen from a list on the page, never typed by number. A wrong
entry (a missing reason, an amount that is not one) is the domain's one sentence on the page.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.responses import Response
from sqlmodel import Session, col, select

from models.accounts.roles import Power
from models.competition.tables import Competition
from models.db import lock_competition
from models.documents.engine.cn_format import local_date
from models.errors import InputError, NotFound, Problem
from models.funding.decision import adjust_amount, compute, decide_tie, funding_report
from models.funding.grants import check_signing_day, signings_from_xlsx
from models.funding.publicity import add_objection, publicity_report, resolve_objection
from models.funding.tables import Grant, Objection
from models.intake.tables import Application
from models.money import MoneyError, parse_yuan
from models.review.score_sheets import import_paper_sheets
from models.stage_order import StageRun, stage_refusal
from models.states import CompetitionStage, GrantState
from models.steps.runs import RunUnderWay, open_run
from portal.admin.console import Call, Console, Nav
from portal.admin.runner import Job, start

NAV = Nav("decisions", "decisions", 16)
SIGN_PREFIX = "sign_"


def unsigned(session: Session, competition_id: int) -> list[tuple[Grant, Application]]:
    rows = session.exec(
        select(Grant, Application)
        .join(Application, col(Application.id) == col(Grant.application_id))
        .where(Application.competition_id == competition_id, Grant.state == GrantState.awarded)
        .order_by(col(Application.ref))
    ).all()
    return [(grant, application) for grant, application in rows if grant.signed_on is None]


SHEET_BYTES = 4 * 1024 * 1024


@contextmanager
def uploaded(call: Call, what: str) -> Iterator[Path]:
    """The one uploaded .xlsx as a file of its own name in a private folder (gone afterwards)."""
    if not call.files:
        raise InputError(Problem(what, "", "请选择 .xlsx 文件", "choose an .xlsx file"))
    name, data = call.files[0].name, call.files[0].data
    base = Path(name.replace("\\", "/")).name or "upload.xlsx"
    if not base.lower().endswith(".xlsx"):
        raise InputError(Problem(base, "", "文件类型须为 .xlsx", "the file must be an .xlsx workbook"))
    with tempfile.TemporaryDirectory(prefix="grantflow-console-") as folder:
        path = Path(folder) / base
        path.write_bytes(data)
        yield path


def _reason(call: Call, where: str) -> str:
    reason = call.fields.get("reason", "").strip()
    if not reason:
        raise InputError(Problem(where, "reason", "须写明理由", "a reason is required"))
    return reason


def register(console: Console) -> None:
    @console.page("/admin/c/{slug}/decisions", nav=NAV)
    def decisions(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            cid = competition.id or 0
            deciding = competition.stage in (CompetitionStage.funding, CompetitionStage.publicity)
            page: dict[str, Any] = {
                "slug": competition.slug,
                "deciding": deciding,
                "funding": funding_report(session, competition_id=cid) if deciding else None,
                "ties": list(compute(session, competition_id=cid).ties) if deciding else [],
                "publicity": publicity_report(session, competition_id=cid),
                "unsigned": unsigned(session, cid),
                "today": local_date(call.now, call.settings.timezone),
            }
        return call.render("admin/decisions.html", page, competition=competition)

    def back(call: Call, competition: Competition, notice: str, anchor: str) -> Response:
        return call.redirect(f"/admin/c/{competition.slug}/decisions#{anchor}", notice=notice)

    @console.action("/admin/c/{slug}/decisions/tie")
    def tie(call: Call) -> Response:
        order = [value for key, value in sorted(call.fields.items()) if key.startswith("order_") and value]
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            decide_tie(
                session,
                competition_id=competition.id or 0,
                refs=order,
                reason=_reason(call, "同分先后 / tie"),
                actor=call.actor,
            )
        return back(call, competition, "tie_decided", "funding")

    @console.action("/admin/c/{slug}/decisions/adjust")
    def adjust(call: Call) -> Response:
        ref = call.fields.get("ref", "")
        try:
            fen = parse_yuan(call.fields.get("amount", ""))
        except MoneyError as exc:
            raise InputError(Problem(f"调整金额 {ref}", "amount", "金额无效", str(exc))) from None
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            adjust_amount(
                session,
                competition_id=competition.id or 0,
                ref=ref,
                amount_fen=fen,
                reason=_reason(call, f"调整金额 {ref}"),
                actor=call.actor,
            )
        return back(call, competition, "adjusted", "funding")

    @console.action("/admin/c/{slug}/decisions/objections")
    def objection(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            add_objection(
                session,
                competition_id=competition.id or 0,
                ref=call.fields.get("ref", ""),
                raised_by=call.fields.get("by", ""),
                text=call.fields.get("text", ""),
                now=call.now,
                actor=call.actor,
            )
        return back(call, competition, "objection_added", "objections")

    @console.action("/admin/c/{slug}/decisions/objections/{objection_id:int}")
    def resolve(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            found = session.get(Objection, call.param("objection_id"))
            if found is None or found.competition_id != competition.id:
                raise NotFound("没有这一异议 / no such objection")
            resolve_objection(
                session,
                objection_id=found.id or 0,
                upheld=call.fields.get("finding") == "upheld",
                reason=_reason(call, "处理异议 / objection"),
                now=call.now,
                actor=call.actor,
                documents_dir=call.settings.documents_dir,
            )
        return back(call, competition, "objection_resolved", "objections")

    @console.action("/admin/c/{slug}/decisions/sheets", files=1, file_bytes=SHEET_BYTES)
    def paper_sheets(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            with uploaded(call, "路演纸质评分表 / paper score sheets") as path:
                import_paper_sheets(session, competition_id=competition.id or 0, path=path, actor=call.actor)
        return back(call, competition, "sheets_imported", "sheets")

    @console.action(
        "/admin/c/{slug}/decisions/signings", power=Power.payments, files=1, file_bytes=SHEET_BYTES
    )
    def signings(call: Call) -> Response:
        today = local_date(call.now, call.settings.timezone)
        rows: list[tuple[str, date]] = []
        problems = []
        if call.files:  # 签订日期.xlsx: 申报编号 and 签订日期, read as grantflow grants sign --xlsx reads it
            with uploaded(call, "签订日期表 / signing dates") as path:
                for ref, day, where in signings_from_xlsx(path):
                    check_signing_day(day, today=today, future=False, where=where)
                    rows.append((ref, day))
        for key, value in sorted(call.fields.items()):
            if not key.startswith(SIGN_PREFIX) or not value.strip():
                continue
            ref = key.removeprefix(SIGN_PREFIX)
            try:
                day = date.fromisoformat(value.strip())
                check_signing_day(day, today=today, future=False, where=f"签订日期 {ref}")
            except ValueError:
                problems.append(Problem(f"签订日期 {ref}", "date", "日期无效", f"not a date: {value!r}"))
                continue
            rows.append((ref, day))
        if problems:
            raise InputError(problems)
        if not rows:
            raise InputError(
                Problem("签订日期", "", "请至少填写一个签订日期", "give at least one signing date")
            )
        with call.session() as session:
            competition = call.competition(session)
            refused = stage_refusal(StageRun.grants_sign, slug=competition.slug, stage=competition.stage)
            if refused is not None:
                raise refused
            parameters = {"slug": competition.slug, "signings": rows, "actor": call.actor, "as_of": call.now}
            try:
                run = open_run(
                    session,
                    step=StageRun.grants_sign.value,
                    slug=competition.slug,
                    competition_id=competition.id,
                    actor=call.actor,
                    as_of=call.now,
                    parameters={"signings": [[ref, day.isoformat()] for ref, day in rows]},
                )
            except RunUnderWay as under_way:
                return call.redirect(
                    f"/admin/c/{competition.slug}/runs/{under_way.run_id}", notice="under_way"
                )
            run_id, slug = run.id or 0, competition.slug
        start(console.site, run_id, Job("flows.grants:grants_sign", parameters, "grants-sign/grants-sign"))
        return call.redirect(f"/admin/c/{slug}/runs/{run_id}", notice="started")
