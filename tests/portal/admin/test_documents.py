"""文档 through the real app on the example's year: every document by stage and by project, one
downloaded under its Chinese name, a stage as one zip — each download audited with the user."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session, col, select

from models.archive import DocumentQuery, view_documents, zip_names
from models.audit import AuditEvent
from models.competition.tables import competition_config, get_competition
from models.documents.tables import GeneratedDocument
from models.dossier import dossier_of
from models.funding.tables import Grant
from tests.portal.admin.console_world import SLUG, ConsoleWorld

pytestmark = pytest.mark.slow

BASE = f"/admin/c/{SLUG}/documents"


def documents(world: ConsoleWorld) -> list[GeneratedDocument]:
    with Session(world.engine) as session:
        competition = get_competition(session, slug=SLUG)
        return list(
            session.exec(select(GeneratedDocument).where(GeneratedDocument.competition_id == competition.id))
        )


def shown(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}


def downloads(world: ConsoleWorld) -> list[AuditEvent]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.actor == "admin:du", AuditEvent.action == "download")
            )
        )


def test_the_documents_are_listed_by_stage_and_by_project(console: ConsoleWorld) -> None:
    client = console.signed_in("du")  # 只读 reads and downloads
    everything = documents(console)
    page = client.get(BASE, params={"per_page": "200"})
    assert shown(page.text) == {d.id for d in everything}
    counts = {key: int(n) for key, n in re.findall(r'id="tab-([a-z]+)" data-count="(\d+)"', page.text)}
    assert counts.pop("all") == len(everything) == sum(counts.values())
    for stage, count in counts.items():
        listed = client.get(BASE, params={"stage": stage, "per_page": "200"})
        ids = shown(listed.text)
        assert len(ids) == count
        assert ids == {d.id for d in everything if d.path.split("/")[1] == stage}

    with Session(console.engine) as session:
        grant = session.exec(select(Grant).order_by(col(Grant.id))).first()
        assert grant is not None
        competition = get_competition(session, slug=SLUG)
        dossier = dossier_of(
            session,
            competition=competition,
            config=competition_config(competition),
            application_id=grant.application_id,
        )
    project = client.get(BASE, params={"application": str(grant.application_id)})
    assert shown(project.text) == {d.id for d in dossier.documents}  # the same as its page lists
    assert dossier.application.ref in project.text and 'id="project-filter"' in project.text


def test_a_document_downloads_under_its_chinese_name(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    document = next(d for d in documents(console) if not d.filename.isascii())
    answer = client.get(f"{BASE}/{document.id}")
    assert answer.status_code == 200
    disposition = answer.headers["content-disposition"]
    assert f'filename="document-{document.id}.docx"' in disposition  # for old clients
    assert f"filename*=UTF-8''{quote(document.filename, safe='')}" in disposition  # RFC 5987
    assert answer.content == (console.settings.documents_dir / document.path).read_bytes()
    assert [e.entity_id for e in downloads(console)] == [document.id]


def test_a_stage_downloads_as_one_zip_with_safe_names(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    answer = client.get(f"{BASE}.zip", params={"stage": "implementation"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None
    with Session(console.engine) as session:
        competition = get_competition(session, slug=SLUG)
        rows = view_documents(
            session,
            competition_id=competition.id or 0,
            slug=SLUG,
            query=DocumentQuery(stage="implementation"),
        )
    named = zip_names(rows)
    assert rows and archive.namelist() == [name for _, name in named]
    for row, name in named:
        assert name.startswith("资金拨付/") and ".." not in name and "\\" not in name
        assert archive.read(name) == (console.settings.documents_dir / row.document.path).read_bytes()
    (event,) = [e for e in downloads(console) if e.entity == "competition"]
    assert event.data["documents"] == [row.document.id for row in rows]


def test_a_zip_names_a_file_missing_from_the_folder_instead_of_failing(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    gone = next(d for d in documents(console) if "/call/" in d.path)
    copy = console.settings.documents_dir / gone.path
    kept = copy.read_bytes()
    copy.unlink()
    try:
        archive = zipfile.ZipFile(io.BytesIO(client.get(f"{BASE}.zip", params={"stage": "call"}).content))
    finally:
        copy.write_bytes(kept)
    missing = archive.read("缺失文件.txt").decode("utf-8")
    assert Path(gone.filename).stem in missing
    assert all(Path(gone.filename).stem not in name for name in archive.namelist() if name.endswith(".docx"))
