"""Run every benchmark module and write its figures to bench/results/."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _markdown(name: str, figures: dict) -> str:
    lines = [f"# {name}", "", f"measured {figures['measured_at']} on {figures['machine']}", ""]
    lines += ["| figure | value |", "| --- | --- |"]
    for key, value in figures.items():
        if key not in {"measured_at", "machine"}:
            lines.append(f"| {key} | {value} |")
    return "\n".join(lines) + "\n"


def main(selected: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if any(s in m for s in selected)]
    for name in modules:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        returned = module.main()
        if returned is None:  # the module wrote its own results (bench_year: tables per stage)
            continue
        figures = dict(returned)
        figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        figures["machine"] = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        short = name.removeprefix("bench_")
        (RESULTS / f"{short}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
        (RESULTS / f"{short}.md").write_text(_markdown(short, figures), encoding="utf-8")
        print(f"   written to bench/results/{short}.json", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
