"""A stage through its deployment on ``grantflow up``: where the time goes from a flow run's
creation to its end, beside the flow's own work (issue 21, target: ≤ 3 s over the work).

    .venv/bin/python -m bench.bench_deploy          (also part of ``make bench``)

For each setting of the worker (``before``: Prefect's default query interval of 10 s, as ``up``
started it until this bench; ``after``: ``up``'s 1 s) a fresh data folder gets the example
competition and ``grantflow up --no-portal``; then runs of ``deliver-letters`` (almost no work) and
``call`` (the call's documents and letters) are created through the API one after another, each
waited for, and split by the server's own record:

    pickup        created → Pending          the worker's polling delay
    process       Pending → first pull log   the worker starts ``python -m prefect.engine``
                                             (Python, ``import prefect``, the run and deployment read)
    pull steps    first → last pull log      deployments/prefect.yaml's pull steps
    flow load     pull done → Running        the entrypoint's module imported (flows.*, models.*)
    bookkeeping   Running → Completed minus the work: Prefect's state and task-run records
    work          first task run's start → last task run's end: the flow's own work

The module import costs are measured beside (``python -X importtime`` in a fresh process), and
in CPU seconds (``import_cpu``: the process's own rusage, robust where wall times vary 4–10× with
the machine's load). Then the
two-worker figure: four runs of two competitions created at once (each competition's call and its
export), with one process worker and with two. Timings are figures, never test assertions.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_cli import _free_port, _grantflow

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EXAMPLE = ROOT / "examples" / "jiangtou-2025" / "competition.yaml"
CALL_AT = "2025-01-06T09:00:00+08:00"
SECOND_SLUG = "jiangtou-2025-b"
RUNS_EACH = 3
PULL_START = "deployment pull step(s)"
PULL_DONE = "All deployment steps completed"
COMPONENTS = ("pickup", "process", "pull_steps", "flow_load", "bookkeeping", "overhead", "work", "total")


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTFLOW_"))}
    env.update(
        {
            "GRANTFLOW_ENVIRONMENT": "development",
            "GRANTFLOW_DATA_DIR": str(data_dir),
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def _when(text: str | None) -> float:
    assert text is not None
    return datetime.fromisoformat(text).timestamp()


class Server:
    """``grantflow up --no-portal`` on a fresh data folder with the example competition (and a
    second one, ``SECOND_SLUG``), stopped by ``close``."""

    def __init__(self, folder: Path, **extra: str) -> None:
        self.env = _env(folder, **extra)
        self.folder = folder
        _grantflow(["competition", "create", str(EXAMPLE)], self.env)
        second = folder / "second.yaml"
        second.write_text(
            EXAMPLE.read_text(encoding="utf-8").replace("slug: jiangtou-2025", f"slug: {SECOND_SLUG}", 1),
            encoding="utf-8",
        )
        _grantflow(["competition", "create", str(second)], self.env)
        port = _free_port()
        self.api = f"http://127.0.0.1:{port}/api"
        _grantflow(["up", "--port", str(port), "--no-portal"], self.env)
        self.http = httpx.Client(base_url=self.api, timeout=30)
        self.extra_workers: list[subprocess.Popen[bytes]] = []
        self.wait_for_workers(1)  # a run's pickup is measured from a polling worker, not one starting

    def add_worker(self) -> None:
        """A second process worker on the pool, as a worker machine would start one."""
        from cli.up import worker_command, worker_environment

        env = {**self.env, "PREFECT_API_URL": self.api, "GRANTFLOW_HOME": str(ROOT), **worker_environment()}
        env["PREFECT_HOME"] = str(Path(env["GRANTFLOW_DATA_DIR"]) / "prefect")
        self.extra_workers.append(
            subprocess.Popen(
                worker_command(),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        self.wait_for_workers(1 + len(self.extra_workers))

    def wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            workers = self.call("POST", "/work_pools/grantflow/workers/filter", json={})
            if sum(1 for w in workers if w.get("status") == "ONLINE") >= count:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{count} worker(s) did not report to the server")

    def close(self) -> None:
        for process in self.extra_workers:
            process.terminate()
            process.wait(timeout=60)
        self.http.close()
        _grantflow(["down"], self.env)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API request; a 503 (Prefect's SQLite busy under the worker's writes) is asked again."""
        for _ in range(20):
            answer = self.http.request(method, path, **kwargs)
            if answer.status_code != 503:
                answer.raise_for_status()
                return answer.json()
            time.sleep(0.5)
        answer.raise_for_status()
        return None

    def create(self, deployment: str, parameters: dict[str, Any]) -> str:
        found = self.call("GET", f"/deployments/name/{deployment}")
        made = self.call(
            "POST", f"/deployments/{found['id']}/create_flow_run", json={"parameters": parameters}
        )
        return str(made["id"])

    def wait(self, run_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run: dict[str, Any] = self.call("GET", f"/flow_runs/{run_id}")
            if run["state_type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                return run
            time.sleep(0.2)
        raise RuntimeError(f"flow run {run_id} did not end in {timeout} s")

    def _work(self, run_id: str) -> float:
        """First task run's start → last task run's end. Task runs reach the server as events, a
        moment after the flow run's end: asked again until each has its times (30 s at most)."""
        deadline = time.monotonic() + 30
        while True:
            tasks = self.call(
                "POST", "/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [run_id]}}}
            )
            timed = [t for t in tasks if t["start_time"] and t["end_time"]]
            if len(timed) == len(tasks) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not timed:
            return 0.0
        return max(_when(t["end_time"]) for t in timed) - min(_when(t["start_time"]) for t in timed)

    def split(self, run: dict[str, Any]) -> dict[str, float]:
        """The run's time from creation to end, by component (seconds; see the module's doc)."""
        if run["state_type"] != "COMPLETED":
            raise RuntimeError(f"flow run {run['name']} ended {run['state_type']}: {run['state']}")
        states = self.call("GET", "/flow_run_states/", params={"flow_run_id": run["id"]})
        at = {s["name"]: _when(s["timestamp"]) for s in states}
        logs = self.call(
            "POST",
            "/logs/filter",
            json={"logs": {"flow_run_id": {"any_": [run["id"]]}}, "sort": "TIMESTAMP_ASC"},
        )
        pull_start = min(_when(x["timestamp"]) for x in logs if PULL_START in x["message"])
        pull_done = min(_when(x["timestamp"]) for x in logs if PULL_DONE in x["message"])
        work = self._work(run["id"])
        created, end = _when(run["created"]), _when(run["end_time"])
        figures = {
            "pickup": at["Pending"] - created,
            "process": pull_start - at["Pending"],
            "pull_steps": pull_done - pull_start,
            "flow_load": at["Running"] - pull_done,
            "bookkeeping": (end - at["Running"]) - work,
            "work": work,
            "total": end - created,
        }
        figures["overhead"] = figures["total"] - work
        return figures


def _stage_runs(server: Server) -> dict[str, dict[str, float]]:
    """The mean of ``RUNS_EACH`` runs of each deployment, one after another (and each run's split)."""
    plans = {
        "deliver-letters": ("deliver-letters/deliver-letters", lambda i: {}),
        "call": (
            "call/call",
            lambda i: {"slug": "jiangtou-2025" if i == 0 else SECOND_SLUG, "as_of": CALL_AT},
        ),
    }
    out = {}
    for name, (deployment, parameters) in plans.items():
        splits = []
        for i in range(RUNS_EACH):
            # the call publishes once per competition; its re-runs find it published (the documents
            # and letters exist: a re-run's work is the check) — the first two runs are the real work
            splits.append(server.split(server.wait(server.create(deployment, parameters(i)))))
        # the mean, so that the components add up to the total
        out[name] = {c: round(statistics.fmean(s[c] for s in splits), 2) for c in COMPONENTS}
        out[name]["runs"] = RUNS_EACH
        out[name]["each"] = [{c: round(s[c], 2) for c in COMPONENTS} for s in splits]
    return out


def _batch(server: Server) -> dict[str, float]:
    """Four runs of two competitions created at once: makespan and each run's wait."""
    batch = [
        ("export-year/export-year", {"slug": "jiangtou-2025", "path": str(server.folder / "a.xlsx")}),
        ("export-year/export-year", {"slug": SECOND_SLUG, "path": str(server.folder / "b.xlsx")}),
        ("deliver-letters/deliver-letters", {"competition_slug": "jiangtou-2025"}),
        ("deliver-letters/deliver-letters", {"competition_slug": SECOND_SLUG}),
    ]
    started = time.time()
    ids = [server.create(d, p) for d, p in batch]
    runs = [server.wait(i) for i in ids]
    splits = [server.split(r) for r in runs]
    return {
        "makespan_s": round(max(_when(r["end_time"]) for r in runs) - started, 2),
        "sum_of_work_s": round(sum(s["work"] for s in splits), 2),
        "longest_wait_for_start_s": round(max(s["pickup"] for s in splits), 2),
    }


def _import_seconds(statement: str) -> float:
    """A fresh Python's time for ``statement`` (median of 3), as the worker's child pays it."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", statement], cwd=ROOT, env=_env(Path(tempfile.gettempdir())), check=True
        )
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 2)


def _heaviest_imports(module: str, count: int = 8) -> list[tuple[str, float]]:
    """The top-level packages that cost most (self time) importing ``module`` after Prefect's engine."""
    answer = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            f"import prefect.engine, prefect.flow_engine; import {module}",
        ],
        cwd=ROOT,
        env=_env(Path(tempfile.gettempdir())),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in answer.stderr.splitlines() if line.startswith("import time:")]
    rows = []
    for line in lines[1:]:
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((name, int(self_us)))
    last_engine = max(i for i, (name, _) in enumerate(rows) if name == "prefect.flow_engine")
    totals: dict[str, int] = {}
    for name, self_us in rows[last_engine + 1 :]:
        top = name.split(".")[0]
        totals[top] = totals.get(top, 0) + self_us
    return [(k, round(v / 1e6, 2)) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:count]]


# The entrypoint modules measured apart: the two stages timed above, the hourly lifecycle (it imports
# every stage flow), and the stages whose modules loaded openpyxl, numpy or networkx at the top.
CPU_MODULES = (
    "flows.deliver",
    "flows.call",
    "flows.lifecycle",
    "flows.review",
    "flows.evaluation",
    "flows.funding",
)
HEAVY = ("openpyxl", "numpy", "networkx", "matplotlib", "PIL", "docx")
CPU_PROBE = """
import resource, sys, time
def cpu():
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime
engine = cpu()
import prefect.engine, prefect.flow_engine
flow = cpu()
{statement}
done = cpu()
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print(engine, flow - engine, done - flow, " ".join(heavy) or "-")
"""


def _import_cpu(module: str | None, repeats: int = 3) -> dict[str, Any]:
    """CPU seconds (user + system, the process's own rusage: robust on a loaded machine, unlike
    wall time) of a fresh ``python`` importing Prefect's engine, then ``module``, as the worker's
    child does — the median of ``repeats`` — and the heavy libraries it then holds."""
    runs = []
    for _ in range(repeats):
        answer = subprocess.run(
            [
                sys.executable,
                "-c",
                CPU_PROBE.format(statement=f"import {module}" if module else "", heavy=HEAVY),
            ],
            cwd=ROOT,
            env=_env(Path(tempfile.gettempdir())),
            capture_output=True,
            text=True,
            check=True,
        )
        start, engine, flow, heavy = answer.stdout.split(maxsplit=3)
        runs.append((float(start), float(engine), float(flow), heavy.strip()))
    return {
        "interpreter_cpu_s": round(statistics.median(r[0] for r in runs), 3),
        "prefect_engine_cpu_s": round(statistics.median(r[1] for r in runs), 3),
        "module_cpu_s": round(statistics.median(r[2] for r in runs), 3),
        "heavy_loaded": runs[0][3],
    }


def import_cpu() -> dict[str, Any]:
    """``_import_cpu`` of each of ``CPU_MODULES``, and of Prefect's engine alone."""
    figures = {"(prefect.engine alone)": _import_cpu(None)}
    for module in CPU_MODULES:
        figures[module] = _import_cpu(module)
    return figures


def measure() -> dict[str, Any]:
    figures: dict[str, Any] = {"settings": {}}
    settings = {"before": {"PREFECT_WORKER_QUERY_SECONDS": "10"}, "after": {}}
    for label, extra in settings.items():
        with tempfile.TemporaryDirectory(prefix=f"grantflow-bench-deploy-{label}-") as tmp:
            server = Server(Path(tmp) / "data", **extra)
            try:
                figures["settings"][label] = _stage_runs(server)
                figures["settings"][label]["load_average"] = round(os.getloadavg()[0], 1)
                print(label, json.dumps(figures["settings"][label]), flush=True)
                if label == "after":
                    figures["one_worker"] = _batch(server)
                    server.add_worker()
                    figures["two_workers"] = _batch(server)
                    print("workers", figures["one_worker"], figures["two_workers"], flush=True)
            finally:
                server.close()
    figures["imports"] = {
        "python + import prefect.engine (s)": _import_seconds("import prefect.engine"),
        "… + flows.call (s)": _import_seconds("import prefect.engine, flows.call"),
        "heaviest after the engine (flows.call, self s)": _heaviest_imports("flows.call"),
    }
    figures["import_cpu"] = import_cpu()
    return figures


def markdown(figures: dict[str, Any], command: str) -> str:
    lines = [
        "# A stage through its deployment",
        "",
        f"`{command}` · {datetime.now().astimezone().isoformat(timespec='seconds')} · "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (shared machine)",
        "",
        "From the flow run's creation to its end, by component (seconds, mean of "
        f"{RUNS_EACH} runs; the server's own record: states, logs, task runs). Target: overhead ≤ 3 s.",
        "",
        "| component | "
        + " | ".join(f"{d} {label}" for d in ("deliver-letters", "call") for label in ("before", "after"))
        + " |",
        "| --- |" + " ---: |" * 4,
    ]
    for component in COMPONENTS:
        cells = [
            f"{figures['settings'][label][d][component]:.2f}"
            for d in ("deliver-letters", "call")
            for label in ("before", "after")
        ]
        lines.append(f"| {component} | " + " | ".join(cells) + " |")
    lines.append(
        "| load average (1 min) | "
        + " | ".join(
            f"{figures['settings'][label]['load_average']}" for _ in range(2) for label in ("before", "after")
        )
        + " |"
    )
    lines += ["", "Imports in a fresh process (what the worker's child pays before the flow runs):", ""]
    for key, value in figures["imports"].items():
        lines.append(f"- {key}: {value}")
    lines += [
        "",
        "CPU seconds of a fresh process (user + system, median of 3): the interpreter's start, "
        "`import prefect.engine`, then the entrypoint's module; the heavy libraries it then holds:",
        "",
        "| module | interpreter | prefect.engine | the module | heavy libraries loaded |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for module, cpu in figures["import_cpu"].items():
        lines.append(
            f"| {module} | {cpu['interpreter_cpu_s']:.2f} | {cpu['prefect_engine_cpu_s']:.2f} | "
            f"{cpu['module_cpu_s']:.2f} | {cpu['heavy_loaded']} |"
        )
    lines += [
        "",
        "Two competitions' runs created at once (export-year and deliver-letters of each), `after` settings:",
        "",
        "| workers | makespan (s) | sum of the runs' work (s) | "
        "longest wait to start: the deployment's queue, then a worker (s) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key in (("1", "one_worker"), ("2", "two_workers")):
        batch = figures[key]
        lines.append(
            f"| {label} | {batch['makespan_s']} | {batch['sum_of_work_s']} | "
            f"{batch['longest_wait_for_start_s']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    figures = measure()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "deploy.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / "deploy.md").write_text(markdown(figures, "python -m bench deploy"), encoding="utf-8")
    print(re.sub(r"\n{3,}", "\n\n", markdown(figures, "python -m bench deploy")))


if __name__ == "__main__":
    main()
