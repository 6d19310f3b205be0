"""The README's try-it-today path, as a new user takes it: ``grantflow example write DIR --start-on``
writes the example for another year, whose competition accepts every one of its applications; the
example's own (2025) files imported into a competition moved in time are refused for their period,
and those letters wait in the outbox instead of going to every applicant."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR

pytestmark = pytest.mark.slow
CALL = date(2026, 3, 2)  # a Monday, 420 days after the example's call of 6 January 2025


def test_example_write_moves_every_date_and_the_year_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "example"
    written = run(["example", "write", str(folder), "--start-on", CALL.isoformat()], tmp_path)
    assert written.returncode == 0, written.stderr
    assert "所有日期平移 420 天 / every date moved by 420 days" in written.stdout
    assert "call_published: 2026-03-02" in (folder / "competition.yaml").read_text(encoding="utf-8")
    assert "project_period: {start: 2026-06-25, end: 2026-11-24}" in (folder / "competition.yaml").read_text(
        encoding="utf-8"
    )
    sheet = load_workbook(folder / "applications.xlsx")["活动安排"]
    assert [c.value for c in sheet[2]][3:] == ["2026年6月—7月", "助餐志愿者招募与培训", 2, 40]
    form = Document(str(next((folder / "forms").glob("申报书-01-*.docx"))))
    assert any("2026年" in cell.text for table in form.tables for row in table.rows for cell in row.cells)
    again = run(["example", "write", str(folder)], tmp_path)
    assert again.returncode == 1 and "须为空文件夹或尚不存在" in again.stderr  # nothing overwritten

    files = [str(folder / "applications.xlsx"), str(folder / "applications-gbk.csv")]
    files += sorted(str(f) for f in (folder / "forms").glob("*.docx"))
    assert run(["competition", "create", str(folder / "competition.yaml")], tmp_path).returncode == 0
    assert run(["call", "publish", "--as-of", "2026-03-02T09:00"], tmp_path).returncode == 0
    imported = run(["intake", "import", *files, "--as-of", "2026-04-20T12:00", "--json"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert sum(len(f["accepted"]) for f in result["files"]) == 31
    assert sum(len(f["refused"]) for f in result["files"]) == 0 and result["held"] == 0


def test_the_2025_files_into_a_competition_of_today_hold_their_refusals(tmp_path: Path) -> None:
    created = run(
        ["competition", "create", str(EXAMPLE_DIR / "competition.yaml"), "--start-on", CALL.isoformat()],
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    imported = run(
        ["intake", "import", str(EXAMPLE_DIR / "applications.xlsx"), "--as-of", "2026-04-20T12:00"], tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    out = imported.stdout
    assert "未受理 / refused 24" in out
    assert "‖ 同一原因退回 24/24 行，未受理通知暂存待放行" in out and "须在项目执行期 … 之内" in out
    assert "其中 24 封暂存为草稿，未发出" in out and "grantflow outbox release --all" in out
    assert not list((tmp_path / "mail").glob("*.eml"))  # nobody was written to
    outbox = json.loads(run(["outbox", "list", "--json"], tmp_path).stdout)
    assert outbox["counts"] == {"draft": 24}
