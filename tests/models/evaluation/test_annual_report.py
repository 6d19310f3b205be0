"""The 年度总结报告 of the example year: its four charts are real PNGs at print resolution with
Chinese glyphs drawn, and LibreOffice prints the captions and the figures (pdftotext)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from datetime import date
from pathlib import Path

import docx
import pytest

from models.documents.engine.charts import bar_chart
from models.documents.registry import render_document
from models.evaluation.annual import annual_figures
from models.evaluation.annual_report import annual_report_context
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.money import format_yuan

ACTOR = "admin:test"


def _context(session, year) -> dict:
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=date(2025, 10, 20))
    figures = annual_figures(session, competition_id=year.competition_id)
    return annual_report_context(
        figures, organiser="江头街道办事处", operator="江头街道社会工作服务站", issue_date=date(2025, 11, 10)
    )


def _pixels(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def test_charts_are_print_resolution_pngs_in_the_document(year_session, year):
    context = _context(year_session, year)
    document = docx.Document(io.BytesIO(render_document("annual_report", context)))
    images = [part.blob for part in document.part.package.parts if part.content_type == "image/png"]
    assert len(document.inline_shapes) == len(images) == 4
    for png in images:
        width, height = _pixels(png)
        assert width >= 1400 and height >= 900  # ≥ 300 dpi at the printed width (110–150 mm)
    text = "\n".join(p.text for p in document.paragraphs)
    for caption in (
        "图1  资助金额按服务领域构成",
        "图2  各服务领域计划与实际服务人次",
        "图3  各社区立项资助金额",
        "图4  结项评估等级分布",
    ):
        assert caption in text
    granted = sum(row["granted_fen"] for row in context["by_pool"])
    assert f"立项资助{format_yuan(granted)}元，其中：" in text
    for line in context["money_lines"]:
        assert line in text


def test_chinese_glyphs_are_drawn_not_boxes():
    # two titles of four different characters: with a missing CJK font both would be four
    # identical "tofu" boxes and the images equal; drawn glyphs make them differ
    first = bar_chart(["江头"], [1], title="结项评估")
    second = bar_chart(["江头"], [1], title="社区服务")
    assert first != second
    assert bar_chart(["江头"], [1], title="结项评估") == first  # deterministic bytes


@pytest.mark.slow
def test_libreoffice_prints_captions_and_figures(year_session, year, tmp_path):
    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.fail("soffice / pdftotext missing: run `make sysdeps`")
    context = _context(year_session, year)
    source = tmp_path / "annual.docx"
    source.write_bytes(render_document("annual_report", context))
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = subprocess.run(
        [pdftotext, str(tmp_path / "annual.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    squeezed = "".join(text.split())
    for caption in ("图1资助金额按服务领域构成", "图4结项评估等级分布", "年度总结报告"):
        assert caption in squeezed
    assert f"服务{context['participants_total']}人次" in squeezed
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "annual.pdf")], capture_output=True, text=True
    )
    assert images.returncode == 0 and len(images.stdout.strip().splitlines()) - 2 >= 4
    assert Path(tmp_path / "annual.pdf").stat().st_size > 50_000
