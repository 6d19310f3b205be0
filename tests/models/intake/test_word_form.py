"""Intake from filled-in Word 申报书: the example forms, the real template, and forms filled by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models.competition.config_file import load_config
from models.documents.application_form import (
    APPLICATION_FORM,
    ORGANISATION_KINDS,
    blank_application_context,
)
from models.documents.engine.docx import render_docx
from models.errors import InputError
from models.intake.imports import import_applications
from models.intake.tables import Application, BudgetLine
from models.intake.validation import validate_row
from models.intake.word_form import parse_application_form, ticked_options
from models.states import OrganisationKind
from tests.support.application_forms import write_form
from tests.support.factories import make_competition

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "jiangtou-2025"
FORM_TEMPLATE = ROOT / "templates" / "docs" / "application_form.docx"
CONFIG = load_config(EXAMPLE / "competition.yaml")
NOW = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
FORMS = sorted((EXAMPLE / "forms").glob("*.docx"))


def _sample() -> dict[str, Any]:
    """The documents engineer's sample 申报书 context (a volunteer team, 8,000 yuan, 吕岭 and 江头)."""
    return dict(APPLICATION_FORM.keys)


def test_example_forms_are_there() -> None:
    assert len(FORMS) >= 3


@pytest.mark.parametrize(
    ("number", "title", "kind", "category", "communities", "amount_fen"),
    [
        (
            1,
            "小小气象员——江村科普基地气象科普行动",
            OrganisationKind.registered,
            "children",
            ["江村"],
            600_000,
        ),
        (2, "爱心会客厅·暖心理发日", OrganisationKind.volunteer_team, "public_service", ["江华"], 400_000),
        (3, "暖阳守护——园山独居老人关爱行动", OrganisationKind.volunteer_team, "elderly", ["园山"], 430_000),
        (
            4,
            "童心手作——忠仑祥店亲子手工坊",
            OrganisationKind.registered,
            "children",
            ["祥店", "忠仑"],
            720_000,
        ),
    ],
)
def test_parse_application_form_reads_each_example_form(
    number: int, title: str, kind: OrganisationKind, category: str, communities: list[str], amount_fen: int
) -> None:
    row = parse_application_form(FORMS[number - 1])

    application = validate_row(row, config=CONFIG)

    assert (application.title, application.organisation.kind) == (title, kind)
    assert (application.category, application.communities, application.amount_fen) == (
        category,
        communities,
        amount_fen,
    )
    assert sum(line.amount_fen for line in application.budget) == amount_fen
    assert application.details["activities"] and application.details["team"]
    assert row.at("title") == f"{FORMS[number - 1].name}:表2第1行 (table 2, row 1)"


def test_import_example_forms_stores_each_once(session: Session) -> None:
    competition = make_competition(session)
    assert competition.id is not None

    reports = [
        import_applications(session, competition_id=competition.id, path=form, actor="admin:test", now=NOW)
        for form in FORMS
    ]
    again = [
        import_applications(session, competition_id=competition.id, path=form, actor="admin:test", now=NOW)
        for form in FORMS
    ]

    assert [len(r.accepted) for r in reports] == [1] * len(FORMS)
    assert [len(r.duplicates) for r in again] == [1] * len(FORMS) and not any(r.accepted for r in again)
    stored = session.exec(select(Application).order_by(col(Application.id))).all()
    assert len(stored) == len(FORMS)
    assert stored[0].source == f"{FORMS[0].name}"
    lines = session.exec(select(BudgetLine).where(BudgetLine.application_id == stored[0].id)).all()
    assert [(b.item, b.unit_price_fen, b.quantity) for b in lines] == [
        ("气象观测器材", 120_000, 2),
        ("讲师费", 30_000, 8),
        ("活动物资", 2_000, 60),
    ]


# ---- the real template (templates/docs/application_form.docx) -------------------------------------


def test_parse_application_form_reads_the_rendered_template(tmp_path: Path) -> None:
    path = tmp_path / "sample.docx"
    path.write_bytes(render_docx(FORM_TEMPLATE, _sample()))

    row = parse_application_form(path)
    application = validate_row(row, config=CONFIG)

    assert application.ref == "JT2025-003"  # 受理编号 on the cover
    assert application.title == "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目"
    assert application.organisation.name == "厦门市湖里区吕岭社区志愿服务队"
    assert application.organisation.kind is OrganisationKind.volunteer_team
    assert application.organisation.founded_on == date(2021, 5, 12)
    assert (application.category, application.pool) == ("elderly", "volunteer")
    assert application.communities == ["江头", "吕岭"]
    assert (application.amount_fen, application.self_funded_fen) == (800_000, 150_000)
    assert (application.period_start, application.period_end) == (date(2025, 5, 1), date(2025, 9, 30))
    assert [line.amount_fen for line in application.budget] == [160_000, 200_000, 300_000, 140_000]
    assert len(application.details["activities"]) == 4
    assert application.details["activities"][0] == {
        "period": "2025年5月",
        "content": "助餐志愿者招募与培训",
        "sessions": 2,
        "participants": 45,
    }
    assert [t["name"] for t in application.details["team"]] == ["王丽华", "林志明", "黄美玉"]
    assert application.details["community_opinion"] == "情况属实，同意申报。"
    assert application.details["need_analysis"].count("\n") == 1


def test_parse_application_form_of_blank_template_names_every_empty_cell(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    context = blank_application_context(
        competition_name=CONFIG.competition.name,
        organiser=CONFIG.competition.organiser,
        communities=CONFIG.communities,
        categories=[c.name for c in CONFIG.categories],
        per_project_cap_fen=CONFIG.budget.per_project_cap,
        applications_close=CONFIG.deadlines.applications_close,
    )
    path.write_bytes(render_docx(FORM_TEMPLATE, context))

    with pytest.raises(InputError) as raised:
        validate_row(parse_application_form(path), config=CONFIG)

    found = {p.field: p.where for p in raised.value.problems}
    assert found["申报单位"] == "blank.docx:表1第1行 (table 1, row 1)"
    assert found["单位性质"] == "blank.docx:表1第2行 (table 1, row 2)"
    assert found["项目名称"] == "blank.docx:表2第1行 (table 2, row 1)"
    assert found["服务社区"] == "blank.docx:表2第3行 (table 2, row 3)"
    assert set(found) >= {
        "联系人",
        "联系电话",
        "电子邮箱",
        "项目类别",
        "申请金额（元）",
        "项目简介",
        "项目周期",
        "预算明细",
    }
    assert {p.zh for p in raised.value.problems if p.field == "联系人"} == {"必填项未填写"}


# ---- forms filled by hand ---------------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["■", "✓", "√", "☒", "✔"])
def test_parse_application_form_reads_other_tick_marks(tmp_path: Path, mark: str) -> None:
    path = write_form(tmp_path / "form.docx", _sample(), mark=mark)

    application = validate_row(parse_application_form(path), config=CONFIG)

    assert application.organisation.kind is OrganisationKind.volunteer_team
    assert (application.category, application.communities) == ("elderly", ["江头", "吕岭"])


def test_parse_application_form_reads_wingdings_check_symbols(tmp_path: Path) -> None:
    path = write_form(tmp_path / "form.docx", _sample(), symbols=True)

    row = parse_application_form(path)

    assert (row.values["kind"], row.values["category"], row.values["communities"]) == (
        "备案志愿服务团队",
        "一老",
        "江头、吕岭",
    )


def test_parse_application_form_reads_label_value_label_value_rows(tmp_path: Path) -> None:
    path = write_form(tmp_path / "form.docx", _sample(), four_columns=True)

    row = parse_application_form(path)
    application = validate_row(row, config=CONFIG)

    assert application.contact_email == "lvling.volunteers@example.org"
    assert row.at("contact_email") == "form.docx:表1第5行 (table 1, row 5)"


@pytest.mark.parametrize("written", ["20000", "2万", "贰万元", "20,000.00", "人民币贰万元整"])
def test_parse_application_form_reads_amounts_as_written(tmp_path: Path, written: str) -> None:
    path = write_form(tmp_path / "form.docx", _sample(), amount_text=written)

    with pytest.raises(InputError) as raised:
        validate_row(parse_application_form(path), config=CONFIG)

    assert [(p.where, p.field, p.zh) for p in raised.value.problems] == [
        (
            "form.docx:表2第7行 (table 2, row 7)",
            "申请金额（元）",
            "申请金额 20,000.00 元超过单个项目上限 8,000.00 元",
        ),
        (
            "form.docx:表11第1行 (table 11, row 1)",
            "预算明细",
            "预算明细合计 8,000.00 元与申请金额 20,000.00 元不一致",
        ),
    ]


def test_parse_application_form_accepts_amount_in_capitals(tmp_path: Path) -> None:
    path = write_form(tmp_path / "form.docx", _sample(), amount_text="捌仟元整")

    assert validate_row(parse_application_form(path), config=CONFIG).amount_fen == 800_000


def test_parse_application_form_names_the_cell_of_each_problem(tmp_path: Path) -> None:
    context = _sample() | {"contact_email": "lvling@", "category": "（未选）", "org_kind": "企业"}
    path = write_form(tmp_path / "form.docx", context)

    with pytest.raises(InputError) as raised:
        validate_row(parse_application_form(path), config=CONFIG)

    assert [(p.where, p.field, p.zh) for p in raised.value.problems] == [
        ("form.docx:表1第2行 (table 1, row 2)", "单位性质", "必填项未填写"),
        ("form.docx:表1第9行 (table 1, row 9)", "电子邮箱", "邮箱“lvling@”格式不正确"),
        ("form.docx:表2第2行 (table 2, row 2)", "项目类别", "必填项未填写"),
    ]


def test_import_form_with_two_kinds_ticked_is_refused(session: Session, tmp_path: Path) -> None:
    competition = make_competition(session)
    assert competition.id is not None
    path = write_form(tmp_path / "form.docx", _sample())
    _tick_both_kinds(path)

    report = import_applications(
        session, competition_id=competition.id, path=path, actor="admin:test", now=NOW
    )

    assert report.accepted == []
    assert [(p.field, p.zh) for p in report.problems] == [
        ("单位性质", "只能选择一项（填写了“社会组织、备案志愿服务团队”）")
    ]
    assert report.refused[0].email == "lvling.volunteers@example.org"


def _tick_both_kinds(path: Path) -> None:
    from docx import Document

    document = Document(str(path))
    cell = document.tables[0].rows[1].cells[1]
    cell.paragraphs[0].runs[0].text = "☑社会组织　☑备案志愿服务团队　☐社区社工室"
    document.save(str(path))


@pytest.mark.parametrize(
    ("text", "ticked"),
    [
        ("☑社会组织　☐备案志愿服务团队　☐社区社工室", ["社会组织"]),
        ("☐一老 ■一小 ☐公益服务", ["一小"]),
        ("☑江头、☐吕厝、√吕岭", ["江头", "吕岭"]),
        ("☐一老 ☐一小 ☐公益服务", []),
        ("社会组织", None),
    ],
)
def test_ticked_options_reads_checkbox_cells(text: str, ticked: list[str] | None) -> None:
    assert ticked_options(text) == ticked


def test_parse_application_form_refuses_a_file_that_is_not_docx(tmp_path: Path) -> None:
    path = tmp_path / "申报书.docx"
    path.write_text("这不是 Word 文件", encoding="utf-8")

    with pytest.raises(InputError) as raised:
        parse_application_form(path)

    assert raised.value.problems[0].zh == "无法读取该 Word 文件（须为 .docx 格式）"


@pytest.mark.parametrize(
    ("text", "ticked"),
    [
        ("☐\u2060蔡\u2060塘\u3000☑\u2060后\u2060埔\u3000", ["后埔"]),  # word joiners, as the template writes
        ("☑\u200b社会组织\ufeff　☐备案志愿服务团队", ["社会组织"]),  # a zero-width space, a BOM
        ("\u2060☑\u2060一\u2060老\u2060 ☐一小", ["一老"]),
    ],
)
def test_ticked_options_drops_format_characters(text: str, ticked: list[str]) -> None:
    assert ticked_options(text) == ticked


def test_parse_application_form_reads_labels_with_format_characters(tmp_path: Path) -> None:
    """A label typed with invisible characters (a word joiner, a zero-width space) still matches."""
    from docx import Document

    path = tmp_path / "sample.docx"
    path.write_bytes(render_docx(FORM_TEMPLATE, _sample()))
    document = Document(str(path))
    label = document.tables[0].rows[0].cells[0]
    assert label.text.strip() == "申报单位"
    label.paragraphs[0].runs[0].text = "申\u2060报\u200b单位"
    document.save(str(path))

    application = validate_row(parse_application_form(path), config=CONFIG)
    assert application.organisation.name == "厦门市湖里区吕岭社区志愿服务队"


def test_the_template_keeps_each_checkbox_option_whole(tmp_path: Path) -> None:
    """The rendered template: every option of a checkbox cell is ``☐`` and its name joined by U+2060."""
    from docx import Document

    path = tmp_path / "sample.docx"
    path.write_bytes(render_docx(FORM_TEMPLATE, _sample()))
    cells = [c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells if "☐" in c.text]
    options = [option for text in cells for option in text.replace("　", " ").split()]
    assert {"☐\u2060蔡\u2060塘", "☐\u2060社\u2060区\u2060社\u2060工\u2060室"} <= set(options)
    assert all(set(option[1::2]) == {"\u2060"} for option in options), options


@pytest.mark.slow
def test_a_rendered_blank_form_breaks_no_option_across_lines(tmp_path: Path) -> None:
    """LibreOffice → pdftotext: each ☐option of the blank 申报书 sits whole on one printed line (the
    11 communities take two lines; LibreOffice broke "☐蔡塘" after 蔡, word joiner or not)."""
    import unicodedata

    from tests.models.documents import pdf_pages

    context = blank_application_context(
        competition_name=CONFIG.competition.name,
        organiser=CONFIG.competition.organiser,
        communities=CONFIG.communities,
        categories=[c.name for c in CONFIG.categories],
        per_project_cap_fen=CONFIG.budget.per_project_cap,
        applications_close=CONFIG.deadlines.applications_close,
    )
    try:
        (pdf,) = pdf_pages.to_pdf({"blank": render_docx(FORM_TEMPLATE, context)}, tmp_path).values()
    except pdf_pages.MissingTool as exc:  # `make test` installs LibreOffice: its absence is a failure
        pytest.fail(str(exc))

    def shown(text: str) -> str:  # as printed: no white space, no format characters
        return "".join(ch for ch in "".join(text.split()) if unicodedata.category(ch) != "Cf")

    printed = pdf_pages.pages(pdf)
    lines = [shown(line) for page in printed for line in pdf_pages.content_lines(page)]
    options = [
        *(f"☐{kind}" for kind in ORGANISATION_KINDS),
        *(f"☐{c.name}" for c in CONFIG.categories),
        *(f"☐{name}" for name in CONFIG.communities),
    ]
    assert len(options) == 3 + 3 + 11
    assert [o for o in options if not any(o in line for line in lines)] == []  # none broken, none missing
