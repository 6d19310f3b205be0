"""The demo year's official papers are Chinese: every .docx ``grantflow demo`` writes, read with
python-docx (body, tables, headers and footers), holds no Latin word but a code, an e-mail address or
a URL, no ISO date, and percentages that are the plan rounded half-up; the experts' comments are
items of their own; the panel's agreement is one figure, the same in every paper."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import docx
import pytest

from tests.cli.test_cli import run
from tests.models.documents.paper_text import ISO_DATE, document_text, latin_words

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``grantflow demo`` once, as ``make demo`` runs it; the folder of the year's documents."""
    out = tmp_path_factory.mktemp("demo") / "out"
    result = run(["demo", "--out", str(out)], out.parent / "unused", timeout=1200)  # a busy machine
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "documents"


@pytest.fixture(scope="module")
def papers(documents: Path) -> dict[str, str]:
    """The text of every document of the year, by file name."""
    return {path.name: document_text(path.read_bytes()) for path in sorted(documents.rglob("*.docx"))}


def _kind(name: str) -> str:
    return re.split(r"[-.]", name, maxsplit=1)[0]


def test_every_paper_of_the_year_is_read(papers: dict[str, str]) -> None:
    kinds = {_kind(name) for name in papers}
    assert len(papers) > 150
    assert {
        "拨款通知",
        "中期评估意见",
        "整改通知",
        "年度总结报告",
        "评分汇总表及排名表",
        "未入选通知",
    } <= kinds
    assert all("江头" in text for text in papers.values())


def test_no_paper_holds_a_latin_word_but_codes_emails_and_urls(papers: dict[str, str]) -> None:
    found = {name: words for name, text in papers.items() if (words := sorted(set(latin_words(text))))}
    assert found == {}


def test_the_allowed_tokens_are_only_codes_emails_urls_and_file_names() -> None:
    assert latin_words("协议编号2025-XY-005，拨款2025-XY-005-2，申报编号2025-005、JT2025-003") == []
    assert latin_words("统一社会信用代码52350206MJ0112309P；邮箱gongyi@jiangtou.example.org") == []
    assert latin_words("网址https://gongyi.example.org/apply/jiangtou-2025；签到表-2025-005.png") == []
    assert latin_words("督导评分40.0分 / scored 40.0 (pass mark 60)") == ["scored", "pass", "mark"]
    assert latin_words("ICC(1,1) = 0.8895；MSB − MSW") == ["ICC", "MSB", "MSW"]
    assert latin_words("jiangtou-2025-整改-1；通过Excel申报汇总表") == ["jiangtou", "Excel"]
    assert latin_words("52350206MJ0112309O") == ["MJ", "O"]  # O is no credit code's character


def test_no_paper_prints_an_iso_date(papers: dict[str, str]) -> None:
    found = {name: ISO_DATE.findall(text) for name, text in papers.items() if ISO_DATE.search(text)}
    assert found == {}


def _half_up(part: Decimal, whole: Decimal) -> str:
    return f"{(part * 100 / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def _number(cell: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", cell))


def test_every_completion_rate_is_the_plan_rounded_half_up(documents: Path, papers: dict[str, str]) -> None:
    """The 完成率 of every indicator table (中期评估意见, 结项评估报告) and the 年度总结报告's 完成率 of
    person-times: what was done over what was planned, in whole percent, rounded half-up."""
    rates = 0
    for path in sorted(documents.rglob("*.docx")):
        for table in docx.Document(str(path)).tables:
            header = [cell.text for cell in table.rows[0].cells]
            if "完成率" not in header:
                continue
            planned, actual, rate = header.index("计划"), header.index("实际完成"), header.index("完成率")
            for row in table.rows[1:]:
                cells = [cell.text for cell in row.cells]
                if _number(cells[planned]) == 0:
                    assert cells[rate] == "—", (path.name, cells)
                    continue
                assert cells[rate] == _half_up(_number(cells[actual]), _number(cells[planned])), (
                    path.name,
                    cells,
                )
                rates += 1
    assert rates > 20
    (annual,) = [text for name, text in papers.items() if name.startswith("年度总结报告")]
    done, planned, printed = re.search(r"服务(\d+)人次（计划(\d+)人次，完成(\d+%)）", annual).groups()  # type: ignore[union-attr]
    assert printed == _half_up(Decimal(done), Decimal(planned))


def test_each_expert_comment_is_an_item_of_its_own(papers: dict[str, str]) -> None:
    rejections = {name: text for name, text in papers.items() if name.startswith("未入选通知")}
    assert rejections
    with_comments = 0
    for name, text in rejections.items():
        assert "。；" not in text, name
        items = re.findall(r"^\d+\. (.+)$", text.split("专家意见（匿名）：", 1)[-1], flags=re.MULTILINE)
        assert len(items) == len(set(items)), (name, items)  # the same sentence is one item
        with_comments += bool(items)
    assert with_comments == len(rejections)  # the example's configuration asks for the comments


def test_the_agreement_is_one_figure_in_one_sentence_in_every_paper(papers: dict[str, str]) -> None:
    (summary,) = [text for name, text in papers.items() if name.startswith("评分汇总表")]
    (annual,) = [text for name, text in papers.items() if name.startswith("年度总结报告")]
    pattern = r"专家评分一致性系数（组内相关系数）为(-?\d\.\d{4})（最大为1"
    figures = [re.findall(pattern, text) for text in (summary, annual)]
    assert len(figures[0]) == 1 and figures[0] == figures[1]
