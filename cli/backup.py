"""``grantflow backup FILE`` and ``grantflow restore FILE``: the database, documents and uploads in
one archive, and back (``models/backup``). A refusal is one line naming the archive and what is
wrong; nothing is changed by it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import line, print_json
from cli.options import JsonOption


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 104_858 else f"{size / 1024:.1f} KB"


def _holds(held: dict[str, Any]) -> str:
    return (
        f"{held['database']} 数据库（版本 {held['schema_revision']}，{held['tables']} 张表，"
        f"{held['rows']} 行）、文书 {held['documents']} 份、上传文件 {held['uploads']} 个 / "
        f"{held['database']} database (revision "
        f"{held['schema_revision']}, {held['tables']} tables, {held['rows']} rows), {held['documents']} "
        f"documents, {held['uploads']} uploads"
    )


def _installation() -> dict[str, Any]:
    """This installation's database and folders, as the settings name them."""
    from models.db import default_engine
    from models.settings import get_settings

    settings = get_settings()
    return {
        "engine": default_engine(),
        "documents_dir": settings.documents_dir,
        "uploads_dir": settings.uploads_dir,
    }


def backup(
    file: Annotated[Path, typer.Argument(help="备份文件（.tar.gz）/ the archive to write")],
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件 / overwrite FILE")] = False,
    as_json: JsonOption = False,
) -> None:
    """备份数据库、文书和上传文件（运行中也可）/ back up the data, even while running."""
    from models.backup.archive import describe
    from models.backup.backup import make_backup

    summary = make_backup(file, overwrite=force, **_installation())
    described = describe(summary.manifest)
    if as_json:
        print_json({"file": str(summary.path), "size": summary.size, "sha256": summary.sha256, **described})
        return
    line(f"已备份 / backup written: {summary.path}（{_size(summary.size)}，sha256 {summary.sha256[:16]}…）")
    line(f"  {_holds(described)}")


def restore(
    file: Annotated[Path, typer.Argument(help="备份文件 / the archive to restore")],
    force: Annotated[
        bool, typer.Option("--force", help="替换已有数据 / replace a database and folders that hold data")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """从备份恢复（先停止门户和工作进程）/ restore a backup (stop the portal and workers first)."""
    from models.backup.archive import describe
    from models.backup.restore import restore_backup
    from models.db import dispose_engines

    summary = restore_backup(file, force=force, **_installation())
    dispose_engines()
    described = describe(summary.manifest)
    if as_json:
        print_json({"file": str(summary.source), "upgraded_from": summary.upgraded_from, **described})
        return
    line(f"已恢复 / restored: {summary.source}（备份于 / made at {described['created_at']}）")
    line(f"  {_holds(described)}")
    if summary.upgraded_from:
        old = summary.upgraded_from
        line(f"  数据库已从版本 {old} 升级 / database upgraded from revision {old}")
