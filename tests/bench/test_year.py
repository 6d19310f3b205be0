"""The year's benchmark runs, and its counts agree with what the generator wrote (no timings)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from bench.year.generator import generate
from bench.year.runner import STAGES, run_year


def test_generator_rows_match_plan(tmp_path: Path) -> None:
    plan = generate(tmp_path, 200, seed=7)
    book = openpyxl.load_workbook(tmp_path / "applications.xlsx", read_only=True)
    rows = [row for row in book.worksheets[0].iter_rows(min_row=2, values_only=True) if any(row)]
    assert len(rows) == plan.rows == 200
    assert plan.invalid > 0 and plan.duplicates > 0 and plan.ineligible > 0
    assert plan.eligible == 200 - plan.invalid - plan.duplicates - plan.ineligible
    assert generate(tmp_path / "again", 200, seed=7).titles == plan.titles  # seeded


@pytest.mark.slow
def test_year_runner_counts_whole_year(tmp_path: Path, settings_env: Path, prefect_harness: None) -> None:
    stages, year = run_year(tmp_path / "year", 30, progress=lambda _: None)
    plan, counts = year.plan, year.counts
    assert [s.name for s in stages] == [name for name, _ in STAGES]
    assert counts["accepted"] == plan.accepted and counts["refused"] == plan.invalid
    assert counts["eligible"] == plan.eligible
    assert counts["ineligible"] == plan.duplicates + plan.ineligible
    assert counts["sheets"] == 3 * plan.eligible
    assert 0 < counts["grants"] == counts["funded"] == counts["midterm"] == counts["evaluated"]
    assert counts["rechecks"] == counts["failed_records"]
    sent = sum(s.letters for s in stages)
    assert sent > 0 and counts["letters_delivered"] == sent
    by_name = {s.name: s for s in stages}
    assert by_name["intake"].documents >= plan.accepted  # a receipt each
    assert by_name["final evaluation"].documents >= counts["grants"]
