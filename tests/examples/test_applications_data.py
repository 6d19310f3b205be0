"""The example's sample applications are data (examples/jiangtou-2025/applications.yaml), read by a
small typed loader (cli/demo/example/applications.py) that names the file, the entry and the field
of any mistake."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_DIR


@pytest.fixture(scope="module")
def loader():
    return importlib.import_module("cli.demo.example.applications")


def edited(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((EXAMPLE_DIR / "applications.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "applications.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_data_file_holds_every_sample(loader):
    assert (len(loader.APPLICATIONS), len(loader.CSV_APPLICATIONS), len(loader.FORM_APPLICATIONS)) == (
        24,
        3,
        4,
    )
    first = loader.APPLICATIONS[0]
    assert first.title == "银龄共膳——吕岭敬老餐厅助餐陪伴计划" and first.phone == "13859201001"
    assert first.amount == 800 * 2 + 60 * 30 + 500 * 4 + 600 * 1 and first.self_funded == 1000
    assert all(sample.team for sample in loader.FORM_APPLICATIONS)
    titles = {sample.title for sample in loader.APPLICATIONS}
    assert set(loader.EXPECTED_INELIGIBLE) <= titles


def test_a_number_where_text_belongs_names_file_entry_and_field(loader, tmp_path):
    path = edited(tmp_path, lambda data: data["applications"][1].update(phone=5523301))
    with pytest.raises(loader.SampleError) as refused:
        loader.load_samples(path)
    message = str(refused.value)
    assert str(path) in message and "applications[1] 长者饭桌——园山敬老餐厅营养膳食计划.phone" in message
    assert "5523301" in message


def test_a_budget_row_of_the_wrong_shape_is_refused(loader, tmp_path):
    path = edited(tmp_path, lambda data: data["csv_applications"][0]["budget"].append(["保险", "意外险", 20]))
    with pytest.raises(loader.SampleError, match=r"csv_applications\[0\] .*\.budget\.3"):
        loader.load_samples(path)


def test_a_wrong_credit_code_check_character_is_refused(loader, tmp_path):
    path = edited(tmp_path, lambda data: data["applications"][0].update(registration="52350206MJ0112301X"))
    with pytest.raises(loader.SampleError, match=r"52350206MJ0112301X.*check character"):
        loader.load_samples(path)


def test_an_unknown_field_or_a_missing_section_is_refused(loader, tmp_path):
    path = edited(tmp_path, lambda data: data["form_applications"][2].update(budjet=[]))
    with pytest.raises(loader.SampleError, match=r"form_applications\[2\].*unknown field\(s\) \['budjet'\]"):
        loader.load_samples(path)
    path = edited(tmp_path, lambda data: data.pop("csv_applications"))
    with pytest.raises(loader.SampleError, match="'csv_applications' is missing"):
        loader.load_samples(path)
