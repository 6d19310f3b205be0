"""The render-documents task: batches, files in the documents tree, ids back, safe to re-run."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow
from sqlmodel import select

from models.db import default_engine, session_scope, upgrade_database
from models.documents.registry import DOCUMENTS
from models.documents.tables import GeneratedDocument
from models.setup import create_competition
from tasks.documents import DocumentJob, render_documents


def _competition(example_dir: Path) -> int:
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = create_competition(
            session,
            text=(example_dir / "competition.yaml").read_text(encoding="utf-8"),
            source="test",
            actor="test",
        )
        assert competition.id is not None
        return competition.id


def _jobs(count: int) -> list[DocumentJob]:
    sample = DOCUMENTS.get("receipt").keys
    return [
        DocumentJob(
            context={**sample, "application_ref": f"JT2025-{i:03d}"},
            subject_entity="application",
            subject_id=i,
            filename=f"受理回执-JT2025-{i:03d}.docx",
        )
        for i in range(1, count + 1)
    ]


def test_render_documents_writes_every_job_in_batches(settings_env: Path, example_dir: Path) -> None:
    competition_id = _competition(example_dir)
    ids = render_documents.fn("receipt", competition_id, "intake", _jobs(5), batch_size=2)
    assert len(ids) == len(set(ids)) == 5
    with session_scope() as session:
        rows = session.exec(select(GeneratedDocument).order_by(GeneratedDocument.id)).all()
    assert [row.id for row in rows] == ids
    assert rows[4].path == "jiangtou-2025/intake/application-5/受理回执-JT2025-005.docx"
    assert (settings_env / "documents" / rows[4].path).is_file()
    assert render_documents.fn("receipt", competition_id, "intake", _jobs(5), batch_size=3) == ids


@pytest.mark.flows
def test_render_documents_runs_as_a_prefect_task(
    prefect_harness: None, settings_env: Path, example_dir: Path, tmp_path: Path
) -> None:
    competition_id = _competition(example_dir)

    @flow
    def documents_flow() -> list[int]:
        return render_documents("receipt", competition_id, "intake", _jobs(3), str(tmp_path / "out"))

    ids = documents_flow()
    assert len(ids) == 3
    assert len(list((tmp_path / "out" / "jiangtou-2025" / "intake").iterdir())) == 3
