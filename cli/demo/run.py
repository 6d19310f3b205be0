"""What the demo's steps share: where things are, and what each step reported.

Everything the demo makes — database, documents, letters — lands in ``--out`` (default
``./demo-output``) unless ``GRANTFLOW_DATABASE_URL`` / ``GRANTFLOW_SMTP_HOST`` point elsewhere.
A second run starts afresh: the folder is cleared, but only when an earlier demo made it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import ConfigError
from models.settings import EXAMPLES_DIR

MARKER = ".grantflow-demo"
EXAMPLE = EXAMPLES_DIR / "jiangtou-2025"


@dataclass
class DemoRun:
    """What the steps share: where things are, and what each step reported."""

    out: Path
    example: Path
    competition_id: int | None = None
    slug: str = ""
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def prepare_folder(out: Path) -> None:
    """Make ``out`` empty and ours; refuse to clear a folder the demo did not make."""
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"{out} 不是文件夹 / {out} is not a folder")
        if any(out.iterdir()):
            if not (out / MARKER).exists():
                raise ConfigError(
                    f"{out} 不是空文件夹，也不是上次演示的输出，拒绝清空 / {out} is not empty and was not "
                    "made by grantflow demo: refusing to clear it (choose another --out)"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by grantflow demo; cleared by the next run\n", encoding="utf-8")
