"""The whole-year crash tests' machinery: run the demo year in processes of its own
(``tests/support/crash_year.py``), crash it at planned moments, continue it, and compare it with a
clean year — on SQLite or PostgreSQL.

- ``run_year`` starts one process of the year; ``plan_kills`` draws the moments from a clean year's
  census of fault points; ``crash_year`` kills the year's own process at each (SIGKILL) and
  continues it; ``outage_year`` instead stops a server there — the SMTP server (``SinkProcess``,
  SIGKILL) or the PostgreSQL server (``pg_ctl stop -m immediate``) — lets the step go on without
  it, brings the server back and continues.
- ``compare_years`` compares a crashed year with the clean one: every table as sorted rows without
  the columns in ``IGNORED`` (why each is left out is written beside it); the letters at the SMTP
  server (each once by Message-ID; by recipient + subject the same letters as the clean year);
  every document (opens, sha256 = its row, one row per path, no stray file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from docx import Document

from tasks.mail.sink import EmlSink, MailSink
from tests.cli.test_cli import run

ROOT = Path(__file__).resolve().parents[2]

# Columns left out of the comparison, and why: they differ between any two runs of the same year.
IGNORED = {
    # surrogate keys (and, by the suffix, the references to them): a killed transaction's rows are
    # rolled back and the re-run numbers its own
    "id",
    # per-run randomness: Message-IDs, the server's answer that names the Message-ID, the console
    # password's hash (salted)
    "message_id",
    "last_answer",
    "password_hash",
    # an interrupted send is a counted attempt: the letter struck in flight was tried once more
    "attempts",
}
IGNORED_SUFFIXES = ("_id", "_nonce")  # ids; the random part of every personal link's token
# Normalised in every cell, each a per-run value written into a text: a moment of the wall clock
# (the machine's "now", as in the signings the demo records without a date of its own); a signed
# personal link, and a nonce's first 8 characters in the key of a supervisor's letter (the links
# are random); a Message-ID and the server's answer that names it, in a letter's audit reason
# (a letter struck after the server's 250 is answered "already have it" on its re-send); the
# attempt's number in a claim's reason (see ``attempts``).
PER_RUN = [
    (re.compile(r"\b[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}\b"), "<signed link>"),
    (re.compile(r"\b(link|\dd-before)-[A-Za-z0-9_-]{8}$"), r"\1-<nonce>"),
    (re.compile(r"^250 2\.0\.0 OK: (stored as|already have) .*"), "250 <the server's answer>"),
    (re.compile(r"<?letter-\d+\.[0-9a-f]+@[A-Za-z0-9.-]+>?"), "<message-id>"),
    (re.compile(r"第 \d+ 次 / attempt \d+"), "第 n 次 / attempt n"),
    # ids written into texts (as the ``_id`` columns, left out): a document's folder (its
    # subject's id), a termination's or a rectification's 文号 subject, a 整改通知's file name (the
    # rectification's id after the 申报编号), an evidence file's id in an audit row or a report's
    # list — PostgreSQL's sequences do not give back the numbers of a transaction cut by a crash
    (re.compile(r"\b(termination|rectification)#\d+"), r"\1#<id>"),
    (re.compile(r"(整改通知-[^/\s\"]+)-\d+(\.docx)?\b"), r"\1-<id>\2"),
    # a document's folder (…/publicity-2/…), a letter's key (…:termination-3, …|role:checkpoint:25:…)
    (re.compile(r"(?<=[/:])([a-z_]+)-\d+\b"), r"\1-<id>"),
    (re.compile(r"(?<=[|:])([a-z_]+):\d+(?=:)"), r"\1:<id>"),
    (re.compile(r'"(\w*id)": \d+'), r'"\1": <id>'),
]
MOMENT = re.compile(r"\b(\d{4}-\d\d-\d\d)[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:\+00:00|Z)?")
RECOVERED = "interrupted send: re-queued"  # a crashed sender's letter, settled
DEFERRED = "稍后重试 / retry later"  # a letter the SMTP server was away for


@dataclass
class Year:
    out: Path
    smtp_port: int
    database_url: str | None = None  # None: the SQLite file in ``out``
    linger_seconds: float | None = None  # GRANTFLOW_SMTP_LINGER_SECONDS, when set
    kills: list[dict[str, object]] = field(default_factory=list)
    census: dict[int, dict[str, int]] = field(default_factory=dict)
    left_sending: int = 0

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.out / 'grantflow.db'}"

    def environ(self) -> dict[str, str]:
        """GRANTFLOW_* of the year's processes (the data folder is given on their command line)."""
        environ = {"GRANTFLOW_ENVIRONMENT": "test"}
        if self.database_url:
            environ["GRANTFLOW_DATABASE_URL"] = self.database_url
        if self.linger_seconds is not None:
            environ["GRANTFLOW_SMTP_LINGER_SECONDS"] = str(self.linger_seconds)
        return environ

    def scalar(self, query: str) -> Any:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(query)).scalar()
        finally:
            engine.dispose()


@dataclass
class Ran:
    """One process of the year: its exit code, what it printed, and what it said on stderr."""

    code: int
    lines: list[str]
    err: str

    def said(self, step: int) -> str | None:
        prefix = f"said {step} "
        return next((json.loads(t[len(prefix) :]) for t in self.lines if t.startswith(prefix)), None)

    @property
    def started(self) -> list[int]:
        return [int(text.split()[1]) for text in self.lines if text.startswith("step ")]


def run_year(
    year: Year,
    *,
    start: int = 0,
    kill_at: str | None = None,
    strike: list[str] | None = None,
    census: bool = False,
) -> Ran:
    """One process of the year, from step ``start``; the whole process group is killed after it."""
    command = [sys.executable, "-m", "tests.support.crash_year", "--out", str(year.out)]
    command += ["--smtp-port", str(year.smtp_port), "--from", str(start)]
    if kill_at:
        command += ["--kill-at", kill_at]
    if strike:
        command += ["--strike", json.dumps(strike)]
    if census:
        command.append("--census")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    environ.update(year.environ())
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=1800)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever the dead process had started
    ran = Ran(process.returncode, out.splitlines(), err)
    if kill_at is None:
        assert ran.code == 0 and ran.lines[-1] == "done", err[-3000:]
    elif strike is None:
        assert ran.code in (-signal.SIGKILL, 3), err[-3000:]
    return ran


def plan_kills(
    census: dict[int, dict[str, int]],
    kills: int,
    seed: int,
    *,
    done: tuple[int, ...] = (),
    points: tuple[str, ...] | None = None,
    include: tuple[int, ...] = (),
) -> list[tuple[int, str, int]]:
    """``kills`` kills over the steps that reach a fault point (of ``points``, when given): every
    such step before any twice, each step of ``include`` among them. Each step in ``done`` is
    killed after its last commit (its work all done, the step not ended)."""
    rng = random.Random(seed)

    def reached(step: int) -> dict[str, int]:
        return {p: n for p, n in census[step].items() if n and (points is None or p in points)}

    steps = sorted(step for step in census if reached(step) and step not in done + include)
    chosen = list(include) + rng.sample(steps, min(kills - len(done) - len(include), len(steps)))
    while len(chosen) < kills - len(done):
        chosen.append(rng.choice(steps))
    plan: list[tuple[int, str, int]] = []
    for step in sorted(chosen + list(done)):
        if step in done:
            plan.append((step, "after-commit", census[step]["after-commit"]))
            continue
        if plan and plan[-1][0] == step:
            # again in the step just interrupted: its re-run reaches fewer points than the census
            # counted (the work committed before the kill is found done), but always a commit
            plan.append((step, "before-commit", 1))
            continue
        point = rng.choice(sorted(reached(step)))
        plan.append((step, point, rng.randint(1, census[step][point])))
    return plan


def census_of(year: Year) -> None:
    """Run the clean year, counting the arrivals at every fault point, step by step."""
    for text in run_year(year, census=True).lines:
        if text.startswith("census "):
            _, step, counts = text.split(" ", 2)
            year.census[int(step)] = json.loads(counts)


def crash_year(year: Year, plan: list[tuple[int, str, int]]) -> None:
    """Kill the year at each planned moment, continuing from the interrupted step; then finish it."""
    start = 0
    for step, point, hit in plan:
        ran = run_year(year, start=start, kill_at=f"{step}:{point}:{hit}")
        landed = ran.lines[-1].startswith("fault ")
        year.kills.append({"step": step, "point": point, "hit": hit, "landed": landed, "at": ran.lines[-1]})
        print("kill", year.kills[-1], flush=True)
        assert ran.started[-1] == step
        start = step if landed else step + 1
    finish_year(year, start)


def finish_year(year: Year, start: int) -> None:
    """Run the year to its end from ``start``, then settle the letters a crash left in flight.

    A letter struck in flight stays ``sending`` under its lease (another sender may still hold it);
    after a crash the administrator settles such letters at once, as the README says. Letters that
    wait for a retry (the SMTP server was away) go when they are due: ``grantflow outbox send``
    then, as the stage's own line said."""
    run_year(year, start=start)
    year.left_sending = year.scalar("SELECT count(*) FROM outbox_letter WHERE state = 'sending'")
    takeover = ["--after-crash"]
    for _ in range(8):
        settle = run(
            ["outbox", "send", *takeover],
            year.out,
            timeout=600,
            GRANTFLOW_SMTP_HOST="127.0.0.1",
            GRANTFLOW_SMTP_PORT=str(year.smtp_port),
            **year.environ(),
        )
        assert settle.returncode == 0, settle.stdout + settle.stderr
        takeover = []
        due = year.scalar("SELECT max(next_attempt_at) FROM outbox_letter WHERE state = 'queued'")
        if due is None:
            return
        moment = due if isinstance(due, datetime) else datetime.fromisoformat(str(due))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        time.sleep(min(max((moment - datetime.now(UTC)).total_seconds(), 0) + 0.5, 300))
    raise AssertionError("letters still wait after eight sends")


# ---- servers the outage tests stop ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SinkProcess:
    """The loopback SMTP server (``python -m tasks.mail.sink``) in a process of its own, on one
    port for the whole year: SIGKILLed mid-stage, started again afterwards on the same port and
    folder (it keeps one .eml file per Message-ID, across its lives)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[str] | None = None
        self.lives = 0

    def start(self) -> SinkProcess:
        command = [sys.executable, "-m", "tasks.mail.sink", str(self.folder), "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert "SMTP sink on" in self.process.stdout.readline()  # listening
        self.lives += 1
        return self

    def kill_command(self) -> list[str]:
        assert self.process is not None
        return ["kill", "-KILL", str(self.process.pid)]

    def reap(self) -> None:
        """After the year's process killed it: gone, and the port free again."""
        assert self.process is not None
        assert self.process.wait(timeout=60) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)


@contextlib.contextmanager
def sink_process(folder: Path) -> Iterator[SinkProcess]:
    sink = SinkProcess(folder).start()
    try:
        yield sink
    finally:
        sink.stop()


def outage_year(
    year: Year,
    plan: list[tuple[int, str, int]],
    *,
    strike: Callable[[], list[str]],
    restore: Callable[[], None],
    expect: Callable[[Ran, int], bool],
) -> None:
    """Stop a server at each planned moment (``strike()``: the command that stops it, run by the
    year's process there); the step goes on without it and the process stops after the step.
    ``expect(ran, step)`` checks what the step said and returns whether it ended (True) or stopped
    and must run again (False); then ``restore()`` brings the server back and the year continues."""
    start = 0
    for step, point, hit in plan:
        ran = run_year(year, start=start, kill_at=f"{step}:{point}:{hit}", strike=strike())
        landed = "struck" in ran.lines
        assert "Traceback" not in ran.err, ran.err[-3000:]
        year.kills.append(
            {
                "step": step,
                "point": point,
                "hit": hit,
                "landed": landed,
                "code": ran.code,
                "said": ran.said(step),
            }
        )
        print("outage", year.kills[-1], flush=True)
        assert ran.started[-1] == step and landed, (ran.lines[-5:], ran.err[-3000:])
        ended = expect(ran, step)
        restore()
        start = step + 1 if ended else step
    finish_year(year, start)


# ---- the comparison -----------------------------------------------------------------------------


def normalised(value: object, today: set[str]) -> object:
    if isinstance(value, datetime | date):
        value = str(value)
    elif isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if not isinstance(value, str):
        return value
    value = MOMENT.sub(lambda m: "<now>" if m.group(1) in today else m.group(0), value)
    for pattern, replacement in PER_RUN:
        value = pattern.sub(replacement, value)
    return value


def table_rows(url: str, today: set[str]) -> dict[str, list[dict[str, object]]]:
    """Every table's rows (without the ignored columns, normalised), sorted. A letter's
    ``attachments`` (document ids) is compared as the paths of those documents: ids are surrogate
    keys, and PostgreSQL's sequences do not give back the numbers of a transaction cut by a crash."""
    found = {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            paths = {i: path for i, path in conn.execute(sa.text("SELECT id, path FROM generated_document"))}

            def cell(table: str, column: str, value: object) -> object:
                if (table, column) == ("outbox_letter", "attachments") and value is not None:
                    ids = value if isinstance(value, list) else json.loads(str(value))
                    value = [paths.get(i, f"<no document {i}>") for i in ids]
                return normalised(value, today)

            for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
                columns = [c["name"] for c in inspector.get_columns(table)]
                kept = [c for c in columns if c not in IGNORED and not c.endswith(IGNORED_SUFFIXES)]
                listed = ", ".join(f'"{c}"' for c in kept)
                rows = [
                    {c: cell(table, c, v) for c, v in zip(kept, row, strict=True)}
                    for row in conn.execute(sa.text(f'SELECT {listed} FROM "{table}"'))
                ]
                found[table] = sorted(rows, key=lambda row: repr(sorted(row.items())))
    finally:
        engine.dispose()
    return found


def without_retries(events: list[dict[str, object]]) -> tuple[list[dict[str, object]], int]:
    """The audit log less what the crashes and outages added to letters: each "interrupted send:
    re-queued" and each "retry later" (sending → queued), and the claim that followed it (queued →
    sending, like the first one)."""
    retried = [
        e
        for e in events
        if e["entity"] == "letter" and (RECOVERED in str(e["reason"]) or DEFERRED in str(e["reason"]))
    ]
    kept = [e for e in events if e not in retried]
    for _ in retried:
        claim = next(
            e
            for e in kept
            if e["entity"] == "letter" and (e["from_state"], e["to_state"]) == ("queued", "sending")
        )
        kept.remove(claim)
    return kept, len(retried)


def once_each_password(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """The audit log without the demo administrator's password changes (see ``compare_years``)."""
    return [e for e in events if (e["entity"], e["action"], e["actor"]) != ("user", "password", "admin:demo")]


def differences(expected: list[dict[str, object]], found: list[dict[str, object]]) -> dict[str, object]:
    """For the message of a failed comparison: row counts and the columns whose values differ."""
    columns = expected[0].keys() if expected else found[0].keys()
    return {
        "rows": (len(expected), len(found)),
        "columns": [
            c
            for c in columns
            if sorted(map(repr, (r[c] for r in expected))) != sorted(map(repr, (r.get(c) for r in found)))
        ],
        "only in the clean year": [r for r in expected if r not in found][:3],
        "only in the crashed year": [r for r in found if r not in expected][:3],
    }


def letters_at(folder: Path) -> tuple[Counter[tuple[str, str]], list[str]]:
    """The letters a sink folder holds: recipient + subject as a multiset, and their Message-IDs."""
    parser = BytesHeaderParser(policy=default_policy)
    found: Counter[tuple[str, str]] = Counter()
    ids = []
    for path in folder.glob("*.eml"):
        headers = parser.parsebytes(path.read_bytes())
        found[(str(headers["To"]), str(headers["Subject"]))] += 1
        ids.append(str(headers["Message-ID"]).strip())
    return found, ids


def documents_check(year: Year) -> dict[str, int]:
    """Every document row's file opens and has the row's sha256; one row per path; no stray file."""
    documents = year.out / "documents"
    engine = sa.create_engine(year.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT path, sha256 FROM generated_document")).all()
    finally:
        engine.dispose()
    paths = [path for path, _ in rows]
    assert len(paths) == len(set(paths))
    for path, digest in rows:
        data = (documents / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, path
        Document(documents / path)
    on_disk = {str(p.relative_to(documents)) for p in documents.rglob("*") if p.is_file()}
    assert on_disk == set(paths), sorted(on_disk ^ set(paths))[:10]
    return {"documents": len(rows)}


def compare_years(
    clean: Year, crashed: Year, clean_mail: Path, crash_mail: Path, began: datetime
) -> dict[str, Any]:
    """Assert the crashed year equals the clean one (tables, letters, documents); its figures."""
    today = {str(day) for day in (began.date(), datetime.now(UTC).date())}
    expected = table_rows(clean.url, today)
    found = table_rows(crashed.url, today)
    found["audit_event"], retried = without_retries(found["audit_event"])
    # the demo's console step gives its administrator a new password each run: a re-run after a
    # kill finds the account and changes its password, audited (an action of its own, which the
    # clean year, creating the account once, never takes)
    expected["audit_event"], found["audit_event"] = (
        once_each_password(expected["audit_event"]),
        once_each_password(found["audit_event"]),
    )
    differing = {t: differences(expected[t], found[t]) for t in expected if expected[t] != found.get(t)}
    assert differing == {}, (
        {t: (d["rows"], d["columns"]) for t, d in differing.items()},
        json.dumps(differing, ensure_ascii=False, default=str)[:6000],
    )
    # letters: once each at the server — by Message-ID (one file per ID, and each letter row's
    # Message-ID among them) and by recipient + subject, the same letters as the clean year
    clean_letters, _ = letters_at(clean_mail)
    crash_letters, sent_ids = letters_at(crash_mail)
    assert len(sent_ids) == len(set(sent_ids))
    doubled = sum((crash_letters - clean_letters).values())
    lost = sum((clean_letters - crash_letters).values())
    assert (doubled, lost) == (0, 0), (crash_letters - clean_letters, clean_letters - crash_letters)
    engine = sa.create_engine(crashed.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            ids = {mid for (mid,) in conn.execute(sa.text("SELECT message_id FROM outbox_letter"))}
    finally:
        engine.dispose()
    assert ids == set(sent_ids), sorted(ids ^ set(sent_ids))[:10]
    documents = documents_check(crashed)
    assert documents == documents_check(clean)
    landed = [k for k in crashed.kills if k["landed"]]
    return {
        "kills": len(landed),
        "planned": len(crashed.kills),
        "steps": sorted({int(k["step"]) for k in landed}),  # type: ignore[call-overload]
        "killable steps": len([s for s, c in clean.census.items() if sum(c.values())]),
        "points": dict(Counter(str(k["point"]) for k in landed)),
        "letters": sum(clean_letters.values()),
        "letters re-queued after a kill or sent again after an outage": retried,
        "left in sending at the year's end": crashed.left_sending,
        "doubled": doubled,
        "lost": lost,
        "tables": len(expected),
        "rows": sum(len(rows) for rows in expected.values()),
        **documents,
        "plan": crashed.kills,
    }


def kill_and_compare(
    tmp_path: Path, kills: int, seed: int, done: tuple[int, ...] = (), database: object = None
) -> dict[str, object]:
    """The clean year, then the year killed ``kills`` times; compared. ``database``: a
    PostgresServer to run both years on (a database each), or None for SQLite."""
    began = datetime.now(UTC)

    def url() -> str | None:
        return database.create_database() if database is not None else None  # type: ignore[attr-defined]

    with (
        MailSink(handler=EmlSink(tmp_path / "clean-mail")) as clean_sink,
        MailSink(handler=EmlSink(tmp_path / "crash-mail")) as crash_sink,
    ):
        clean = Year(tmp_path / "clean", clean_sink.port, url())
        census_of(clean)
        plan = plan_kills(clean.census, kills, seed, done=done)
        crashed = Year(tmp_path / "crashed", crash_sink.port, url())
        crash_year(crashed, plan)
        figures = compare_years(clean, crashed, clean_sink.handler.folder, crash_sink.handler.folder, began)
        # the sink kept a letter struck after its 250 once, and counted the second arrival
        figures["server saw twice"] = sum(1 for r in crash_sink.handler.receipts if r.duplicate)
        sent = [r.message_id for r in crash_sink.handler.receipts if not r.duplicate]
        assert len(sent) == len(set(sent))
    figures["census"] = clean.census
    return figures


def step_index(label: str) -> int:
    from cli.demo.command import STEPS

    return [name for name, _ in STEPS].index(label)


@contextlib.contextmanager
def prefect_server() -> Iterator[str]:
    """One Prefect server for every process of a test (each would otherwise start its own)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        previous = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            if previous is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = previous
