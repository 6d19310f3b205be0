"""Crash anywhere in the whole year, on PostgreSQL: the same harness as ``test_demo_crash.py`` (our
process SIGKILLed at seeded fault points, each interrupted stage re-run, compared with a clean year
in every table, letter and document), with ``GRANTFLOW_DATABASE_URL`` pointing at a real PostgreSQL
server the tests started as a plain user — each year in a database of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.year_compare import kill_and_compare, prefect_server

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    with prefect_server() as url:
        yield url


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_year_on_postgresql_killed_three_times_then_continued_equals_a_clean_year(
    tmp_path, prefect_api, postgres
):
    figures = kill_and_compare(tmp_path, kills=3, seed=15, database=postgres)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == 3


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_soak_the_year_on_postgresql_killed_thirty_times_then_continued_equals_a_clean_year(
    tmp_path, prefect_api, postgres
):
    figures = kill_and_compare(tmp_path, kills=30, seed=2026, database=postgres)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] >= 30
