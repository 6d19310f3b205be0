"""申报一览 at scale: the console's list of 10,000 applications against 30, on SQLite.

A competition from the bundled example gets N synthetic applications (each with its organisation,
a review result for four in five, a grant for one in five) inserted in bulk; then the views the
console asks for are timed — the first page, sorted by rank descending, filtered by standing and a
text search, a page deep in the list, the count a 首页 figure links to — and the whole view as
Excel. Each figure is the median of repeated runs, in milliseconds, with the queries one page
makes (two: the count and the page; never one per row).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from models.competition.tables import Competition, competition_config
from models.db import dispose_engines, get_engine, session_scope, upgrade_database
from models.funding.tables import Grant
from models.intake.tables import Application, Organisation
from models.review.tables import ReviewResult
from models.roster import RosterQuery, count_applications, roster_page, write_roster_xlsx
from models.settings import EXAMPLES_DIR
from models.setup import create_competition
from models.states import ApplicationState, GrantState
from models.types import utcnow

STATES = [
    ApplicationState.eligible,
    ApplicationState.scored,
    ApplicationState.not_funded,
    ApplicationState.ineligible,
]
COMMUNITIES = ["江头", "吕厝", "吕岭", "园山", "金尚", "江村", "蔡塘", "后埔", "祥店", "江华", "忠仑"]
VIEWS: dict[str, dict[str, str]] = {
    "first_page": {},
    "by_rank_desc": {"sort": "rank", "dir": "desc"},
    "eligible_search": {"standing": "eligible", "q": "社区"},
    "funded_by_granted": {"standing": "funded", "sort": "granted", "dir": "desc"},
    "page_150": {"page": "150"},
}


def fill_roster(engine: sa.Engine, count: int) -> int:
    """A competition with ``count`` applications; returns its id."""
    text = (EXAMPLES_DIR / "jiangtou-2025" / "competition.yaml").read_text(encoding="utf-8")
    with session_scope(engine) as session:
        competition = create_competition(session, text=text, source="bench", actor="bench")
        competition_id = competition.id or 0
    rng = random.Random(2025)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Organisation.__table__),  # type: ignore[attr-defined]
            [
                {
                    "name": f"厦门市湖里区第{i}社会工作服务中心",
                    "kind": "registered",
                    "registration_number": f"5235{i:014d}",
                    "community": COMMUNITIES[i % 11],
                    "address": "",
                    "rating": "",
                    "legal_representative": "",
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        organisations = [
            row[0] for row in connection.execute(sa.text("SELECT id FROM organisation ORDER BY id"))
        ]
        connection.execute(
            sa.insert(Application.__table__),  # type: ignore[attr-defined]
            [
                {
                    "competition_id": competition_id,
                    "organisation_id": organisations[i],
                    "ref": f"2025-{i + 1:05d}",
                    "title": f"{COMMUNITIES[i % 11]}社区第{i}个公益项目",
                    "category": ("elderly", "children", "public_service")[i % 3],
                    "pool": "registered",
                    "community": COMMUNITIES[i % 11],
                    "communities": [],
                    "amount_fen": rng.randrange(200_000, 800_000, 100),
                    "self_funded_fen": 0,
                    "state": STATES[i % 4].value,
                    "details": {},
                    "summary": "",
                    "target_group": "",
                    "beneficiaries": 0,
                    "contact_name": "联系人",
                    "contact_phone": "",
                    "contact_email": f"a{i}@example.org",
                    "source": "bench",
                    "submitted_at": now,
                }
                for i in range(count)
            ],
        )
        applications = [
            row[0] for row in connection.execute(sa.text("SELECT id FROM application ORDER BY id"))
        ]
        scored = [a for i, a in enumerate(applications) if i % 5]
        connection.execute(
            sa.insert(ReviewResult.__table__),  # type: ignore[attr-defined]
            [
                {
                    "application_id": a,
                    "method": "trimmed_mean",
                    "aggregate": str(Decimal(rng.randrange(5000, 9900)) / 100),
                    "totals": {},
                    "spread": "0",
                    "flags": [],
                    "rank": rank + 1,
                    "pool_rank": rank + 1,
                    "std": "0",
                    "tie_note": "",
                    "computed_at": now,
                }
                for rank, a in enumerate(scored)
            ],
        )
        connection.execute(
            sa.insert(Grant.__table__),  # type: ignore[attr-defined]
            [
                {
                    "competition_id": competition_id,
                    "application_id": a,
                    "amount_fen": 500_000,
                    "state": GrantState.active.value,
                    "agreement_no": "",
                    "created_at": now,
                }
                for i, a in enumerate(applications)
                if i % 5 == 1
            ],
        )
    return competition_id


def _median_ms(run: Callable[[], Any], repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _measure(size: int, folder: Path) -> dict[str, Any]:
    engine = get_engine(f"sqlite:///{folder / f'roster-{size}.db'}")
    upgrade_database(engine)
    competition_id = fill_roster(engine, size)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    figures: dict[str, Any] = {}
    with session_scope(engine) as session:
        for name, params in VIEWS.items():
            query = RosterQuery.from_params(params)
            statements.clear()
            roster_page(session, competition_id=competition_id, query=query)
            figures[f"{name}_queries"] = len(statements)
            figures[f"{name}_ms"] = _median_ms(
                lambda q=query: roster_page(session, competition_id=competition_id, query=q)
            )
        figures["count_eligible_ms"] = _median_ms(
            lambda: count_applications(
                session, competition_id=competition_id, query=RosterQuery(standing="eligible")
            )
        )
        competition = session.get(Competition, competition_id)
        config = competition_config(competition)
        figures["export_all_ms"] = _median_ms(
            lambda: write_roster_xlsx(
                session,
                competition_id=competition_id,
                query=RosterQuery(),
                config=config,
                timezone="Asia/Shanghai",
            ),
            repeat=3,
        )
    dispose_engines()
    return figures


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        small = _measure(30, Path(folder))
        large = _measure(10_000, Path(folder))
    figures: dict[str, Any] = {}
    for name in [*VIEWS, "count_eligible", "export_all"]:
        for suffix in ("ms", "queries"):
            key = f"{name}_{suffix}"
            if key in small:
                figures[f"{key} (30)"] = small[key]
                figures[f"{key} (10,000)"] = large[key]
    return figures


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value}")
