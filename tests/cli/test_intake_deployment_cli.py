"""``grantflow intake import --deployment``: the files travel as bytes to the server's intake
deployment. Its refusals come before anything is sent, each one line naming the file or the server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cli.on_server import run_on_server
from models.errors import ConfigError
from models.intake.inbox import MAX_RUN_UPLOAD_BYTES, MAX_UPLOAD_BYTES
from tests.cli.test_cli import GRANTFLOW, ROOT
from tests.cli.test_intake_cli import error_lines
from tests.conftest import EXAMPLE_DIR

GOOD = str(EXAMPLE_DIR / "applications.xlsx")


def run_without_server(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The command with no Prefect server anywhere: no PREFECT_API_URL, no ``grantflow up``."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("GRANTFLOW_", "PREFECT_API_URL"))
    }
    environ.update({"GRANTFLOW_DATA_DIR": str(data_dir), "COLUMNS": "200"})
    return subprocess.run(
        [*GRANTFLOW, *args], capture_output=True, text=True, env=environ, cwd=ROOT, timeout=300
    )


def sparse(path: Path, size: int) -> str:
    with path.open("wb") as file:
        file.truncate(size)
    return str(path)


def test_without_a_server_it_says_how_to_start_one(tmp_path: Path):
    result = run_without_server(["intake", "import", GOOD, "--deployment"], tmp_path / "data")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert "没有在运行的 Prefect 服务" in line and "grantflow up" in line and "PREFECT_API_URL" in line
    assert not (tmp_path / "data" / "uploads").exists()


def test_a_missing_or_too_large_file_is_refused_before_anything_is_sent(tmp_path: Path):
    big = sparse(tmp_path / "big.xlsx", MAX_UPLOAD_BYTES + 1)
    missing = str(tmp_path / "nowhere.xlsx")
    result = run_without_server(
        ["intake", "import", GOOD, missing, big, str(tmp_path / "notes.txt"), "--deployment"],
        tmp_path / "data",
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 3, result.stderr  # one per bad file; none about the server: not asked yet
    assert "nowhere.xlsx" in lines[0] and "file not found" in lines[0]
    assert "big.xlsx" in lines[1] and f"at most {MAX_UPLOAD_BYTES}" in lines[1]
    assert "notes.txt" in lines[2] and ".xlsx .csv .json .docx" in lines[2]


def test_files_over_the_bound_of_one_run_together_are_refused(tmp_path: Path):
    each = MAX_UPLOAD_BYTES - 1
    count = MAX_RUN_UPLOAD_BYTES // each + 1
    files = [sparse(tmp_path / f"part{n}.xlsx", each) for n in range(count)]
    result = run_without_server(["intake", "import", *files, "--deployment"], tmp_path / "data")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert f"{count * each} bytes, over {MAX_RUN_UPLOAD_BYTES} for one run" in line
    assert "分几次导入" in line


def test_a_server_without_the_intake_deployment_is_named(prefect_harness, settings_env: Path):
    """A real (temporary) Prefect server, nothing deployed: the error names the deployment and the fix."""
    with pytest.raises(ConfigError) as refused:
        run_on_server("intake/intake", {"uploads": []}, timeout=5)
    message = str(refused.value)
    assert "没有部署 intake/intake" in message and "has no deployment intake/intake" in message
    assert "prefect deploy --all --prefect-file deployments/prefect.yaml" in message
