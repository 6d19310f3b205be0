"""Charts for the reports (年度总结报告): PNG bytes drawn with matplotlib in a CJK font.

The font is registered by its file (``models.fonts``: GRANTFLOW_CJK_FONT, else Noto Sans CJK under
the usual font folders) with ``fontManager.addfont`` before anything is drawn, so a matplotlib font
cache written before the font was installed cannot turn the labels into boxes; no such file is a
``ConfigError`` with the fix, never a chart of boxes. matplotlib ≥ 3.11 reads every face of a .ttc
collection: of Noto's, "Noto Sans CJK SC" is used. The output is deterministic (no timestamp, no
software version in the PNG), so the same figures give the same document bytes. Wrap the bytes in
``models.documents.engine.docx.InlineImage`` to print them in a Word template.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from models.documents.engine.cn_format import percent

_COLOURS = ["#c0392b", "#2e86c1", "#27ae60", "#d68910", "#7d3c98", "#17a589"]
_LOCK = threading.Lock()  # pyplot's state is global


@cache
def registered_family(path: Path) -> str:
    """Register the font file with matplotlib (once per process) and return the family to draw in.

    Raises ``ConfigError`` when matplotlib, asked for that family, would not draw with this file."""
    from matplotlib import font_manager

    from models.errors import ConfigError, Problem
    from models.fonts import CJK_FAMILY, FIX

    manager = font_manager.fontManager
    manager.addfont(path)

    def families(file: Path) -> list[str]:
        return [entry.name for entry in manager.ttflist if Path(entry.fname) == file]

    names = families(path)
    family = CJK_FAMILY if CJK_FAMILY in names else names[0] if names else ""
    found = manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    if not family or family not in families(Path(found)):  # the same font, maybe another copy of it
        raise ConfigError(
            Problem(
                str(path),
                "font",
                f"无法用此字体文件绘图。{FIX}",
                "matplotlib cannot draw with this font file",
            )
        )
    return family


def cjk_family() -> str:
    """The family of the configured (or found) CJK font file, registered with matplotlib."""
    from models.fonts import cjk_font_file
    from models.settings import get_settings

    return registered_family(cjk_font_file(get_settings().cjk_font).resolve())


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [cjk_family()]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


DPI = 150  # on screen; pass dpi=300 for print


def _png(figure: Any, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def bar_chart(
    labels: Sequence[str], values: Sequence[float | int], *, title: str, unit: str = "", dpi: int = DPI
) -> bytes:
    """A bar chart with the value printed above each bar (e.g. 服务人次 by community)."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length / 标签与数值个数不一致")
    with _LOCK:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(6.4, 3.2))
        try:
            bars = axes.bar(list(labels), list(values), color=_COLOURS[1], width=0.6)
            axes.bar_label(bars, fmt="%g", fontsize=8)
            axes.set_title(title, fontsize=11)
            if unit:
                axes.set_ylabel(unit, fontsize=9)
            axes.tick_params(axis="x", labelsize=8)
            axes.tick_params(axis="y", labelsize=8)
            axes.spines[["top", "right"]].set_visible(False)
            axes.margins(y=0.15)
            figure.tight_layout()
            return _png(figure, dpi)
        finally:
            plt.close(figure)


def pie_chart(labels: Sequence[str], values: Sequence[float | int], *, title: str, dpi: int = DPI) -> bytes:
    """A pie chart with shares in whole percent, rounded half-up as every paper rounds them (e.g. money
    granted by service dimension); zeros are left out."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length / 标签与数值个数不一致")
    shown = [(label, value) for label, value in zip(labels, values, strict=True) if value > 0]
    labels, values = [label for label, _ in shown], [value for _, value in shown]
    with _LOCK:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(4.8, 3.2))
        try:
            if sum(values) > 0:
                exact = [Decimal(value) for value in values]
                total = sum(exact, Decimal(0))
                shares = iter([percent(value, total) for value in exact])  # as the papers round them
                axes.pie(
                    list(values),
                    labels=list(labels),
                    colors=_COLOURS[: len(values)],
                    autopct=lambda _: next(shares),
                    startangle=90,
                    counterclock=False,
                    textprops={"fontsize": 9},
                )
            else:
                axes.text(0.5, 0.5, "暂无数据", ha="center", va="center", fontsize=11)
                axes.set_axis_off()
            axes.set_title(title, fontsize=11)
            axes.axis("equal")
            figure.tight_layout()
            return _png(figure, dpi)
        finally:
            plt.close(figure)


def grouped_bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int]]],
    *,
    title: str,
    unit: str = "",
    dpi: int = DPI,
) -> bytes:
    """Bars side by side per label, one colour per series, with a legend (e.g. planned vs delivered)."""
    if not series or any(len(values) != len(labels) for _, values in series):
        raise ValueError("labels and values differ in length / 标签与数值个数不一致")
    with _LOCK:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(6.4, 3.2))
        try:
            width = 0.8 / len(series)
            positions = list(range(len(labels)))
            for i, (name, values) in enumerate(series):
                offset = (i - (len(series) - 1) / 2) * width
                bars = axes.bar(
                    [x + offset for x in positions],
                    list(values),
                    width=width,
                    label=name,
                    color=_COLOURS[i % len(_COLOURS)],
                )
                axes.bar_label(bars, fmt="%g", fontsize=7)
            axes.set_xticks(positions, list(labels))
            axes.set_title(title, fontsize=11)
            if unit:
                axes.set_ylabel(unit, fontsize=9)
            axes.tick_params(axis="x", labelsize=8)
            axes.tick_params(axis="y", labelsize=8)
            axes.spines[["top", "right"]].set_visible(False)
            axes.legend(fontsize=8, frameon=False)
            axes.margins(y=0.15)
            figure.tight_layout()
            return _png(figure, dpi)
        finally:
            plt.close(figure)
