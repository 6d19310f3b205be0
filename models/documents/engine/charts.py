"""Charts for the reports (年度总结报告): PNG bytes drawn with matplotlib in a CJK font.

matplotlib ≥ 3.11 reads every face of the Noto CJK .ttc collections, so "Noto Sans CJK SC" comes
first in the family list. The output is deterministic (no timestamp, no software version in the
PNG), so the same figures give the same document bytes. Wrap the bytes in
``models.documents.engine.docx.InlineImage``
to print them in a Word template.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "AR PL UKai CN", "DejaVu Sans"]
_COLOURS = ["#c0392b", "#2e86c1", "#27ae60", "#d68910", "#7d3c98", "#17a589"]
_LOCK = threading.Lock()  # pyplot's state is global


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = CJK_FONTS
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
    """A pie chart with shares in percent (e.g. money granted by service dimension); zeros are left out."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length / 标签与数值个数不一致")
    shown = [(label, value) for label, value in zip(labels, values, strict=True) if value > 0]
    labels, values = [label for label, _ in shown], [value for _, value in shown]
    with _LOCK:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(4.8, 3.2))
        try:
            if sum(values) > 0:
                axes.pie(
                    list(values),
                    labels=list(labels),
                    colors=_COLOURS[: len(values)],
                    autopct="%1.1f%%",
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
