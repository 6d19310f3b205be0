"""The official layout in the templates' XML: settings, fonts, money, 发文字号, column widths, samples.

What the pages look like — closing blocks, words in cells, titles — is checked on PDFs in
``test_libreoffice.py``; this module checks the rules that need no rendering.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Iterator
from types import ModuleType

import docx
import pytest
from lxml import etree

from models.documents.registry import DOCUMENTS, render_document, template_path
from models.settings import TEMPLATES_DIR
from tests.models.documents.test_registry import W, all_text

ROLES = [role.name for role in DOCUMENTS]


@pytest.fixture
def columns() -> Iterator[ModuleType]:
    """templates/docs/columns.py, imported as the template builders import it."""
    saved = list(sys.path)
    sys.path.insert(0, str(TEMPLATES_DIR / "docs"))
    try:
        import columns as module

        yield module
    finally:
        sys.path[:] = saved


def test_every_template_keeps_manual_line_breaks_from_stretching_lines() -> None:
    for role in DOCUMENTS:
        with zipfile.ZipFile(template_path(role)) as package:
            settings = etree.fromstring(package.read("word/settings.xml"))
        compat = settings.find(f"{W}compat")
        assert compat is not None and compat[0].tag == f"{W}doNotExpandShiftReturn", role.name
        assert settings.find(f"{W}themeFontLang").get(f"{W}eastAsia") == "zh-CN"


def test_second_level_headings_are_in_kaiti() -> None:
    data = render_document("expert_score_sheet", dict(DOCUMENTS.get("expert_score_sheet").keys))
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        body = etree.fromstring(package.read("word/document.xml"))
    kaiti = [
        "".join(t.text or "" for t in p.iter(f"{W}t"))
        for p in body.iter(f"{W}p")
        if any(f.get(f"{W}eastAsia") == "楷体_GB2312" for f in p.iter(f"{W}rFonts"))
    ]
    assert kaiti and kaiti[0].startswith("（一）JT2025-003")
    assert kaiti[1].startswith("（二）")


@pytest.mark.parametrize("name", ROLES)
def test_amounts_print_one_currency_sign(name: str) -> None:
    """``yuan`` prints a bare number; the template writes 元 after it and never ¥ before it too."""
    text = all_text(render_document(name, dict(DOCUMENTS.get(name).keys)))
    assert not re.search(r"[¥￥]\s*[\d,]+(\.\d+)?\s*元", text)


def test_payment_notice_prints_the_amount_once_with_its_unit() -> None:
    text = all_text(render_document("payment_notice", dict(DOCUMENTS.get("payment_notice").keys)))
    assert "2,400.00元" in text and "¥" not in text


@pytest.mark.parametrize("name", ["call_notice", "award_notice", "payment_notice", "rectification_notice"])
def test_document_number_line_is_left_out_when_unset(name: str) -> None:
    sample = dict(DOCUMENTS.get(name).keys)
    with_number = docx.Document(io.BytesIO(render_document(name, sample)))
    assert with_number.paragraphs[0].text == sample["doc_number"]
    without = docx.Document(io.BytesIO(render_document(name, {**sample, "doc_number": ""})))
    assert without.paragraphs[0].style.name == "Title"
    assert without.paragraphs[0].text.strip()


def test_annual_report_samples_add_up() -> None:
    sample = DOCUMENTS.get("annual_report").keys
    for rows in (sample["by_community"], sample["by_category"], sample["by_pool"]):
        assert sum(row["person_times"] for row in rows) == sample["participants_total"]
        assert sum(row["planned_person_times"] for row in rows) == sample["planned_participants"]
        assert sum(row["sessions"] for row in rows) == sample["sessions_total"]
        assert sum(row["funded"] for row in rows) == sample["funded_count"]
        granted = sum(row["granted_fen"] for row in rows)
        assert sample["money_lines"][0].startswith(f"立项资助{granted / 100:,.2f}元，其中：")
    assert sum(row["count"] for row in sample["grades"]) == sample["completed_count"]
    assert sum(1 for row in sample["by_community"] if row["funded"]) == sample["communities_covered"]
    assert len(sample["by_community"]) == sample["communities_total"]


def test_column_widths_follow_the_content_class(columns: ModuleType) -> None:
    headers = ["排名", "受理编号", "项目名称", "申报单位", "专家评分", "去掉的分数", "最终得分", "备注"]
    kinds = [columns.SERIAL, columns.CODE, columns.text(1.3), columns.TEXT, columns.text(2)]
    kinds += [columns.label(5.5), columns.number(6), columns.label(4)]
    widths = columns.widths_mm(kinds, headers, 10.5, columns.LANDSCAPE_MM)
    assert sum(widths) == pytest.approx(columns.LANDSCAPE_MM, abs=0.5)
    by_header = dict(zip(headers, widths, strict=True))
    # a code is wider than a serial number; a four-character header fits its column on one line
    assert by_header["受理编号"] > by_header["排名"]
    assert by_header["最终得分"] >= 4 * 10.5 * columns.PT_MM + columns.PADDING_MM
    assert [kind.no_wrap for kind in kinds] == [True, True, False, False, False, False, True, False]
    # a header wraps before its bracket, not inside a word
    assert columns.header_em("资助金额（元）") == 4
    # without free text the columns fill the width; too many fixed columns are a builder error
    fixed = columns.widths_mm([columns.label(3), columns.number(3)], ["等级", "项目数"], 12, 156)
    assert sum(fixed) == pytest.approx(156, abs=0.2)
    with pytest.raises(ValueError, match="free column"):
        columns.widths_mm([columns.label(40), columns.TEXT], ["甲", "乙"], 12, 156)


SHORT_LINES = ("联系人及电话：", "公示期：", "异议受理地址：")


@pytest.mark.parametrize("name", ROLES)
def test_short_lines_of_facts_are_left_aligned_not_justified(name: str) -> None:
    """A line of facts (联系人及电话, 公示期) that wraps before an unbreakable phone number or time is
    not stretched across the page: the paragraph is left-aligned."""
    document = docx.Document(io.BytesIO(render_document(name, dict(DOCUMENTS.get(name).keys))))
    for paragraph in document.paragraphs:
        if paragraph.text.startswith(SHORT_LINES):
            assert paragraph.alignment == 0, (name, paragraph.text)  # WD_ALIGN_PARAGRAPH.LEFT


def test_a_looped_table_row_keeps_with_the_next_by_the_rule_as_it_renders() -> None:
    """The 公示's looped rows: a short table keeps every row but the 合计 with the next (it never
    splits); a long one its first two and its last project (with the 合计), so neither end of it
    stands alone on a page."""
    sample = dict(DOCUMENTS.get("funding_publicity").keys)
    base = sample["projects"][0]

    def kept(count: int) -> list[bool]:
        projects = [{**base, "seq": n, "ref": f"JT2025-{n:03d}"} for n in range(1, count + 1)]
        document = docx.Document(
            io.BytesIO(render_document("funding_publicity", {**sample, "projects": projects}))
        )
        rows = document.tables[0].rows[1:]  # after the header row
        return [bool(row.cells[0].paragraphs[0].paragraph_format.keep_with_next) for row in rows]

    assert kept(3) == [True, True, True, False]  # 3 projects and the 合计: 4 rows, kept together
    assert kept(12) == [True, True] + [False] * 9 + [True, False]


@pytest.mark.parametrize("name", ROLES)
@pytest.mark.parametrize("lists", ["samples", "empty"])
def test_every_role_prints_chinese_only(name: str, lists: str) -> None:
    """No Latin word but codes, e-mail addresses, URLs and file names — with its samples, and with
    every list empty (where a template prints what stands for nothing: （无）, not "none")."""
    from tests.models.documents.paper_text import document_text, latin_words

    sample = dict(DOCUMENTS.get(name).keys)
    if lists == "empty":
        sample = {key: [] if isinstance(value, list) else value for key, value in sample.items()}
    assert latin_words(document_text(render_document(name, sample))) == []
