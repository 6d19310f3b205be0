"""The demo year's papers read as a finance office reads them: ``grantflow demo`` once, then every
.docx of the year opened with python-docx and checked against each other and the database —
the money identities, no opinion contradicting its checkpoint's outcome, every 文号 unique and
well-formed and given by the registry."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document

from models.evaluation.annual import money_lines
from tests.cli.test_cli import run

pytestmark = pytest.mark.slow

DOC_NUMBER = re.compile(r"^江头社工〔2025〕([1-9]\d*)号$")
CITED = re.compile(r"江头社工〔\d{4}〕\d+号")  # a 文号 of ours, cited in a paper
NUMBERED = ("award_notice", "payment_notice", "rectification_notice", "termination_notice", "refund_notice")
YUAN = r"([\d,]+\.\d{2})元"


@dataclass(frozen=True)
class Paper:
    role: str
    subject_entity: str
    subject_id: int
    path: Path
    paragraphs: list[str]
    cells: dict[str, str]  # a two-column table's label → value

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs + [f"{k} | {v}" for k, v in self.cells.items()])


def fen(text: str) -> int:
    """``1,234.56`` (yuan, as printed) → 123456 fen."""
    return int(Decimal(text.replace(",", "")) * 100)


def amount(text: str, label: str) -> int:
    """The amount printed right after ``label`` (``已拨付4,800.00元``)."""
    found = re.search(re.escape(label) + YUAN, text)
    assert found, f"no amount after {label!r} in: {text[:300]}"
    return fen(found.group(1))


@dataclass(frozen=True)
class Year:
    out: Path
    papers: list[Paper]
    figures: dict

    def of(self, role: str) -> list[Paper]:
        return [p for p in self.papers if p.role == role]

    def query(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.out / "grantflow.db") as conn:
            return conn.execute(sql, args).fetchall()


def _read(path: Path) -> tuple[list[str], dict[str, str]]:
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    cells: dict[str, str] = {}
    for table in document.tables:
        for row in table.rows:
            values = [c.text for c in row.cells]
            if len(values) == 2:
                cells[values[0]] = values[1]
            paragraphs.append(" | ".join(values))
    return paragraphs, cells


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    out = tmp_path_factory.mktemp("demo-year") / "demo"
    result = run(["demo", "--out", str(out)], out.parent / "unused")
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(out / "grantflow.db") as conn:
        rows = conn.execute(
            "SELECT role, subject_entity, subject_id, path FROM generated_document"
        ).fetchall()
    papers = []
    for role, entity, subject, relative in rows:
        path = out / "documents" / relative
        paragraphs, cells = _read(path)
        papers.append(Paper(role, entity, subject, path, paragraphs, cells))
    report = run(["report", "--json"], out)
    assert report.returncode == 0, report.stderr
    yield Year(out, papers, json.loads(report.stdout))


def test_every_paper_of_the_year_is_read(year):
    on_disk = sorted((year.out / "documents").rglob("*.docx"))
    assert sorted(p.path for p in year.papers) == on_disk and len(on_disk) > 150
    roles = {p.role for p in year.papers}
    assert {
        "midterm_opinion",
        "rectification_notice",
        "termination_notice",
        "final_evaluation_report",
    } <= roles
    assert {"payment_notice", "annual_report"} <= roles


def test_doc_numbers_are_unique_well_formed_and_from_the_registry(year):
    printed: dict[str, Paper] = {}
    for paper in year.papers:
        if paper.role not in NUMBERED:
            continue
        number = paper.paragraphs[0]
        assert DOC_NUMBER.match(number), (paper.path.name, number)
        assert number not in printed, f"{number} on {paper.path.name} and {printed[number].path.name}"
        printed[number] = paper
    registry = {
        number: (kind, entity, subject)
        for number, kind, entity, subject in year.query(
            "SELECT number, kind, subject_entity, subject_id FROM document_number"
        )
    }
    assert set(printed) == set(registry)  # every 文号 printed was given, every one given is printed
    for number, paper in printed.items():
        assert registry[number] == (paper.role, paper.subject_entity, paper.subject_id), number
    seqs = sorted(int(DOC_NUMBER.match(n).group(1)) for n in printed)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # counted on, never a gap or a repeat
    # every 文号 a paper cites is one the registry gave
    for paper in year.papers:
        for cited in CITED.findall(paper.text):
            assert cited in registry, (paper.path.name, cited)


def test_no_opinion_contradicts_its_checkpoints_outcome(year):
    states = dict(year.query("SELECT id, state FROM checkpoint"))
    opinions = year.of("midterm_opinion")
    assert {states[p.subject_id] for p in opinions} == {"passed", "failed"}
    for paper in opinions:
        advice = paper.text.split("四、拨付意见", 1)[1]
        if states[paper.subject_id] == "failed":
            assert "同意拨付" not in paper.text and ("暂缓拨付" in advice or "不予拨付" in advice), (
                paper.path.name
            )
            assert "评估结果为不合格" in paper.text
        else:
            assert "同意拨付" in advice and "暂缓" not in paper.text and "不予拨付" not in paper.text
            assert "评估结果为合格" in paper.text
    for paper in year.of("supervision_record"):
        passed = states[paper.subject_id] == "passed"
        assert ("☑合格" in paper.text) is passed and ("☑不合格" in paper.text) is not passed


def test_payment_notices_add_up_with_the_tranches_and_the_year(year):
    tranches = {
        tid: (paid, reduced, amount_fen)
        for tid, paid, reduced, amount_fen in year.query(
            "SELECT id, paid_fen, reduced_fen, amount_fen FROM tranche"
        )
    }
    paid_in_notices = 0
    for paper in year.of("payment_notice"):
        now, before, after = (
            fen(paper.cells[k].removesuffix("元"))
            for k in ("本次拨付（小写）", "此前已拨付", "本次拨付后累计")
        )
        grant = fen(paper.cells["资助总额"].removesuffix("元"))
        paid, reduced, planned = tranches[paper.subject_id]
        assert before + now == after <= grant and now == paid > 0, paper.path.name
        if reduced:
            assert f"核减{reduced / 100:,.2f}元" in paper.text and f"计划{planned / 100:,.2f}元" in paper.text
        paid_in_notices += now
    assert paid_in_notices == year.figures["money"]["paid_fen"]


def test_final_reports_settle_the_final_tranche_and_the_balance_together(year):
    returns = {row["ref"]: row for row in year.figures["returns"]}
    for paper in year.of("final_evaluation_report"):
        money = paper.text.split("四、经费使用与结算", 1)[1].split("五、", 1)[0]
        granted, paid, spent = (amount(money, k) for k in ("资助金额", "已拨付", "督导核定支出"))
        assert spent <= granted and paid <= granted
        ref = paper.cells["受理编号"]
        if "应予退回" in money:  # a balance goes back: no 尾款 paid with it (nor after a termination)
            assert "拨付尾款" not in paper.text
            assert "全部核减，不再拨付" in money or "终止资助协议，未拨付的" in money
            assert amount(money, "结余") == paid - spent == returns[ref]["to_return_fen"]
        elif "累计拨付" in money:
            assert amount(money, "累计拨付") == paid == spent and "无结余资金" in money
        elif "全部核减" in money:  # spent exactly what was paid before
            assert paid == spent and ref not in returns
        else:
            assert "暂缓拨付" in money or "不予拨付" in money
    for paper in year.of("refund_notice"):
        paid, spent, back = (
            fen(paper.cells[k].removesuffix("元")) for k in ("已拨付", "督导核定支出", "应退回（小写）")
        )
        ref = re.search(r"受理编号([\w-]+)", paper.text).group(1)
        assert back == paid - spent == returns[ref]["to_return_fen"] > 0
        assert returns[ref]["doc_number"] == paper.paragraphs[0]


def test_terminations_say_what_is_recovered_and_why(year):
    notices = year.of("termination_notice")
    assert len(notices) == 2  # the demo year ends two grants: one at its mid-term, one at its 结项
    rectifications = [p.paragraphs[0] for p in year.of("rectification_notice")]
    for paper in notices:
        granted, paid, spent, back, dropped = (
            fen(paper.cells[k].removesuffix("元"))
            for k in ("资助总额", "已拨付", "督导核定支出", "应退回（小写）", "不再拨付")
        )
        assert back == paid - spent and paid + dropped == granted
        (cited,) = re.findall(r"依整改通知（(.+?)）", paper.text)
        assert cited in rectifications and "终止理由" in paper.text
        ref = re.search(r"受理编号([\w-]+)", paper.text).group(1)
        row = next(r for r in year.figures["returns"] if r["ref"] == ref)
        recorded = (row["to_return_fen"], row["why"], row["doc_number"])
        assert recorded == (back, "终止追回", paper.paragraphs[0])


def test_the_annual_report_reconciles_with_the_year_and_lists_its_parts(year):
    money = year.figures["money"]
    assert money["granted_fen"] == sum(
        money[k] for k in ("paid_fen", "reduced_fen", "cancelled_fen", "withheld_fen", "due_fen")
    )
    assert money["paid_fen"] == money["used_fen"] + money["to_return_fen"] + money["in_hand_fen"]
    assert money["spent_fen"] == money["used_fen"] + money["borne_fen"] + money["advanced_fen"]
    assert money["to_return_fen"] == sum(row["to_return_fen"] for row in year.figures["returns"])
    assert money["cancelled_fen"] > 0 and money["to_return_fen"] > 0  # the terminated grant is in it
    (paper,) = year.of("annual_report")
    for sentence in money_lines(money):  # the same sentences the CLI prints, from the same figures
        assert sentence in paper.text
    for row in year.figures["returns"]:
        assert row["ref"] in paper.text and f"{row['to_return_fen'] / 100:,.2f}" in paper.text
    assert "暂缓或未拨付0.00元" not in paper.text
    printed = run(["report"], year.out).stdout
    for sentence in money_lines(money):
        assert sentence in printed
