"""The 16 document roles: every template renders with its samples and with hostile values, uses exactly
the keys its role declares, follows the official layout, and is what its generator script writes."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree
from sqlmodel import Session, select

from models.documents.application_form import (
    ACTIVITY_COLUMNS,
    BUDGET_COLUMNS,
    BUDGET_TOTAL_LABEL,
    ORGANISATION_LABELS,
    PROJECT_LABELS,
    TEXT_SECTION_KEYS,
    blank_application_context,
)
from models.documents.engine.docx import PLAIN_ENV, WORD_ENV, InlineImage
from models.documents.engine.templating import TemplateError, undeclared_keys
from models.documents.registry import (
    DOCUMENTS,
    GeneratedDocument,
    compiled_template,
    render_document,
    safe_filename,
    template_path,
    write_document,
    written_document,
)
from models.errors import Conflict
from models.settings import TEMPLATES_DIR
from models.setup import create_competition

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ROLES = [role.name for role in DOCUMENTS]
HOSTILE = "A&B <x> {{ 7*7 }} {% for %} 🎉\x01\x0b\ufffe 第一行\n第二行"
HOSTILE_PRINTED = "A&B <x> {{ 7*7 }} {% for %} 🎉 第一行"
LONG = "长" * 19_999 + "尾"


def all_text(data: bytes) -> str:
    """The text of every <w:t> in the body, headers and footers."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = [n for n in package.namelist() if n.startswith("word/") and n.endswith(".xml")]
        roots = [etree.fromstring(package.read(n)) for n in parts]  # every part is well-formed XML
    return "".join(t.text or "" for root in roots for t in root.iter(f"{W}t"))


def hostile(value: Any, *, empty_lists: bool = False) -> Any:
    if isinstance(value, str):
        return HOSTILE
    if isinstance(value, list):
        return [] if empty_lists else [hostile(v) for v in value]
    if isinstance(value, Mapping):
        return {k: hostile(v, empty_lists=empty_lists) for k, v in value.items()}
    return value


def test_registry_holds_the_eighteen_roles() -> None:
    titles = [role.title for role in DOCUMENTS]
    assert titles == [
        "征集公告",
        "申报书",
        "受理回执",
        "资格审查表",
        "专家评分表",
        "评分汇总表/排名表",
        "拟资助项目公示",
        "立项通知书",
        "未入选通知",
        "资助协议书",
        "拨款通知",
        "督导记录表",
        "中期评估意见",
        "整改通知",
        "终止通知",
        "结项评估报告",
        "结余资金退回通知",
        "年度总结报告",
    ]
    for role in DOCUMENTS:
        assert template_path(role).is_file(), role.template
        assert role.purpose and role.keys


@pytest.mark.parametrize("name", ROLES)
def test_role_uses_exactly_its_declared_keys(name: str) -> None:
    role = DOCUMENTS.get(name)
    compiled = compiled_template(name)
    for part, source in compiled.sources.items():
        env = PLAIN_ENV if part.startswith("docProps/") else WORD_ENV
        assert undeclared_keys(env, source, role.keys) == set(), part
    assert set(role.keys) - compiled.used_keys() == set()


@pytest.mark.parametrize("name", ROLES)
def test_role_renders_with_its_samples(name: str) -> None:
    role = DOCUMENTS.get(name)
    output = render_document(name, dict(role.keys))
    document = docx.Document(io.BytesIO(output))
    text = all_text(output)
    assert "{{" not in text and "{%" not in text
    assert role.keys["competition_name"] in text
    assert document.sections[0].page_width is not None
    if name == "annual_report":
        assert len(document.inline_shapes) == 4  # by community, by category, delivery, grades


@pytest.mark.parametrize("name", ROLES)
def test_role_renders_hostile_values_literally(name: str) -> None:
    role = DOCUMENTS.get(name)
    context = hostile(dict(role.keys))
    long_key = next(k for k, v in role.keys.items() if isinstance(v, str))
    context[long_key] = LONG
    output = render_document(name, context)
    docx.Document(io.BytesIO(output))
    text = all_text(output)
    assert HOSTILE_PRINTED in text
    assert LONG in text
    assert "<x> 49" not in text
    with zipfile.ZipFile(io.BytesIO(output)) as package:
        assert b"\x01" not in package.read("word/document.xml")


@pytest.mark.parametrize("name", ROLES)
def test_role_renders_with_empty_lists(name: str) -> None:
    role = DOCUMENTS.get(name)
    output = render_document(name, hostile(dict(role.keys), empty_lists=True))
    document = docx.Document(io.BytesIO(output))
    assert document.paragraphs
    assert HOSTILE_PRINTED in all_text(output)


def test_missing_key_names_key_and_template() -> None:
    context = dict(DOCUMENTS.get("receipt").keys)
    del context["application_ref"]
    with pytest.raises(TemplateError, match=r"docs/receipt\.docx.*application_ref"):
        render_document("receipt", context)


def _form_tables(data: bytes) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """Read a filled-in 申报书 back, as the intake side does: labels, and section tables by name
    (format characters — the word joiners that keep a checkbox option whole — dropped)."""
    from models.intake.word_form import without_format_characters

    document = docx.Document(io.BytesIO(data))
    labels: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    for table in document.tables:
        rows = [[without_format_characters(cell.text) for cell in row.cells] for row in table.rows]
        if len(rows[0]) == 2 and rows[0][0] != rows[0][1]:
            labels.update({label: value for label, value in rows})
        else:
            sections[rows[0][0]] = rows[1:]
    return labels, sections


def test_application_form_filled_reads_back() -> None:
    sample = DOCUMENTS.get("application_form").keys
    labels, sections = _form_tables(render_document("application_form", dict(sample)))
    assert list(labels) == [*ORGANISATION_LABELS, *PROJECT_LABELS]
    assert labels["申报单位"] == sample["organisation_name"]
    assert labels["单位性质"].split("　")[:3] == ["☐社会组织", "☑备案志愿服务团队", "☐社区社工室"]
    ticked = [c.removeprefix("☑") for c in labels["服务社区"].split("　") if c.startswith("☑")]
    assert ticked == ["江头", "吕岭"]
    assert labels["项目周期"] == "2025年5月1日至2025年9月30日"
    assert labels["申请金额（元）"] == "8,000.00"
    assert sections["项目目标"] == [[sample["objectives"]]]
    assert set(TEXT_SECTION_KEYS) <= set(sections)
    activities = sections["活动安排"]
    assert activities[0] == list(ACTIVITY_COLUMNS)
    assert activities[2] == ["2025年5月—9月", "送餐上门与就餐陪伴", "24", "960"]
    budget = sections["预算明细"]
    assert budget[0] == list(BUDGET_COLUMNS)
    assert budget[-1][0] == BUDGET_TOTAL_LABEL and budget[-1][-1] == "8,000.00"
    lines = [float(row[-1].replace(",", "")) for row in budget[1:-1]]
    assert sum(lines) == 8000.0


def test_application_form_blank_has_labels_and_empty_rows() -> None:
    context = blank_application_context(
        competition_name="2025年江头街道“江头公益圈”微公益创投大赛",
        organiser="厦门市湖里区人民政府江头街道办事处",
        communities=["江头", "吕厝"],
        categories=["一老", "一小", "公益服务"],
        per_project_cap_fen=800_000,
        applications_close=datetime(2025, 2, 28, 9, 0, tzinfo=UTC),
    )
    labels, sections = _form_tables(render_document("application_form", context))
    assert list(labels) == [*ORGANISATION_LABELS, *PROJECT_LABELS]
    assert labels["申报单位"] == ""
    assert labels["服务社区"].split("　")[:2] == ["☐江头", "☐吕厝"]
    assert "☑" not in "".join(labels.values())
    assert sections["活动安排"][1:] == [["", "", "", ""]] * 6
    assert sections["项目简介"] == [[""]]


def test_templates_follow_the_official_layout() -> None:
    for role in DOCUMENTS:
        with zipfile.ZipFile(template_path(role)) as package:
            body = etree.fromstring(package.read("word/document.xml"))
            styles = etree.fromstring(package.read("word/styles.xml"))
            footers = [etree.fromstring(package.read(n)) for n in package.namelist() if "footer" in n]
            settings = package.read("word/settings.xml").decode()
        section = body.find(f"{W}body/{W}sectPr")
        size, margins = section.find(f"{W}pgSz"), section.find(f"{W}pgMar")
        portrait = size.get(f"{W}orient") != "landscape"
        assert {size.get(f"{W}w"), size.get(f"{W}h")} == {"11906", "16838"}, role.name
        if portrait:
            assert [margins.get(f"{W}{side}") for side in ("top", "bottom", "left", "right")] == [
                "2098",
                "1984",
                "1587",
                "1474",
            ]
            assert section.find(f"{W}docGrid").get(f"{W}linePitch") == "579"
        run_fonts = list(body.iter(f"{W}rFonts"))
        assert run_fonts and all(f.get(f"{W}eastAsia") for f in run_fonts), role.name
        defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        assert defaults.find(f"{W}rFonts").get(f"{W}eastAsia") == "仿宋_GB2312"
        assert defaults.find(f"{W}lang").get(f"{W}eastAsia") == "zh-CN"
        assert defaults.find(f"{W}sz").get(f"{W}val") == "32"
        style_fonts = {
            s.get(f"{W}styleId"): s.find(f"{W}rPr/{W}rFonts").get(f"{W}eastAsia")
            for s in styles.iter(f"{W}style")
        }
        assert (style_fonts["Title"], style_fonts["Heading1"], style_fonts["Heading2"]) == (
            "方正小标宋简体",
            "黑体",
            "楷体_GB2312",
        )
        assert "evenAndOddHeaders" in settings and len(footers) == 2
        for footer in footers:
            text = "".join(t.text or "" for t in footer.iter(f"{W}t"))
            assert text == "— 1 —"
            assert "PAGE" in "".join(i.text for i in footer.iter(f"{W}instrText"))
            assert {s.get(f"{W}val") for s in footer.iter(f"{W}sz")} == {"28"}


# The children Word expects in this order (CT_Style, CT_PPr, CT_RPr, CT_TcPr, CT_TrPr, CT_TblPr, CT_SectPr):
# Word refuses ("unreadable content") some files whose property elements come in another order.
SCHEMA_ORDER = {
    "style": "name aliases basedOn next link autoRedefine hidden uiPriority semiHidden unhideWhenUsed "
    "qFormat locked personal personalCompose personalReply rsid pPr rPr tblPr trPr tcPr tblStylePr",
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr "
    "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
    "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign "
    "hideMark",
    "trPr": "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing "
    "jc hidden",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
    "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders "
    "lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid "
    "printerSettings",
}


def _order_problems(data: bytes) -> list[str]:
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for part in package.namelist():
            if not (part.startswith("word/") and part.endswith(".xml")):
                continue
            root = etree.fromstring(package.read(part))
            for name, order in SCHEMA_ORDER.items():
                sequence = order.split()
                for element in root.iter(f"{W}{name}"):
                    if name == "rPr" and element.getparent().tag == f"{W}pPr":
                        continue  # a paragraph mark's run properties: another type
                    children = [c.tag.removeprefix(W) for c in element if isinstance(c.tag, str)]
                    positions = [sequence.index(c) for c in children if c in sequence]
                    if positions != sorted(positions):
                        problems.append(f"{part}: <w:{name}> {children}")
    return problems


@pytest.mark.parametrize("name", ROLES)
def test_templates_and_documents_keep_the_schema_order(name: str) -> None:
    role = DOCUMENTS.get(name)
    assert _order_problems(template_path(role).read_bytes()) == []
    assert _order_problems(render_document(name, dict(role.keys))) == []


def _load_generator() -> Any:
    path = TEMPLATES_DIR / "docs" / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_templates_match_their_generator(tmp_path: Path) -> None:
    saved_path = list(sys.path)
    try:
        written = _load_generator().build(tmp_path)
    finally:
        sys.path[:] = saved_path
    assert len(written) == len(DOCUMENTS)
    for path in written:
        committed = TEMPLATES_DIR / "docs" / path.name
        assert path.read_bytes() == committed.read_bytes(), (
            f"run templates/docs/build_templates.py ({path.name})"
        )


def test_write_document_records_the_file_once(session: Session, tmp_path: Path, example_dir: Path) -> None:
    competition = create_competition(
        session,
        text=(example_dir / "competition.yaml").read_text(encoding="utf-8"),
        source="test",
        actor="test",
    )
    sample = dict(DOCUMENTS.get("receipt").keys)
    arguments: dict[str, Any] = dict(
        role="receipt",
        competition_id=competition.id,
        stage="intake",
        subject_entity="application",
        subject_id=3,
        filename="受理回执-JT2025-003.docx",
        documents_dir=tmp_path,
    )
    first = write_document(session, context=sample, **arguments)
    session.commit()
    target = tmp_path / "jiangtou-2025" / "intake" / "application-3" / "受理回执-JT2025-003.docx"
    assert first.path == "jiangtou-2025/intake/application-3/受理回执-JT2025-003.docx"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == first.sha256
    assert first.size == target.stat().st_size
    again = write_document(session, context=sample, **arguments)
    assert again.id == first.id
    written = target.read_bytes()
    # written once: a later context (another decision's facts) never rewrites the record of this one
    changed = write_document(session, context={**sample, "contact_name": "李四"}, **arguments)
    session.commit()
    assert changed.id == first.id and changed.sha256 == first.sha256
    assert target.read_bytes() == written
    # only a file lost from disk is written again, from the context given
    target.unlink()
    restored = write_document(session, context=sample, **arguments)
    assert restored.id == first.id and target.read_bytes() == written
    assert len(session.exec(select(GeneratedDocument)).all()) == 1
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    rejection = dict(DOCUMENTS.get("rejection_notice").keys)
    with pytest.raises(Conflict):  # the same path for another role
        write_document(session, context=rejection, **{**arguments, "role": "rejection_notice"})


def test_write_document_builds_a_context_function_only_to_write(
    session: Session, tmp_path: Path, example_dir: Path
) -> None:
    competition = create_competition(
        session,
        text=(example_dir / "competition.yaml").read_text(encoding="utf-8"),
        source="test",
        actor="test",
    )
    sample = dict(DOCUMENTS.get("receipt").keys)
    built: list[int] = []

    def context() -> dict[str, Any]:
        built.append(1)
        return sample

    arguments: dict[str, Any] = dict(
        role="receipt",
        competition_id=competition.id,
        stage="intake",
        subject_entity="application",
        subject_id=3,
        filename="受理回执-JT2025-003.docx",
        documents_dir=tmp_path,
    )
    assert written_document(session, **arguments) is None
    first = write_document(session, context=context, **arguments)
    session.commit()
    assert built == [1]
    assert written_document(session, **arguments) == first
    assert written_document(session, **{**arguments, "role": "rejection_notice"}) is None
    again = write_document(session, context=context, **arguments)  # written: nothing is built
    assert again.id == first.id and built == [1]
    (tmp_path / first.path).unlink()  # a file lost from disk is built and written again
    assert written_document(session, **arguments) is None
    restored = write_document(session, context=context, **arguments)
    assert restored.id == first.id and built == [1, 1]
    assert (tmp_path / first.path).read_bytes() and restored.sha256 == first.sha256


def test_safe_filename_keeps_the_name_in_its_folder() -> None:
    assert safe_filename("../../etc/受理回执:JT2025*003") == "_.._etc_受理回执_JT2025_003.docx"
    assert safe_filename("立项通知书.docx") == "立项通知书.docx"


def test_inline_image_sample_is_a_chart() -> None:
    chart = DOCUMENTS.get("annual_report").keys["chart_communities"]
    assert isinstance(chart, InlineImage) and chart.pixels[0] > 500
