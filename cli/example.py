"""``grantflow example write DIR [--start-on today]``: the bundled 江头街道 example's files — its
competition.yaml and every application file — written into a folder, every date moved by the same
number of days, so that a competition created today accepts the applications imported today."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import line, say

app = typer.Typer(help="示例 / the bundled 江头街道 example", no_args_is_help=True)


@app.command("write")
def write(
    folder: Annotated[Path, typer.Argument(help="写到此文件夹（须为空或不存在）/ an empty or new folder")],
    start_on: Annotated[
        str | None,
        typer.Option(
            "--start-on",
            metavar="DATE",
            help="征集公告发布日（YYYY-MM-DD 或 today）：竞赛和申报中的所有日期平移相同天数 / the call's "
            "date (YYYY-MM-DD or today): every date of the competition and the applications moves alike",
        ),
    ] = None,
) -> None:
    """写出示例的竞赛配置与申报文件 / write the example's competition file and application files."""
    from cli.competition import _day
    from cli.demo.example.files import EXAMPLE, write_example_files
    from models.competition.config_file import parse_config, read_config_text
    from models.competition.shift import start_on as shifted_to
    from models.errors import InputError, Problem

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            Problem(
                str(folder),
                "",
                "须为空文件夹或尚不存在（不覆盖已有文件）",
                "must be an empty or new folder (nothing is overwritten)",
            )
        )
    source = EXAMPLE / "competition.yaml"
    text = read_config_text(source)
    days = 0
    if start_on is not None:
        day = _day(start_on)
        days = (day - parse_config(text, source=str(source)).deadlines.call_published).days
        text = shifted_to(text, day, source=str(source))
    config = parse_config(text, source=str(source))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "competition.yaml").write_text(text, encoding="utf-8")
    files = write_example_files(folder, config=config, days=days)
    moved = f"，所有日期平移 {days} 天 / every date moved by {days} days" if days else ""
    say("已写出示例 / wrote the example into [bold]{folder}[/bold]{moved}", folder=folder, moved=moved)
    line(
        f"  征集发布 / call published: {config.deadlines.call_published}；申报截止 / applications close: "
        f"{config.deadlines.applications_close:%Y-%m-%d %H:%M}"
    )
    applications = " ".join(str(f) for f in files if f.name != "broken.xlsx")
    line("下一步 / next:")
    line(f"  grantflow competition create {folder / 'competition.yaml'}")
    line("  grantflow call publish")
    line(f"  grantflow intake import {applications}")
    line(
        f"  （{folder / 'broken.xlsx'} 每行一处错误，可用来查看未受理通知 / "
        "one mistake a row, to see the refusals）"
    )
