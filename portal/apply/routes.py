"""The applicants' web form (网上申报), open while the call is open and until the deadline.

GET  /apply/{slug}               the form, or a plain 409/404 page
POST /apply/{slug}               action=submit → submit_web_application | add_rows (more budget lines)
GET  /apply/{slug}/done/{token}  the confirmation with the 申报编号 (signed token)
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from models.errors import AccessDenied, NotFound
from portal.apply.form import HONEYPOT
from portal.apply.requests import ApplyOutcome, done_token, show_done, show_form
from portal.apply.requests import handle_post as handle_apply
from portal.limits import FormRefused
from portal.site import Site, log


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    site.audience("/apply/", "applicant", header="apply.site")

    def apply_response(request: Request, slug: str, outcome: ApplyOutcome, cookie_value: str) -> Response:
        if outcome.closed is not None:
            return site.page(request, "apply/closed.html", {"closed": outcome.closed}, outcome.status)
        context = {
            "form": outcome.page,
            "notice": outcome.notice,
            "problem_notice": outcome.problem_notice,
            "honeypot": HONEYPOT,
        }
        return site.form_page(
            request,
            "apply/form.html",
            context,
            cookie_value=cookie_value,
            scope=f"apply:{slug}",
            path="/apply",
            status_code=outcome.status,
        )

    @router.get("/apply/{slug}")
    async def apply_form(request: Request, slug: str) -> Response:
        try:
            outcome = await run_in_threadpool(
                show_form, site.engine, slug, site.settings, site.clock(), site.language_of(request)
            )
        except NotFound:
            return site.not_found(request)
        return apply_response(request, slug, outcome, site.cookie_value(request))

    @router.post("/apply/{slug}")
    async def apply_post(request: Request, slug: str) -> Response:
        language = site.language_of(request)
        try:
            current = await run_in_threadpool(
                show_form, site.engine, slug, site.settings, site.clock(), language
            )
            if current.closed is not None:  # closed: nothing posted is read, nothing stored
                return apply_response(request, slug, current, site.cookie_value(request))
            fields, communities = await site.form_of(request)
            site.check_csrf(request, fields, f"apply:{slug}")
        except NotFound:
            return site.not_found(request)
        except AccessDenied as exc:
            return site.refused(request, exc)
        except FormRefused:
            return site.refusal(request, "form_refused", 413)
        if fields.get(HONEYPOT, "").strip():
            log.warning("portal refused a web application to %s: honeypot filled", slug)
            return site.refusal_page(request, "spam", 400)
        outcome = await run_in_threadpool(
            handle_apply, site.engine, slug, site.settings, site.clock(), language, fields, communities
        )
        if outcome.received is not None:
            target = f"/apply/{slug}/done/{done_token(outcome.received, slug, secret=site.secret)}"
            return site.finish(request, RedirectResponse(target, status_code=303))
        return apply_response(request, slug, outcome, site.cookie_value(request))

    @router.get("/apply/{slug}/done/{token}")
    async def apply_done(request: Request, slug: str, token: str) -> Response:
        try:
            done = await run_in_threadpool(show_done, site.engine, slug, token, site.settings)
        except NotFound:
            return site.not_found(request)
        return site.page(request, "apply/done.html", {"done": done})

    return router
