"""Every document role, rendered with its samples, converts to PDF in LibreOffice (headless) with its
Chinese text and a sane number of pages.

The templates name the fonts of Chinese official documents (仿宋_GB2312, 方正小标宋简体, 黑体,
楷体_GB2312), which Linux machines do not have. A fontconfig file written into a temporary HOME maps
them to the CJK fonts Debian installs (fonts-noto-cjk, fonts-arphic-ukai) for this soffice run only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from models.documents.registry import DOCUMENTS, render_document

pytestmark = pytest.mark.slow

FONT_ALIASES = {
    "仿宋_GB2312": "Noto Serif CJK SC",
    "方正小标宋简体": "Noto Serif CJK SC",
    "宋体": "Noto Serif CJK SC",
    "黑体": "Noto Sans CJK SC",
    "楷体_GB2312": "AR PL UKai CN",
}
ROLES = [role.name for role in DOCUMENTS]
# what each document's first page says, when it is not the role's title
HEADLINES = {"funding_publicity": "拟资助项目的公示", "score_summary": "评分汇总表（排名表）"}


def _fontconfig(home: Path) -> None:
    aliases = "".join(
        f'  <alias binding="same"><family>{name}</family><prefer><family>{font}</family></prefer></alias>\n'
        for name, font in FONT_ALIASES.items()
    )
    folder = home / ".config" / "fontconfig"
    folder.mkdir(parents=True)
    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig>\n{aliases}</fontconfig>\n",
        encoding="utf-8",
    )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run `make sysdeps` (libreoffice-writer-nogui, poppler-utils)")
    return path


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One PDF per role, converted by a single soffice run."""
    work = tmp_path_factory.mktemp("libreoffice")
    home, documents, output = work / "home", work / "docx", work / "pdf"
    documents.mkdir()
    _fontconfig(home)
    for role in DOCUMENTS:
        (documents / f"{role.name}.docx").write_bytes(render_document(role.name, dict(role.keys)))
    environment = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    subprocess.run(
        [
            _tool("soffice"),
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(output),
            *sorted(str(p) for p in documents.iterdir()),
        ],
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {name: output / f"{name}.pdf" for name in ROLES}


def _pages(pdf: Path) -> int:
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("name", ROLES)
def test_role_converts_to_pdf_with_its_chinese_text(pdfs: dict[str, Path], name: str) -> None:
    role = DOCUMENTS.get(name)
    pdf = pdfs[name]
    assert pdf.is_file(), f"LibreOffice did not convert {name}.docx"
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    compact = "".join(text.split())
    assert HEADLINES.get(name, role.title) in compact
    assert "".join(role.keys["competition_name"].split()) in compact
    assert "—1—" in compact  # the page number
    assert 1 <= _pages(pdf) <= 8


def test_pdf_uses_the_aliased_cjk_fonts(pdfs: dict[str, Path]) -> None:
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdfs["call_notice"])], check=True, capture_output=True, text=True
    ).stdout
    assert "NotoSerifCJK" in fonts  # 仿宋 and 小标宋
    assert "NotoSansCJK" in fonts  # 黑体
