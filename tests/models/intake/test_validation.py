"""Reading and validating application values, no database: header variants, dates, periods,
phone numbers, typed applications, CSV dialects."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from models.competition.config_file import load_config, parse_config
from models.errors import InputError
from models.intake.fields import RawBudgetLine, RawRow, field_for
from models.intake.rows import inline_budget, read_applications
from models.intake.validation import validate_row
from models.intake.values import normalise_phone, parse_date, parse_period, whole_number
from models.states import OrganisationKind
from tests.support.factories import example_config_text

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "jiangtou-2025"
CONFIG = load_config(EXAMPLE / "competition.yaml")


# ---- reading and validating values (no database) ------------------------------------------------


@pytest.mark.parametrize(
    "header", ["申请金额（元）", "申请金额(元)", " 申请金额 （元）", "申请金额*", "申请金额（必填）"]
)
def test_field_for_accepts_header_variants(header: str) -> None:
    assert field_for(header) == "amount"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01", date(2025, 3, 1)),
        ("2025/3/1", date(2025, 3, 1)),
        ("2025年3月1日", date(2025, 3, 1)),
        ("2025.03.01", date(2025, 3, 1)),
        ("20250301", date(2025, 3, 1)),
        ("2025-02-30", None),
        ("三月一日", None),
    ],
)
def test_parse_date_reads_what_people_write(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01至2025-09-30", (date(2025, 3, 1), date(2025, 9, 30))),
        ("2025年4月1日—2025年9月30日", (date(2025, 4, 1), date(2025, 9, 30))),
        ("2025.04-2025.09", (date(2025, 4, 1), date(2025, 9, 30))),
        ("2025/4/1~2025/12/31", (date(2025, 4, 1), date(2025, 12, 31))),
        ("全年", None),
    ],
)
def test_parse_period_reads_ranges(text: str, expected: tuple[date, date] | None) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13859201001", "13859201001"),
        ("138 5920 1001", "13859201001"),
        ("+86 138-5920-1001", "13859201001"),
        ("0592-5512345", "0592-5512345"),
        ("05925512345", "0592-5512345"),
        ("010-12345678", "010-12345678"),
        ("0592-551", None),
        ("5512345", None),
        ("1385920100", None),
        ("12345", None),
    ],
)
def test_normalise_phone_takes_mobiles_and_landlines_with_area_code(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


def _raw(**values: object) -> RawRow:
    base: dict[str, object] = {
        "title": "示例项目",
        "organisation": "示例服务队",
        "kind": "社区社工室",
        "contact_name": "林",
        "contact_phone": "13859201001",
        "contact_email": "a@example.org",
        "category": "一老",
        "communities": "江头",
        "period": "2025-05-01至2025-09-30",
        "amount": 3000,
        "summary": "为社区高龄老人提供上门探访和陪伴聊天服务。",
        "beneficiaries": 60,
        "activities": "2025年5月—9月|上门探访|24|480",
    }
    row = RawRow(where="t.csv:第2行 (row 2)", values=base | values)
    row.budget = [
        RawBudgetLine(
            "t.csv:第2行 预算明细第1项 (budget line 1)", {"item": "慰问品", "unit_price": 50, "quantity": 60}
        )
    ]
    return row


def test_validate_row_refuses_a_kind_no_pool_takes() -> None:
    kinds = "organisation_kinds: [volunteer_team, community_office]"
    config = parse_config(example_config_text(**{kinds: "organisation_kinds: [volunteer_team]"}))

    with pytest.raises(InputError) as raised:
        validate_row(_raw(), config=config)

    assert [(p.field, p.zh) for p in raised.value.problems] == [
        ("单位性质", "本次竞赛不受理“社区社工室”的申报（没有对应的评审组）")
    ]


def test_validate_row_reads_inline_budget_and_reports_bad_lines() -> None:
    row = _raw(budget="慰问品|米面油|50|60；宣传 海报 500\n台账|签到表|100|1")
    row.budget = inline_budget(row)

    with pytest.raises(InputError) as raised:
        validate_row(row, config=CONFIG)

    assert [(p.where, p.zh) for p in raised.value.problems] == [
        ("t.csv:第2行 (row 2) 预算明细第2项 (budget line 2)", "“宣传 海报 500”应写作 科目|用途|单价|数量")
    ]


def test_validate_row_gives_typed_application() -> None:
    application = validate_row(_raw(communities="江头社区、吕厝", beneficiaries="约60人"), config=CONFIG)

    assert application.organisation.kind is OrganisationKind.community_office
    assert (application.pool, application.category, application.communities) == (
        "volunteer",
        "elderly",
        ["江头", "吕厝"],
    )
    assert (application.amount_fen, application.beneficiaries) == (300_000, 60)
    assert application.budget[0].amount_fen == 300_000


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"contact_phone": "13859201001/13859201002/0592-5512345"}, "联系电话", "最多填写两个电话号码"),
        ({"amount": 0}, "申请金额（元）", "金额须大于0"),
        ({"kind": "社会组织、社区社工室"}, "单位性质", "只能选择一项（填写了“社会组织、社区社工室”）"),
        (
            {"category": "一老、一小"},
            "项目类别",
            "“一老、一小”不是本次竞赛的项目类别（可选：一老、一小、公益服务），只能选一项",
        ),
        ({"beneficiaries": "120至150人"}, "直接受益人数", "“120至150人”应为整数，如 120"),
    ],
)
def test_validate_row_refuses_values_that_cannot_be_stored(
    values: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InputError) as raised:
        validate_row(_raw(**values), config=CONFIG)

    assert [(p.field, p.zh) for p in raised.value.problems] == [(field, message)]


def test_validate_row_refuses_budget_lines_too_long_or_negative() -> None:
    row = _raw()
    row.budget = [
        RawBudgetLine("第1项", {"item": "慰问品" * 40, "unit_price": 50, "quantity": 60}),
        RawBudgetLine("第2项", {"item": "退款", "unit_price": "-100", "quantity": 1}),
    ]

    with pytest.raises(InputError) as raised:
        validate_row(row, config=CONFIG)

    assert [(p.where, p.zh) for p in raised.value.problems] == [
        ("第1项", "科目不能超过100字"),
        ("第2项", "单价“-100”无法识别"),
    ]


def test_read_applications_reads_semicolon_and_tab_separated_csv(tmp_path: Path) -> None:
    text = (EXAMPLE / "applications-gbk.csv").read_bytes().decode("gb18030")
    for delimiter in (";", "\t"):
        path = tmp_path / "other.csv"
        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")

        assert [r.text("amount") for r in read_applications(path)] == ["5,400.00", "2,600.00", "3,600.00"]


def test_read_applications_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("项目名称,申报单位\n示例,示例单位\n", encoding="utf-8")

    with pytest.raises(InputError) as raised:
        read_applications(path)

    problem = raised.value.problems[0]
    assert problem.where == "short.csv:第1行 (row 1)"
    assert problem.field.split("、") == [
        "单位性质",
        "申请金额（元）",
        "项目周期（或项目开始日期",
        "项目结束日期）",
        "预算明细（列或“预算明细”工作表）",
    ]


def test_read_applications_refuses_other_file_types(tmp_path: Path) -> None:
    path = tmp_path / "applications.pdf"
    path.write_bytes(b"%PDF-1.4")

    with pytest.raises(InputError, match=r"不支持的文件类型 \.pdf"):
        read_applications(path)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("120", 120),
        ("１２０", 120),
        (" 7 ", 7),
        (120, 120),
        (12.0, 12),
        ("²", None),
        ("١٢", None),
        ("1e3", None),
        ("-1", None),
        ("+1", None),
        ("1" * 16, None),
        ("1" * 5000, None),
        (10**16, None),
        (1e300, None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_whole_number_reads_only_plain_digits(value, number):
    assert whole_number(value) == number
