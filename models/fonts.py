"""The CJK font the charts draw Chinese in, found by its file — never through a font cache.

matplotlib keeps its own list of the machine's fonts in a cache (``~/.cache/matplotlib``, or
``MPLCONFIGDIR``), written the first time it runs: a font installed later is not in it, and every
Chinese label then draws as a box, silently. So the charts register the font file found here with
matplotlib (``models/documents/engine/charts.py``), and ``grantflow doctor`` says ✗ with the fix
when there is none.

The file: ``GRANTFLOW_CJK_FONT`` when set; else the first of ``CJK_FILES`` under ``FONT_FOLDERS``
(Debian's ``fonts-noto-cjk``, which ``make fonts`` installs, puts
``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc`` there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from models.errors import ConfigError, Problem

CJK_FAMILY = "Noto Sans CJK SC"  # the face of a collection the charts use, when it has it
# file names in order of preference: Noto Sans CJK (Debian, Fedora, Arch, Google's release) or
# Source Han Sans, whole collections first, then the Simplified Chinese subsets
CJK_FILES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "SourceHanSans-Regular.ttc",
    "SourceHanSansSC-Regular.otf",
)
FONT_FOLDERS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
FIX = (
    "安装中文字体：make fonts（即 sudo apt-get install fonts-noto-cjk），或设置 GRANTFLOW_CJK_FONT 为"
    "字体文件路径 / install a CJK font: `make fonts` (sudo apt-get install fonts-noto-cjk), or set "
    "GRANTFLOW_CJK_FONT to a font file"
)


def find_cjk_font(configured: Path | None = None, folders: Sequence[Path] = FONT_FOLDERS) -> Path | None:
    """The CJK font file to draw with: ``configured`` if given (even when missing: the caller says so),
    else the first of ``CJK_FILES`` found under ``folders``; None when there is none."""
    if configured is not None:
        return configured
    for name in CJK_FILES:
        for folder in folders:
            found = _first(folder.rglob(name)) if folder.is_dir() else None
            if found is not None:
                return found
    return None


def _first(paths: Iterable[Path]) -> Path | None:
    return min((p for p in paths if p.is_file()), default=None)


def cjk_font_file(configured: Path | None = None, folders: Sequence[Path] = FONT_FOLDERS) -> Path:
    """The CJK font file, or ``ConfigError`` naming what is missing and the fix."""
    found = find_cjk_font(configured, folders)
    if found is None:
        raise ConfigError(
            Problem(
                "",
                "font",
                f"找不到中文字体文件，图表中的汉字会显示为方框。{FIX}",
                "no CJK font file: Chinese labels in charts would be boxes",
            )
        )
    if not found.is_file():
        raise ConfigError(
            Problem(
                "GRANTFLOW_CJK_FONT", "font", f"字体文件不存在：{found}。{FIX}", f"no such font file: {found}"
            )
        )
    return found
