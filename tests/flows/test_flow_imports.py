"""What a deployment's flow run pays before its flow starts: the worker's child imports the
entrypoint's module in a fresh process, so every library that module loads at the top is paid by
every run of every stage (bench/results/deploy.md). The heavy ones — openpyxl (and numpy, which it
loads), networkx, matplotlib, Pillow, python-docx — are imported by the function that needs them,
when it runs; importing a stage's flow module loads none of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE_DIR

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("openpyxl", "numpy", "networkx", "matplotlib", "PIL", "docx")

# In a fresh interpreter: each entrypoint module imported in turn, with the heavy libraries that
# import brought in; then the example applications' .xlsx read as intake reads it, which must bring
# openpyxl (the check sees a library when it is there).
PROBE = """
import json, sys
from pathlib import Path
heavy = {heavy!r}
seen = {{}}
for module in {modules!r}:
    before = {{name for name in heavy if name in sys.modules}}
    __import__(module)
    seen[module] = sorted(name for name in heavy if name in sys.modules and name not in before)
from models.intake.workbook import open_workbook
with open_workbook(Path({workbook!r})) as book:
    assert book.sheets and next(book.sheets[0].rows(max_row=10, max_column=50))
seen["<the workbook reader, used>"] = sorted(name for name in heavy if name in sys.modules)
print(json.dumps(seen))
"""


def deployment_modules() -> list[str]:
    """The module of every deployment's entrypoint in deployments/prefect.yaml, in its order."""
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    modules: list[str] = []
    for deployment in spec["deployments"]:
        path = deployment["entrypoint"].split(":", 1)[0]
        module = path.removesuffix(".py").replace("/", ".")
        if module not in modules:
            modules.append(module)
    return modules


def test_a_stage_flow_module_imports_no_heavy_library_until_a_function_needs_it():
    modules = deployment_modules()
    assert {"flows.lifecycle", "flows.review", "flows.evaluation", "flows.intake"} <= set(modules)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.format(heavy=HEAVY, modules=modules, workbook=str(EXAMPLE_DIR / "applications.xlsx")),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr
    seen = json.loads(answer.stdout.strip().splitlines()[-1])
    used = seen.pop("<the workbook reader, used>")
    assert {"openpyxl", "numpy"} <= set(used)
    assert {module: loaded for module, loaded in seen.items() if loaded} == {}
    assert list(seen) == modules
