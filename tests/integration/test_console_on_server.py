"""The console's stage buttons through their Prefect deployments: ``grantflow up`` (Prefect server,
work pool, ``prefect deploy``, a process worker, the portal), an administrator added as ``grantflow
admin add`` adds one, signed in over HTTP to the portal ``up`` started. She uploads the applications
before the call is out (refused on the worker: one sentence on the page), publishes the call (two
clicks at once: one run), then uploads them again (the ``uploads`` parameter travels to the worker).
Each run's page links to its run on the Prefect server and shows progress while it works; the
database, the documents and the letters equal those of the same presses on a portal that runs the
flows in its own process (no server). Every process it started is stopped, also when it fails.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlmodel import Session, col, func, select

from models.db import dispose_engines, get_engine
from models.mail.outbox import OutboxLetter
from models.tables import TABLES
from tests.integration.test_prefect_server import free_port, grantflow
from tests.portal.admin.console_world import csrf_of
from tests.support.factories import example_config_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "jiangtou-2025"
SLUG = "jiangtou-2025"
PASSWORD = "lin-correct-horse-1"
STATE = re.compile(r'id="run-status" data-state="([a-z]+)"')
PREFECT_LINK = re.compile(r'<a href="([^"]+)" id="prefect-link"')

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def two_years_on() -> str:
    """The example's configuration with every date two years later: its call may open today."""
    return example_config_text().replace("2025-", "2027-").replace("2024-", "2026-")


def applications_two_years_on() -> bytes:
    """The example's applications.xlsx with every date two years later (project periods inside
    the shifted configuration's)."""
    book = openpyxl.load_workbook(EXAMPLE / "applications.xlsx")
    for row in book.active.iter_rows(min_row=2):
        for cell in row:
            if hasattr(cell.value, "year") and cell.value.year >= 2024:
                cell.value = cell.value.replace(year=cell.value.year + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def environment(folder: Path, portal_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTFLOW_"))}
    env.update(
        {
            "GRANTFLOW_ENVIRONMENT": "development",
            "GRANTFLOW_DATA_DIR": str(folder / "data"),
            "GRANTFLOW_PORTAL_URL": f"http://127.0.0.1:{portal_port}",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def prepare(folder: Path, env: dict[str, str]) -> None:
    """The competition stored and the administrator added, as the CLI does both."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "competition.yaml"
    config.write_text(two_years_on(), encoding="utf-8")
    created = grantflow("competition", "create", str(config), env=env)
    assert created.returncode == 0, created.stdout + created.stderr
    added = subprocess.run(
        [sys.executable, "-m", "cli.main", "admin", "add", "lin", "--role", "管理员", "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert added.returncode == 0, added.stdout + added.stderr


def wait_for_portal(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process is None or process.poll() is None, "the portal exited"
        try:
            if httpx.get(f"{url}/admin/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the portal at {url} did not answer")


@dataclass
class Seen:
    """What the run's page showed while the test followed it."""

    states: list[str] = field(default_factory=list)
    working: bool = False  # the progress line and htmx polling, while it ran
    prefect_link: str = ""
    page: str = ""


class Console:
    """The administrator's browser on one portal."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        form = self.http.get("/admin/login")
        signed = self.http.post(
            "/admin/login",
            data={"csrf_token": csrf_of(form.text), "name": "lin", "password": PASSWORD, "next": "/admin"},
        )
        assert signed.status_code == 303, signed.text

    def press(self, step: str) -> str:
        """The stage's confirmation page, then its button; the run page's address."""
        page = self.http.get(f"/admin/c/{SLUG}/steps/{step}")
        assert page.status_code == 200 and 'id="run-button"' in page.text, page.text[-2000:]
        answer = self.http.post(f"/admin/c/{SLUG}/steps/{step}", data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 303, answer.text[-2000:]
        return answer.headers["location"].partition("?")[0]

    def upload(self, name: str, data: bytes) -> str:
        form = self.http.get(f"/admin/c/{SLUG}/intake")
        answer = self.http.post(
            f"/admin/c/{SLUG}/intake",
            data={"csrf_token": csrf_of(form.text)},
            files=[("files", (name, data, "application/octet-stream"))],
        )
        assert answer.status_code == 303, answer.text[-2000:]
        return answer.headers["location"].partition("?")[0]

    def follow(self, run_page: str) -> Seen:
        seen = Seen()
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            page = self.http.get(run_page)
            assert page.status_code == 200
            state = STATE.search(page.text)
            assert state, page.text[-2000:]
            seen.states.append(state.group(1))
            link = PREFECT_LINK.search(page.text)
            if link:
                seen.prefect_link = link.group(1)
            if state.group(1) in ("queued", "running"):
                seen.working |= 'id="working"' in page.text and 'hx-trigger="every 1s"' in page.text
            else:
                seen.page = page.text
                return seen
            time.sleep(0.2)
        raise AssertionError(f"{run_page} did not end")


def refusal_of(page: str) -> str:
    """The refusal's sentence on a 409 page (Chinese; its English beside it)."""
    found = re.search(r'<p class="message">(.*?)</p>', page, re.S)
    assert found, page[-2000:]
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip()


def intake_table(page: str) -> list[str]:
    """Each file's counts and every refused row's place and problem, as the run's page shows them."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m)).strip()
        for m in re.findall(r'<h2 class="intake-file".*?</h2>|<tr class="problem".*?</tr>', page, re.S)
    ]


def the_year_so_far(console: Console, applications: bytes) -> tuple[str, dict[str, Seen]]:
    """The presses of both sides: screening too early (refused), the call (two clicks at once), the
    applications uploaded. Returns the refusal's sentence and what each run's page showed."""
    page = console.http.get(f"/admin/c/{SLUG}/steps/screening")
    refused = console.http.post(f"/admin/c/{SLUG}/steps/screening", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409, refused.text[-2000:]
    second = Console(console.url)
    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(lambda c: c.press("publish_call"), [console, second]))
    assert pages[0] == pages[1], "two clicks started two runs"
    seen = {"call": console.follow(pages[0])}
    seen["intake"] = console.follow(console.upload("applications.xlsx", applications))
    return refused.text, seen


def record(folder: Path, url: str) -> dict[str, object]:
    """Rows per table, the documents written and the letters queued, of one side."""
    engine = get_engine(url)
    try:
        with Session(engine) as session:
            counts = {
                table.__tablename__: session.exec(select(func.count()).select_from(table)).one()  # type: ignore[attr-defined]
                for table in TABLES
            }
            letters = sorted(
                (letter.recipient_email, letter.subject, letter.state.value)
                for letter in session.exec(select(OutboxLetter).order_by(col(OutboxLetter.id)))
            )
    finally:
        dispose_engines()
    documents = sorted(
        str(p.relative_to(folder / "data" / "documents"))
        for p in (folder / "data" / "documents").rglob("*.docx")
    )
    return {"counts": counts, "letters": letters, "documents": documents}


@pytest.fixture()
def on_server(tmp_path: Path) -> Iterator[tuple[Console, dict[str, str]]]:
    folder = tmp_path / "server"
    port, portal_port = free_port(), free_port()
    env = environment(folder, portal_port)
    try:
        started = grantflow("up", "--port", str(port), "--portal-port", str(portal_port), env=env)
        assert started.returncode == 0, started.stdout + started.stderr
        env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        prepare(folder, env)
        wait_for_portal(f"http://127.0.0.1:{portal_port}")
        yield Console(f"http://127.0.0.1:{portal_port}"), env
    finally:
        stopped = grantflow("down", env=env, timeout=120)
        leftovers = subprocess.run(["pgrep", "-f", str(folder / "data")], capture_output=True, text=True)
        for pid in leftovers.stdout.split():  # never leave a process of this test behind
            subprocess.run(["kill", "-9", pid], check=False)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


@pytest.fixture()
def in_process(tmp_path: Path) -> Iterator[Console]:
    """The same presses on a portal with no Prefect server: the flows run in its own process."""
    folder = tmp_path / "here"
    portal_port = free_port()
    env = environment(folder, portal_port)
    prepare(folder, env)
    portal = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "portal", "--port", str(portal_port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_portal(f"http://127.0.0.1:{portal_port}", portal)
        yield Console(f"http://127.0.0.1:{portal_port}")
    finally:
        portal.terminate()
        portal.wait(timeout=60)


def test_console_stages_run_through_their_deployments_like_in_process(
    on_server: tuple[Console, dict[str, str]], in_process: Console, tmp_path: Path
) -> None:
    console, env = on_server
    applications = applications_two_years_on()
    refused, seen = the_year_so_far(console, applications)

    # a stage out of order: one Chinese sentence, no traceback, no run on the server
    sentence = refusal_of(refused)
    assert re.search(r"[\u4e00-\u9fff]", sentence) and "Traceback" not in refused, sentence
    api = env["PREFECT_API_URL"]
    screenings = httpx.post(
        f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["screening"]}}}, timeout=30
    ).json()
    assert screenings == []

    for key, deployment in (("call", "call"), ("intake", "intake")):
        run = seen[key]
        assert run.working, f"{key}: no progress shown while it ran ({run.states})"
        assert run.states[-1] == "done", (run.states, run.page[-1500:])
        assert run.prefect_link.startswith(api.removesuffix("/api") + "/runs/flow-run/"), run.prefect_link
        flow_run = httpx.get(f"{api}/flow_runs/{run.prefect_link.rsplit('/', 1)[1]}", timeout=30).json()
        made_by = httpx.get(f"{api}/deployments/{flow_run['deployment_id']}", timeout=30).json()
        assert made_by["name"] == deployment
        assert flow_run["state_type"] == "COMPLETED", flow_run["state"]
    calls = httpx.post(f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["call"]}}}, timeout=30)
    assert len(calls.json()) == 1, "two clicks ran the call twice"
    assert 'class="intake-file"' in seen["intake"].page, "the intake's result was not read back"
    assert "Traceback" not in seen["intake"].page

    # the same presses, the flows run in the portal's own process
    refused_here, here = the_year_so_far(in_process, applications)
    assert [s.states[-1] for s in here.values()] == ["done", "done"]
    assert refusal_of(refused_here) == sentence
    assert not here["call"].prefect_link and not here["intake"].prefect_link
    assert intake_table(here["intake"].page) == intake_table(seen["intake"].page)
    server_side = record(tmp_path / "server", f"sqlite:///{tmp_path / 'server' / 'data' / 'grantflow.db'}")
    local_side = record(tmp_path / "here", f"sqlite:///{tmp_path / 'here' / 'data' / 'grantflow.db'}")
    assert server_side == local_side
    assert server_side["letters"] and server_side["documents"]
