"""``grantflow admin add|list|passwd|disable|enable``: the people who sign in to the console (/admin).

The password comes from a hidden prompt (typed twice) or, for scripts, from the first line of
standard input with ``--password-stdin``; it is never an argument (arguments show in ``ps`` and in
the shell's history).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from cli.console import cell, console, line, print_json
from cli.options import ActorOption, JsonOption

app = typer.Typer(help="管理后台的用户 / the console's users (/admin)", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="用户名 / the sign-in name")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="从标准输入的第一行读取密码 / read the password from stdin's first line"
    ),
]


def console_lines(base_url: str) -> list[str]:
    """What ``grantflow up`` and ``grantflow portal`` say about the console: its address, and how
    to add the first administrator while there is none."""
    from models.accounts.users import administrators
    from models.db import session_scope

    lines = [f"管理后台 / console: {base_url.rstrip('/')}/admin"]
    with session_scope() as session:
        if not administrators(session):
            lines.append(
                "    还没有管理员，先添加 / no administrator yet — add the first: "
                "grantflow admin add NAME --role 管理员"
            )
    return lines


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("密码 / password", hide_input=True)
    again = typer.prompt("再输一次 / again", hide_input=True)
    if first != again:
        from models.errors import InputError, Problem

        raise InputError(Problem("", "密码", "两次输入的密码不一致", "the two passwords differ"))
    return str(first)


@app.command("add")
def add(
    name: NameArgument,
    role: Annotated[str, typer.Option("--role", help="管理员 | 财务 | 只读 (admin | finance | reader)")],
    password_stdin: PasswordStdin = False,
    actor: ActorOption = "admin:cli",
) -> None:
    """新增用户 / add a user who signs in to the console."""
    from models.accounts.roles import ROLE_LABELS, role_of
    from models.accounts.users import add_user
    from models.db import session_scope
    from models.errors import InputError, Problem
    from models.settings import get_settings

    chosen = role_of(role)
    if chosen is None:
        raise InputError(
            Problem(
                "",
                "--role",
                f"未知角色 {role!r}，可选 管理员 | 财务 | 只读",
                f"unknown role {role!r}: admin, finance or reader",
            )
        )
    password = _password(password_stdin)
    with session_scope() as session:
        user = add_user(session, name=name, role=chosen, password=password, actor=actor)
        label = ROLE_LABELS[user.role]
        stored = user.name
    line(f"已新增用户 {stored}（{label}）/ added {stored} ({chosen})")
    line(f"登录地址 / sign in at: {get_settings().portal_url.rstrip('/')}/admin")


@app.command("list")
def list_users_command(as_json: JsonOption = False) -> None:
    """列出用户 / list the console's users."""
    from models.accounts.roles import ROLE_LABELS
    from models.accounts.users import list_users
    from models.db import session_scope

    with session_scope() as session:
        users = [
            {
                "name": u.name,
                "role": str(u.role),
                "role_label": ROLE_LABELS[u.role],
                "active": u.active,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in list_users(session)
        ]
    if as_json:
        print_json({"users": users})
        return
    if not users:
        line("还没有用户 / no users yet: grantflow admin add NAME --role 管理员")
        return
    table = Table("用户 Name", "角色 Role", "状态 State", "最近登录 Last sign-in")
    for user in users:
        table.add_row(
            cell(user["name"]),
            cell(f"{user['role_label']} ({user['role']})"),
            cell("启用 active" if user["active"] else "停用 disabled"),
            cell(user["last_login_at"] or "—"),
        )
    console.print(table)


@app.command("passwd")
def passwd(
    name: NameArgument, password_stdin: PasswordStdin = False, actor: ActorOption = "admin:cli"
) -> None:
    """更改密码（结束其全部会话，解除锁定）/ set a new password (ends every session, lifts a lock-out)."""
    from models.accounts.users import get_user, set_password
    from models.db import session_scope

    with session_scope() as session:
        get_user(session, name)  # an unknown name is refused before the password is asked
    password = _password(password_stdin)
    with session_scope() as session:
        user = set_password(session, name=name, password=password, actor=actor)
        stored = user.name
    line(f"已更改 {stored} 的密码 / the password of {stored} is changed")


def _set_active(name: str, active: bool, actor: str) -> None:
    from models.accounts.users import set_active
    from models.db import session_scope

    with session_scope() as session:
        changed = set_active(session, name=name, active=active, actor=actor)
    state = ("启用", "enabled") if active else ("停用", "disabled")
    if changed:
        line(f"已{state[0]} {name} / {name} is {state[1]}")
    else:
        line(f"{name} 已是{state[0]}状态 / {name} was {state[1]} already")


@app.command("disable")
def disable(name: NameArgument, actor: ActorOption = "admin:cli") -> None:
    """停用用户（立即结束其会话）/ disable a user (their sessions end at once)."""
    _set_active(name, False, actor)


@app.command("enable")
def enable(name: NameArgument, actor: ActorOption = "admin:cli") -> None:
    """重新启用用户 / enable a disabled user again."""
    _set_active(name, True, actor)
