"""The demo's last step: an administrator to open the finished year in the console (/admin).

The name is ``demo`` and the password new at every run (printed at the end, never a fixed one: the
demo may run on a shared database)."""

from __future__ import annotations

import secrets

from cli.demo.run import DemoRun

NAME = "demo"


def step_console(run: DemoRun) -> str:
    from models.accounts.roles import Role
    from models.accounts.users import add_user, find_user, set_active, set_password
    from models.db import session_scope

    password = f"jt-{secrets.token_urlsafe(9)}"
    with session_scope() as session:
        if find_user(session, NAME) is None:
            add_user(session, name=NAME, role=Role.admin, password=password, actor="admin:demo")
        else:
            set_password(session, name=NAME, password=password, actor="admin:demo")
            set_active(session, name=NAME, active=True, actor="admin:demo")
    run.facts["console"] = {"name": NAME, "password": password}
    return f"管理后台 / console: 演示管理员 {NAME} / the demo administrator {NAME}"
