"""Every file door against the hostile corpus (``tests.support.hostile_inputs``, issue 22 section 6):
the competition YAML, intake files of every format, the paper score sheets, the signing-date
workbooks and the evidence uploads. Each input is accepted, or refused with the door's own error
naming the file (and row and field where there is one) — never another exception; an import that
refuses writes nothing; every read runs under a memory bound (1 GB more than the process holds)."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.competition.config import UploadRules
from models.competition.config_file import load_config, parse_config
from models.errors import ConfigError, InputError
from models.funding.grants import signings_from_xlsx
from models.intake.imports import import_applications
from models.intake.rows import read_application_file
from models.intake.tables import Application, Organisation
from models.review.workbook import read_table
from models.supervision.evidence import CleanFile, Upload, check_upload, shown_name
from tests.support import hostile_inputs as corpus
from tests.support.factories import make_competition

BEFORE_DEADLINE = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
YAML = corpus.yaml_cases()
INTAKE = corpus.intake_cases()
SHEETS = corpus.workbook_cases(corpus.SHEET_HEADER, corpus.SHEET_ROW, "路演评分表.xlsx")
SIGNINGS = corpus.workbook_cases(corpus.SIGNING_HEADER, corpus.SIGNING_ROW, "签约日期.xlsx")
UPLOADS = corpus.upload_cases()


@contextmanager
def memory_bound(extra: int = 1_000_000_000) -> Iterator[None]:
    """The process may not grow by more than ``extra`` bytes of address space while inside."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _names_the_file(error: InputError | ConfigError, name: str) -> None:
    assert error.problems, error
    for problem in error.problems:
        assert name in problem.where, (problem.where, name)
        assert problem.zh and problem.en


# ---- the competition YAML ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(YAML))
def test_a_hostile_configuration_is_read_or_refused_naming_its_place(tmp_path: Path, case: str) -> None:
    text = YAML[case]
    with memory_bound():
        try:
            if isinstance(text, bytes):
                path = tmp_path / "bad.yaml"
                path.write_bytes(text)
                load_config(path)
            else:
                parse_config(text, source="bad.yaml")
        except ConfigError as exc:
            _names_the_file(exc, "bad.yaml")


# ---- intake files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def intake_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from models.db import get_engine, upgrade_database

    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'grantflow.db'}")
    upgrade_database(engine)
    with Session(engine) as session:
        make_competition(session)
        session.commit()
    yield engine
    engine.dispose()


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Application, Organisation, AuditEvent)
    )


@pytest.mark.parametrize("case", sorted(INTAKE))
def test_a_hostile_intake_file_is_imported_or_refused_and_a_refusal_writes_nothing(
    tmp_path: Path, intake_engine: Engine, case: str
) -> None:
    path = INTAKE[case](tmp_path)
    with memory_bound():
        try:
            read = read_application_file(path)
        except InputError as exc:
            _names_the_file(exc, path.name)
            read = None
    with Session(intake_engine) as session:
        before = _counts(session)
        try:
            report = import_applications(
                session, competition_id=1, path=path, actor="test", now=BEFORE_DEADLINE
            )
        except InputError as exc:
            _names_the_file(exc, path.name)
            session.flush()
            assert _counts(session) == before, "a refused file wrote rows"
            return
        finally:
            session.rollback()
    assert read is not None
    added = len(report.accepted)
    for refused in report.refused:
        assert path.name in refused.where and refused.problems, refused
    assert "root:x:0:0" not in repr(read.rows), "an external entity was read"
    assert added + len(report.refused) >= 1 or not read.rows


# ---- the paper score sheets and the signing-date workbooks -------------------------------------------


@pytest.mark.parametrize("case", sorted(SHEETS))
def test_a_hostile_score_sheet_workbook_is_read_or_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    path = SHEETS[case](tmp_path)
    with memory_bound():
        try:
            table = read_table(path, markers=("申报编号",))
        except InputError as exc:
            _names_the_file(exc, path.name)
            return
    assert table.file == path.name and len(table.rows) <= 5000


@pytest.mark.parametrize("case", sorted(SIGNINGS))
def test_a_hostile_signing_date_workbook_is_read_or_refused_naming_the_row(tmp_path: Path, case: str) -> None:
    path = SIGNINGS[case](tmp_path)
    with memory_bound():
        try:
            found = signings_from_xlsx(path)
        except InputError as exc:
            _names_the_file(exc, path.name)
            return
    assert all(ref and path.name in where for ref, _, where in found)


# ---- evidence uploads --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(UPLOADS))
def test_a_hostile_upload_is_cleaned_or_refused_naming_the_file(case: str) -> None:
    name, content, kind = UPLOADS[case]
    data = content() if callable(content) else content
    rules = UploadRules()
    with memory_bound():
        result = check_upload(
            Upload(name, data[: rules.max_bytes], kind, truncated=len(data) > rules.max_bytes), rules
        )
    if isinstance(result, CleanFile):
        assert result.media_type in ("image/jpeg", "image/png", "application/pdf")
        assert "/" not in result.name and "\\" not in result.name and result.name.isprintable()
        if result.media_type != "application/pdf":
            assert b"Exif" not in result.data and b"eXIf" not in result.data and b"<?php" not in result.data
        return
    assert shown_name(name)[:40] in result.where and result.en
