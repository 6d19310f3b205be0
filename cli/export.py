"""``grantflow export FILE.xlsx``: every table of a competition in one workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import line
from cli.options import CompetitionOption, pick


def export(
    file: Annotated[Path, typer.Argument(help="导出的 .xlsx 文件 / the workbook to write")],
    competition: CompetitionOption = None,
) -> None:
    """把全部数据导出为 Excel（每张表一页）/ write every table to one .xlsx workbook."""
    from models.db import session_scope
    from models.evaluation.export import export_workbook
    from models.settings import get_settings

    with session_scope() as session:
        comp = pick(session, competition)
        assert comp.id is not None
        counts = export_workbook(session, competition_id=comp.id, path=file, timezone=get_settings().timezone)
    line(f"已导出 / written: {file}")
    line("  ".join(f"{name} {count}" for name, count in counts.items()))
