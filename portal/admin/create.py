"""新建竞赛: a competition from its YAML — uploaded, pasted, or last year's copied forward.

GET  /admin/new               the form (管理员); ``?from=<slug>``: that competition's configuration
                              a year later in the text box (``models.competition.shift.next_year``,
                              as ``grantflow competition copy``), to read and correct before creating
POST /admin/new               the uploaded file (or the text) → ``models.setup.create_competition``,
                              the same as ``grantflow competition create``; a wrong configuration
                              is the form again with every problem in a table (where, field, 中文,
                              English), nothing stored
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlmodel import select

from models.accounts.roles import Power
from models.competition.config_file import CONFIG_MAX_BYTES
from models.competition.shift import next_year
from models.competition.tables import Competition, competition_config
from models.errors import ConfigError, Conflict, NotFound, Problem
from models.funding.workdays import is_working_day
from portal.admin.console import Call, Console

PATH = "/admin/new"


def copied_forward(call: Call, slug: str) -> str:
    """The configuration of ``slug`` a year later (the new slug: the year moved in it)."""
    with call.session() as session:
        chosen = session.exec(select(Competition).where(Competition.slug == slug)).first()
        if chosen is None:
            raise NotFound(f"没有竞赛 {slug} / no competition {slug!r}")
        calendar = competition_config(chosen)
        text, year = chosen.config_yaml, chosen.year
    new_slug = slug.replace(str(year), str(year + 1)) if str(year) in slug else f"{slug}-{year + 1}"

    def working_day(day: Any) -> bool:
        return is_working_day(day, holidays=calendar.holidays, make_up=calendar.make_up_workdays)

    return next_year(text, slug=new_slug, years=1, source=f"competition {slug}", working_day=working_day).text


def posted_text(call: Call) -> tuple[str, str]:
    """(text, source) of the uploaded file, else of the text box; ``ConfigError`` when unreadable."""
    for name, data in ((f.name, f.data) for f in call.files):
        source = name or "upload.yaml"
        if len(data) > CONFIG_MAX_BYTES:
            raise ConfigError(
                Problem(source, "", "文件过大", f"the file is larger than {CONFIG_MAX_BYTES} bytes")
            )
        try:
            return data.decode("utf-8-sig"), source
        except UnicodeDecodeError:
            raise ConfigError(
                Problem(source, "", "文件须为 UTF-8 编码", "the file must be UTF-8 text")
            ) from None
    text = call.fields.get("config_text", "")
    if not text.strip():
        raise ConfigError(
            Problem(
                "", "", "请上传竞赛配置文件（YAML）或粘贴其内容", "upload the competition's YAML or paste it"
            )
        )
    return text, "网页表单 / the web form"


def register(console: Console) -> None:
    def form(call: Call, *, text: str, problems: list[Problem], status_code: int = 200) -> Response:
        return call.render(
            "admin/create.html",
            {"text": text, "problems": problems, "sources": console.competitions()},
            status_code=status_code,
        )

    @console.page(PATH, power=Power.act)
    def create_form(call: Call) -> Response:
        source = call.query("from")
        return form(call, text=copied_forward(call, source) if source else "", problems=[])

    @console.action(PATH, files=1, file_bytes=CONFIG_MAX_BYTES + 1)
    def create(call: Call) -> Response:
        from models.setup import create_competition

        text = call.fields.get("config_text", "")
        try:
            text, source = posted_text(call)
            with call.session() as session:
                competition = create_competition(session, text=text, source=source, actor=call.actor)
                slug = competition.slug
        except (ConfigError, Conflict) as exc:
            problems = getattr(exc, "problems", None) or [Problem("", "", *_halves(str(exc)))]
            return form(call, text=text, problems=problems, status_code=400)
        return call.redirect(f"/admin/c/{slug}", notice="created")


def _halves(message: str) -> tuple[str, str]:
    zh, _, en = message.partition(" / ")
    return zh, en or zh
