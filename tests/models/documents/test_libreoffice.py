"""Documents as pages: every role, rendered with its samples — and with long and worst-case values,
and with tables of every length around a page's end — converts to PDF in LibreOffice (headless, one
run for all) and reads right page by page (poppler):

- its Chinese text, the page number, a sane number of pages, the aliased CJK fonts;
- no page holds only the closing block (落款, signature, seal and date lines, with a closing phrase
  such as 专此通知): each role is rendered with text long enough to push its signature onto a page of
  its own (the lengths were found on the templates before the rule; a font with other metrics moves
  them, but can never make this fail);
- no table leaves one row alone on its first or last page, and no row is lost;
- codes, amounts, phone numbers, short labels and headers are never broken across lines in a cell;
- titles break between phrases; a line ending in a manual line break is not stretched.

``tests/cli/test_demo_year_pages.py`` checks the same rules on the demo year's real documents.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest

from models.documents.registry import DOCUMENTS, render_document
from tests.models.documents import pdf_pages

pytestmark = pytest.mark.slow

ROLES = [role.name for role in DOCUMENTS]
# what each document's first page says, when it is not the role's title
HEADLINES = {"funding_publicity": "拟资助项目的公示", "score_summary": "评分汇总表（排名表）"}
FILL = "项目组每周走访服务对象，记录需求变化并及时调整服务安排，"
# role -> (the key lengthened, the lengths that put the closing block alone on a page before the rule)
LONG = {
    "award_notice": ("contact", [0, 40]),
    "payment_notice": ("gate_result", [0]),
    "midterm_opinion": ("next_tranche", [0, 520]),
    "supervision_record": ("suggestions", [0]),
    "grant_agreement": ("operator", [0, 300]),
    "call_notice": ("contact", [540]),
    "application_form": ("sustainability", [520]),
}
# The 承诺书's signature lines belong on the page of its text (they are inside the box, not a 落款).
PLEDGE_SIGNATURE, PLEDGE_TEXT = "法定代表人或负责人（签字）", "郑重承诺"
REASON = "评审意见：需求调研不足。\n建议补充居民访谈记录，细化活动安排与预算测算，明年再报。"


def _sample(name: str, **changes: Any) -> dict[str, Any]:
    return {**dict(DOCUMENTS.get(name).keys), **changes}


def _tables_around_a_page_end() -> dict[str, dict[str, Any]]:
    """Tables of every length that ends near a page's end: each renders to a different split."""
    variants: dict[str, dict[str, Any]] = {}
    publicity = _sample("funding_publicity")
    base = publicity["projects"][0]
    for count in range(8, 17):
        projects = [
            {**base, "seq": n, "ref": f"JT2025-{n:03d}", "title": f"第{n}号社区项目{'邻里守望' * (n % 3)}"}
            for n in range(1, count + 1)
        ]
        variants[f"funding_publicity__rows{count}"] = {**publicity, "projects": projects}
    for count in range(2, 10):
        lines = [
            {"item": f"科目{n:02d}", "purpose": f"用途{n:02d}", "amount_fen": 10_000 * n}
            for n in range(1, count + 1)
        ]
        variants[f"grant_agreement__rows{count}"] = _sample("grant_agreement", budget_lines=lines)
        spending = [
            {"item": f"科目{n:02d}", "budget_fen": 10_000 * n, "spent_fen": 9_000 * n}
            for n in range(1, count + 1)
        ]
        variants[f"final_evaluation_report__rows{count}"] = _sample(
            "final_evaluation_report", spending=spending
        )
    checks = _sample("eligibility_sheet")["checks"]
    for count in range(6, 12):
        rows = [{**checks[n % len(checks)], "rule": f"审查事项{n:02d}"} for n in range(1, count + 1)]
        rows[0]["note"] = "已登记或备案（52350206MJ0112309P）"  # an 18-character credit code
        variants[f"eligibility_sheet__rows{count}"] = _sample("eligibility_sheet", checks=rows)
    annual = _sample("annual_report")
    for count in range(3, 7):
        categories = [{**annual["by_category"][n % 3], "name": f"领域{n:02d}"} for n in range(1, count + 1)]
        variants[f"annual_report__rows{count}"] = {**annual, "by_category": categories}
    summary = _sample("score_summary")
    row = summary["pools"][0]["rows"][0]
    for count in range(10, 16):
        rows = [
            {**row, "rank": n, "ref": f"JT2025-{n:03d}", "title": f"第{n}号项目"} for n in range(1, count + 1)
        ]
        variants[f"score_summary__rows{count}"] = {**summary, "pools": [{"name": "社会组织组", "rows": rows}]}
    photo = _sample("supervision_record")["evidence"][0]
    for count in (4, 5, 6):
        photos = [{**photo, "name": f"活动照片{n}.jpg"} for n in range(1, count + 1)]
        variants[f"supervision_record__photos{count}"] = _sample("supervision_record", evidence=photos)
    return variants


def _worst_cases() -> dict[str, dict[str, Any]]:
    """Values as wide as real ones get: the largest amounts, the longest category, phone numbers."""
    publicity = _sample("funding_publicity")
    projects = [dict(p) for p in publicity["projects"]]
    projects[0].update(category="公益服务", amount_fen=80_000_000)
    summary = _sample("score_summary")
    sheet = _sample("expert_score_sheet")
    many = [{**a, "ref": f"JT2025-{n:03d}"} for n, a in enumerate(sheet["applications"] * 10, start=1)]
    return {
        "expert_score_sheet": {**sheet, "applications": many[:19]},
        "funding_publicity": {**publicity, "projects": projects, "total_fen": 99_999_999},
        "score_summary": summary,
        "rejection_notice": _sample("rejection_notice", reason=REASON),
    }


# tokens that must print whole, each on one line, per rendered document
TOKENS = {
    "funding_publicity__worst": ["序号", "JT2025-003", "JT2025-007", "公益服务", "800,000.00", "999,999.99"],
    "score_summary__worst": [
        "排名",
        "JT2025-003",
        "JT2025-011",
        "最终得分",
        "86.50",
        "分歧较大",
        "去掉的分数",
    ],
    "call_notice": ["序号", "分值", "预算合理性", "可持续性", "0592\u20115512345"],
    "application_form": [
        "13950012345",
        "13806001234",
        "2025年5月—9月",
        "1,400.00",
        "8,000.00",
        "志愿者培训费",
    ],
    "grant_agreement": ["首期拨付", "4,000.00", "志愿者培训费", "宣传与台账"],
    "award_notice": ["首期拨付", "4,000.00", "2,400.00"],
    "annual_report": ["27,500.00", "公益服务", "服务人次", "活动场次", "资助金额"],
    "supervision_record": ["1,385人次", "3,650.00元", "活动场次"],
    "midterm_opinion": ["志愿者服务时长", "1,500小时", "1,385人次", "实际完成"],
}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every document of this module, converted by a single soffice run."""
    documents = {name: render_document(name, dict(DOCUMENTS.get(name).keys)) for name in ROLES}
    for name, (key, lengths) in LONG.items():
        for length in lengths:
            context = _sample(name)
            context[key] = context[key] + (FILL * 40)[:length]
            documents[f"{name}__long{length}"] = render_document(name, context)
    for name, context in _worst_cases().items():
        documents[f"{name}__worst"] = render_document(name, context)
    for document, context in _tables_around_a_page_end().items():
        documents[document] = render_document(document.split("__")[0], context)
    DOCX.update(documents)
    try:
        return pdf_pages.to_pdf(documents, tmp_path_factory.mktemp("libreoffice"))
    except pdf_pages.MissingTool as exc:
        pytest.fail(str(exc))


DOCX: dict[str, bytes] = {}  # what the fixture rendered, by document
EVERY_DOCUMENT = sorted(
    [*ROLES]
    + [f"{name}__long{length}" for name, (_, lengths) in LONG.items() for length in lengths]
    + [f"{name}__worst" for name in _worst_cases()]
    + list(_tables_around_a_page_end())
)


@pytest.mark.parametrize("name", ROLES)
def test_role_converts_to_pdf_with_its_chinese_text(pdfs: dict[str, Path], name: str) -> None:
    role = DOCUMENTS.get(name)
    pdf = pdfs[name]
    assert pdf.is_file(), f"LibreOffice did not convert {name}.docx"
    compact = "".join("".join(page.split()) for page in pdf_pages.pages(pdf))
    assert HEADLINES.get(name, role.title) in compact
    assert "".join(role.keys["competition_name"].split()) in compact
    assert "—1—" in compact  # the page number
    assert 1 <= pdf_pages.page_count(pdf) <= 8
    pages = pdf_pages.pages(pdf)
    assert all(pdf_pages.content_lines(page) for page in pages), "a page holds only its page number"


def test_pdf_uses_the_aliased_cjk_fonts(pdfs: dict[str, Path]) -> None:
    fonts = subprocess.run(
        [pdf_pages.tool("pdffonts"), str(pdfs["expert_score_sheet"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "NotoSerifCJK" in fonts  # 仿宋 and 小标宋
    assert "NotoSansCJK" in fonts  # 黑体
    assert "UKai" in fonts  # 楷体: the second-level headings


# LibreOffice (7.4) ignores keep-with-next on a paragraph that itself runs over a page break, so a
# body whose last paragraph is longer than the room left still leaves the 落款 alone (Word keeps the
# paragraph's last lines with it). Strict: the test says so when LibreOffice starts to honour it.
_SPLIT_LAST_PARAGRAPH = pytest.mark.xfail(
    strict=True, reason="LibreOffice ignores keepNext on a paragraph split across pages"
)


# LibreOffice (7.4) also drops the keep chain 七、评估结论 → its paragraph → 落款 when the page before
# ends a budget table carried over from the page before it (the 结项评估报告 with 8 budget lines):
# measured with keepLines, without widowControl and without the blank line before the signer, the
# signer and the date still go alone to page 3. Strict: the test says so when LibreOffice keeps it.
_CHAIN_AFTER_A_CARRIED_TABLE = pytest.mark.xfail(
    strict=True, reason="LibreOffice drops a keep chain after a table carried over a page"
)
_LIBREOFFICE_KEEP_BUGS = {
    "midterm_opinion__long520": _SPLIT_LAST_PARAGRAPH,
    "final_evaluation_report__rows8": _CHAIN_AFTER_A_CARRIED_TABLE,
}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            document, marks=[_LIBREOFFICE_KEEP_BUGS[document]] if document in _LIBREOFFICE_KEEP_BUGS else []
        )
        for document in EVERY_DOCUMENT
    ],
)
def test_no_page_holds_only_the_closing_block(pdfs: dict[str, Path], document: str) -> None:
    name = document.split("__")[0]
    sample = DOCUMENTS.get(name).keys
    signers = {
        "".join(str(sample[k]).split()) for k in ("organiser", "operator", "prepared_by") if k in sample
    }
    pages = pdf_pages.pages(pdfs[document])
    for number, page in enumerate(pages, start=1):
        lines = pdf_pages.content_lines(page)
        assert not pdf_pages.closing_only(lines, signers), f"{document}: page {number} holds only {lines}"
        compact = "".join(page.split())
        if name == "application_form" and PLEDGE_SIGNATURE in compact:
            assert PLEDGE_TEXT in compact, (
                f"{document}: the 承诺书's signature lines left its text (page {number})"
            )


def test_the_closing_check_sees_a_lone_signature() -> None:
    signers = {"江头街道社会工作服务站", "林老师"}
    assert pdf_pages.closing_only(["江头街道社会工作服务站", "2025 年 6 月 20 日"], signers)
    assert pdf_pages.closing_only(["督导人员（签字）： 项目负责人（签字）："], signers)
    assert pdf_pages.closing_only(["签订日期：2025 年 4 月 10 日"], signers)
    # a closing phrase is part of the block: 专此通知 with the signature alone is a lone block
    assert pdf_pages.closing_only(["专此通知。", "江头街道社会工作服务站", "2025 年 6 月 20 日"], signers)
    assert pdf_pages.closing_only(["制表人：林老师 制表日期：2025 年 3 月 21 日"], signers)
    assert not pdf_pages.closing_only(["请按时提交材料。", "2025 年 6 月 20 日"], signers)


@pytest.mark.parametrize("document", EVERY_DOCUMENT)
def test_tables_never_leave_one_row_alone_nor_lose_one(pdfs: dict[str, Path], document: str) -> None:
    assert pdf_pages.lost_rows(DOCX[document], pdfs[document]) == []
    assert pdf_pages.lone_rows(DOCX[document], pdfs[document]) == []


def test_the_table_checks_see_the_rows_of_a_table_that_splits(pdfs: dict[str, Path]) -> None:
    """The checks above can fail: a 16-row 公示 runs over two pages, each row placed on one."""
    where = pdf_pages.rows_by_page(DOCX["funding_publicity__rows16"], pdfs["funding_publicity__rows16"])[0]
    placed = where[:16]  # the 16 projects (the 合计 row's texts are printed in the body too)
    assert None not in placed and placed[0] == 1 and placed[-1] == 2 and placed == sorted(placed)  # type: ignore[type-var]


@pytest.mark.parametrize("count", [4, 5, 6])
def test_a_picture_stays_on_the_page_of_the_line_naming_it(pdfs: dict[str, Path], count: int) -> None:
    pdf = pdfs[f"supervision_record__photos{count}"]
    pictures = pdf_pages.image_pages(pdf)
    assert len(pictures) == count
    for number, page in enumerate(pdf_pages.pages(pdf), start=1):
        named = len(re.findall(r"活动照片\d+\.jpg", "".join(page.split())))
        assert named == pictures.count(number), (
            f"page {number}: {named} named, {pictures.count(number)} shown"
        )


# codes (JT2025-003, 2025-XY-003-1, credit codes), amounts and percentages, as printed in a cell
CELL_TOKEN = re.compile(
    r"JT\d{4}-\d{3}|\d{4}-XY-\d{3}(?:-\d)?|[0-9A-Z]{18}|\d{1,3}(?:,\d{3})*\.\d{2}|\d+%|\d{3,4}-\d{7,8}|1\d{10}"
)


def _cell_tokens(data: bytes) -> list[str]:
    found: dict[str, None] = {}
    for table in docx.Document(io.BytesIO(data)).tables:
        for row in table.rows:
            for cell in row.cells:
                found.update(dict.fromkeys(CELL_TOKEN.findall(cell.text)))
    return list(found)


@pytest.mark.parametrize("document", EVERY_DOCUMENT)
def test_no_code_or_amount_breaks_in_a_cell(pdfs: dict[str, Path], document: str) -> None:
    tokens = _cell_tokens(DOCX[document])
    assert pdf_pages.split_tokens(pdfs[document], tokens) == []


@pytest.mark.parametrize("document", sorted(TOKENS))
def test_codes_amounts_and_labels_are_not_broken_in_cells(pdfs: dict[str, Path], document: str) -> None:
    assert pdf_pages.split_tokens(pdfs[document], TOKENS[document]) == []


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("call_notice", ["2025年江头街道“江头公益圈”", "微公益创投大赛项目征集公告"]),
        ("funding_publicity", ["关于2025年江头街道“江头公益圈”", "微公益创投大赛拟资助项目的公示"]),
        ("grant_agreement", ["2025年江头街道“江头公益圈”", "微公益创投大赛资助协议书"]),
    ],
)
def test_titles_break_between_phrases(pdfs: dict[str, Path], name: str, lines: list[str]) -> None:
    printed = ["".join(line.split()) for line in pdf_pages.content_lines(pdf_pages.page_text(pdfs[name], 1))]
    for line in lines:
        assert line in printed, printed[:6]


def test_a_line_ending_in_a_line_break_is_not_stretched(pdfs: dict[str, Path]) -> None:
    """The first line of a two-line reason keeps its characters together (justification would spread
    them across the line, and pdftotext then prints the gaps as spaces)."""
    lines = pdf_pages.content_lines(pdf_pages.page_text(pdfs["rejection_notice__worst"], 1))
    first = next(line for line in lines if "评审意见" in line)
    assert first.strip() == "评审意见：需求调研不足。"


def test_expert_score_sheet_keeps_each_application_whole_and_compact(pdfs: dict[str, Path]) -> None:
    """19 applications (the example's eligible count) on a few pages, no block cut from its heading."""
    pdf = pdfs["expert_score_sheet__worst"]
    assert pdf_pages.page_count(pdf) <= 8
    seen = 0
    for page in pdf_pages.pages(pdf):
        compact = "".join(page.split())
        headings = len(re.findall(r"）JT2025-\d{3}", compact))
        assert headings == compact.count("评审意见："), "an application's heading and its table part"
        seen += headings
    assert seen == 19
