"""Titles broken between phrases into balanced lines (GB/T 9704 7.3.3), on the example's real titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.competition.config_file import load_config
from models.documents.engine.cn_format import cn_number, nobreak
from models.documents.engine.docx import compile_docx
from models.documents.engine.titles import LINE_EM, break_points, text_em, title_lines
from tests.models.documents.engine.test_docx import make_template

# the kinds each titled document puts after the competition's name (templates/docs/build_*.py)
KINDS = [
    ("", "项目征集公告"),
    ("关于", "拟资助项目的公示"),
    ("", "资助协议书"),
    ("", "年度总结报告"),
    ("", "项目申报书"),
]


@pytest.fixture
def competition_name(example_dir: Path) -> str:
    return load_config(example_dir / "competition.yaml").competition.name


@pytest.mark.parametrize(("before", "after"), KINDS)
def test_example_titles_break_between_phrases_in_balanced_lines(
    competition_name: str, before: str, after: str
) -> None:
    lines = title_lines(competition_name, before=before, after=after).split("\n")
    assert "".join(lines) == before + competition_name + after
    assert len(lines) == 2
    widths = [text_em(line) for line in lines]
    assert max(widths) <= LINE_EM
    assert max(widths) - min(widths) <= 3  # symmetric, not one long line and a stub
    # never inside a word: the name's phrases stay whole, and the kind stays whole
    assert any("微公益创投大赛" in line for line in lines)
    assert any(after in line for line in lines)
    assert lines[0].endswith("”")  # after the quoted name, the phrase boundary that balances best


def test_the_break_falls_on_a_phrase_boundary_not_where_the_line_fills(competition_name: str) -> None:
    title = competition_name + "项目征集公告"
    filled = ""  # where a word processor breaks: the first line filled to the 20 em of the line
    for char in title:
        if text_em(filled + char) > 20:
            break
        filled += char
    assert "微公益" in filled and not filled.endswith("大赛")  # …微公益创投 / 大赛: inside a word
    lines = title_lines(competition_name, after="项目征集公告").split("\n")
    assert len(lines[0]) in break_points(competition_name)


def test_short_titles_stay_on_one_line_and_long_ones_take_three() -> None:
    assert title_lines("立项通知书") == "立项通知书"
    assert title_lines("短名", after="征集公告") == "短名征集公告"
    long = "2026年度厦门市湖里区江头街道社区“邻里守望·幸福同行”公益微创投暨社区慈善基金配套项目"
    lines = title_lines(long, after="征集公告").split("\n")
    assert len(lines) == 3 and all(text_em(line) <= LINE_EM for line in lines)
    assert "".join(lines) == long + "征集公告"


def test_a_phrase_longer_than_a_line_still_gives_the_narrowest_split() -> None:
    lines = title_lines("一" * 30, after="公告").split("\n")
    assert lines == ["一" * 30, "公告"]  # no phrase boundary inside: the engine does not cut words


def test_title_filter_prints_line_breaks_in_the_title_paragraph(competition_name: str) -> None:
    template = compile_docx(make_template("{{ name|title_lines(after='项目征集公告') }}"))
    xml = template.render_xml({"name": competition_name})[0]["word/document.xml"]
    assert xml.count("<w:br/>") == 1
    assert "微公益创投大赛项目征集公告" in xml


def test_cn_number_and_nobreak() -> None:
    assert [cn_number(n) for n in (1, 10, 11, 20, 23, 99, 100)] == [
        "一",
        "十",
        "十一",
        "二十",
        "二十三",
        "九十九",
        "100",
    ]
    assert nobreak("林老师 0592-5512345") == "林老师 0592\u20115512345"
    assert nobreak("JT2025-003 与 A - B") == "JT2025\u2011003 与 A - B"
    assert nobreak(None) == ""
