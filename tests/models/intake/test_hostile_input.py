"""Intake files as a hostile (or merely unlucky) applicant makes them, per format: each is read
within bounds and either imported or refused with a message naming the file, the row and the field —
never a traceback, never a half-written import. The files are the bundled example, changed."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font
from sqlmodel import Session, select

from models.competition.config import IntakeLimits
from models.competition.config_file import load_config
from models.errors import InputError
from models.intake.fields import FIELDS
from models.intake.imports import import_applications
from models.intake.rows import read_application_file, read_applications
from models.intake.tables import Application
from models.intake.validation import validate_row
from tests.support.factories import make_competition

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "jiangtou-2025"
CONFIG = load_config(EXAMPLE / "competition.yaml")
BEFORE_DEADLINE = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
LABEL = {f.key: f.label for f in FIELDS}


def _example_book() -> tuple[openpyxl.Workbook, dict[str, int]]:
    book = openpyxl.load_workbook(EXAMPLE / "applications.xlsx")
    header = [c.value for c in book.worksheets[0][1]]
    return book, {key: header.index(label) + 1 for key, label in LABEL.items() if label in header}


def _xlsx(tmp_path: Path, change: Callable[[openpyxl.Workbook, dict[str, int]], None], name="申报汇总.xlsx"):
    book, columns = _example_book()
    change(book, columns)
    path = tmp_path / name
    book.save(path)
    return path


def _set(key: str, value: Any, row: int = 2) -> Callable[[openpyxl.Workbook, dict[str, int]], None]:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        book.worksheets[0].cell(row, columns[key]).value = value

    return change


def _problems_of_row(path: Path, number: int = 2) -> list[tuple[str, str, str]]:
    rows = read_applications(path)
    row = next(r for r in rows if r.where.endswith(f"(row {number})"))
    with pytest.raises(InputError) as caught:
        validate_row(row, config=CONFIG, today=BEFORE_DEADLINE.date())
    return [(p.field, p.zh, p.en) for p in caught.value.problems]


# ---- values in cells ------------------------------------------------------------------------------

REFUSED_VALUES = {
    "amount 10^17": ("amount", 10**17, "金额过大"),
    "amount 10^12": ("amount", 10**12, "超过单个项目上限"),
    "self-funded 10^17": ("self_funded", 10**17, "金额过大"),
    "self-funded 10^30 as text": ("self_funded", "1" + "0" * 30, "金额过大"),
    "beneficiaries 10^17": ("beneficiaries", 10**17, "过大"),
    "beneficiaries -5": ("beneficiaries", -5, "不能为负数"),
    "beneficiaries －5 (full width)": ("beneficiaries", "－5", "不能为负数"),
    "founded 9999-12-31": ("founded_on", datetime(9999, 12, 31), "晚于申报日期"),
    "founded tomorrow of the deadline": ("founded_on", "2025-03-01", "晚于申报日期"),
    "uncalculated formula in the amount": ("amount", "=6000", "尚未计算"),
    "uncalculated formula in the title": ("title", '="银龄"&"共膳"', "尚未计算"),
    "amount with markup": ("amount", "[/bold]", "无法识别"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_VALUES))
def test_a_hostile_value_in_a_cell_is_refused_with_its_field(tmp_path: Path, case: str) -> None:
    key, value, message = REFUSED_VALUES[case]
    path = _xlsx(tmp_path, _set(key, value))
    problems = _problems_of_row(path)
    assert any(field == LABEL[key] and message in zh for field, zh, _ in problems), problems


def test_full_width_digits_are_read_in_amounts_and_phone_numbers(tmp_path: Path) -> None:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        ws = book.worksheets[0]
        ws.cell(2, columns["amount"]).value = "６，０００．００"
        ws.cell(2, columns["self_funded"]).value = "１０００"
        ws.cell(2, columns["contact_phone"]).value = "１３８５９２０１００１"
        ws.cell(2, columns["beneficiaries"]).value = "９０"

    rows = read_applications(_xlsx(tmp_path, change))
    data = validate_row(rows[0], config=CONFIG, today=BEFORE_DEADLINE.date())
    assert (data.amount_fen, data.self_funded_fen) == (600_000, 100_000)
    assert data.contact_phone == "13859201001" and data.beneficiaries == 90


def test_attachments_are_split_only_on_newline_dunhao_and_semicolon(tmp_path: Path) -> None:
    text = "法人/负责人身份证 复印件、登记证书\n项目预算表；社区意见 (盖章)"
    rows = read_applications(_xlsx(tmp_path, _set("attachments", text)))
    data = validate_row(rows[0], config=CONFIG, today=BEFORE_DEADLINE.date())
    assert data.details["attachments"] == [
        "法人/负责人身份证 复印件",
        "登记证书",
        "项目预算表",
        "社区意见 (盖章)",
    ]


def test_an_uncalculated_formula_in_the_budget_sheet_is_named(tmp_path: Path) -> None:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        ws = book["预算明细"]
        header = [c.value for c in ws[1]]
        ws.cell(2, header.index("单价（元）") + 1).value = "=2*3"

    rows = read_applications(_xlsx(tmp_path, change))
    with pytest.raises(InputError) as caught:
        validate_row(rows[0], config=CONFIG, today=BEFORE_DEADLINE.date())
    assert any("单价单元格是公式" in p.zh and "预算明细表第2行" in p.where for p in caught.value.problems)


def test_hidden_sheets_and_rows_are_imported_and_said(tmp_path: Path) -> None:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        book.worksheets[0].row_dimensions[3].hidden = True
        book.worksheets[0].row_dimensions[5].hidden = True
        book["预算明细"].sheet_state = "hidden"

    read = read_application_file(_xlsx(tmp_path, change))
    plain = read_applications(EXAMPLE / "applications.xlsx")
    assert [r.values for r in read.rows] == [r.values for r in plain]
    said = [(n.where, n.zh) for n in read.notices]
    assert ("申报汇总.xlsx:申报信息", "第 3、5 行是隐藏行，其中的内容也已导入") in said
    assert ("申报汇总.xlsx:预算明细", "该工作表是隐藏的，其中的内容也已导入") in said
    assert read_application_file(EXAMPLE / "applications.xlsx").notices == []


# ---- the size of a workbook -----------------------------------------------------------------------

_BOUNDED_READ = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
    from models.errors import InputError
    from models.intake.rows import read_application_file
    try:
        read = read_application_file(sys.argv[1])
        print(json.dumps({"rows": len(read.rows)}))
    except InputError as exc:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
    """
)


def _read_under_memory_bound(path: Path) -> dict[str, Any]:
    """Read ``path`` in a process that may not use more than 1.5 GB of address space."""
    result = subprocess.run(
        [sys.executable, "-c", _BOUNDED_READ, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_a_styled_cell_at_xfd1048576_is_read_under_a_memory_bound(tmp_path: Path) -> None:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        book.worksheets[0].cell(1048576, 16384).font = Font(bold=True)  # formatted, empty

    path = _xlsx(tmp_path, change)
    assert path.stat().st_size < 100_000
    assert _read_under_memory_bound(path) == {"rows": 24 + 0}


def test_a_value_at_xfd1048576_is_refused_under_a_memory_bound(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, lambda book, _: book.worksheets[0].cell(1048576, 16384, "x"))
    answer = _read_under_memory_bound(path)
    assert "申报汇总.xlsx:申报信息" in answer["error"] and "intake.max_" in answer["error"]


LIMITS = {
    "rows": (IntakeLimits(max_rows=10), "行数超过上限 10 行"),
    "columns": (IntakeLimits(max_columns=20), "超过上限 20 列"),
    "file size": (IntakeLimits(max_file_mb=1), "文件过大"),
    "unpacked size": (IntakeLimits(max_unpacked_mb=1), "解压后过大"),
}


@pytest.mark.parametrize("case", sorted(LIMITS))
def test_a_workbook_beyond_the_configured_limits_is_refused(tmp_path: Path, case: str) -> None:
    limits, message = LIMITS[case]

    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        if case == "file size":
            import os

            for row in range(30, 130):  # 1.6 MB that does not compress (a cell holds 32,767 at most)
                book.worksheets[0].cell(row, 1, os.urandom(16_000).hex())
        if case == "unpacked size":
            for row in range(30, 40):
                book.worksheets[0].cell(row, 40, "啊" * 30000)  # compresses to almost nothing

    path = _xlsx(tmp_path, change)
    with pytest.raises(InputError) as caught:
        read_application_file(path, limits)
    assert message in str(caught.value) and "申报汇总.xlsx" in str(caught.value)


def test_the_configured_limits_are_the_competition_yaml_intake_section() -> None:
    from models.competition.config_file import parse_config
    from tests.support.factories import example_config_text

    text = example_config_text(
        **{"  require_plan: true\n": "  require_plan: true\n  max_rows: 10\n  max_columns: 40\n"}
    )
    assert parse_config(text).intake == IntakeLimits(max_rows=10, max_columns=40, require_plan=True)
    assert CONFIG.intake == IntakeLimits(require_plan=True)


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04 not really a zip", b"", b"<html>an error page saved as .xlsx</html>"],
    ids=["truncated zip", "empty", "html"],
)
def test_a_damaged_workbook_is_one_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "坏了[final].xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_application_file(path)
    assert str(caught.value).startswith("坏了[final].xlsx: ")


# ---- CSV ------------------------------------------------------------------------------------------


def _example_csv(tmp_path: Path, change: Callable[[list[list[str]]], None], encoding="utf-8-sig") -> Path:
    text = (EXAMPLE / "applications-gbk.csv").read_bytes().decode("gb18030")
    table = list(csv.reader(io.StringIO(text)))
    change(table)
    out = io.StringIO()
    csv.writer(out).writerows(table)
    path = tmp_path / "申报.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def test_a_csv_field_over_the_csv_modules_limit_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = _example_csv(tmp_path, lambda t: t[2].__setitem__(20, "长" * 200_000))
    with pytest.raises(InputError) as caught:
        read_application_file(path)
    (problem,) = caught.value.problems
    assert problem.where.startswith("申报.csv:第") and "CSV" in problem.zh


def test_a_csv_with_too_many_rows_or_columns_is_refused(tmp_path: Path) -> None:
    path = _example_csv(tmp_path, lambda t: t.extend([t[1]] * 30))
    with pytest.raises(InputError, match="行数超过上限 20 行"):
        read_application_file(path, IntakeLimits(max_rows=20))
    wide = _example_csv(tmp_path, lambda t: t[1].extend([""] * 50 + ["x"]))
    with pytest.raises(InputError, match=r"申报.csv:第2行 \(row 2\).*超过上限 40 列"):
        read_application_file(wide, IntakeLimits(max_columns=40))


def test_a_csv_with_nul_bytes_is_read(tmp_path: Path) -> None:
    path = _example_csv(tmp_path, lambda t: t[1].__setitem__(1, t[1][1] + "\x00"))
    assert read_applications(path)[0].text("title") == read_applications(EXAMPLE / "applications-gbk.csv")[
        0
    ].text("title")


# ---- JSON -----------------------------------------------------------------------------------------


def _example_items() -> list[dict[str, Any]]:
    """The example workbook's applications as JSON objects keyed by their Chinese headers."""
    items = []
    for row in read_applications(EXAMPLE / "applications.xlsx")[:3]:
        item: dict[str, Any] = {
            LABEL[k]: (v.date().isoformat() if isinstance(v, datetime) else v) for k, v in row.values.items()
        }
        item["预算明细"] = [
            {
                "科目": line.values.get("item"),
                "用途": line.values.get("purpose"),
                "单价": line.values.get("unit_price"),
                "数量": line.values.get("quantity"),
            }
            for line in row.budget
        ]
        item["活动安排"] = [  # the plan as a list of objects, as the 活动安排 sheet gave it
            {
                "时间": a.values.get("period"),
                "活动内容": a.values.get("content"),
                "场次": a.values.get("sessions"),
                "预计人次": a.values.get("participants"),
            }
            for a in row.activity_plan
        ]
        items.append(item)
    return items


JSON_FILES = {
    "nested 100000 deep": ("[" * 100_000 + "]" * 100_000, "嵌套层次过深"),
    "an integer of 5000 digits": ('[{"申请金额（元）": ' + "9" * 5000 + "}]", "不是有效的 JSON"),
    "not JSON": ("{'申报': 1}", "不是有效的 JSON"),
    "a number": ("42", "JSON 须为申报对象的列表"),
}


@pytest.mark.parametrize("case", sorted(JSON_FILES))
def test_a_hostile_json_file_is_one_input_error(tmp_path: Path, case: str) -> None:
    text, message = JSON_FILES[case]
    path = tmp_path / "申报.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_application_file(path)
    assert str(caught.value).startswith("申报.json: ") and message in str(caught.value)


def test_json_values_that_are_objects_are_refused_and_lists_of_names_read(tmp_path: Path) -> None:
    items = _example_items()
    items[0]["项目名称"] = {"$gt": ""}
    items[1]["服务社区"] = ["江头", "吕厝"]
    path = tmp_path / "申报.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    rows = read_applications(path)
    assert rows[0].problems[0].field == "项目名称" and "应为文字或数字" in rows[0].problems[0].zh
    assert rows[1].text("communities") == "江头、吕厝"
    assert validate_row(rows[1], config=CONFIG, today=BEFORE_DEADLINE.date()).communities == ["江头", "吕厝"]


# ---- the path itself ------------------------------------------------------------------------------


def test_a_folder_is_said_to_be_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "申报材料.xlsx"
    folder.mkdir()
    with pytest.raises(InputError, match="这是一个文件夹"):
        read_application_file(folder)


# ---- storing: nothing half-written ---------------------------------------------------------------


def test_a_file_with_huge_numbers_is_imported_row_by_row_without_an_exception(
    tmp_path: Path, sqlite_engine
) -> None:
    def change(book: openpyxl.Workbook, columns: dict[str, int]) -> None:
        ws = book.worksheets[0]
        ws.cell(2, columns["self_funded"]).value = 10**17  # 10^19 fen: more than a BIGINT holds
        ws.cell(3, columns["beneficiaries"]).value = 10**17  # more than an INTEGER holds

    path = _xlsx(tmp_path, change)
    with Session(sqlite_engine) as session:
        competition = make_competition(session)
        report = import_applications(
            session, competition_id=competition.id, path=path, actor="test", now=BEFORE_DEADLINE
        )
        session.commit()
        stored = session.exec(select(Application)).all()
    refused = {r.where: r.problems[0].field for r in report.refused}
    assert refused["申报汇总.xlsx:第2行 (row 2)"] == "自筹/配套金额（元）"
    assert refused["申报汇总.xlsx:第3行 (row 3)"] == "直接受益人数"
    assert len(stored) == len(report.accepted) > 0


def test_the_template_written_over_a_folder_is_an_input_error(tmp_path: Path) -> None:
    from models.intake.template import write_intake_template

    folder = tmp_path / "模板.xlsx"
    folder.mkdir()
    with pytest.raises(InputError, match="这是一个文件夹"):
        write_intake_template(folder, CONFIG)
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(InputError, match="无法写入该文件"):
        write_intake_template(blocker / "模板.xlsx", CONFIG)


# ---- Word forms -----------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


DOCX = {
    "not a zip": (lambda d: _bytes(d / "申报书.docx", b"not a zip at all"), IntakeLimits(), "文件已损坏"),
    "a zip without a document": (
        lambda d: _zip(d / "申报书.docx", {"hello.txt": b"hello"}),
        IntakeLimits(),
        "无法读取该 Word 文件",
    ),
    "a zip bomb": (
        lambda d: _zip(d / "申报书.docx", {"word/document.xml": b"<" * 3_000_000}),
        IntakeLimits(max_unpacked_mb=2),
        "解压后过大",
    ),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(DOCX))
def test_a_hostile_word_file_is_one_input_error(tmp_path: Path, case: str) -> None:
    make, limits, message = DOCX[case]
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        read_application_file(path, limits)
    assert str(caught.value).startswith("申报书.docx: ") and message in str(caught.value)
