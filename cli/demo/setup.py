"""The demo's first steps: a database of its own (or a fresh start on a shared one), and setup."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cli.demo.run import DemoRun

SETUP_AT = datetime(2025, 1, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # the configuration is imported


def step_database(run: DemoRun) -> str:
    from models.competition.config_file import load_config
    from models.db import default_engine, session_scope, upgrade_database
    from models.settings import get_settings
    from models.setup import purge_competition

    engine = default_engine()
    upgrade_database(engine)
    url = engine.url.render_as_string(hide_password=True)
    if get_settings().database_url:  # a shared database: start afresh by removing the last demo's rows
        slug = load_config(run.example / "competition.yaml").competition.slug
        with session_scope() as session:
            if purge_competition(session, slug=slug, actor="admin:demo"):
                return f"数据库 / database: {url}（已清除上次演示的 {slug} / removed the last demo's {slug}）"
    return f"数据库 / database: {url}"


def step_setup(run: DemoRun) -> str:
    from flows.setup import setup_competition
    from models.competition.tables import get_competition
    from models.db import session_scope

    run.competition_id = setup_competition(
        str(run.example / "competition.yaml"), actor="admin:demo", as_of=SETUP_AT
    )
    with session_scope() as session:
        competition = get_competition(session)
        run.slug = competition.slug
        return f"筹备 / setup: 已创建竞赛 {competition.name} ({competition.slug})"
