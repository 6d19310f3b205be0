"""Crash anywhere in the whole year: the demo year killed with SIGKILL at seeded moments in its
stages, each interrupted stage re-run, then compared with a clean run of the same year — on SQLite
(the demo's default) and on PostgreSQL (a server of the test's own, ``GRANTFLOW_DATABASE_URL``).

A clean run first counts, step by step, the arrivals at every fault point (``models/faults.py``:
a document on disk before its commit, a transaction before and after its commit, a letter claimed,
accepted by the server, marked sent). The kills are then drawn from those counts with a seeded
random generator — a step, a point that step reaches, an arrival there — so every kill lands in
the window it names, whatever the machine's load. After each kill the process group is killed
(nothing of the dead process lives on) and the year continues from the interrupted step, which
runs again whole (``tests/support/crash_year.py``).

Afterwards the crashed year must equal the clean one (``tests/support/year_compare.py``): every
table, every letter once at the SMTP server, every document sound; no stage half-done (the
competition's stage and every object's state are in the tables compared).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.year_compare import kill_and_compare, prefect_server, step_index


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    with prefect_server() as url:
        yield url


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 4 to 7 minutes on 2 shared cores; a loaded machine needs room
def test_the_year_killed_three_times_then_continued_equals_a_clean_year(tmp_path, prefect_api):
    # after the last commit of setup (its re-run is refused: "exists already") and of the
    # re-checks (the termination that follows must find the failed re-check in the database, not
    # in what the re-run re-checks reported), and once at a seeded moment
    done = (step_index("筹备 / setup"), step_index("整改复查 / re-checks"))
    figures = kill_and_compare(tmp_path, kills=3, seed=22, done=done)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] == 3 and set(done) <= set(figures["steps"])  # type: ignore[arg-type]


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_soak_the_year_killed_thirty_times_then_continued_equals_a_clean_year(tmp_path, prefect_api):
    figures = kill_and_compare(tmp_path, kills=30, seed=2025)
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["kills"] >= 30
