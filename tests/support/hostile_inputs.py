"""The hostile-input corpus (issue 22, section 6), generated in code from a seed: each door's cases as
(name, maker) where the maker writes the input into a folder (or returns the text or value). The
bundled example is the starting point of every file, changed the way a hostile or unlucky user
changes it. ``python -m tests.support.hostile_inputs`` prints the count by door."""

from __future__ import annotations

import csv
import io
import json
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from docx import Document
from PIL import Image

from tests.support import evidence_files as files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "jiangtou-2025"
SEED = 22

Maker = Callable[[Path], Path]

# values a field of any type may be given instead of its own
WRONG_VALUES: list[Any] = [
    None,
    [],
    {},
    [1, 2],
    {"$gt": ""},
    "",
    "文字",
    10**30,
    -(10**30),
    -1,
    True,
    1.5e308,
    float("nan"),
    "\x00\x01",
    "<script>alert(1)</script>",
    "2025-02-30",
    "9" * 400,
    "‮evil",
]


# ---- the competition YAML ----------------------------------------------------------------------------


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed YAML document (mappings' keys and lists' items, at every level)."""
    if prefix:
        yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:3]):
            yield from _paths(value, (*prefix, index))


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data, default=str))
    place = copy
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] = value
    return copy


def yaml_cases() -> dict[str, str | bytes]:
    """Name → the text (or bytes) of a competition YAML."""
    text = (EXAMPLE / "competition.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    rng = random.Random(SEED)
    places = list(_paths(data))
    cases: dict[str, str | bytes] = {}
    # a wrong type at a sample of places spread over every level: each top-level section at least once
    chosen = {p for p in places if len(p) == 1} | set(rng.sample(places, min(90, len(places))))
    for index, place in enumerate(sorted(chosen, key=str)):
        value = WRONG_VALUES[index % len(WRONG_VALUES)]
        try:
            dumped = yaml.safe_dump(_replaced(data, place, value), allow_unicode=True, sort_keys=False)
        except yaml.YAMLError:  # a value yaml cannot dump (nan is fine; control characters are not)
            dumped = yaml.safe_dump(_replaced(data, place, repr(value)), allow_unicode=True, sort_keys=False)
        cases[f"{'.'.join(map(str, place))} = {value!r:.20}"] = dumped
    laughs = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(8)
    )
    cases |= {
        "billion laughs": laughs,
        "billion laughs inside competition": text.replace(
            "competition:\n", "competition:\n" + "  " + laughs, 1
        ),
        "nested 10000 deep": "[" * 10_000 + "]" * 10_000,
        "nested mappings 5000 deep": "a: " * 5000 + "1",
        "python object tag": "!!python/object/apply:os.system ['echo pwned']\n",
        "python name tag in a field": text.replace("slug: ", "slug: !!python/name:os.system ", 1),
        "an integer of 5000 digits": text.replace(
            "max_per_project", "max_per_project: " + "9" * 5000 + "\n  x", 1
        ),
        "1e999 money": text.replace("max_per_project", "max_per_project: 1e999\n  x", 1),
        ".nan money": text.replace("max_per_project", "max_per_project: .nan\n  x", 1),
        "duplicate keys": text + "\ncompetition:\n  slug: other\n",
        "a list at the top": "- 1\n- 2\n",
        "a string at the top": "just text\n",
        "empty": "",
        "only a comment": "# nothing\n",
        "tab indentation": text.replace("  ", "\t", 5),
        "unclosed quote": text.replace("slug: ", 'slug: "', 1),
        "non-UTF-8 (GB18030)": text.encode("gb18030"),
        "non-UTF-8 (UTF-16)": text.encode("utf-16"),
        "latin-1 bytes": b"competition:\n  name: caf\xe9\n",
        "random bytes": random.Random(SEED).randbytes(4096),
        "NUL bytes": text.encode() + b"\x00" * 10,
        "a date of year 0": text.replace("2025-02-28", "0000-02-28", 1),
        "a date 2025-02-30": text.replace("2025-02-28", "2025-02-30", 1),
        "a time 25:61": text.replace("17:00", "25:61", 1),
        "a merge key loop": "a: &a {b: 1}\nc:\n  <<: *a\n  <<: *a\n",
        "an alias to nothing": "a: *nothing\n",
        "BOM and CRLF": "\ufeff" + text.replace("\n", "\r\n"),
        "lone CR line ends": text.replace("\n", "\r"),
        "10 MB comment": "# " + "x" * 10_000_000,
    }
    return cases


# ---- intake files ------------------------------------------------------------------------------------


def _labels() -> dict[str, str]:
    from models.intake.fields import FIELDS

    return {f.key: f.label for f in FIELDS}


def _book() -> tuple[openpyxl.Workbook, dict[str, int]]:
    book = openpyxl.load_workbook(EXAMPLE / "applications.xlsx")
    header = [c.value for c in book.worksheets[0][1]]
    return book, {key: header.index(label) + 1 for key, label in _labels().items() if label in header}


def _xlsx_changed(change: Callable[[openpyxl.Workbook, dict[str, int]], None]) -> Maker:
    def make(folder: Path) -> Path:
        book, columns = _book()
        change(book, columns)
        path = folder / "申报汇总.xlsx"
        book.save(path)
        return path

    return make


def _bytes(name: str, data: bytes | Callable[[], bytes]) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return make


def _rezipped(source: Path, name: str, change: Callable[[dict[str, bytes]], None]) -> Maker:
    """``source`` (an .xlsx or .docx) with its zip members changed."""

    def make(folder: Path) -> Path:
        with zipfile.ZipFile(source) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        change(members)
        path = folder / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for member, data in members.items():
                out.writestr(member, data)
        return path

    return make


def _with_macro(members: dict[str, bytes]) -> None:
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "Module1"' * 50
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )


def _with_embedded_object(prefix: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        members[f"{prefix}/embeddings/oleObject1.bin"] = b"\xd0\xcf\x11\xe0" + files.windows_executable()
        members[f"{prefix}/embeddings/Package.exe"] = files.windows_executable()

    return change


def _xml_bomb(member: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
        )
        body = members[member].decode()
        head, rest = body.split("?>", 1) if body.startswith("<?xml") else ("", body)
        root = rest.lstrip().split()[0].lstrip("<")
        members[member] = (
            (head + ("?>" if head else "") + f"<!DOCTYPE {root} [{entities}]>" + rest)
            .replace("申报", "&j;", 1)
            .encode()
        )

    return change


def _xxe(member: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        body = members[member].decode()
        head, rest = body.split("?>", 1) if body.startswith("<?xml") else ("", body)
        root = rest.lstrip().split()[0].lstrip("<")
        members[member] = (
            (
                head
                + ("?>" if head else "")
                + f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + rest
            )
            .replace("申报", "&x;", 1)
            .encode()
        )

    return change


def _zip_bomb(name: str, member: str) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr("[Content_Types].xml", b"<Types/>")
            with out.open(member, "w", force_zip64=True) as bomb:
                chunk = b"<" * 1_000_000
                for _ in range(260):  # 260 MB unpacked, a few hundred KB packed
                    bomb.write(chunk)
        return path

    return make


def _hundred_thousand_rows(folder: Path) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("申报信息")
    labels = _labels()
    sheet.append(list(labels.values()))
    for n in range(100_000):
        sheet.append([f"项目{n}", "机构"])
    path = folder / "十万行.xlsx"
    book.save(path)
    return path


def _csv(
    encoding: str, *, change: Callable[[list[list[str]]], None] | None = None, delimiter: str = ","
) -> Maker:
    def make(folder: Path) -> Path:
        text = (EXAMPLE / "applications-gbk.csv").read_bytes().decode("gb18030")
        table = list(csv.reader(io.StringIO(text)))
        if change is not None:
            change(table)
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(table)
        path = folder / f"申报-{encoding}.csv"
        path.write_bytes(out.getvalue().encode(encoding, errors="replace"))
        return path

    return make


def _json(value: Any) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / "申报.json"
        path.write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")
        return path

    return make


def _example_items() -> list[dict[str, Any]]:
    from models.intake.rows import read_applications

    labels = _labels()
    items = []
    for row in read_applications(EXAMPLE / "applications.xlsx")[:2]:
        item: dict[str, Any] = {
            labels[k]: (v.date().isoformat() if isinstance(v, datetime) else v) for k, v in row.values.items()
        }
        item["预算明细"] = [
            {"科目": b.values.get("item"), "单价": b.values.get("unit_price")} for b in row.budget
        ]
        items.append(item)
    return items


def _word(change: Callable[[Any], None]) -> Maker:
    """The first example 申报书, changed through python-docx."""

    def make(folder: Path) -> Path:
        source = sorted((EXAMPLE / "forms").glob("*.docx"))[0]
        document = Document(str(source))
        change(document)
        path = folder / "申报书.docx"
        document.save(str(path))
        return path

    return make


def _drop_table(index: int) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        table = document.tables[index]
        table._element.getparent().remove(table._element)

    return change


def _drop_rows(every: int) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        for table in document.tables:
            for n, row in enumerate(list(table.rows)):
                if n % every == 1:
                    row._tr.getparent().remove(row._tr)

    return change


def _drop_cells(document: Any) -> None:
    for table in document.tables:
        for row in table.rows:
            cells = row._tr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tc")
            if len(cells) > 1:
                row._tr.remove(cells[-1])


def _fill_every_cell(text: str) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        for table in document.tables:
            for row in table.rows:
                for cell in row.cells[1:]:
                    cell.text = text

    return change


def _nest_tables(document: Any) -> None:
    cell = document.tables[0].rows[0].cells[-1]
    inner = cell.add_table(rows=2, cols=2)
    inner.cell(0, 0).text = "申请金额（元）"
    inner.cell(0, 1).text = "9" * 50


def _png_bytes() -> bytes:
    return files.png_sign_in_sheet()


def intake_cases() -> dict[str, Maker]:
    labels = _labels()
    rng = random.Random(SEED)
    xlsx = EXAMPLE / "applications.xlsx"
    form = sorted((EXAMPLE / "forms").glob("*.docx"))[0]
    cases: dict[str, Maker] = {}

    # .xlsx: each column removed; each field given a wrong type
    for key, label in sorted(labels.items()):

        def drop(book: openpyxl.Workbook, columns: dict[str, int], key: str = key) -> None:
            if key in columns:
                book.worksheets[0].delete_cols(columns[key])

        cases[f"xlsx: column {label} removed"] = _xlsx_changed(drop)
    for index, (key, label) in enumerate(sorted(labels.items())):
        value = rng.choice(
            [10**20, -5, True, datetime(1900, 1, 1), "=1/0", "#DIV/0!", "\u202e" * 3, "啊" * 32_000]
        )

        def put(
            book: openpyxl.Workbook,
            columns: dict[str, int],
            key: str = key,
            value: Any = value,
            row: int = 2 + index % 5,
        ) -> None:
            if key in columns:
                book.worksheets[0].cell(row, columns[key]).value = value

        cases[f"xlsx: {label} = {value!r:.16}"] = _xlsx_changed(put)
    cases |= {
        "xlsx: a PNG renamed .xlsx": _bytes("申报汇总.xlsx", _png_bytes),
        "xlsx: 0 bytes": _bytes("申报汇总.xlsx", b""),
        "xlsx: the header row removed": _xlsx_changed(lambda b, c: b.worksheets[0].delete_rows(1)),
        "xlsx: every sheet but one removed": _xlsx_changed(
            lambda b, c: [b.remove(s) for s in b.worksheets[1:]]  # type: ignore[func-returns-value]
        ),
        "xlsx: a macro (vbaProject.bin)": _rezipped(xlsx, "申报汇总.xlsx", _with_macro),
        "xlsm: a macro-enabled workbook": _rezipped(xlsx, "申报汇总.xlsm", _with_macro),
        "xlsx: embedded objects": _rezipped(xlsx, "申报汇总.xlsx", _with_embedded_object("xl")),
        "xlsx: sheet entity bomb": _rezipped(xlsx, "申报汇总.xlsx", _xml_bomb("xl/worksheets/sheet1.xml")),
        "xlsx: sheet external entity": _rezipped(xlsx, "申报汇总.xlsx", _xxe("xl/worksheets/sheet1.xml")),
        "xlsx: sheet XML cut in half": _rezipped(
            xlsx,
            "申报汇总.xlsx",
            lambda m: m.__setitem__("xl/worksheets/sheet1.xml", m["xl/worksheets/sheet1.xml"][:2000]),
        ),
        "xlsx: styles missing": _rezipped(xlsx, "申报汇总.xlsx", lambda m: m.pop("xl/styles.xml", None)),
        "xlsx: a zip bomb": _zip_bomb("申报汇总.xlsx", "xl/worksheets/sheet1.xml"),
        "xlsx: 100,000 rows": _hundred_thousand_rows,
        "xlsx: a value at XFD1048576": _xlsx_changed(lambda b, c: b.worksheets[0].cell(1048576, 16384, "x")),
    }

    # .csv in every encoding Excel writes (and some it does not)
    for encoding in ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "utf-16", "utf-16-le",
                     "utf-16-be", "shift_jis", "cp1252", "latin-1", "utf-32", "cp936"):  # fmt: skip
        cases[f"csv: {encoding}"] = _csv(encoding)
    cases |= {
        "csv: utf-16 tab-separated (Excel's Unicode text)": _csv("utf-16", delimiter="\t"),
        "csv: semicolons": _csv("utf-8-sig", delimiter=";"),
        "csv: an unclosed quote": _bytes("申报.csv", '项目名称,申报单位\n"银龄,乐龄\n'.encode()),
        "csv: CR only line ends": _bytes(
            "申报.csv",
            (EXAMPLE / "applications-gbk.csv").read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r"),
        ),
        "csv: random bytes": _bytes("申报.csv", random.Random(SEED).randbytes(20_000)),
        "csv: only a header": _csv("utf-8", change=lambda t: t.__delitem__(slice(1, None))),
        "csv: 0 bytes": _bytes("申报.csv", b""),
        "csv: a BOM only": _bytes("申报.csv", b"\xef\xbb\xbf"),
        "csv: formula injection": _csv(
            "utf-8", change=lambda t: t[1].__setitem__(1, '=HYPERLINK("http://x")')
        ),
        "csv: a row 2000 cells wide": _csv("utf-8", change=lambda t: t[1].extend(["x"] * 2000)),
        "csv: a PNG renamed .csv": _bytes("申报.csv", _png_bytes),
        "csv: 100,000 rows": _csv("utf-8", change=lambda t: t.extend([t[1]] * 100_000)),
    }

    # .json: wrong types at every level
    items = _example_items()
    cases |= {
        "json: null": _json(None),
        "json: an object": _json({"申报": items}),
        "json: a list of lists": _json([[1, 2]]),
        "json: a list of numbers": _json([1, 2, 3]),
        "json: a list of nulls": _json([None]),
        "json: an empty list": _json([]),
        "json: an empty object in the list": _json([{}]),
        "json: 预算明细 a string": _json([{**items[0], "预算明细": "很多"}]),
        "json: 预算明细 a list of numbers": _json([{**items[0], "预算明细": [1, 2]}]),
        "json: 预算明细 nested objects": _json([{**items[0], "预算明细": [{"科目": {"a": [1]}}]}]),
        "json: 活动安排 an object": _json([{**items[0], "活动安排": {"a": 1}}]),
        "json: a field a list of objects": _json([{**items[0], "项目名称": [{"a": 1}]}]),
        "json: a field true": _json([{**items[0], "申请金额（元）": True}]),
        "json: a field 1e400": _bytes(
            "申报.json", b'[{"\xe7\x94\xb3\xe8\xaf\xb7\xe9\x87\x91\xe9\xa2\x9d": 1e400}]'
        ),
        "json: NaN": _bytes("申报.json", b"[NaN]"),
        "json: Infinity in a field": _bytes(
            "申报.json", json.dumps([{"申请金额（元）": 1}]).replace("1", "Infinity").encode()
        ),
        "json: duplicate keys": _bytes("申报.json", '[{"项目名称": "a", "项目名称": "b"}]'.encode()),
        "json: 10 MB string": _json([{**items[0], "项目简介": "长" * 3_000_000}]),
        "json: GBK bytes": _bytes("申报.json", json.dumps(items, ensure_ascii=False).encode("gb18030")),
        "json: UTF-16": _bytes("申报.json", json.dumps(items, ensure_ascii=False).encode("utf-16")),
        "json: lone surrogate": _bytes("申报.json", b'[{"\\u9879\\u76ee\\u540d\\u79f0": "\\ud800"}]'),
        "json: 100,000 items": _json([{"项目名称": "x"}] * 100_000),
        "json: nested 100000 deep": _bytes("申报.json", b"[" * 100_000 + b"]" * 100_000),
    }

    # Word 申报书: fields removed, tables broken, macros, embedded objects, bombs, not Word at all
    for index in range(4):
        cases[f"docx: table {index + 1} removed"] = _word(_drop_table(index))
    cases |= {
        "docx: every table removed": _word(lambda d: [_drop_table(0)(d) for _ in range(len(d.tables))]),
        "docx: every second row removed": _word(_drop_rows(2)),
        "docx: every third row removed": _word(_drop_rows(3)),
        "docx: last cell of every row removed": _word(_drop_cells),
        "docx: every value <script>": _word(_fill_every_cell("<script>alert(1)</script>")),
        "docx: every value 10^30": _word(_fill_every_cell("1" + "0" * 30)),
        "docx: every value empty": _word(_fill_every_cell("")),
        "docx: every value invisible characters": _word(_fill_every_cell("a\u00a0\u200b\u202eb\tc")),
        "docx: a table nested in a cell": _word(_nest_tables),
        "docx: a macro (docm content)": _rezipped(
            form,
            "申报书.docx",
            lambda m: m.__setitem__("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"Sub AutoOpen()" * 100),
        ),
        "docm: a macro-enabled document": _rezipped(form, "申报书.docm", lambda m: None),
        "docx: embedded objects": _rezipped(form, "申报书.docx", _with_embedded_object("word")),
        "docx: entity bomb in document.xml": _rezipped(form, "申报书.docx", _xml_bomb("word/document.xml")),
        "docx: external entity in document.xml": _rezipped(form, "申报书.docx", _xxe("word/document.xml")),
        "docx: document.xml cut in half": _rezipped(
            form,
            "申报书.docx",
            lambda m: m.__setitem__(
                "word/document.xml", m["word/document.xml"][: len(m["word/document.xml"]) // 2]
            ),
        ),
        "docx: document.xml missing": _rezipped(form, "申报书.docx", lambda m: m.pop("word/document.xml")),
        "docx: a zip bomb": _zip_bomb("申报书.docx", "word/document.xml"),
        "docx: a PNG renamed .docx": _bytes("申报书.docx", _png_bytes),
        "docx: 0 bytes": _bytes("申报书.docx", b""),
        "docx: an old .doc renamed": _bytes(
            "申报书.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000
        ),
        "doc: an old Word file": _bytes("申报书.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000),
        "pdf: a PDF where a form was expected": _bytes("申报书.pdf", files.small_pdf()),
        "txt: an unknown extension": _bytes("申报书.txt", "项目名称：银龄".encode()),
        "no extension": _bytes("申报书", b"PK\x03\x04"),
    }
    return cases


# ---- the review's and funding's spreadsheets (paper score sheets, signing dates) ---------------------

SHEET_HEADER = ["申报编号", "专家姓名", "需求分析", "评语"]
SHEET_ROW: list[Any] = ["JT2025-001", "王专家", 18, "很好"]
SIGNING_HEADER = ["申报编号", "签订日期"]
SIGNING_ROW: list[Any] = ["JT2025-001", datetime(2025, 5, 20)]


def _sheet(rows: list[list[Any]], name: str = "表.xlsx") -> Maker:
    def make(folder: Path) -> Path:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        path = folder / name
        book.save(path)
        return path

    return make


WRONG_CELLS = (None, 10**30, -1, True, datetime(1900, 1, 1), "=1/0", "<script>", "\u200b", "JT2025-999")


def workbook_cases(header: list[str], good: list[Any], name: str) -> dict[str, Maker]:
    """Hostile versions of a small sheet with ``header`` and one ``good`` row."""
    rng = random.Random(SEED + len(name))
    cases: dict[str, Maker] = {
        "a PNG renamed .xlsx": _bytes(name, _png_bytes),
        "0 bytes": _bytes(name, b""),
        "not .xlsx (csv)": _bytes(name.replace(".xlsx", ".csv"), ",".join(header).encode()),
        "a zip bomb": _zip_bomb(name, "xl/worksheets/sheet1.xml"),
        "random bytes": _bytes(name, rng.randbytes(5000)),
        "a zip with no workbook": _bytes(name, files.zip_archive()),
        "no header": _sheet([good], name),
        "empty sheet": _sheet([], name),
        "a value at XFD1048576": _xlsx_far(header, good, name),
        "6,000 rows": _sheet([header, *[good] * 6000], name),
        "10 MB of text in a cell": _sheet([header, [*good[:-1], "长" * 32_000]], name),
    }
    for index, column in enumerate(header):
        for value in (
            None,
            10**30,
            -1,
            True,
            datetime(1900, 1, 1),
            "=1/0",
            "<script>",
            "\u200b",
            "JT2025-999",
        ):
            row = list(good)
            row[index] = value
            cases[f"{column} = {value!r:.14}"] = _sheet([header, row], name)
        cases[f"column {column} removed"] = _sheet(
            [
                [h for h in header if h != column],
                [v for h, v in zip(header, good, strict=True) if h != column],
            ],
            name,
        )
    return cases


def _xlsx_far(header: list[str], good: list[Any], name: str) -> Maker:
    def make(folder: Path) -> Path:
        book = openpyxl.Workbook()
        book.active.append(header)
        book.active.append(good)
        book.active.cell(1048576, 16384, "x")
        path = folder / name
        book.save(path)
        return path

    return make


# ---- supervisors' and grantees' uploads --------------------------------------------------------------


def _png_with_exif_bomb() -> bytes:
    """A small PNG with an eXIf chunk of 3 MB holding 60,000 IFD entries."""
    image = Image.new("RGB", (40, 40), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    count = 60_000
    ifd = (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", count)
        + b"\x01\x0f\x00\x02\xff\xff\xff\xf0\x00\x00\x00\x08" * count
    )
    chunk = struct.pack(">I", len(ifd)) + b"eXIf" + ifd + struct.pack(">I", zlib.crc32(b"eXIf" + ifd))
    return data[:33] + chunk + data[33:]


def _jpeg_with_exif_bomb() -> bytes:
    data = files.photo_with_location((200, 150))
    ifd = (
        b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", 5000)
        + b"\x87\x69\x00\x04\x00\x00\x00\x01\x00\x00\x00\x08" * 5000
    )
    segment = b"\xff\xe1" + struct.pack(">H", min(len(ifd) + 2, 0xFFFF)) + ifd[: 0xFFFF - 2]
    return data[:2] + segment + data[2:]


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00" * 100)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _jpeg_header(width: int, height: int) -> bytes:
    data = bytearray(files.photo_with_location((64, 48)))
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def upload_cases() -> dict[str, tuple[str, bytes | Callable[[], bytes], str]]:
    """Name → (file name, content, kind)."""
    png, pdf = files.png_sign_in_sheet, files.small_pdf
    cases: dict[str, tuple[str, bytes | Callable[[], bytes], str]] = {
        "0 bytes": ("签到表.png", b"", "sign_in"),
        "polyglot: PNG + zip appended": ("签到表.png", lambda: png() + files.zip_archive(), "sign_in"),
        "polyglot: PNG + HTML appended": ("签到表.png", lambda: png() + files.html_page(), "sign_in"),
        "polyglot: JPEG + PHP in a comment": (
            "照片.jpg",
            lambda: (
                files.photo_with_location((100, 80))[:2]
                + b"\xff\xfe\x00\x20<?php system($_GET[1]); ?>xxxx"
                + files.photo_with_location((100, 80))[2:]
            ),
            "photo",
        ),
        "polyglot: PDF + JavaScript after %%EOF": (
            "票据.pdf",
            lambda: pdf() + b"/JS (app.alert(1))",
            "receipt",
        ),
        "polyglot: PDF starting with HTML": ("票据.pdf", lambda: files.html_page() + pdf(), "receipt"),
        "polyglot: GIFAR (GIF + zip)": ("照片.gif", lambda: _gif() + files.zip_archive(), "photo"),
        "polyglot: zip renamed .pdf": ("票据.pdf", files.zip_archive, "receipt"),
        "PDF with /Launch": (
            "票据.pdf",
            lambda: pdf().replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/Launch>>"),
            "receipt",
        ),
        "PDF with /EmbeddedFile": (
            "票据.pdf",
            lambda: pdf().replace(b"/Type/Catalog", b"/Type/Catalog/EmbeddedFile 3 0 R"),
            "receipt",
        ),
        "PDF with JavaScript": ("票据.pdf", files.pdf_with_javascript, "receipt"),
        "PDF without %%EOF": ("票据.pdf", lambda: pdf().replace(b"%%EOF", b""), "receipt"),
        "EXIF bomb (PNG eXIf 60,000 entries)": ("照片.png", _png_with_exif_bomb, "photo"),
        "EXIF bomb (JPEG APP1 loops)": ("照片.jpg", _jpeg_with_exif_bomb, "photo"),
        "decompression bomb 10000²": ("照片.png", files.decompression_bomb, "photo"),
        "PNG header 65535×65535": ("照片.png", lambda: _png_header(65535, 65535), "photo"),
        "PNG header 2³¹−1 × 1": ("照片.png", lambda: _png_header(2**31 - 1, 1), "photo"),
        "PNG header 0×0": ("照片.png", lambda: _png_header(0, 0), "photo"),
        "JPEG header 65535×65535": ("照片.jpg", lambda: _jpeg_header(65535, 65535), "photo"),
        "JPEG header 0×0": ("照片.jpg", lambda: _jpeg_header(0, 0), "photo"),
        "truncated JPEG": ("照片.jpg", files.truncated_jpeg, "photo"),
        "truncated PNG": ("签到表.png", lambda: png()[:100], "sign_in"),
        "PE executable named .jpg": ("照片.jpg", files.windows_executable, "photo"),
        "ELF named .png": ("签到表.png", files.elf_executable, "sign_in"),
        "HTML named .pdf": ("票据.pdf", files.html_page, "receipt"),
        "SVG with script": (
            "照片.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo",
        ),
        "GIF": ("照片.gif", _gif, "photo"),
        "an unknown kind": ("签到表.png", png, "../../etc"),
        "a kind of 10,000 characters": ("签到表.png", png, "x" * 10_000),
        "over the size limit": ("签到表.png", lambda: png() + b"\x00" * 3_000_000, "sign_in"),
    }
    names = [
        "../../etc/passwd.png", "..\\..\\boot.ini.png", "/etc/passwd.png", "C:\\Windows\\x.png", "a/b.png",
        ".htaccess", "..", ".", "", " ", "CON.png", "nul", "LPT1.pdf", "a\x00.png", "a\r\nX-Header: 1.png",
        "a\x1b[31m.png", "\u202egnp.exe", "a\u200b.png", "名" * 200 + ".png", "%2e%2e%2fpasswd.png",
        "file:///etc/passwd.png", "<script>alert(1)</script>.png", "a\"b'.png",
        "\ud800.png", "😀" * 30 + ".png",
        "a" * 4096 + ".png", "x.png.exe", "x.PnG", "签到表.png ", "\t签到表.png",
    ]  # fmt: skip
    for name in names:
        cases[f"name {name!r:.40}"] = (name, png, "sign_in")
    return cases


def door_counts() -> dict[str, int]:
    """How many inputs each door's corpus holds (the web doors are counted by their tests)."""
    return {
        "competition YAML": len(yaml_cases()),
        "intake files (.xlsx/.csv/.json/.docx)": len(intake_cases()),
        "paper score sheets": len(workbook_cases(SHEET_HEADER, SHEET_ROW, "路演评分表.xlsx")),
        "signing-date workbooks": len(workbook_cases(SIGNING_HEADER, SIGNING_ROW, "签约日期.xlsx")),
        "uploads": len(upload_cases()),
    }


if __name__ == "__main__":
    for door, count in door_counts().items():
        print(f"{door}: {count}")
