"""The year's benchmark: N generated applications through the whole year (``bench.year``).

    .venv/bin/python -m bench.bench_year 100 1000 [10000] [--postgres]

writes bench/results/year.md and year.json — per stage and N the wall time, peak RSS, documents
and letters made (and per second), the database's size after it and Prefect's share of the busy
samples, with the load average before and after each N (the machine is shared). ``--postgres``
runs the same year on a throw-away PostgreSQL server started as the tests start one
(tests/support/postgres.py) and writes year-postgres.md / .json. ``python -m bench year`` runs
N = 100 and 1,000.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.year.runner import run_year

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (100, 1000)


def measure(n: int, database_url: str | None = None) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix=f"grantflow-year-{n}-"))
    load_before = os.getloadavg()
    try:
        started = time.perf_counter()
        stages, year = run_year(out, n, database_url=database_url)
        total = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "n": n,
        "total_seconds": round(total, 1),
        "load_average": [round(x, 1) for x in (*load_before, *os.getloadavg())],
        "stages": [s.as_dict() for s in stages],
        "counts": year.counts,
        "plan": {
            "rows": year.plan.rows,
            "invalid": year.plan.invalid,
            "duplicates": year.plan.duplicates,
            "ineligible": year.plan.ineligible,
            "experts": year.plan.experts,
            "supervisors": year.plan.supervisors,
        },
    }


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f}" if count and seconds else "—"


def markdown(runs: list[dict[str, Any]], command: str, database: str = "SQLite") -> str:
    lines = [
        "# The year's benchmark",
        "",
        f"`{command}` — measured {datetime.now(UTC).isoformat(timespec='seconds')} on "
        f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
        f"{database}.",
        "",
    ]
    for run in runs:
        load = run.get("load_average")
        lines += [
            f"## N = {run['n']:,}: {run['total_seconds']} s end to end",
            "",
            f"counts: {run['counts']}; plan: {run['plan']}",
            "",
            *([f"load average (1, 5, 15 min) before: {load[:3]}, after: {load[3:]}", ""] if load else []),
            "| stage | wall s | CPU s | peak RSS MB | documents | docs/s | letters | letters/s | DB MB "
            "| Prefect share |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for s in run["stages"]:
            share = "—" if s["prefect_share"] is None else f"{s['prefect_share']:.0%}"
            lines.append(
                f"| {s['name']} | {s['seconds']} | {s.get('cpu_seconds', '—')} | {s['peak_rss_mb']} | "
                f"{s['documents']} | "
                f"{_rate(s['documents'], s['seconds'])} | {s['letters']} | "
                f"{_rate(s['letters'], s['seconds'])} | "
                f"{s['db_mb']} | {share} |"
            )
        lines.append("")
    if len(runs) >= 2:
        small, large = runs[-2], runs[-1]
        factor = large["n"] / small["n"]
        lines += [
            f"## Growth N = {small['n']:,} → {large['n']:,} (×{factor:g})",
            "",
            "| stage | ratio of wall time | ratio of CPU time |",
            "| --- | ---: | ---: |",
        ]
        for a, b in zip(small["stages"], large["stages"], strict=True):
            ratio = b["seconds"] / a["seconds"] if a["seconds"] else 0
            cpu = b.get("cpu_seconds", 0) / a["cpu_seconds"] if a.get("cpu_seconds") else 0
            lines.append(f"| {a['name']} | {ratio:.1f} | {cpu:.1f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(sizes: tuple[int, ...] = DEFAULT_SIZES, *, postgres: bool = False) -> None:
    server = None
    if postgres:  # a throw-away server as a plain user, as the tests start one
        from tests.support.postgres import PostgresServer

        server = PostgresServer.start()
    runs = []
    try:
        for n in sizes:
            print(f"== year, N = {n}" + (" (PostgreSQL)" if server else ""), flush=True)
            runs.append(measure(n, server.create_database() if server else None))
    finally:
        if server is not None:
            server.stop()
    command = ".venv/bin/python -m bench.bench_year " + " ".join(
        [str(n) for n in sizes] + (["--postgres"] if postgres else [])
    )
    name = "year-postgres" if postgres else "year"
    database = "PostgreSQL (tests/support/postgres.py: fsync off)" if postgres else "SQLite WAL"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(runs, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(runs, command, database), encoding="utf-8")
    print(f"   written to bench/results/{name}.md", flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(
        tuple(int(a) for a in arguments if a != "--postgres") or DEFAULT_SIZES,
        postgres="--postgres" in arguments,
    )
