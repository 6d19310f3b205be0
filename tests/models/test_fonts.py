"""The CJK font is found by its file (models/fonts.py): on this machine, in a folder holding it, from
GRANTFLOW_CJK_FONT; and its absence is a ✗ with the fix in ``grantflow doctor``, never a chart of
boxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import ConfigError
from models.fonts import CJK_FILES, cjk_font_file, find_cjk_font
from models.health import check_cjk_font
from models.settings import Settings


def test_the_noto_cjk_file_is_found_on_this_machine():
    found = find_cjk_font()
    assert found is not None and found.is_file() and found.name in CJK_FILES
    check = check_cjk_font(Settings())
    assert check.ok and check.detail == str(found)


def test_a_font_file_is_found_in_any_folder_below_a_font_folder(tmp_path: Path):
    real = find_cjk_font()
    assert real is not None
    nested = tmp_path / "opentype" / "noto"
    nested.mkdir(parents=True)
    (nested / real.name).symlink_to(real)
    assert find_cjk_font(folders=[tmp_path / "empty", tmp_path]) == nested / real.name


def test_the_configured_file_comes_first(tmp_path: Path):
    chosen = tmp_path / "mine.otf"
    assert find_cjk_font(chosen) == chosen  # named even when missing: the caller says so


def test_no_font_is_a_failed_check_and_an_error_with_the_fix(tmp_path: Path):
    check = check_cjk_font(Settings(), folders=[tmp_path])
    assert not check.ok and "方框" in check.detail
    assert "make fonts" in check.fix and "fonts-noto-cjk" in check.fix and "GRANTFLOW_CJK_FONT" in check.fix
    with pytest.raises(ConfigError, match="make fonts"):
        cjk_font_file(folders=[tmp_path])


def test_a_configured_file_that_is_missing_is_named(tmp_path: Path):
    missing = tmp_path / "NotoSansCJK-Regular.ttc"
    check = check_cjk_font(Settings(cjk_font=missing))
    assert not check.ok and str(missing) in check.detail and "make fonts" in check.fix
    with pytest.raises(ConfigError, match="字体文件不存在"):
        cjk_font_file(missing)
