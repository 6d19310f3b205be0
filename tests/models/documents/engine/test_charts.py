"""Charts draw their Chinese labels in the CJK font registered by its file, on any machine: with no
"Glyph … missing" warning, and also when matplotlib's font cache was written before the CJK fonts
were installed (the failure `make demo` then `make test` met: the cache came first, every label a box).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from models.documents.engine.charts import bar_chart, cjk_family, grouped_bar_chart, pie_chart
from models.fonts import find_cjk_font
from models.settings import PROJECT_ROOT

LABELS = ["江头", "吕厝", "吕岭", "园山", "金尚", "江村", "蔡塘", "后埔", "祥店", "江华", "忠仑"]


def _draw_every_chart() -> list[bytes]:
    return [
        bar_chart(LABELS, list(range(11)), title="各社区立项资助金额", unit="元"),
        pie_chart(["一老", "一小", "公益服务"], [3, 2, 1], title="资助金额按服务领域构成"),
        grouped_bar_chart(
            ["一老", "一小"], [("计划服务人次", [10, 20]), ("实际服务人次", [12, 18])], title="服务人次"
        ),
    ]


def test_every_chart_draws_its_chinese_labels_without_a_missing_glyph():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts = _draw_every_chart()
    assert [str(w.message) for w in caught] == []  # "Glyph 27743 … missing from font(s) DejaVu Sans"
    assert all(png.startswith(b"\x89PNG") for png in charts)
    from matplotlib import font_manager

    drawn_with = font_manager.findfont(font_manager.FontProperties(family=cjk_family()))
    found = find_cjk_font()
    assert found is not None and Path(drawn_with).name == found.name


# A cache as on a machine where matplotlib ran before the CJK fonts were installed: the same
# fontlist file matplotlib writes, built from the system's fonts without the CJK ones.
STALE_CACHE = textwrap.dedent(
    """
    from pathlib import Path
    import matplotlib
    from matplotlib import font_manager

    system_fonts = font_manager.findSystemFonts
    font_manager.findSystemFonts = lambda *a, **k: [f for f in system_fonts(*a, **k) if "CJK" not in f]
    stale = font_manager.FontManager()
    name = f"fontlist-v{font_manager.FontManager.__version__}.json"
    font_manager.json_dump(stale, Path(matplotlib.get_cachedir()) / name)
    """
)
PLAIN_MATPLOTLIB = textwrap.dedent(
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "DejaVu Sans"]
    figure, axes = plt.subplots()
    axes.set_title("结项评估")
    figure.savefig(__import__("io").BytesIO(), format="png")
    """
)
OUR_CHARTS = textwrap.dedent(
    """
    from tests.models.documents.engine.test_charts import _draw_every_chart
    _draw_every_chart()
    """
)


def _python(code: str, config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MPLCONFIGDIR": str(config), **env}
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_charts_draw_chinese_with_a_font_cache_written_before_the_fonts(tmp_path: Path):
    config = tmp_path / "matplotlib"
    assert _python(STALE_CACHE, config).returncode == 0
    # the failure, reproduced: matplotlib left to its cache draws boxes
    plain = _python(PLAIN_MATPLOTLIB, config)
    assert plain.returncode != 0 and "Glyph" in plain.stderr and "missing from font" in plain.stderr
    # the fix: our charts register the font file, the same stale cache notwithstanding
    ours = _python(OUR_CHARTS, config)
    assert ours.returncode == 0, ours.stderr
    assert "Glyph" not in ours.stderr


def test_charts_refuse_with_the_fix_when_the_font_file_is_missing(tmp_path: Path):
    drawn = _python(OUR_CHARTS, tmp_path / "matplotlib", GRANTFLOW_CJK_FONT=str(tmp_path / "none.ttc"))
    assert drawn.returncode != 0
    assert "ConfigError" in drawn.stderr and "make fonts" in drawn.stderr


@pytest.mark.parametrize("chart", [0, 1, 2])
def test_charts_are_deterministic(chart: int):
    assert _draw_every_chart()[chart] == _draw_every_chart()[chart]
