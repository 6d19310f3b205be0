"""The import rules of the house, read from the source with ``ast`` (nothing is imported).

Between the top-level packages, a package imports only those below it:
``cli`` → ``portal`` → ``flows`` → ``tasks`` → ``models``.

Inside ``models`` (see its ``__init__``): the kernel (the modules at the top of ``models/``) imports
no room; the documents engine imports only the kernel; ``competition`` only the kernel;
``documents`` and ``mail`` the kernel, the engine and ``competition``; a stage imports the kernel,
the engine, documents, mail, competition, and an *earlier* stage only through a module that stage
lists in its ``__public__``; ``accounts`` (the console's users) imports only the kernel and only the
roof imports it; the roof (``tables``, ``setup``, ``timeline``, and the console's readings
``overview``, ``roster``, ``dossier``, ``mailroom``, ``archive``, ``panels``) imports anything.

Inside ``portal``: the kernel (the modules at the top of ``portal/`` and ``portal/words/``) imports
no room; a room (``review``, ``supervision``, ``apply``, ``admin`` — one per audience) imports the
kernel, and another room only through a module that room lists in its ``__public__``; ``portal.app``
(which mounts the rooms) imports anything.

Every import counts, also one inside a function; one inside ``if TYPE_CHECKING:`` too. No module
takes part in an import circle. The checks are proved able to fail on an import planted in a copy
of the real tree.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "portal", "flows", "tasks", "models")  # each may import only those after it
STAGES = ("competition", "call", "intake", "screening", "review", "funding", "supervision", "evaluation")
SHARED = ("documents", "mail")
ACCOUNTS = "accounts"  # the console's users: the kernel only, imported only from above
# every table; whole competitions; the next step; the console's readings across every stage
ROOF = {
    "models.tables",
    "models.setup",
    "models.timeline",
    "models.overview",
    "models.roster",
    "models.dossier",
    "models.mailroom",
    "models.archive",
    "models.panels",
    "models.steps",  # the console's steps: runs, and what each step will write (previews)
    "models.steps.runs",
    "models.steps.preview",
}
# the one edge from the kernel upwards, with its reason: a session must know every table (foreign
# keys are resolved across rooms at flush time), so the database module registers them all
KERNEL_EXCEPTIONS = {("models.db", "models.tables")}
PORTAL_ROOMS = ("review", "supervision", "apply", "admin")  # one per audience
# portal.app mounts the rooms
PORTAL_ROOF = {"portal.app"}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module
    where: str  # file:line


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files(root: Path) -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def edges(root: Path) -> list[Edge]:
    """Every import of one of our packages, with where it stands."""
    known = {module_name(path, root) for path in source_files(root)}
    found: list[Edge] = []
    for path in source_files(root):
        source = module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from models.review import tables`` imports the module models.review.tables
                subs = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [sub for sub in subs if sub in known] or [node.module]
            for target in targets:
                if target.split(".")[0] in PACKAGES:
                    found.append(Edge(source, target, f"{path.relative_to(root)}:{node.lineno}"))
    return found


def room(module: str) -> str:
    """kernel | roof | engine | a room's name | the top-level package for non-models modules."""
    parts = module.split(".")
    if parts[0] != "models":
        return parts[0]
    if module in ROOF:
        return "roof"
    if len(parts) == 1 or (len(parts) == 2 and not (ROOT / "models" / parts[1]).is_dir()):
        return "kernel"
    if parts[1] == "documents" and len(parts) > 2 and parts[2] == "engine":
        return "engine"
    return parts[1]


def portal_room(module: str) -> str:
    """roof | kernel | the portal room's name."""
    parts = module.split(".")
    if module in PORTAL_ROOF:
        return "roof"
    if len(parts) > 1 and parts[1] in PORTAL_ROOMS:
        return parts[1]
    return "kernel"


def public_modules(root: Path, name: str, package: str = "models") -> set[str]:
    """What a room lists in ``__public__`` (read from its ``__init__.py``)."""
    init = root / package / name / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__public__" for t in node.targets
        ):
            return {f"{package}.{name}.{item}" for item in ast.literal_eval(node.value)}
    return set()


def broken_portal_rule(source: str, target: str, root: Path) -> str | None:
    here, there = portal_room(source), portal_room(target)
    if here == there or here == "roof" or there == "kernel":
        return None
    if here == "kernel":
        return "the portal's kernel imports no room"
    if there == "roof":
        return "only the portal's roof (portal.app) is above the rooms"
    public = public_modules(root, there, "portal")
    if target in public:
        return None
    return f"{target} is not in portal room {there}'s __public__ ({sorted(public)})"


def broken_rule(edge: Edge, root: Path) -> str | None:
    """Why ``edge`` breaks a rule, or None."""
    source, target = edge.source, edge.target
    top_source, top_target = source.split(".")[0], target.split(".")[0]
    if top_source != top_target:
        if PACKAGES.index(top_target) <= PACKAGES.index(top_source):
            return f"{top_source} may not import {top_target} (order: {' → '.join(PACKAGES)})"
        return None
    if top_source == "portal":
        return broken_portal_rule(source, target, root)
    if top_source != "models":
        return None
    here, there = room(source), room(target)
    if here == there or here == "roof":
        return None
    if here == "kernel":
        if there == "kernel" or (source, target) in KERNEL_EXCEPTIONS:
            return None
        return "the kernel imports no room"
    if there == "kernel":
        return None
    if ACCOUNTS in (here, there):
        return "accounts imports only the kernel, and only the roof imports accounts"
    if here == "engine":
        return "the documents engine imports only the kernel"
    if there == "roof":
        return "only entry points import the roof (tables, setup, timeline)"
    if here == "competition":
        return "competition imports only the kernel"
    if there == "engine":
        return None
    if here in SHARED:
        return None if there == "competition" else f"{here} imports only the kernel, engine and competition"
    # here is a stage
    if there in SHARED:
        return None
    if there in STAGES and STAGES.index(there) < STAGES.index(here):
        if target in public_modules(root, there):
            return None
        return f"{target} is not in {there}'s __public__ ({sorted(public_modules(root, there))})"
    return f"stage {here} may not import the later stage {there}"


def violations(root: Path) -> list[str]:
    return [
        f"{edge.where}: {edge.source} → {edge.target}: {reason}"
        for edge in edges(root)
        if (reason := broken_rule(edge, root))
    ]


def circles(root: Path) -> list[list[str]]:
    graph = nx.DiGraph()
    known = {module_name(path, root) for path in source_files(root)}
    for edge in edges(root):
        if edge.target in known and edge.source != edge.target:
            graph.add_edge(edge.source, edge.target)
    return [sorted(cycle) for cycle in nx.simple_cycles(graph)]


# ---- the real tree ---------------------------------------------------------------------------------


def test_import_rules_hold_in_the_source() -> None:
    assert violations(ROOT) == []


def test_no_import_circle_in_the_source() -> None:
    assert circles(ROOT) == []


@pytest.mark.parametrize(
    ("package", "names"),
    [
        ("models", (*STAGES, *SHARED, ACCOUNTS)),
        ("portal", tuple(r for r in PORTAL_ROOMS if (ROOT / "portal" / r).is_dir())),
    ],
)
def test_every_room_says_what_it_owns_and_exports(package: str, names: tuple[str, ...]) -> None:
    for name in names:
        init = ROOT / package / name / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree) or ""
        assert len(docstring) > 80, f"{init} needs a paragraph saying what it owns and may import"
        assert public_modules(ROOT, name, package), f"{init} lists no __public__ modules"
        for module in public_modules(ROOT, name, package):
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), f"{init}: {module} does not exist"


# ---- the checks can fail ---------------------------------------------------------------------------


@pytest.fixture()
def tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def plant(root: Path, relative: str, line: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {line}\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("relative", "line", "reason"),
    [
        ("models/intake/imports.py", "from models.review.tables import Expert", "later stage review"),
        ("models/review/results.py", "from models.intake.validation import validate_row", "__public__"),
        ("models/lifecycle.py", "from models.mail.outbox import queue_letter", "kernel imports no room"),
        ("models/documents/engine/docx.py", "from models.competition.tables import Competition", "engine"),
        ("models/mail/letters.py", "from models.review.tables import Expert", "mail imports only"),
        ("models/funding/grants.py", "from models.accounts.users import find_user", "accounts"),
        ("models/accounts/users.py", "from models.intake.tables import Application", "accounts"),
        ("tasks/review.py", "from flows.review import close_review", "tasks may not import flows"),
        ("models/money.py", "import tasks.documents", "models may not import tasks"),
        ("portal/app.py", "from cli.console import console", "portal may not import cli"),
        ("portal/csrf.py", "from portal.review.sheet import show_sheet", "kernel imports no room"),
        ("portal/apply/requests.py", "from portal.review.blind import Identity", "__public__"),
    ],
)
def test_a_planted_upward_import_is_caught(tree_copy: Path, relative: str, line: str, reason: str) -> None:
    assert violations(tree_copy) == []
    plant(tree_copy, relative, line)
    found = violations(tree_copy)
    assert len(found) == 1, found
    assert relative in found[0] and reason in found[0]


def test_a_planted_circle_is_caught(tree_copy: Path) -> None:
    plant(tree_copy, "models/review/tables.py", "import models.review.results")
    found = circles(tree_copy)
    assert any("models.review.results" in cycle and "models.review.tables" in cycle for cycle in found)
