"""``grantflow doctor``: is this machine ready? Every check ✓ or ✗ with the fix; exit 1 on any ✗.

Run it on each machine that takes part — the administrator's, the portal's, every worker — with
the same environment the service gets (GRANTFLOW_* and PREFECT_API_URL).
"""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from rich.text import Text

from cli.console import cell, console, print_json, print_table, say
from cli.options import JsonOption


def doctor(as_json: JsonOption = False) -> None:
    """检查运行环境 / check the database, data folder, SMTP, portal URL, secret key, Prefect API,
    project root and the charts' CJK font; each ✓ or ✗ with the fix."""
    from models.settings import settings_as_configured
    from tasks.doctor import all_checks

    checks = asyncio.run(all_checks(settings_as_configured()))
    failed = [c for c in checks if not c.ok]
    if as_json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        table = Table("", "检查 Check", "结果 Found", "修正 Fix", title="grantflow doctor", show_lines=True)
        for c in checks:
            mark = Text("✓", "green") if c.ok else Text("✗", "red")
            table.add_row(Text.assemble(mark), cell(c.name), cell(c.detail), cell(c.fix))
        print_table(table)
        if failed:
            say("[red]{count} 项未通过 / {count} check(s) failed[/red]", count=len(failed))
        else:
            console.print("[green]全部通过 / every check passed[/green]")
    if failed:
        raise typer.Exit(1)
