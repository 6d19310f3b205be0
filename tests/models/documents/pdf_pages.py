"""Rendered documents as PDF pages: LibreOffice (headless, one run for many files) and poppler.

The templates name the fonts of Chinese official documents (仿宋_GB2312, 方正小标宋简体, 黑体,
楷体_GB2312), which Linux machines do not have. A fontconfig file written into a temporary HOME maps
them to the CJK fonts Debian installs (fonts-noto-cjk, fonts-arphic-ukai) for this soffice run only.

Run as a script to look at pages: ``python tests/models/documents/pdf_pages.py OUT [ROLE …]`` renders
the roles' samples to OUT/<role>.pdf and OUT/<role>-<page>.png (60 dpi).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

FONT_ALIASES = {
    "仿宋_GB2312": "Noto Serif CJK SC",
    "方正小标宋简体": "Noto Serif CJK SC",
    "宋体": "Noto Serif CJK SC",
    "黑体": "Noto Sans CJK SC",
    "楷体_GB2312": "AR PL UKai CN",
}


class MissingTool(RuntimeError):
    pass


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} is missing: run `make sysdeps` (libreoffice-writer-nogui, poppler-utils)")
    return path


def _fontconfig(home: Path) -> None:
    aliases = "".join(
        f'  <alias binding="same"><family>{name}</family><prefer><family>{font}</family></prefer></alias>\n'
        for name, font in FONT_ALIASES.items()
    )
    folder = home / ".config" / "fontconfig"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig>\n{aliases}</fontconfig>\n",
        encoding="utf-8",
    )


def to_pdf(documents: Mapping[str, bytes], work: Path) -> dict[str, Path]:
    """Convert .docx bytes (by name) to PDFs with one soffice run; the PDF of each name."""
    home, sources, output = work / "home", work / "docx", work / "pdf"
    sources.mkdir(parents=True, exist_ok=True)
    _fontconfig(home)
    for name, data in documents.items():
        (sources / f"{name}.docx").write_bytes(data)
    environment = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    subprocess.run(
        [
            tool("soffice"),
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(output),
            *sorted(str(sources / f"{name}.docx") for name in documents),
        ],
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {name: output / f"{name}.pdf" for name in documents}


def page_count(pdf: Path) -> int:
    info = subprocess.run([tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def page_text(pdf: Path, page: int, *, layout: bool = True) -> str:
    """The text of one page (``pdftotext -f N -l N``), laid out as printed."""
    command = [tool("pdftotext"), "-f", str(page), "-l", str(page), *(["-layout"] if layout else [])]
    return subprocess.run([*command, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def pages(pdf: Path) -> list[str]:
    return [page_text(pdf, number) for number in range(1, page_count(pdf) + 1)]


# A page number line "— 3 —" is on every page; it is not content.
_PAGE_NUMBER = re.compile(r"^—\s*\d+\s*—$")


def content_lines(page: str) -> list[str]:
    """The non-empty lines of a page, each with its runs of spaces squeezed, without the page number."""
    lines = [" ".join(line.split()) for line in page.splitlines()]
    return [line for line in lines if line and not _PAGE_NUMBER.match(line)]


def _compact(text: str) -> str:
    """Without white space (pdftotext prints the gap LibreOffice leaves between Latin and CJK as a
    space), and with the non-breaking hyphen as the hyphen pdftotext prints."""
    return "".join(text.split()).replace("\u2011", "-")


def split_tokens(pdf: Path, tokens: list[str]) -> list[str]:
    """The tokens that appear in the document's text but on no single printed line (broken across lines).

    A token printed whole sits inside one line of ``pdftotext -layout``; one that wrapped inside a table
    cell shows only in the text with its line breaks removed.
    """
    text = pages(pdf)
    lines = [_compact(line) for page in text for line in content_lines(page)]
    joined = "".join(_compact(page) for page in text)
    broken = []
    for token in tokens:
        if not any(_compact(token) in line for line in lines):
            broken.append(token if _compact(token) in joined else f"{token} (missing)")
    return broken


# ---- page rules, read on the printed text ------------------------------------------------------

_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|年月日)"
# closing phrases (结束语) belong to the closing block: a page holding them and the signature only is
# a page holding only the closing block
CLOSING_PHRASES = ("专此通知。", "特此通知。", "特此公示。", "特此报告。")


def closing_only(lines: list[str], signers: set[str]) -> bool:
    """Whether every line of a page is part of a closing block: a closing phrase, a signer, a date, a
    signature, seal or date line (signers and dates may share a line in a table of signatures)."""

    def closing(line: str) -> bool:
        rest = re.sub(_DATE, "", "".join(line.split()))
        for known in (*signers, *CLOSING_PHRASES):
            rest = rest.replace(known, "")
        rest = re.sub(
            r"[^：]*（(签字|盖章|签)）：?|[^：]*（?签字）?：|签订日期：|经办人：|审核人：|分管领导：|字）：|"
            r"制表人：[^：]*?(?=制表日期|$)|制表日期：",
            "",
            rest,
        )
        return rest == ""

    return bool(lines) and all(closing(line) for line in lines)


def _data_rows(data: bytes) -> list[list[list[str]]]:
    """Every table's data rows (not its repeated header rows), each as its cells' compact texts."""
    import io

    import docx
    from docx.oxml.ns import qn

    tables = []
    for table in docx.Document(io.BytesIO(data)).tables:
        rows = []
        for row in table.rows:
            properties = row._tr.trPr
            if properties is not None and properties.find(qn("w:tblHeader")) is not None:
                continue
            cells: list[str] = []
            for cell in row.cells:
                text = _compact(cell.text)
                if text and text not in cells:
                    cells.append(text)
            rows.append(cells)
        tables.append(rows)
    return tables


def rows_by_page(data: bytes, pdf: Path) -> list[list[int | None]]:
    """For every table of the .docx, the page each data row was printed on (None where no cell of the
    row begins with a text printed on exactly one line of the document, so its page is unknown).

    A cell's first six characters sit on its first printed line, whole (pdftotext -layout prints a row's
    cells side by side), so a prefix found on one line only places the row on that line's page."""
    printed = [[_compact(line) for line in content_lines(page)] for page in pages(pdf)]
    on_lines: dict[str, list[int]] = {}

    def found(token: str) -> list[int]:
        if token not in on_lines:
            on_lines[token] = [n for n, lines in enumerate(printed, 1) for line in lines if token in line]
        return on_lines[token]

    tables = _data_rows(data)
    counts: dict[str, int] = {}
    for rows in tables:
        for row in rows:
            for token in {cell[:6] for cell in row if len(cell) >= 2}:
                counts[token] = counts.get(token, 0) + 1
    result = []
    for rows in tables:
        where: list[int | None] = []
        for row in rows:
            tokens = [cell[:6] for cell in row if len(cell) >= 2 and counts[cell[:6]] == 1]
            places = {page for token in tokens if len(found(token)) == 1 for page in found(token)}
            where.append(min(places) if len(places) == 1 else None)
        result.append(where)
    return result


def lone_rows(data: bytes, pdf: Path) -> list[str]:
    """Each table of three data rows or more that leaves exactly one of them on its first or its last
    page (the rule ``templates/docs/gbt9704_tables.py`` keeps). A row whose page is unknown may share
    that page, so a lone row next to one is not counted as alone."""
    problems = []
    for number, where in enumerate(rows_by_page(data, pdf), start=1):
        known = [page for page in where if page is not None]
        if len(where) < 3 or len(set(known)) < 2:
            continue
        first, last = min(known), max(known)
        if known.count(first) == 1 and where[0] == first:
            problems.append(f"table {number}: its first row alone on page {first} (rows on pages {where})")
        if known.count(last) == 1 and where[-1] == last:
            problems.append(f"table {number}: its last row alone on page {last} (rows on pages {where})")
    return problems


def lost_rows(data: bytes, pdf: Path) -> list[str]:
    """Data rows of the .docx none of whose cells' texts are printed anywhere (LibreOffice can lay
    rows out past a page's end and drop them)."""
    printed = "".join(_compact(page) for page in pages(pdf))
    missing = []
    for rows in _data_rows(data):
        for row in rows:
            texts = [cell[:6] for cell in row if len(cell) >= 2 and not cell.startswith("{")]
            if texts and not any(text in printed for text in texts):
                missing.append("|".join(row))
    return missing


def image_pages(pdf: Path) -> list[int]:
    """The page of every picture in the PDF (``pdfimages -list``), one entry per picture."""
    listing = subprocess.run(
        [tool("pdfimages"), "-list", str(pdf)], check=True, capture_output=True, text=True
    )
    return [int(line.split()[0]) for line in listing.stdout.splitlines()[2:] if line.split()]


def to_png(pdf: Path, prefix: Path, dpi: int = 60) -> list[Path]:
    subprocess.run([tool("pdftoppm"), "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def _main(out: Path, names: list[str]) -> None:
    from models.documents.registry import DOCUMENTS, render_document

    wanted = names or [role.name for role in DOCUMENTS]
    out.mkdir(parents=True, exist_ok=True)
    documents = {name: render_document(name, dict(DOCUMENTS.get(name).keys)) for name in wanted}
    for name, pdf in to_pdf(documents, out).items():
        for old in out.glob(f"{name}-*.png"):
            old.unlink()
        to_png(pdf, out / name)
        print(name, page_count(pdf))


if __name__ == "__main__":
    _main(Path(sys.argv[1]), sys.argv[2:])
