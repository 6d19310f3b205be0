"""What each stage of the year costs: wall time, peak RSS, and where the time went.

``Meter`` runs one sampling thread for the whole run. Every ``INTERVAL`` it reads the process's
resident set (/proc/self/status) and looks at every other thread's stack: a thread waiting (a lock,
a selector, a queue, a sleep) is idle; otherwise the innermost frame that is either Prefect's
(``/prefect/``) or ours (a file of this repository outside .venv) decides whose work it is — our
code calling SQLAlchemy or python-docx is ours, Prefect calling its own database is Prefect's.
The Prefect share of a stage is its Prefect samples over its busy samples.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 0.01
_OURS = tuple(str(ROOT / part) + os.sep for part in ("models", "tasks", "flows", "portal", "cli", "bench"))
_IDLE_NAMES = {"wait", "select", "poll", "sleep", "acquire", "get", "_worker", "accept", "recv", "read"}
_STDLIB = os.path.dirname(os.__file__)


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _whose(frame: FrameType | None) -> str:
    """'idle', 'prefect', 'ours' or 'other' for one thread's stack."""
    if frame is None:
        return "idle"
    if frame.f_code.co_name in _IDLE_NAMES and frame.f_code.co_filename.startswith(_STDLIB):
        return "idle"
    while frame is not None:
        name = frame.f_code.co_filename
        if "/prefect/" in name:
            return "prefect"
        if name.startswith(_OURS):
            return "ours"
        frame = frame.f_back
    return "other"


@dataclass
class StageFigures:
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: what the stage cost whatever the machine's load
    peak_rss: int = 0
    samples: Counter[str] = field(default_factory=Counter)


class Meter:
    """Samples RSS and stacks while running; ``stage(name)`` starts a stage's figures."""

    def __init__(self) -> None:
        self.current = StageFigures()
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-meter", daemon=True)

    def __enter__(self) -> Meter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def start_stage(self) -> StageFigures:
        self.current = StageFigures(peak_rss=_rss_bytes())
        return self.current

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(INTERVAL):
            figures = self.current
            rss = _rss_bytes()
            figures.peak_rss = max(figures.peak_rss, rss)
            self.peak_rss = max(self.peak_rss, rss)
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    figures.samples[_whose(frame)] += 1


def timed(meter: Meter, work: object) -> tuple[object, StageFigures]:
    """Run ``work()`` as one stage."""
    figures = meter.start_stage()
    started, cpu = time.perf_counter(), time.process_time()
    result = work()  # type: ignore[operator]
    figures.seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu
    return result, figures
