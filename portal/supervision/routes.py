"""The supervisors' and grantees' pages, each opened by the personal link of one checkpoint.

    GET  /supervise/{token}  the supervisor's 督导记录表 (plan, the grantee's report, the form)
    POST /supervise/{token}  action=draft | submit | show | drop:<id>, with evidence → save_record
    GET  /report/{token}     the grantee's 中期 / 结项报告
    POST /report/{token}     action=draft | submit | show | add_row | drop:<id>, with evidence
                             → save_progress_report
    GET  /supervise/{token}/evidence/{id}  a file of the checkpoint (the grantee's or the
                             supervisor's own); ?thumb=1 a small copy of an image
    GET  /report/{token}/evidence/{id}     a file of the grantee's own

The link is checked, and the upload limit taken from its competition, before the body is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException

from models.errors import AccessDenied
from portal.site import Site, log
from portal.supervision.checkpoint_forms import upload_rules
from portal.supervision.record import handle_record_post, record_evidence, show_record
from portal.supervision.report import handle_report_post, report_evidence, show_report
from portal.uploads import MAX_PARTS, read_uploads

UPLOAD_PATHS = ("/supervise/", "/report/")  # the forms that take evidence files (a larger body limit)

# path → (link purpose, template, show, handle a post, open an evidence file)
PAGES: dict[str, tuple[str, str, Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "supervise": ("checkpoint", "supervision/record.html", show_record, handle_record_post, record_evidence),
    "report": ("report", "supervision/report.html", show_report, handle_report_post, report_evidence),
}


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    site.audience("/supervise/", "supervisor", header="sv.site")
    site.audience("/report/", "grantee", header="report.site")

    async def checkpoint_get(request: Request, token: str, path: str) -> Response:
        _, template, show, _, _ = PAGES[path]
        return await site.linked_get(request, token, path=path, template=template, show=show)

    async def checkpoint_post(request: Request, token: str, path: str) -> Response:
        purpose, template, _, handle, _ = PAGES[path]
        language = site.language_of(request)
        form = None
        try:
            max_bytes = await run_in_threadpool(
                upload_rules, site.engine, token, site.settings, site.clock(), purpose
            )
            form = await request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS * 4)
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            site.check_csrf(request, fields, site.link_scope(path, token))
            uploads = await read_uploads(form, max_bytes=max_bytes)
            outcome = await run_in_threadpool(
                handle, site.engine, token, site.settings, site.clock(), language, fields, uploads
            )
        except AccessDenied as exc:
            return site.refused(request, exc, token)
        except MultiPartException as exc:
            log.warning("portal refused a %s post: %s", path, exc)
            return site.refusal_page(request, "upload", 400)
        finally:
            if form is not None:
                await form.close()
        if outcome.redirect_notice:
            return site.redirect_done(request, outcome.redirect_notice)
        return site.linked_response(
            request, token, outcome, site.cookie_value(request), template=template, path=path
        )

    @router.get("/supervise/{token}")
    async def supervise_get(request: Request, token: str) -> Response:
        return await checkpoint_get(request, token, "supervise")

    @router.post("/supervise/{token}")
    async def supervise_post(request: Request, token: str) -> Response:
        return await checkpoint_post(request, token, "supervise")

    @router.get("/report/{token}")
    async def report_get(request: Request, token: str) -> Response:
        return await checkpoint_get(request, token, "report")

    @router.post("/report/{token}")
    async def report_post(request: Request, token: str) -> Response:
        return await checkpoint_post(request, token, "report")

    @router.get("/supervise/{token}/evidence/{evidence_id}")
    async def supervise_evidence(request: Request, token: str, evidence_id: str) -> Response:
        return await site.evidence(request, token, evidence_id, find=PAGES["supervise"][4])

    @router.get("/report/{token}/evidence/{evidence_id}")
    async def report_evidence_file(request: Request, token: str, evidence_id: str) -> Response:
        return await site.evidence(request, token, evidence_id, find=PAGES["report"][4])

    return router
