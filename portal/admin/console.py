"""The console's own kernel: who is looking, what they may do, and how a page or an action is
answered. Every page and action of ``portal/admin`` is registered through a ``Console``:

    console = Console(site)

    @console.page("/admin/c/{slug}/applications", nav=Nav("applications", "applications", 20))
    def applications(call: Call) -> Response:            # GET; needs Power.read unless told
        with call.session() as session:
            competition = call.competition(session)       # the {slug} of the path, or 404
            ...
        return call.render("admin/applications.html", {...}, competition=competition)

    @console.action("/admin/c/{slug}/applications/{application_id:int}/screening")  # Power.act
    def override(call: Call) -> Response:                 # POST; call.fields holds the form
        ...
        return call.redirect(f"/admin/c/{slug}/applications/{id}", notice="overridden")

What the decorators do before a handler runs (a handler never repeats it):

- **session**: the ``gf_admin`` cookie (signed, HttpOnly, SameSite=Lax, Secure over HTTPS, path
  /admin) names a server-side session (``models.accounts.sessions``); none, ended, idle or expired
  → a GET or POST is answered 303 to ``/admin/login?next=…`` (an htmx request gets ``HX-Redirect``);
- **role**: the handler's ``Power`` (``models.accounts.roles``) is checked against the viewer's
  role → 403, before a posted body is even read, so a refused action writes nothing;
- **form and CSRF** (actions): the form is read within the portal's limits (413), then its
  ``csrf_token`` is checked — signed, bound to this session's digest and to the console (403);
- **errors**: ``NotFound`` → 404, ``AccessDenied`` → 403, any other ``GrantflowError`` → a 409
  page with its Chinese sentence (and the English beside it) — never a traceback.

Handlers are plain functions run in a worker thread (they use the database); they get a ``Call``
(request, viewer, form fields, the clock, the database, rendering and redirects). Audit actor of
everything a viewer does: ``call.actor`` (``admin:<name>``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from models.accounts.login import Limits
from models.accounts.roles import ROLE_LABELS, ROLE_LABELS_EN, Power, Role, may
from models.accounts.sessions import resume_session
from models.audit import record
from models.competition.tables import Competition
from models.db import session_scope
from models.errors import AccessDenied, GrantflowError, IllegalTransition, NotFound
from models.money import format_yuan
from models.states import STATE_LABELS
from models.types import utcnow
from portal import csrf
from portal.i18n import in_language, translator
from portal.limits import MAX_FIELD_BYTES, FormRefused
from portal.site import Site

log = logging.getLogger("grantflow.portal.admin")

SESSION_COOKIE = "gf_admin"
COOKIE_PATH = "/admin"
LOGIN_PATH = "/admin/login"
CSRF_SCOPE = "admin"  # one scope for the whole console: the token is bound to the session instead
_NEXT = re.compile(r"^/admin(/[A-Za-z0-9._~%/\-]*)?(\?[A-Za-z0-9._~%&=+\-]*)?$")
_zh, _en = translator("zh-CN"), translator("en")
STATE_REFUSAL = (
    "当前状态不允许这一操作（可能已由他人完成），请刷新页面查看最新状态 / the present state does not allow "
    "this (someone may have done it already): reload the page to see where things stand"
)

MAX_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's INTEGER) holds


def words(key: str, **values: Any) -> Markup:
    """A label in Chinese with its English beside it (``<span class="en">``)."""
    zh, en = _zh(key, **values), _en(key, **values)
    if zh == en:
        return Markup(escape(zh))
    return Markup('{}<span class="en" lang="en">{}</span>').format(zh, en)


def sentence(message: str) -> Markup:
    """A domain message ``中文 / English`` as the Chinese with the English beside it."""
    zh, en = in_language(message, "zh-CN"), in_language(message, "en")
    if zh == en:
        return Markup(escape(zh))
    return Markup('{}<span class="en" lang="en">{}</span>').format(zh, en)


def attachment(filename: str, fallback: str) -> str:
    """A Content-Disposition naming a download twice: ``fallback`` (ASCII, for old clients) and
    ``filename`` as written, in UTF-8 (RFC 5987 / 6266)."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", fallback) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site, never the login)."""
    if (
        target
        and _NEXT.fullmatch(target)
        and not target.startswith(LOGIN_PATH)
        and "//" not in target
        and ".." not in target
    ):
        return target
    return "/admin"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    user_id: int
    name: str
    role: Role
    csrf_value: str  # the session token's digest (never the token)

    @property
    def actor(self) -> str:
        return f"admin:{self.name}"

    @property
    def role_label(self) -> Markup:
        return Markup('{}<span class="en" lang="en">{}</span>').format(
            ROLE_LABELS[self.role], ROLE_LABELS_EN[self.role]
        )

    def may(self, power: Power | str) -> bool:
        return may(self.role, Power(power))


@dataclass(frozen=True)
class Nav:
    """An entry of the console's navigation, shown to a viewer holding ``power``: the page at
    ``/admin/c/{slug}/<path>`` (``path`` "" is the competition's 首页), sorted by ``order``."""

    key: str  # i18n: admin.nav.<key>
    path: str
    order: int
    power: Power = Power.read


@dataclass(frozen=True)
class Posted:
    """A file posted to an action that takes files (``files=`` on ``Console.action``)."""

    name: str  # as the browser sent it (a name for messages, never a path)
    data: bytes


@dataclass
class Call:
    """One request to a console page or action, as its handler sees it."""

    console: Console
    request: Request
    viewer: Viewer
    fields: dict[str, str] = field(default_factory=dict)  # an action's posted form (text fields)
    files: list[Posted] = field(default_factory=list)  # its files, when it takes any (non-empty ones)

    # ---- what was asked ------------------------------------------------------------------------

    def param(self, name: str) -> Any:
        """A path parameter (``{application_id:int}`` arrives as an int); an id no table can hold
        (past 2⁶³ − 1: the database driver would overflow) is not found."""
        value = self.request.path_params[name]
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound(f"没有编号 {value} / no id {value}")
        return value

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    @property
    def htmx(self) -> bool:
        """An htmx request for part of the page (not a boosted navigation)."""
        headers = self.request.headers
        return headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"

    @property
    def actor(self) -> str:
        return self.viewer.actor

    @property
    def now(self) -> datetime:
        """The portal's clock (the demo runs it as of its year)."""
        return self.console.site.clock()

    @property
    def settings(self) -> Any:
        return self.console.site.settings

    # ---- the database --------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends without an error (rolled back otherwise)."""
        with session_scope(self.console.site.engine) as session:
            yield session

    def competition(self, session: Session) -> Competition:
        """The competition the path's ``{slug}`` names, or ``NotFound`` (404)."""
        slug = self.param("slug")
        found = session.exec(select(Competition).where(Competition.slug == slug)).first()
        if found is None:
            raise NotFound(f"没有竞赛 {slug} / no competition {slug!r}")
        return found

    def audit(self, session: Session, *, entity: str, entity_id: int, action: str, **extra: Any) -> None:
        """An audit row naming this viewer (downloads, exports; a domain function audits its own)."""
        record(session, actor=self.actor, entity=entity, entity_id=entity_id, action=action, **extra)

    # ---- answering -----------------------------------------------------------------------------

    def render(
        self,
        template: str,
        context: dict[str, Any],
        *,
        competition: Competition | None = None,
        status_code: int = 200,
    ) -> Response:
        """A console page in the layout (navigation, the viewer, the CSRF token for its forms); an
        htmx request gets the page's ``main`` block only."""
        return self.console.render(self, template, context, competition=competition, status_code=status_code)

    def redirect(self, target: str, *, notice: str | None = None) -> Response:
        """303 to ``target`` (a console path), with ``?done=<notice>`` to show after an action."""
        if notice:
            path, hash_, fragment = target.partition("#")
            target = f"{path}{'&' if '?' in path else '?'}done={quote(notice)}{hash_}{fragment}"
        return self.console.site.finish(self.request, RedirectResponse(target, status_code=303))

    def download(
        self, folder: Path, relative: str, filename: str, media_type: str | None = None, *, fallback: str = ""
    ) -> Response:
        """The file ``relative`` under ``folder`` (never outside it), named ``filename``; 404 when missing.
        With ``fallback``, the name is sent twice: ``fallback`` (ASCII) and ``filename`` (RFC 5987)."""
        base = folder.resolve()
        path = (base / relative).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise NotFound(f"文件不存在 / the file is missing: {relative}")
        if fallback:
            headers = {"Content-Disposition": attachment(filename, fallback)}
            response = FileResponse(path, media_type=media_type, headers=headers)
        else:
            response = FileResponse(path, filename=filename, media_type=media_type)
        return self.console.site.finish(self.request, response)


Handler = Callable[[Call], Response]


class Console:
    """The admin room's router and the rules every console page and action follows (see the module
    docstring). ``routes`` lists what was registered, for the navigation and the tests."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.router = APIRouter()
        self.nav: list[Nav] = []
        self.pages: dict[str, Power] = {}  # GET path → power
        self.actions: dict[str, Power] = {}  # POST path → power

    # ---- registering -------------------------------------------------------------------------------

    def page(
        self, path: str, *, power: Power = Power.read, nav: Nav | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a GET handler at ``path`` for viewers holding ``power``."""

        def register(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                viewer = await self.viewer_of(request)
                if viewer is None:
                    return self.to_login(request)
                if not viewer.may(power):
                    return await run_in_threadpool(self.forbidden, request, viewer)
                return await run_in_threadpool(self.run, handler, Call(self, request, viewer))

            endpoint.power = power  # type: ignore[attr-defined]  # the role rule, readable from the route table
            self.router.add_api_route(path, endpoint, methods=["GET"], name=f"admin.{handler.__name__}")
            self.pages[path] = power
            if nav is not None:
                self.nav.append(nav)
                self.nav.sort(key=lambda item: item.order)
            return handler

        return register

    def action(
        self, path: str, *, power: Power = Power.act, files: int = 0, file_bytes: int = 0
    ) -> Callable[[Handler], Handler]:
        """Register a POST handler at ``path`` for viewers holding ``power`` (CSRF checked); with
        ``files``, up to that many uploaded files (``Call.files``) of at most ``file_bytes`` each (0:
        within the portal's body limit; a larger one → 413)."""

        def register(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                viewer = await self.viewer_of(request)
                if viewer is None:
                    return self.to_login(request)
                if not viewer.may(power):  # before the body is read: nothing of it is kept
                    return await run_in_threadpool(self.forbidden, request, viewer)
                try:
                    fields, posted = await self.form_of(request, files, file_bytes)
                    csrf.check_form_token(
                        field_value=fields.get(csrf.FIELD),
                        cookie_value=viewer.csrf_value,
                        scope=CSRF_SCOPE,
                        secret=self.site.secret,
                    )
                except FormRefused:
                    return self.site.refusal(request, "form_refused", 413)
                except AccessDenied as exc:
                    return self.site.refused(request, exc)
                call = Call(self, request, viewer, fields, posted)
                return await run_in_threadpool(self.run, handler, call)

            endpoint.power = power  # type: ignore[attr-defined]
            self.router.add_api_route(path, endpoint, methods=["POST"], name=f"admin.{handler.__name__}")
            self.actions[path] = power
            return handler

        return register

    async def form_of(
        self, request: Request, files: int, file_bytes: int = 0
    ) -> tuple[dict[str, str], list[Posted]]:
        """An action's posted text fields, and its files when it takes any (``FormRefused`` beyond
        the limits: too many fields or files, a text field too long, a file past ``file_bytes``
        when given, read no further than one byte past it; the body's size is the
        portal's ``BodyLimit``'s)."""
        if not files:
            fields, _ = await self.site.form_of(request)
            return fields, []
        try:
            form = await request.form(
                max_files=files,
                max_fields=self.site.settings.portal_max_form_fields,
                max_part_size=MAX_FIELD_BYTES,
            )
        except HTTPException as exc:  # Starlette's MultiPartException, as a 400 with English text
            raise FormRefused(str(exc.detail)) from None
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        posted = []
        for _, value in form.multi_items():  # several files under one name (a multiple picker)
            if isinstance(value, UploadFile) and (value.filename or value.size):
                data = await (value.read(file_bytes + 1) if file_bytes else value.read())
                await value.close()
                if file_bytes and len(data) > file_bytes:
                    raise FormRefused(f"{value.filename}: larger than {file_bytes} bytes")
                posted.append(Posted(value.filename or "", data))
        return fields, posted

    # ---- sessions ----------------------------------------------------------------------------------

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.site.secret, salt="grantflow.admin.session")

    def sign_token(self, token: str) -> str:
        return str(self._serializer().dumps(token))

    def token_of(self, request: Request) -> str | None:
        """The session token the browser's cookie holds, when its signature is ours."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        limits = Limits.of(self.site.settings)
        try:
            token = self._serializer().loads(cookie, max_age=int(limits.lifetime.total_seconds()))
        except (BadSignature, ValueError, TypeError):
            return None
        return token if isinstance(token, str) else None

    async def viewer_of(self, request: Request) -> Viewer | None:
        token = self.token_of(request)
        if token is None:
            return None
        return await run_in_threadpool(self._resume, token)

    def _resume(self, token: str) -> Viewer | None:
        with session_scope(self.site.engine) as session:
            resumed = resume_session(session, token=token, now=utcnow(), limits=Limits.of(self.site.settings))
            if resumed is None:
                return None
            user = resumed.user
            assert user.id is not None
            return Viewer(user.id, user.name, user.role, resumed.csrf_value)

    def secure(self, request: Request) -> bool:
        return self.site.secure_cookies or request.url.scheme == "https"

    def set_session_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.sign_token(token),
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
            path=COOKIE_PATH,
        )

    def clear_session_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=self.secure(request)
        )

    def to_login(self, request: Request) -> Response:
        """No live session: to the sign-in page, coming back here afterwards (a page, not an action)."""
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = (
            LOGIN_PATH if request.method != "GET" or back == "/admin" else f"{LOGIN_PATH}?next={quote(back)}"
        )
        if request.headers.get("HX-Request") == "true":
            response: Response = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            self.clear_session_cookie(request, response)
        return self.site.finish(request, response)

    # ---- answering ---------------------------------------------------------------------------------

    def run(self, handler: Handler, call: Call) -> Response:
        """The handler's answer; a grantflow error becomes a page (404, 403, 409), never a 500."""
        try:
            return handler(call)
        except NotFound as exc:
            return self.problem(call, exc, 404)
        except AccessDenied as exc:
            return self.problem(call, exc, 403)
        except IllegalTransition as exc:  # state-machine wording never reaches the page
            log.info("console %s %s: %s", call.request.method, call.request.url.path, exc)
            return self.problem(call, GrantflowError(STATE_REFUSAL), 409)
        except GrantflowError as exc:
            return self.problem(call, exc, 409)

    def problem(self, call: Call, exc: GrantflowError, status_code: int) -> Response:
        log.info("console %s %s → %s: %s", call.request.method, call.request.url.path, status_code, exc)
        message = sentence(str(exc).splitlines()[0] if str(exc) else "")
        return self.render(
            call,
            "admin/problem.html",
            {"status": status_code, "message": message},
            competition=self._competition_of(call),
            status_code=status_code,
        )

    def forbidden(self, request: Request, viewer: Viewer) -> Response:
        log.warning(
            "console refused %s %s to %s (%s)", request.method, request.url.path, viewer.name, viewer.role
        )
        call = Call(self, request, viewer)
        message = words("admin.forbidden", role=ROLE_LABELS[viewer.role], role_en=ROLE_LABELS_EN[viewer.role])
        return self.render(
            call,
            "admin/problem.html",
            {"status": 403, "message": message},
            competition=self._competition_of(call),
            status_code=403,
        )

    def _competition_of(self, call: Call) -> Competition | None:
        """The competition of the path, for the navigation of a refusal page (None when there is none)."""
        if "slug" not in call.request.path_params:
            return None
        try:
            with call.session() as session:
                return call.competition(session)
        except NotFound:
            return None

    def local(self, moment: datetime | None) -> str:
        """A moment as the administrator reads it: local date and time to the minute."""
        if moment is None:
            return ""
        return f"{moment.astimezone(ZoneInfo(self.site.settings.timezone)):%Y-%m-%d %H:%M}"

    def competitions(self) -> list[Competition]:
        with session_scope(self.site.engine) as session:
            return list(session.exec(select(Competition).order_by(col(Competition.id).desc())))

    def render(
        self,
        call: Call,
        template: str,
        context: dict[str, Any],
        *,
        competition: Competition | None,
        status_code: int = 200,
    ) -> Response:
        viewer = call.viewer
        base = f"/admin/c/{competition.slug}" if competition is not None else ""
        nav = [
            {"key": item.key, "href": f"{base}/{item.path}".rstrip("/") or "/admin", "path": item.path}
            for item in self.nav
            if competition is not None and viewer.may(item.power)
        ]
        done = call.query("done")
        full = {
            "viewer": viewer,
            "w": words,
            "zh": _zh,  # Chinese alone, where markup cannot go (an option, a placeholder)
            "sentence": sentence,
            "stage_label": lambda stage: STATE_LABELS.get(stage, str(stage)),
            "local": self.local,
            "yuan": format_yuan,
            "competition": competition,
            "competitions": self.competitions(),
            "nav": nav,
            "here": call.request.url.path,
            "partial": call.htmx,
            "done": done if re.fullmatch(r"[a-z_]{1,40}", done) else "",
            "csrf_field": csrf.FIELD,
            "csrf_token": csrf.form_token(
                cookie_value=viewer.csrf_value, scope=CSRF_SCOPE, secret=self.site.secret
            ),
            **context,
        }
        response = self.site.templates.TemplateResponse(call.request, template, full, status_code=status_code)
        return self.site.finish(call.request, response)
