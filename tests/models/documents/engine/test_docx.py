"""The compile-once Word engine: tags, loops, safety, pictures, caching and the zip it writes."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from lxml import etree

from models.documents.engine.charts import bar_chart
from models.documents.engine.cn_format import cn_date, cn_datetime, yuan, yuan_capitals
from models.documents.engine.docx import InlineImage, compile_docx, load_docx, render_docx
from models.documents.engine.templating import TemplateError, undeclared_keys

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HOSTILE = "A&B <x> {{ 7*7 }} {% for %} 🎉"


def make_template(
    *paragraphs: str | list[str], table: list[list[str]] | None = None, footer: str = "", title: str = ""
) -> bytes:
    """A small .docx: each paragraph one run, or several runs (as Word splits them)."""
    document = docx.Document()
    for paragraph in paragraphs:
        runs = [paragraph] if isinstance(paragraph, str) else paragraph
        p = document.add_paragraph()
        for index, text in enumerate(runs):
            run = p.add_run(text)
            run.bold = index % 2 == 1  # a formatting change is what makes Word split runs
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    if footer:
        document.sections[0].footer.paragraphs[0].text = footer
    if title:
        document.core_properties.title = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def texts(data: bytes, part: str = "word/document.xml") -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        root = etree.fromstring(package.read(part))
    return "".join(t.text or "" for t in root.iter(f"{W}t"))


def test_render_values_print_literally() -> None:
    compiled = compile_docx(make_template("名称：{{ name }}"))
    output = compiled.render({"name": HOSTILE})
    assert texts(output) == f"名称：{HOSTILE}"
    assert "49" not in texts(output)
    assert docx.Document(io.BytesIO(output)).paragraphs[0].text == f"名称：{HOSTILE}"


def test_render_strips_characters_xml_forbids() -> None:
    compiled = compile_docx(make_template("{{ name }}"))
    output = compiled.render({"name": "a\x00b\x01c\x0bd\x1fe\ufffef\ud800g"})
    assert texts(output) == "abcdefg"


def test_render_line_breaks_and_tabs_become_word_elements() -> None:
    compiled = compile_docx(make_template("{{ note }}"))
    output = compiled.render({"note": "第一行\r\n第二行\n\t第三行"})
    with zipfile.ZipFile(io.BytesIO(output)) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    assert len(list(root.iter(f"{W}br"))) == 2
    assert len(list(root.iter(f"{W}tab"))) == 1
    assert docx.Document(io.BytesIO(output)).paragraphs[0].text == "第一行\n第二行\n\t第三行"


def test_split_runs_are_repaired_at_load() -> None:
    template = make_template(
        ["申报单位：{{ org", "anisation", "_name }}。"], ["{{ “甲” if fl", "ag else ‘乙’ }}"]
    )
    compiled = compile_docx(template)
    assert compiled.used_keys() == {"organisation_name", "flag"}
    output = compiled.render({"organisation_name": "吕岭志愿服务队", "flag": False})
    assert [p.text for p in docx.Document(io.BytesIO(output)).paragraphs] == [
        "申报单位：吕岭志愿服务队。",
        "乙",
    ]


def test_row_loop_repeats_table_rows() -> None:
    table = [
        ["姓名", "金额"],
        ["{%tr for row in rows %}", ""],
        ["{{ row.name }}", "{{ row.fen|yuan }}"],
        ["{%tr endfor %}", ""],
    ]
    compiled = compile_docx(make_template("名单", table=table))
    rows = [{"name": f"项目{i}", "fen": i * 100_000} for i in range(1, 21)]
    grid = docx.Document(io.BytesIO(compiled.render({"rows": rows}))).tables[0]
    assert len(grid.rows) == 21
    assert [c.text for c in grid.rows[20].cells] == ["项目20", "20,000.00"]
    empty = docx.Document(io.BytesIO(compiled.render({"rows": []}))).tables[0]
    assert [[c.text for c in r.cells] for r in empty.rows] == [["姓名", "金额"]]


def test_paragraph_loop_and_condition() -> None:
    compiled = compile_docx(
        make_template(
            "{%p for item in items %}",
            "{{ loop.index }}. {{ item }}",
            "{%p endfor %}",
            "{%p if show %}",
            "显示",
            "{%p endif %}",
            "结尾",
        )
    )
    paragraphs = docx.Document(io.BytesIO(compiled.render({"items": ["甲", "乙"], "show": False}))).paragraphs
    assert [p.text for p in paragraphs] == ["1. 甲", "2. 乙", "结尾"]


def test_missing_key_names_key_and_template(tmp_path: Path) -> None:
    path = tmp_path / "notice.docx"
    path.write_bytes(make_template("{{ applicant_name }}"))
    with pytest.raises(TemplateError) as caught:
        render_docx(path, {})
    assert "applicant_name" in str(caught.value)
    assert "notice.docx" in str(caught.value)


def test_missing_attribute_in_a_row_is_an_error() -> None:
    compiled = compile_docx(make_template("{% for row in rows %}{{ row.amount }}{% endfor %}"))
    with pytest.raises(TemplateError, match="amount"):
        compiled.render({"rows": [{"name": "x"}]})


def test_sandbox_refuses_python_internals() -> None:
    compiled = compile_docx(make_template("{{ name.__class__.__mro__ }}"))
    with pytest.raises(TemplateError, match=r"越权|unsafe|undefined"):
        compiled.render({"name": "x"})


def test_syntax_error_names_template_and_line() -> None:
    with pytest.raises(TemplateError, match=r"broken\.docx.*line"):
        compile_docx(make_template("{% if %}"), name="broken.docx")


def test_footer_and_core_properties_render() -> None:
    compiled = compile_docx(make_template("正文", footer="{{ org }} 第页", title="{{ title }}"))
    output = compiled.render({"org": "A&B", "title": "受理回执\n JT2025-003"})
    document = docx.Document(io.BytesIO(output))
    assert document.sections[0].footer.paragraphs[0].text == "A&B 第页"
    assert document.core_properties.title == "受理回执 JT2025-003"
    assert {"word/footer1.xml", "docProps/core.xml"} <= set(compiled.sources)


def test_inline_image_becomes_a_picture() -> None:
    chart = InlineImage(bar_chart(["江头", "吕岭"], [3, 5], title="服务人次"), width_mm=120)
    compiled = compile_docx(make_template("{{ chart }}", "{{ chart }}", "{{ other }}"))
    output = compiled.render({"chart": chart, "other": "文字"})
    document = docx.Document(io.BytesIO(output))
    assert len(document.inline_shapes) == 2
    assert document.inline_shapes[0].width == 120 * 36000
    with zipfile.ZipFile(io.BytesIO(output)) as package:
        media = [n for n in package.namelist() if n.startswith("word/media/")]
        assert media == ["word/media/grantflow-image1.png"]
        assert package.read(media[0]) == chart.png
        assert 'Extension="png"' in package.read("[Content_Types].xml").decode()
        root = etree.fromstring(package.read("word/document.xml"))
    ids = [
        e.get("id")
        for e in root.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")
    ]
    assert len(set(ids)) == 2
    assert document.paragraphs[2].text == "文字"


def test_inline_image_needs_png() -> None:
    with pytest.raises(TemplateError):
        InlineImage(b"GIF89a....", width_mm=50)


def test_template_is_compiled_once_per_content(tmp_path: Path) -> None:
    path = tmp_path / "t.docx"
    path.write_bytes(make_template("{{ a }}"))
    first = load_docx(path)
    assert load_docx(path) is first
    assert compile_docx(path.read_bytes()) is first
    path.write_bytes(make_template("{{ b }}"))
    second = load_docx(path)
    assert second is not first
    assert second.used_keys() == {"b"}


def test_render_is_deterministic_and_a_valid_zip() -> None:
    compiled = compile_docx(make_template("{{ a }}", footer="{{ a }}"))
    one, two = compiled.render({"a": "同一"}), compiled.render({"a": "同一"})
    assert one == two
    with zipfile.ZipFile(io.BytesIO(one)) as package:
        assert package.testzip() is None
        assert package.namelist()[0] == "[Content_Types].xml"
        for name in package.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(package.read(name))


def test_render_holds_a_field_of_twenty_thousand_characters() -> None:
    long_text = "长" * 19_999 + "尾"
    output = compile_docx(make_template("{{ text }}")).render({"text": long_text})
    assert texts(output) == long_text


def test_undeclared_keys_are_found() -> None:
    from models.documents.engine.docx import WORD_ENV

    compiled = compile_docx(make_template("{{ a }}{{ b.c }}{% for x in rows %}{{ x }}{% endfor %}"))
    source = compiled.sources["word/document.xml"]
    assert undeclared_keys(WORD_ENV, source, {"a": 1, "rows": []}) == {"b"}


def test_filters_print_dates_and_money_the_chinese_way() -> None:
    assert cn_date(date(2025, 3, 1)) == "2025年3月1日"
    assert cn_date(datetime(2025, 2, 28, 17, 0, tzinfo=UTC)) == "2025年3月1日"  # 01:00 in Xiamen
    assert cn_datetime(datetime(2025, 2, 28, 9, 0, tzinfo=UTC)) == "2025年2月28日17:00"
    assert cn_date("") == ""
    assert yuan(1_200_000) == "12,000.00"
    assert yuan_capitals(1_200_000) == "人民币壹万贰仟元整"
    assert yuan("") == ""
    with pytest.raises(TemplateError):
        yuan(12.5)
    with pytest.raises(TemplateError):
        cn_date("下周一")


def test_fast_escape_is_markupsafe_escape() -> None:
    from decimal import Decimal

    from markupsafe import Markup, escape

    from models.documents.engine.docx import _escape

    class Html:
        def __html__(self) -> str:
            return "<w:br/>"

    for value in ["A&B <x> \"q\" 'a'", Markup("<w:br/>"), 42, Decimal("1.50"), Html(), ""]:
        assert _escape(value) == escape(value)
        assert isinstance(_escape(value), Markup)


def test_row_keys_come_before_dict_methods() -> None:
    compiled = compile_docx(make_template("{% for row in rows %}{{ row.items }}/{{ row.name }}{% endfor %}"))
    assert texts(compiled.render({"rows": [{"items": "三项", "name": "甲"}]})) == "三项/甲"
