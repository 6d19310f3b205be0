"""The ``grantflow`` command as an administrator runs it: a real process, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE_DIR

GRANTFLOW = [sys.executable, "-m", "cli.main"]
ROOT = Path(__file__).resolve().parents[2]


def run(
    args: list[str], data_dir: Path, *, stdin: str | None = None, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    environ.update({"GRANTFLOW_DATA_DIR": str(data_dir), "COLUMNS": "200", **env})
    return subprocess.run(
        [*GRANTFLOW, *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=timeout,
        input=stdin,
    )


def test_init_creates_then_reports_up_to_date(tmp_path):
    first = run(["init"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "数据库已创建 / database created" in first.stdout
    assert (tmp_path / "grantflow.db").exists()
    second = run(["init"], tmp_path)
    assert "数据库已是最新 / database is up to date" in second.stdout


def test_competition_create_show_and_status_json(tmp_path):
    created = run(["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path)
    assert created.returncode == 0, created.stderr
    assert "jiangtou-2025" in created.stdout
    shown = run(["competition", "show", "--json"], tmp_path)
    summary = json.loads(shown.stdout)
    assert summary["competition"]["slug"] == "jiangtou-2025"
    assert summary["stage"] == "draft"
    assert len(summary["communities"]) == 11
    human = run(["competition", "show"], tmp_path)
    assert "评分标准 / rubric" in human.stdout and "需求分析" in human.stdout
    status = run(["status", "--json"], tmp_path)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["competition"]["stage"] == "draft"
    assert data["applications"] == []


def test_bad_configuration_is_one_clear_line_and_exit_1(tmp_path):
    data = yaml.safe_load((EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8"))
    data["budget"]["per_project_cap"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run(["competition", "create", str(bad)], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(bad) in result.stderr and "budget" in result.stderr and "不能为负数" in result.stderr
    # nothing was stored
    status = run(["status", "--json"], tmp_path)
    assert status.returncode == 1
    assert "no competition yet" in status.stderr


def test_creating_the_same_competition_twice_is_refused(tmp_path):
    assert run(["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path).returncode == 0
    again = run(["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path)
    assert again.returncode == 1
    assert "exists already" in again.stderr and "Traceback" not in again.stderr


def test_unsupported_database_url_is_a_clear_error(tmp_path):
    result = run(["init"], tmp_path, GRANTFLOW_DATABASE_URL="mysql://x@localhost/db")
    assert result.returncode == 1
    assert "unsupported GRANTFLOW_DATABASE_URL" in result.stderr


def test_demo_refuses_to_clear_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"mine")
    result = run(["demo", "--out", str(out)], tmp_path)
    assert result.returncode == 1
    assert "refusing to clear" in result.stderr
    assert (out / "thesis.docx").read_bytes() == b"mine"


def test_a_database_older_than_the_code_says_to_run_init_and_init_upgrades_it(tmp_path, database_url):
    """A new version installed over last year's database: the first command says what to do (one
    line, exit 1, no traceback), ``grantflow init`` upgrades in place and the data is still there.
    SQLite says "no such column"; PostgreSQL raises UndefinedColumn: both get the same advice."""
    from models.db import dispose_engines, downgrade_database, get_engine

    env = {"GRANTFLOW_DATABASE_URL": database_url}
    created = run(["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path, **env)
    assert created.returncode == 0, created.stderr
    downgrade_database(get_engine(database_url), "0006")  # the schema before the 结项 expert panel
    dispose_engines()
    old = run(["status"], tmp_path, **env)
    assert old.returncode == 1
    assert "Traceback" not in old.stderr and len(old.stderr.strip().splitlines()) == 1, old.stderr
    assert "grantflow init" in old.stderr and "数据保留 / " in old.stderr, old.stderr
    upgraded = run(["init"], tmp_path, **env)
    assert "数据库已升级 / database upgraded" in upgraded.stdout and "0006 →" in upgraded.stdout
    status = run(["status", "--json"], tmp_path, **env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["competition"]["slug"] == "jiangtou-2025"
