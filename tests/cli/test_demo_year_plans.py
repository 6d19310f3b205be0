"""The demo's year read as a street office reads it: every Word document of ``grantflow demo`` opened
with python-docx beside the database. No paper promises a zero (活动不少于0场, 0人次 planned); the
final grades spread over the bands, 不合格 among them; the mid-terms differ; and for every grant the
dates follow each other — signing, project start, mid-term visit, project end, 结项 — in the
database and in the papers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import Session, col, select

from tests.cli.test_cli import run

pytestmark = pytest.mark.slow
CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
ZERO_PROMISE = re.compile(r"不少于\s*0\s*(场|人次|人)")
ZERO_PLANNED = re.compile(r"^0(场|人次|人)$")


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Session]]:
    from models.db import dispose_engines, get_engine

    out = tmp_path_factory.mktemp("demo-year") / "demo"
    done = run(["demo", "--out", str(out)], out.parent / "unused")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    engine = get_engine(f"sqlite:///{out / 'grantflow.db'}")
    with Session(engine) as session:
        yield out, session
    dispose_engines()


def _text(path: Path) -> tuple[str, list[list[list[str]]]]:
    """A document's paragraphs as one text, and its tables as rows of cell texts."""
    document = Document(str(path))
    tables = [[[cell.text.strip() for cell in row.cells] for row in table.rows] for table in document.tables]
    return "\n".join(p.text for p in document.paragraphs), tables


def _documents(session: Session, out: Path, role: str) -> dict[int, list[Path]]:
    """The documents of one role by the id of their subject (grant, checkpoint, tranche)."""
    from models.documents.tables import GeneratedDocument

    found: dict[int, list[Path]] = {}
    for document in session.exec(select(GeneratedDocument).where(GeneratedDocument.role == role)):
        found.setdefault(document.subject_id or 0, []).append(out / "documents" / document.path)
    return found


def _day(text: str) -> date:
    match = CN_DATE.search(text)
    assert match is not None, text
    return date(*(int(part) for part in match.groups()))


def _cell(tables: list[list[list[str]]], label: str) -> str:
    return next(row[1] for table in tables for row in table if row and row[0] == label and len(row) > 1)


def test_demo_year_no_paper_promises_zero(year):
    from models.funding.tables import Grant
    from models.intake.plan import application_plan
    from models.intake.tables import Application

    out, session = year
    documents = sorted((out / "documents").rglob("*.docx"))
    assert len(documents) > 150  # every role of the year: receipts, sheets, notices, agreements …
    for path in documents:
        text, tables = _text(path)
        cells = "\n".join(cell for table in tables for row in table for cell in row)
        assert not ZERO_PROMISE.search(text + "\n" + cells), path.name
        for table in tables:
            header = table[0]
            if "计划" not in header:
                continue
            column = header.index("计划")
            planned = [row[column] for row in table[1:] if len(row) > column]
            assert not [cell for cell in planned if ZERO_PLANNED.match(cell)], (path.name, planned)
    agreements = _documents(session, out, "grant_agreement")
    grants = session.exec(select(Grant)).all()
    assert len(grants) == 11 and set(agreements) == {g.id for g in grants}
    for grant in grants:
        application = session.get(Application, grant.application_id)
        assert application is not None
        plan = application_plan(application)
        assert plan.sessions > 0 and plan.participants > 0 and plan.beneficiaries > 0, application.title
        (agreement,) = agreements[grant.id or 0]
        promised = f"活动不少于{plan.sessions:,}场，服务不少于{plan.participants:,}人次"
        assert promised in _text(agreement)[0], application.title


def test_demo_year_final_grades_spread_over_the_bands(year):
    from models.competition.tables import get_competition
    from models.evaluation.tables import final_results

    out, session = year
    finals = final_results(session, competition_id=get_competition(session).id or 0)
    grades = [final["grade"] for final in finals.values()]
    assert len(grades) == 10 and {"优秀", "良好", "合格", "不合格"} <= set(grades)
    assert len({final["score"] for final in finals.values()}) >= 8  # not one score for all
    printed = set()
    for paths in _documents(session, out, "final_evaluation_report").values():
        for path in paths:
            text, _ = _text(path)
            printed |= set(re.findall(r"等级为“(\S+?)”", text))
    assert {"优秀", "良好", "合格", "不合格"} <= printed


def test_demo_year_midterms_and_spending_differ(year):
    from models.supervision.tables import Checkpoint, CheckpointReport, ProgressReport

    _, session = year
    midterms = session.exec(
        select(CheckpointReport, Checkpoint)
        .join(Checkpoint, col(Checkpoint.id) == col(CheckpointReport.checkpoint_id))
        .where(Checkpoint.code == "midterm", Checkpoint.round == 1)
    ).all()
    scores = [record.score for record, _ in midterms]
    assert len(scores) == 11 and len(set(scores)) == 11  # every pass its own score, not 85.0 each
    assert sum(1 for score in scores if score < 60) == 2 and len({r.findings for r, _ in midterms}) == 11
    spent: dict[tuple[int, str], int] = {}
    for progress, checkpoint in session.exec(
        select(ProgressReport, Checkpoint).join(
            Checkpoint, col(Checkpoint.id) == col(ProgressReport.checkpoint_id)
        )
    ):
        total = sum(int(line["actual_fen"]) for line in progress.spending)
        assert all(int(line["actual_fen"]) <= int(line["budget_fen"]) for line in progress.spending)
        spent[(checkpoint.grant_id, f"{checkpoint.code}{checkpoint.round}")] = total
    finals = [(grant, total) for (grant, code), total in spent.items() if code == "final1"]
    assert finals and all(total > spent[(grant, "midterm1")] for grant, total in finals)


def test_demo_year_dates_follow_each_other_in_the_database_and_the_papers(year):
    from models.funding.tables import Grant, Tranche
    from models.intake.tables import Application
    from models.supervision.tables import Checkpoint, CheckpointReport

    out, session = year
    agreements = _documents(session, out, "grant_agreement")
    records = _documents(session, out, "supervision_record")
    notices = _documents(session, out, "payment_notice")
    reports = _documents(session, out, "final_evaluation_report")
    for grant in session.exec(select(Grant)):
        application = session.get(Application, grant.application_id)
        assert application is not None and grant.signed_on is not None
        visits: dict[tuple[str, int], tuple[date, int]] = {}
        for checkpoint in session.exec(select(Checkpoint).where(Checkpoint.grant_id == grant.id)):
            record = session.exec(
                select(CheckpointReport).where(CheckpointReport.checkpoint_id == checkpoint.id)
            ).first()
            if record is not None and record.visit_date is not None:
                visits[(checkpoint.code, checkpoint.round)] = (record.visit_date, checkpoint.id or 0)
        midterm, _ = visits[("midterm", 1)]
        # the database: signing → start → mid-term → end → 结项
        assert grant.signed_on < application.period_start < midterm < application.period_end, (
            application.title
        )
        for (code, _), (visit, _) in visits.items():
            if code == "final":
                assert visit >= application.period_end, application.title
        # the papers say the same
        first = next(
            path
            for tranche in session.exec(
                select(Tranche).where(Tranche.grant_id == grant.id, Tranche.gate == "signing")
            )
            for path in notices.get(tranche.id or 0, [])
        )
        signed = _day(re.search(r"已于(\S+?日)签订", _text(first)[0]).group(1))  # type: ignore[union-attr]
        (agreement,) = agreements[grant.id or 0]
        period = re.search(r"执行期为(\S+?日)至(\S+?日)", _text(agreement)[0])
        assert period is not None, agreement.name
        start, end = _day(period.group(1)), _day(period.group(2))
        (sheet,) = records[visits[("midterm", 1)][1]]
        visited = _day(_cell(_text(sheet)[1], "督导日期"))
        assert signed == grant.signed_on and (start, end) == (
            application.period_start,
            application.period_end,
        )
        assert signed < start < visited < end, application.title
        for path in reports.get(grant.id or 0, []):
            text, tables = _text(path)
            assessed = _day(_cell(tables, "评估日期"))
            written = date(*(int(part) for part in CN_DATE.findall(text)[-1]))  # the 落款's date
            assert end <= assessed <= written, path.name
