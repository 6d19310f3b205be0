"""导入申报: the applications' files uploaded several at once, imported by the intake flow.

    GET  /admin/c/{slug}/intake    the form (what it does: each file imported in one transaction,
                                   a receipt to every accepted applicant, a refusal letter to every
                                   refused row with an address; a mass refusal's letters held)
    POST /admin/c/{slug}/intake    the files → the intake flow's ``uploads`` (their bytes, as
                                   ``grantflow intake import --deployment`` sends them), run as a
                                   console run; its page shows every file's table of accepted,
                                   duplicate and refused rows with each problem at its field

Before the run: the stage (``check_taking_files``: only while the call is open), each file's name
and size (``models.intake.inbox.upload_of``) and the deadline (``check_on_time``: after it, only
with a reason) — refused on the page, nothing started.
"""

from __future__ import annotations

from fastapi.responses import Response

from models.competition.tables import competition_config
from models.errors import InputError, Problem
from models.intake.imports import check_on_time, check_taking_files
from models.intake.inbox import MAX_UPLOAD_BYTES, upload_of
from models.steps.runs import RunUnderWay, open_run
from portal.admin.console import Call, Console, Nav
from portal.admin.runner import Job, start

NAV = Nav("intake", "intake", 14)
STEP = "intake"
MAX_FILES = 40


def register(console: Console) -> None:
    @console.page("/admin/c/{slug}/intake", nav=NAV)
    def intake_form(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
        page = {"slug": competition.slug, "max_files": MAX_FILES, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        return call.render("admin/intake.html", page, competition=competition)

    @console.action("/admin/c/{slug}/intake", files=MAX_FILES, file_bytes=MAX_UPLOAD_BYTES)
    def intake(call: Call) -> Response:
        reason = call.fields.get("override_reason", "").strip() or None
        problems: list[Problem] = []
        uploads = []
        for name, data in ((f.name, f.data) for f in call.files):
            try:
                uploads.append(upload_of(name, data))
            except InputError as refused:
                problems += refused.problems
        if not call.files:
            problems.append(Problem("", "", "请选择要导入的申报文件", "choose the files to import"))
        with call.session() as session:
            competition = call.competition(session)
            config = competition_config(competition)
            try:
                check_taking_files(competition)
            except InputError as refused:
                problems += refused.problems
            for upload in uploads:
                try:
                    check_on_time(config, now=call.now, override_reason=reason, name=upload["name"])
                except InputError as refused:
                    problems += refused.problems
            if problems:
                raise InputError(problems)
            parameters = {
                "slug": competition.slug,
                "uploads": uploads,
                "as_of": call.now,
                "override_reason": reason,
                "actor": call.actor,
            }
            try:
                run = open_run(
                    session,
                    step=STEP,
                    slug=competition.slug,
                    competition_id=competition.id,
                    actor=call.actor,
                    as_of=call.now,
                    parameters={"files": [u["name"] for u in uploads], "override_reason": reason},
                )
            except RunUnderWay as under_way:
                return call.redirect(
                    f"/admin/c/{competition.slug}/runs/{under_way.run_id}", notice="under_way"
                )
            run_id, slug = run.id or 0, competition.slug
        start(console.site, run_id, Job("flows.intake:intake", parameters, "intake/intake"))
        return call.redirect(f"/admin/c/{slug}/runs/{run_id}", notice="started")
