"""How the CLI prints user text: never as rich markup. A scan of ``cli/`` for markup built from
values, the helpers themselves, and the commands end to end with bracketed names and hostile files
(in this process through ``cli.main.main``, and once as a real process without a terminal)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_DIR

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "cli"
EXAMPLE_TEXT = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")


# ---- the scan -------------------------------------------------------------------------------------


def _is_console_print(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("print", "log", "rule")
        and isinstance(func.value, ast.Name | ast.Attribute)
        and (func.value.id if isinstance(func.value, ast.Name) else func.value.attr) in ("console", "errors")
    )


def _built(node: ast.expr) -> bool:
    """A text made from values: an f-string with fields, ``.format``, ``+`` or ``%`` of strings."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return isinstance(node, ast.Name | ast.Subscript | ast.Attribute)  # a value printed as markup


def unsafe_prints(source: str) -> list[int]:
    """Line numbers where markup is built from values (``console.print(f"…{x}…")`` without
    ``markup=False``), a ``say`` template that is not a constant, or a table cell that is not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        if _is_console_print(node):
            plain = any(
                k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords
            )
            built = any(_built(arg) for arg in node.args if not _is_text_call(arg))
            if not plain and built and not _table_name(node):
                found.append(node.lineno)
        elif isinstance(node.func, ast.Name) and node.func.id == "say":
            if not node.args or not isinstance(node.args[0], ast.Constant):
                found.append(node.lineno)
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_row"
            and any(not _is_text_call(arg) and not isinstance(arg, ast.Constant) for arg in node.args)
        ):
            found.append(node.lineno)
    return found


def _is_text_call(node: ast.expr) -> bool:
    """``cell(…)``, ``Text(…)``, ``Text.assemble(…)``: rich text objects, never parsed as markup;
    also ``*(cell(v) for v in …)``, a row of them."""
    if isinstance(node, ast.Starred) and isinstance(node.value, (ast.GeneratorExp, ast.ListComp)):
        return _is_text_call(node.value.elt)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return isinstance(func.value, ast.Name) and func.value.id == "Text"
    return isinstance(func, ast.Name) and func.id in ("cell", "Text")


def _table_name(node: ast.Call) -> bool:
    """``console.print(table)``: a rich Table, whose cells the ``add_row`` rule checks."""
    return (
        len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id in ("table", "rubric")
    )


def _modules() -> Iterator[object]:
    for path in sorted(CLI.rglob("*.py")):
        relative = path.relative_to(CLI).as_posix()
        yield pytest.param(relative, id=relative)


@pytest.mark.parametrize("relative", list(_modules()))
def test_no_cli_module_prints_user_text_as_markup(relative: str) -> None:
    source = (CLI / relative).read_text(encoding="utf-8")
    assert unsafe_prints(source) == [], f"cli/{relative}: use say()/line()/cell() from cli.console"


@pytest.mark.parametrize(
    "snippet",
    [
        'console.print(f"created [bold]{name}[/bold]")',
        'errors.print(f"[red]error:[/red] {exc}")',
        'console.print("a " + name)',
        "console.print(title)",
        'say(f"[bold]{name}[/bold]")',
        "table.add_row(row['title'], cell(row['ref']))",
        "table.add_row(*(row[k] for k in keys))",
    ],
)
def test_the_scan_finds_markup_built_from_values(snippet: str) -> None:
    assert unsafe_prints(snippet) == [1]


@pytest.mark.parametrize(
    "snippet",
    [
        'say("[bold]{name}[/bold]", name=name)',
        'line(f"{name}")',
        'console.print(f"{name}", markup=False)',
        "console.print(table)",
        "table.add_row(cell(row['title']), '—')",
        "table.add_row(*(cell(row[k]) for k in keys))",
        'console.print("[bold]fixed[/bold]")',
    ],
)
def test_the_scan_lets_the_safe_ways_pass(snippet: str) -> None:
    assert unsafe_prints(snippet) == []


# ---- the helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["[/red]", "[bold]bad.yaml", "申报汇总[final].xlsx", "a\\[b]", ":smile:"])
def test_say_line_and_cell_print_user_text_as_typed(capsys: pytest.CaptureFixture[str], value: str) -> None:
    from rich.table import Table

    from cli.console import cell, console, line, say

    say("[bold]{value}[/bold] ok", value=value)
    line(f"plain {value}")
    table = Table("x")
    table.add_row(cell(value))
    console.print(table)
    out = capsys.readouterr().out
    assert f"{value} ok" in out and f"plain {value}" in out and f"│ {value}" in out


def test_control_characters_never_reach_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.console import error_line, line, say

    say("{v}", v="\x1b[2J清屏")
    line("\x1b]0;title\x07响铃")
    error_line("第一行\n\x1b[31m第二行")
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out and "\x07" not in captured.out and "\x1b" not in captured.err
    assert "清屏" in captured.out and "响铃" in captured.out


def test_an_error_is_one_line_whatever_its_length(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.console import error_line

    message = (
        "bad.yaml: competition.slug: 格式不对 / String should match pattern '^[a-z0-9][a-z0-9-]{1,62}$' " * 3
    )
    error_line(message + "\n第二个问题")
    (printed,) = capsys.readouterr().err.splitlines()
    assert printed == "错误 / error: " + message.strip() + "；第二个问题"


# ---- the commands end to end ---------------------------------------------------------------------


def grantflow(*args: str) -> int:
    """Run ``grantflow ARGS`` in this process (as the console script does); returns the exit code."""
    from cli.main import main

    argv = sys.argv
    sys.argv = ["grantflow", *args]
    try:
        main()
    except SystemExit as exit:
        return int(exit.code or 0)
    finally:
        sys.argv = argv
    return 0


def _config(tmp_path: Path, **competition: object) -> Path:
    data = yaml.safe_load(EXAMPLE_TEXT)
    data["competition"].update(competition)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


BRACKETED_NAMES = ["[/red]江头公益创投", "[bold]江头[/bold]大赛", "江头[link=http://x]大赛[/link]", "[[/]]"]


@pytest.mark.parametrize("name", BRACKETED_NAMES)
def test_a_bracketed_competition_name_is_stored_and_shown_by_every_command(
    settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert grantflow("competition", "create", str(_config(tmp_path, name=name))) == 0
    assert f"created competition jiangtou-2025: {name}" in capsys.readouterr().out
    for command in (["status"], ["competition", "show"]):
        assert grantflow(*command) == 0
        captured = capsys.readouterr()
        assert captured.out.splitlines()[0].startswith(name), command
        assert captured.err == ""


HOSTILE_FILES = {
    "gbk": (lambda d: _bytes(d / "gbk.yaml", EXAMPLE_TEXT.encode("gb18030")), "UTF-8"),
    "utf16": (lambda d: _bytes(d / "utf16.yaml", EXAMPLE_TEXT.encode("utf-16")), "UTF-8"),
    "binary": (lambda d: _bytes(d / "binary.yaml", os.urandom(4096)), "UTF-8"),
    "folder": (lambda d: _folder(d / "folder.yaml"), "文件夹"),
    "nested": (lambda d: _bytes(d / "nested.yaml", b"a: " + b"[" * 5000 + b"]" * 5000), "嵌套层次过深"),
    "budget 10^17": (lambda d: _changed(d / "huge.yaml", "budget", "service_budget", 10**17), "金额超过上限"),
    "budget 10^17 as text": (
        lambda d: _changed(d / "huge-text.yaml", "budget", "pool", "100,000,000,000,000,000元"),
        "金额超过上限",
    ),
    "budget -10^17": (lambda d: _changed(d / "negative.yaml", "budget", "pool", -(10**17)), "金额不能为负数"),
    "money [/bold]": (lambda d: _changed(d / "money.yaml", "budget", "pool", "[/bold]"), "[/bold]"),
    "[bold]bad.yaml": (lambda d: _bytes(d / "[bold]bad.yaml", b"- just\n- a list\n"), "[bold]bad.yaml"),
    "slug pattern": (lambda d: _changed(d / "slug.yaml", "competition", "slug", "BAD"), "[a-z0-9]"),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _changed(path: Path, section: str, key: str, value: object) -> Path:
    data = yaml.safe_load(EXAMPLE_TEXT)
    data[section][key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_a_hostile_configuration_file_is_one_error_line_and_stores_nothing(
    settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    make, expected = HOSTILE_FILES[case]
    path = make(tmp_path)
    assert grantflow("competition", "create", str(path)) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("错误 / error: ") for line in lines), captured.err
    assert any(str(path) in line and expected in line for line in lines), captured.err
    assert grantflow("status") == 1  # nothing was stored
    (refusal,) = capsys.readouterr().err.splitlines()
    assert "no competition yet" in refusal or "no such table" in refusal


def test_an_unexpected_error_is_one_line_with_its_traceback_kept(
    settings_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here: the database engine failing in a way nobody planned) is still one line."""
    import models.db

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[/red] boom")

    monkeypatch.setattr(models.db, "upgrade_database", broken)
    assert grantflow("init") == 2
    (printed,) = capsys.readouterr().err.splitlines()
    assert printed.startswith("意外错误 / unexpected error: RuntimeError: [/red] boom")
    kept = list((settings_env / "errors").glob("cli-*.txt"))
    assert len(kept) == 1 and str(kept[0]) in printed and "Traceback" in kept[0].read_text(encoding="utf-8")


def test_errors_are_one_line_without_a_terminal_in_a_real_process(tmp_path: Path) -> None:
    """No COLUMNS, stderr a pipe: rich would wrap at 80 columns; an error stays one line."""
    path = _changed(
        tmp_path / "[bold]一个名字很长的配置文件[final].yaml", "competition", "slug", "Not A Slug"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_") and k != "COLUMNS"}
    environ["GRANTFLOW_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "competition", "create", str(path)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1
    (printed,) = result.stderr.splitlines()
    assert len(printed) > 80
    assert printed.startswith(f"错误 / error: {path}: competition.slug: ")
    assert "^[a-z0-9][a-z0-9-]{1,62}$" in printed


def test_intake_import_of_a_folder_says_it_is_a_folder(
    settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "申报材料[2025]"
    folder.mkdir()
    assert grantflow("intake", "import", str(folder)) == 1
    (printed,) = capsys.readouterr().err.splitlines()
    expected = "这是一个文件夹，请给出其中的申报文件 / this is a folder: give the files in it"
    assert printed == f"错误 / error: {folder}: {expected}"


@pytest.mark.flows
def test_intake_import_shows_bracketed_file_names_and_titles_as_they_are(
    prefect_harness, settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import openpyxl

    assert grantflow("competition", "create", str(_config(tmp_path, name="[/red]江头公益创投"))) == 0
    assert grantflow("call", "publish", "--as-of", "2025-01-06T09:00") == 0
    book = openpyxl.load_workbook(EXAMPLE_DIR / "applications.xlsx")
    old, new = book.worksheets[0]["B2"].value, "[bold]银龄共膳[/bold]——吕岭敬老餐厅助餐陪伴计划"
    book.worksheets[0]["B2"] = new
    for row in (*book["预算明细"].iter_rows(), *book["活动安排"].iter_rows()):  # its lines follow the title
        for cell in row:
            if cell.value == old:
                cell.value = new
    path = tmp_path / "申报汇总[final].xlsx"
    book.save(path)
    shutil.copy(EXAMPLE_DIR / "broken.xlsx", tmp_path / "[red]broken.xlsx")
    capsys.readouterr()
    files = [str(path), str(tmp_path / "[red]broken.xlsx")]
    assert grantflow("intake", "import", *files, "--as-of", "2025-02-28T12:00") == 0
    out = capsys.readouterr().out
    assert "申报汇总[final].xlsx: 受理 / accepted 24" in out
    assert "[red]broken.xlsx: 受理 / accepted 0" in out
    assert (
        "✓ 2025-001  [bold]银龄共膳[/bold]——吕岭敬老餐厅助餐陪伴计划  (申报汇总[final].xlsx:第2行 (row 2))"
        in out
    )
    assert grantflow("status") == 0
    status = capsys.readouterr().out
    assert status.startswith("[/red]江头公益创投")


def test_a_command_before_init_says_to_run_init(
    settings_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert grantflow("status") == 1
    (printed,) = capsys.readouterr().err.splitlines()
    assert printed.startswith("数据库错误 / database error: ") and "grantflow init" in printed


def test_a_bracketed_name_reaches_create_review_report_and_doctor_as_typed(
    settings_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[/red]`` in a competition's name, in project titles and in the data folder's path prints
    as typed through ``competition create --start-on``, ``review report`` and ``doctor``."""
    from models.competition.tables import get_competition
    from models.db import session_scope
    from models.review.reviewing import assign_reviews
    from models.settings import reset_settings
    from tests.support.factories import make_application

    data = tmp_path / "[/red]数据[bold]"
    monkeypatch.setenv("GRANTFLOW_DATA_DIR", str(data))
    # A table row on one line: the path is not wrapped. The consoles are built once, at import,
    # so the width is set on them rather than through COLUMNS (read only when a console is made).
    from cli import console as cli_console

    for printer in (cli_console.console, cli_console.errors):
        monkeypatch.setattr(printer, "_width", 400)
    reset_settings()
    config = _config(tmp_path, name="[/red]江头公益创投")
    assert grantflow("competition", "create", str(config), "--start-on", "2026-01-05") == 0
    assert "created competition jiangtou-2025: [/red]江头公益创投" in capsys.readouterr().out
    copied = tmp_path / "[bold]下一届[/bold].yaml"
    assert grantflow("competition", "copy", str(copied), "-c", "jiangtou-2025") == 0
    assert f"已写出 / wrote {copied}: jiangtou-2026，2026 年" in capsys.readouterr().out

    titles = ["[/red]银龄共膳", "[bold]童心[/bold]课堂", "邻里[link=http://x]互助[/link]"]
    with session_scope() as session:
        competition = get_competition(session, slug=None)
        for number, title in enumerate(titles, start=1):
            make_application(session, competition=competition, ref=f"JT2026-{number:03d}", title=title)
        assign_reviews(session, competition_id=competition.id or 0, actor="admin")
    assert grantflow("review", "report") == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert all(f"│ {title}" in captured.out for title in titles), captured.out
    assert "评审一致性 / panel agreement" in captured.out

    grantflow("doctor")  # exit 1 or 0 by the machine; every row is printed either way
    out = capsys.readouterr().out
    assert f"{data / 'mail'}" in out or str(data) in out, out
    assert "[/red]数据[bold]" in out
