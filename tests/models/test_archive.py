"""The documents' zip: names that stay inside it whatever a title holds, each name once, and a
stream whose chunks stay small however large the files (the year's own documents, read back)."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

from models.archive import CHUNK, DocumentQuery, Project, view_documents, zip_names, zip_stream


def test_a_zips_names_stay_inside_it_and_are_each_given_once(year_session, year) -> None:
    rows = view_documents(
        year_session, competition_id=year.competition_id, slug=year.competition.slug, query=DocumentQuery()
    )
    project = next(row.project for row in rows if row.project is not None)
    typed = Project(project.application_id, project.ref, '../../etc/passwd\\\x07 "社区:家庭" /..')
    planted = [replace(row, project=typed) if row.project == project else row for row in rows]
    planted.append(planted[-1])  # the same document twice: its name numbered, not overwritten
    named = [name for _, name in zip_names(planted)]
    assert len(set(named)) == len(named) == len(planted)
    for name in named:
        parts = name.split("/")
        assert len(parts) == 3 and all(part and part not in (".", "..") for part in parts)
        assert not any(ch in name for ch in '\\:*?"<>|\x07')
    assert named[-1].endswith(" (2).docx")
    assert any("etc_passwd" in name for name in named)


def test_a_zip_is_written_in_small_chunks_and_reads_back_whole(year_session, year, tmp_path: Path) -> None:
    rows = view_documents(
        year_session, competition_id=year.competition_id, slug=year.competition.slug, query=DocumentQuery()
    )[:3]
    folder = tmp_path / "documents"
    large = os.urandom(5 * CHUNK * 4)  # does not compress: each chunk as large as it can be
    for index, row in enumerate(rows):
        path = folder / row.document.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(large if index == 0 else f"文档 {index}".encode())
    named = zip_names(rows)
    chunks = list(zip_stream(named, folder))
    assert max(len(chunk) for chunk in chunks) < 2 * CHUNK
    assert len(chunks) > len(large) // CHUNK
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert [archive.read(name) for _, name in named] == [
        (folder / row.document.path).read_bytes() for row in rows
    ]
