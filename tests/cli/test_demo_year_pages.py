"""The demo year's real documents as pages: the page rules the samples are held to
(``tests/models/documents/test_libreoffice.py``) hold on what ``grantflow demo`` writes, where real
data — long titles, many rows — can hide what samples do not. Of each kind of document, the longest
ones (the likeliest to run over a page) go through LibreOffice in one run:

- no page holds only the closing block (专此通知, the signer, the date, 制表人);
- no table leaves one row alone on its first or last page, nor loses one;
- no code, amount or percentage breaks inside a cell;
- a one-page notice (拨款通知, 受理回执) is one page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.competition.config_file import load_config
from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR
from tests.models.documents import pdf_pages
from tests.models.documents.paper_text import document_text
from tests.models.documents.test_libreoffice import _cell_tokens

pytestmark = pytest.mark.slow

LONGEST = 2  # documents of each kind, by the length of their text
ONE_PAGE = {"拨款通知", "受理回执"}


def _kind(path: Path) -> str:
    return re.split(r"[-.]", path.name, maxsplit=1)[0]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, Path]]:
    """``grantflow demo`` once; the longest documents of each kind as .docx bytes and PDF, by name."""
    out = tmp_path_factory.mktemp("demo") / "out"
    result = run(["demo", "--out", str(out)], out.parent / "unused", timeout=1200)  # a busy machine
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    by_kind: dict[str, list[tuple[int, Path]]] = {}
    for path in (out / "documents").rglob("*.docx"):
        by_kind.setdefault(_kind(path), []).append((len(document_text(path.read_bytes())), path))
    chosen = {
        path.stem: path.read_bytes()
        for found in by_kind.values()
        for _, path in sorted(found, reverse=True)[:LONGEST]
    }
    try:
        pdfs = pdf_pages.to_pdf(chosen, tmp_path_factory.mktemp("pdf"))
    except pdf_pages.MissingTool as exc:
        pytest.fail(str(exc))
    return {name: (data, pdfs[name]) for name, data in chosen.items()}


def _signers() -> set[str]:
    competition = load_config(EXAMPLE_DIR / "competition.yaml").competition
    return {"".join(name.split()) for name in (competition.organiser, competition.operator) if name}


def test_every_kind_of_the_year_is_rendered(pages: dict[str, tuple[bytes, Path]]) -> None:
    kinds = {re.split(r"[-.]", name, maxsplit=1)[0] for name in pages}
    assert len(kinds) >= 16 and {"拨款通知", "评分汇总表及排名表", "年度总结报告", "资格审查表"} <= kinds
    assert all(pdf.is_file() for _, pdf in pages.values())


def test_no_page_holds_only_the_closing_block(pages: dict[str, tuple[bytes, Path]]) -> None:
    signers = _signers()
    alone = [
        f"{name} p{number}: {lines}"
        for name, (_, pdf) in pages.items()
        for number, page in enumerate(pdf_pages.pages(pdf), start=1)
        if pdf_pages.closing_only(lines := pdf_pages.content_lines(page), signers)
    ]
    assert alone == []


def test_tables_keep_two_rows_at_each_end_of_a_page_and_lose_none(
    pages: dict[str, tuple[bytes, Path]],
) -> None:
    problems = {
        name: found
        for name, (data, pdf) in pages.items()
        if (found := pdf_pages.lone_rows(data, pdf) + pdf_pages.lost_rows(data, pdf))
    }
    assert problems == {}


def test_no_code_or_amount_breaks_in_a_cell(pages: dict[str, tuple[bytes, Path]]) -> None:
    broken = {
        name: found
        for name, (data, pdf) in pages.items()
        if (found := pdf_pages.split_tokens(pdf, _cell_tokens(data)))
    }
    assert broken == {}


def test_a_notice_is_one_page(pages: dict[str, tuple[bytes, Path]]) -> None:
    counts = {
        name: pdf_pages.page_count(pdf)
        for name, (_, pdf) in pages.items()
        if re.split(r"[-.]", name, maxsplit=1)[0] in ONE_PAGE
    }
    assert counts and set(counts.values()) == {1}, counts
