"""``grantflow intake`` as an administrator runs it: a real process, a real database, the flow
under Prefect's ephemeral server, letters into the embedded SMTP sink."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR

CONFIG = str(EXAMPLE_DIR / "competition.yaml")
GOOD = str(EXAMPLE_DIR / "applications.xlsx")
BROKEN = str(EXAMPLE_DIR / "broken.xlsx")
GBK = str(EXAMPLE_DIR / "applications-gbk.csv")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("错误 / error")]


@pytest.mark.slow
def test_intake_import_lists_accepted_and_refused_rows_with_file_row_and_field(tmp_path):
    assert run(["competition", "create", CONFIG], tmp_path).returncode == 0
    published = run(["call", "publish", "--as-of", "2025-01-06T09:00"], tmp_path)
    assert published.returncode == 0, published.stderr
    assert "征集公告已发布" in published.stdout and "新发信件 / new letters: 3" in published.stdout

    result = run(["intake", "import", GOOD, BROKEN, "--as-of", "2025-02-28T12:00"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "applications.xlsx: 受理 / accepted 24，重复 / duplicates 0，未受理 / refused 0" in out
    assert "✓ 2025-001  银龄共膳——吕岭敬老餐厅助餐陪伴计划  (applications.xlsx:第2行 (row 2))" in out
    assert "broken.xlsx: 受理 / accepted 0，重复 / duplicates 0，未受理 / refused 20" in out
    # every problem in full, under its file and row, with the field
    assert (
        "✗ broken.xlsx:第4行 (row 4): 示例项目第04行 · 厦门市湖里区示例社会服务中心04 → broken04@example.org"
        in out
    )
    assert (
        "- 申请金额（元）: 申请金额 12,000.00 元超过单个项目上限 8,000.00 元 / "
        "the amount 12,000.00 exceeds the per-project cap 8,000.00 yuan"
    ) in out
    assert "✗ broken.xlsx:第3行 (row 3)" in out and "无有效邮箱，不发信 / no usable email: no letter" in out
    assert "- 电子邮箱: 邮箱“zhang.wei@example”格式不正确" in out
    assert "受理回执 / receipts: 24；未受理通知 / refusal letters: 17" in out
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3 + 24 + 17

    status = json.loads(run(["status", "--json"], tmp_path).stdout)
    assert status["competition"]["stage"] == "call_open" and status["counts"] == {"submitted": 24}


@pytest.mark.slow
def test_intake_import_after_the_deadline_is_one_error_line_unless_a_reason_is_given(tmp_path):
    assert run(["competition", "create", CONFIG], tmp_path).returncode == 0
    late = run(["intake", "import", GBK], tmp_path)  # now is long after 2025-02-28
    assert late.returncode == 1
    assert "Traceback" not in late.stderr
    (line,) = error_lines(late.stderr)
    assert "applications-gbk.csv" in line and "截止" in line and "an administrator may import late" in line

    allowed = run(["intake", "import", GBK, "--override-reason", "街道批准补录", "--json"], tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    result = json.loads(allowed.stdout)
    (report,) = result["files"]
    assert report["late"] is True and [a["ref"] for a in report["accepted"]] == [
        "2025-001",
        "2025-002",
        "2025-003",
    ]
    assert result["receipts"] == 3 and result["delivery"]["sent"] == 3


def test_intake_import_of_a_missing_file_is_one_line_and_exit_1(tmp_path):
    assert run(["competition", "create", CONFIG], tmp_path).returncode == 0
    result = run(["intake", "import", str(tmp_path / "nowhere.xlsx")], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert "nowhere.xlsx" in line and "file not found" in line


def test_intake_template_writes_the_competition_workbook(tmp_path):
    assert run(["competition", "create", CONFIG], tmp_path).returncode == 0
    target = tmp_path / "out" / "申报汇总表.xlsx"
    result = run(["intake", "template", str(target)], tmp_path)
    assert result.returncode == 0, result.stderr
    book = load_workbook(target)
    assert book.sheetnames == ["申报信息", "预算明细", "活动安排", "填写说明"]
    assert "2025年江头街道" in str(book["填写说明"]["A1"].value)
    wrong = run(["intake", "template", str(tmp_path / "x.csv")], tmp_path)
    assert wrong.returncode == 1 and len(error_lines(wrong.stderr)) == 1
