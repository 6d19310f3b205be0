"""A read command answers in about a second because it imports only what reading needs.

``grantflow status`` and the other read commands must not import Prefect, the flows, the .docx
engine, the Excel reader, the chart library, alembic or the mail client: each of them costs
hundreds of milliseconds at start-up (``bench/bench_cli.py`` measures the wall time; a test only
checks what was imported, which does not depend on the machine's load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DIR

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "prefect",
    "flows",
    "matplotlib",
    "docx",
    "alembic",
    "cn2an",
    "openpyxl",
    "fastapi",
    "aiosmtplib",
    "models.documents.engine.docx",
)
READ_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["competition", "show"],
    ["competition", "list"],
    ["review", "report"],
    ["funding", "show"],
    ["grants", "list"],
    ["supervision", "status"],
    ["outbox", "list"],
    ["report", "--json"],
]
# runs one command in-process, then prints which of HEAVY it imported (on the last line, as JSON)
PROBE = """
import json, sys
from cli.main import app
try:
    app(sys.argv[2:], standalone_mode=False)
except BaseException:
    pass
heavy = json.loads(sys.argv[1])
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def _environ(data_dir: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTFLOW_", "PREFECT_"))}
    environ.update({"GRANTFLOW_DATA_DIR": str(data_dir), "COLUMNS": "200"})
    return environ


def _python(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=_environ(data_dir), cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("light")
    example = str(EXAMPLE_DIR / "competition.yaml")
    created = _python(folder, "-m", "cli.main", "competition", "create", example)
    assert created.returncode == 0, created.stderr
    return folder


def _imported_by(data_dir: Path, command: list[str]) -> list[str]:
    """Which of HEAVY ``grantflow COMMAND`` imported, run in a fresh interpreter."""
    probe = _python(data_dir, "-c", PROBE, json.dumps(HEAVY), *command)
    assert probe.returncode == 0, probe.stderr
    imported: list[str] = json.loads(probe.stdout.strip().splitlines()[-1])
    return imported


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_imports_nothing_heavy(data_dir: Path, command: list[str]) -> None:
    imported = _imported_by(data_dir, command)
    assert imported == [], f"grantflow {' '.join(command)} imported {imported}"


def test_the_probe_sees_a_heavy_import(data_dir: Path) -> None:
    """The check can fail: ``doctor`` asks Prefect's API and the SMTP server, so it imports both."""
    assert {"prefect", "aiosmtplib"} <= set(_imported_by(data_dir, ["doctor"]))
