"""The experts' pages: their own list, the review's score sheet and the 结项 panel's sheet, each on
a personal link.

    GET  /expert/{token}         the expert's sheets (state, deadline, each one's link, the next one)
    GET  /review/{token}         the sheet: application, rubric, comment, conflict declaration
    POST /review/{token}         action=draft | submit | conflict | conflict_confirm | show
    GET  /final-review/{token}   the 结项 panel's sheet: plan vs delivered, findings, evidence, score
    POST /final-review/{token}   action=draft | submit | show → save_panel_sheet
    GET  /final-review/{token}/evidence/{id}  a file of that checkpoint's evidence (?thumb=1: small)

The link is checked before the body is read; a refused link or CSRF token is a 403 page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from models.db import session_scope
from models.errors import AccessDenied
from models.links import token_fingerprint
from models.review.links import open_review_link
from models.settings import Settings
from portal.limits import FormRefused
from portal.review.expert_page import show_expert_page
from portal.review.final_review import handle_panel_post, open_panel_sheet, panel_evidence, show_panel_sheet
from portal.review.sheet import SheetOutcome, handle_post, show_sheet
from portal.site import NOTICES, Site

PANEL_TEMPLATE = "review/final_review_sheet.html"


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    site.audience("/expert/", "expert", header="site")
    site.audience("/review/", "expert", header="site")
    site.audience("/final-review/", "expert", header="fr.site")

    @router.get("/expert/{token}")
    async def expert_page(request: Request, token: str) -> Response:
        try:
            page = await run_in_threadpool(show_expert_page, site.engine, token, site.settings, site.clock())
        except AccessDenied as exc:
            return site.refused(request, exc, token)
        return site.page(request, "review/expert.html", {"page": page})

    def sheet_response(request: Request, token: str, outcome: SheetOutcome, cookie_value: str) -> Response:
        context = {"sheet": outcome.page, "notice": outcome.notice, "problem_notice": outcome.problem_notice}
        return site.form_page(
            request,
            "review/sheet.html",
            context,
            cookie_value=cookie_value,
            scope=token_fingerprint(token),
            path="/review",
            status_code=outcome.status,
        )

    @router.get("/review/{token}")
    async def review_sheet(request: Request, token: str) -> Response:
        done = request.query_params.get("done")
        try:
            outcome = await run_in_threadpool(
                show_sheet,
                site.engine,
                token,
                site.settings,
                site.clock(),
                site.language_of(request),
                done if done in NOTICES else None,
            )
        except AccessDenied as exc:
            return site.refused(request, exc, token)
        return sheet_response(request, token, outcome, site.cookie_value(request))

    @router.post("/review/{token}")
    async def review_post(request: Request, token: str) -> Response:
        language = site.language_of(request)
        try:
            # the link before the body
            await run_in_threadpool(_open, site.engine, token, site.settings, site.clock())
            fields, _ = await site.form_of(request)
            site.check_csrf(request, fields, token_fingerprint(token))
            outcome = await run_in_threadpool(
                handle_post, site.engine, token, site.settings, site.clock(), language, fields
            )
        except AccessDenied as exc:
            return site.refused(request, exc, token)
        except FormRefused:
            return site.refusal(request, "form_refused", 413)
        if outcome.redirect_notice:
            return site.redirect_done(request, outcome.redirect_notice)
        return sheet_response(request, token, outcome, site.cookie_value(request))

    @router.get("/final-review/{token}")
    async def final_review_get(request: Request, token: str) -> Response:
        return await site.linked_get(
            request, token, path="final-review", template=PANEL_TEMPLATE, show=show_panel_sheet
        )

    @router.post("/final-review/{token}")
    async def final_review_post(request: Request, token: str) -> Response:
        language = site.language_of(request)
        try:
            # the link before the body
            await run_in_threadpool(open_panel_sheet, site.engine, token, site.settings, site.clock())
            fields, _ = await site.form_of(request)
            site.check_csrf(request, fields, site.link_scope("final-review", token))
            outcome = await run_in_threadpool(
                handle_panel_post, site.engine, token, site.settings, site.clock(), language, fields
            )
        except AccessDenied as exc:
            return site.refused(request, exc, token)
        except FormRefused:
            return site.refusal(request, "form_refused", 413)
        if outcome.redirect_notice:
            return site.redirect_done(request, outcome.redirect_notice)
        return site.linked_response(
            request, token, outcome, site.cookie_value(request), template=PANEL_TEMPLATE, path="final-review"
        )

    @router.get("/final-review/{token}/evidence/{evidence_id}")
    async def final_review_evidence(request: Request, token: str, evidence_id: str) -> Response:
        return await site.evidence(request, token, evidence_id, find=panel_evidence)

    return router


def _open(engine: Any, token: str, settings: Settings, now: datetime) -> int:
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        assert assignment.id is not None
        return assignment.id
