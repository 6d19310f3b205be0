"""``grantflow demo`` end to end, as ``make demo`` runs it: every stage that exists, its documents,
its letters (.eml with Word attachments), a fresh start on the second run — on the default SQLite
file and on a PostgreSQL database named by GRANTFLOW_DATABASE_URL."""

from __future__ import annotations

import json
import sqlite3
from email import message_from_bytes, policy
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document

from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR

pytestmark = pytest.mark.slow

STAGE_DOCUMENTS = {
    "call": {"call_notice", "application_form"},
    "intake": {"receipt"},
    "screening": {"eligibility_sheet"},
    "review": {"expert_score_sheet", "score_summary"},
    "funding": {"funding_publicity", "award_notice", "rejection_notice", "grant_agreement"},
    "implementation": {"payment_notice"},
    "supervision": {"supervision_record", "midterm_opinion", "rectification_notice"},
    "evaluation": {"final_evaluation_report", "annual_report"},
}


def _roles(database: Path) -> dict[str, set[str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT path, role FROM generated_document").fetchall()
    found: dict[str, set[str]] = {}
    for path, role in rows:
        found.setdefault(path.split("/")[1], set()).add(role)
    return found


def test_demo_runs_every_stage_and_a_second_run_starts_afresh(tmp_path: Path):
    out = tmp_path / "demo"
    first = run(["demo", "--out", str(out)], tmp_path / "unused")
    assert first.returncode == 0, first.stdout + first.stderr
    for heading in (
        "筹备 / setup",
        "征集 / call",
        "受理 / intake",
        "资格审查 / screening",
        "评审结束 / review closed",
        "资助方案 / funding draft",
        "公示期异议 / objection",
        "公示结束 / notice closed",
        "协议签订 / agreements signed",
    ):
        assert heading in first.stdout
    assert "未受理 / refused (20)" in first.stdout and "资格审查未通过 / ineligible (3)" in first.stdout
    assert "评审排名 / ranking" in first.stdout
    # 7 experts, 5 a project: an incomplete design, so the one-way figures apply (not the two-way ones)
    (agreement,) = [text for text in first.stdout.splitlines() if "评审一致性 / agreement" in text]
    assert "ICC(1,1) = " in agreement and "ICC(1,k̄) (k̄ = k₀ = " in agreement and "ICC(2" not in agreement
    assert "资助方案 / funding decision" in first.stdout and "= 资金池 60,000.00 ✓" in first.stdout

    # every stage's documents are in the output folder and open in python-docx
    roles = _roles(out / "grantflow.db")
    for stage, expected in STAGE_DOCUMENTS.items():
        assert expected <= roles.get(stage, set()), stage
    documents = sorted((out / "documents").rglob("*.docx"))
    assert len(documents) >= 31 + 31 + 7 + 1 + 2
    assert "评分汇总" in "\n".join(
        p.text for p in Document(next(d for d in documents if "评分汇总" in d.name)).paragraphs
    )

    # letters are readable .eml files; receipts carry their Word attachment
    emls = sorted((out / "mail").glob("*.eml"))
    assert len(emls) > 80
    receipts = []
    for eml in emls:
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        if "受理" in str(message["subject"]) and "未受理" not in str(message["subject"]):
            receipts.append(message)
    assert receipts
    attachment = next(receipts[0].iter_attachments())
    assert attachment.get_filename().endswith(".docx")
    assert Document(BytesIO(attachment.get_content())).paragraphs

    status = json.loads(run(["status", "--json"], out).stdout)
    assert status["competition"]["stage"] == "closed"  # the whole year: every grant completed or terminated
    assert status["counts"] == {"completed": 9, "terminated": 2, "not_funded": 17, "ineligible": 3}
    # the 年度总结报告 dates each stage as of its (2025) run, not the day the demo ran
    report = json.loads(run(["report", "--json"], out).stdout)
    assert {row["stage"]: row["date"] for row in report["timeline"]} == {
        "draft": "2025-01-02",
        "call_open": "2025-01-06",
        "screening": "2025-03-03",
        "review": "2025-03-05",
        "funding": "2025-03-21",
        "publicity": "2025-03-24",
        "implementation": "2025-03-31",
        "evaluation": "2025-10-20",
        "closed": "2025-10-29",
    }

    second = run(["demo", "--out", str(out)], tmp_path / "unused")
    assert second.returncode == 0, second.stdout + second.stderr
    again = json.loads(run(["status", "--json"], out).stdout)
    assert again["counts"] == status["counts"]  # afresh: nothing doubled


def test_demo_on_postgresql_replaces_the_last_demo(tmp_path: Path, postgres):
    url = postgres.create_database()
    created = run(
        ["competition", "create", str(EXAMPLE_DIR / "competition.yaml")], tmp_path, GRANTFLOW_DATABASE_URL=url
    )
    assert created.returncode == 0, created.stderr  # as if an earlier demo had left its competition
    out = tmp_path / "demo"
    result = run(["demo", "--out", str(out)], tmp_path, GRANTFLOW_DATABASE_URL=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "removed the last demo's jiangtou-2025" in result.stdout
    assert not (out / "grantflow.db").exists()  # the data went to PostgreSQL
    status = json.loads(run(["status", "--json"], out, GRANTFLOW_DATABASE_URL=url).stdout)
    assert status["counts"] == {"completed": 9, "terminated": 2, "not_funded": 17, "ineligible": 3}
