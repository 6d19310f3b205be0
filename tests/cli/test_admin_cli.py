"""``grantflow admin`` as an administrator runs it (a real process): add with a role named in
Chinese, the password from standard input, list, a new password, disable and enable — every
refusal one line on stderr, exit 1, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from models.accounts.tables import User
from models.audit import AuditEvent
from models.db import dispose_engines, get_engine
from tests.cli.test_cli import run


def users(data: Path) -> list[User]:
    engine = get_engine(f"sqlite:///{(data / 'grantflow.db').resolve()}")
    try:
        with Session(engine) as session:
            return list(session.exec(select(User).order_by(User.name)))
    finally:
        dispose_engines()


def test_admin_add_list_passwd_disable_enable(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    added = run(
        ["admin", "add", "lin", "--role", "管理员", "--password-stdin"], tmp_path, stdin="a-long-password\n"
    )
    assert added.returncode == 0, added.stderr
    assert "已新增用户 lin（管理员）" in added.stdout and "/admin" in added.stdout
    assert (
        run(
            ["admin", "add", "du", "--role", "reader", "--password-stdin"],
            tmp_path,
            stdin="another-password\n",
        ).returncode
        == 0
    )
    listed = json.loads(run(["admin", "list", "--json"], tmp_path).stdout)
    assert [(u["name"], u["role"], u["active"]) for u in listed["users"]] == [
        ("du", "reader", True),
        ("lin", "admin", True),
    ]
    before = users(tmp_path)[1].password_hash
    changed = run(["admin", "passwd", "lin", "--password-stdin"], tmp_path, stdin="a-newer-password\n")
    assert changed.returncode == 0 and users(tmp_path)[1].password_hash != before
    assert "停用" in run(["admin", "disable", "du"], tmp_path).stdout
    assert "已是停用状态" in run(["admin", "disable", "du"], tmp_path).stdout
    assert run(["admin", "enable", "du"], tmp_path).returncode == 0
    engine = get_engine(f"sqlite:///{(tmp_path / 'grantflow.db').resolve()}")
    with Session(engine) as session:
        actions = [
            (e.actor, e.action) for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "user"))
        ]
    dispose_engines()
    assert actions == [
        ("admin:cli", "create"),
        ("admin:cli", "create"),
        ("admin:cli", "password"),
        ("admin:cli", "disable"),
        ("admin:cli", "enable"),
    ]


def test_admin_refusals_are_one_line_and_store_nothing(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    for args, stdin, says in [
        (["admin", "add", "lin", "--role", "boss", "--password-stdin"], "a-long-password\n", "未知角色"),
        (["admin", "add", "lin", "--role", "管理员", "--password-stdin"], "short\n", "至少 10 个字符"),
        (["admin", "add", "a b", "--role", "管理员", "--password-stdin"], "a-long-password\n", "用户名须为"),
        (["admin", "passwd", "nobody", "--password-stdin"], "a-long-password\n", "没有用户 nobody"),
        (["admin", "disable", "nobody"], None, "没有用户 nobody"),
    ]:
        result = run(args, tmp_path, stdin=stdin)
        assert result.returncode == 1, (args, result.stdout)
        assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert users(tmp_path) == []
