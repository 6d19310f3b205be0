"""文档: every document a competition wrote, by stage and project — the console's documents page,
and the zip of a stage streamed to the browser.

A document's stage is the folder it was written in (``<slug>/<stage>/<subject>/<file>``, see
``models.documents.registry.document_folder``); its project is the application its subject belongs
to — the application itself, or its grant, a tranche, a checkpoint or a rectification of that grant.
Documents of the whole competition (the 征集公告, the 评分汇总表, the 公示, the 年度总结报告) and an
expert's 专家评分表 belong to no project.

A ``DocumentQuery`` (stage, project, role, a text in the file name, a page) is one SELECT of the page
and one count; ``zip_stream`` writes the documents of a view as a zip in chunks — one file at a time,
64 KB at a time, so memory stays bounded however large the stage — with names made safe (no
folders from the outside, no control characters, a repeated name numbered).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.documents.tables import GeneratedDocument
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application
from models.paging import Paged, changed_params, escaped, like, number, search_text, within
from models.supervision.tables import Checkpoint, Rectification

# the stages' folders in the order of the year, with their names (Chinese, English)
STAGES: Mapping[str, tuple[str, str]] = {
    "call": ("征集", "call"),
    "intake": ("申报受理", "intake"),
    "screening": ("资格审查", "screening"),
    "review": ("专家评审", "review"),
    "funding": ("立项与协议", "funding and agreements"),
    "implementation": ("资金拨付", "payments"),
    "supervision": ("督导", "supervision"),
    "evaluation": ("结项与年度", "final evaluation and the year"),
}
PROJECT_SUBJECTS = ("application", "grant", "tranche", "checkpoint", "rectification")
PAGE_SIZES = (25, 50, 100, 200)
CHUNK = 64 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


@dataclass(frozen=True)
class DocumentQuery:
    stage: str = ""  # "" | a key of STAGES
    application: int = 0  # the project's application id (0: any)
    role: str = ""  # a document role (receipt, grant_agreement …)
    text: str = ""  # part of the file name
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> DocumentQuery:
        """The query a page's parameters ask for; anything unknown falls back to its default."""
        stage, per_page = search_text(params, "stage"), number(params.get("per_page"), 50)
        return cls(
            stage=stage if stage in STAGES else "",
            application=number(params.get("application"), 0),
            role=search_text(params, "role")[:60],
            text=search_text(params, "q"),
            page=max(1, number(params.get("page"), 1)),
            per_page=per_page if per_page in PAGE_SIZES else 50,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The page parameters of this query (with ``changes``), defaults left out."""
        return changed_params(self, {"text": "q"}, **changes)


def stage_of(document: GeneratedDocument) -> str:
    """The stage folder a document was written in ('' when its path has none)."""
    parts = document.path.split("/")
    return parts[1] if len(parts) > 2 else ""


@dataclass(frozen=True)
class Project:
    application_id: int
    ref: str
    title: str


@dataclass(frozen=True)
class DocumentRow:
    document: GeneratedDocument
    stage: str
    project: Project | None


@dataclass(frozen=True)
class DocumentPage(Paged):
    rows: list[DocumentRow]
    total: int
    query: DocumentQuery
    stages: dict[str, int]  # documents per stage folder, and "" for all of them
    roles: list[tuple[str, int]]  # the roles present, with their counts
    project: Project | None  # the project filtered on


def _subjects(session: Session, application_id: int) -> dict[str, list[int]]:
    """The subjects whose documents are about one application (its grant and the grant's parts)."""
    subjects: dict[str, list[int]] = {"application": [application_id]}
    grant_ids = list(session.exec(select(Grant.id).where(Grant.application_id == application_id)))
    if grant_ids:
        subjects["grant"] = [i for i in grant_ids if i is not None]
        for name, table in (
            ("tranche", Tranche),
            ("checkpoint", Checkpoint),
            ("rectification", Rectification),
        ):
            ids = session.exec(select(table.id).where(col(table.grant_id).in_(subjects["grant"])))
            subjects[name] = [i for i in ids if i is not None]
    return subjects


def _conditions(session: Session, competition_id: int, slug: str, query: DocumentQuery) -> list[Any]:
    conditions: list[Any] = [col(GeneratedDocument.competition_id) == competition_id]
    if query.stage:
        conditions.append(_in_stage(slug, query.stage))
    if query.role:
        conditions.append(col(GeneratedDocument.role) == query.role)
    if query.text:
        conditions.append(col(GeneratedDocument.filename).ilike(like(query.text), escape="\\"))
    if query.application:
        subjects = _subjects(session, query.application)
        conditions.append(
            sa.or_(
                *[
                    sa.and_(
                        col(GeneratedDocument.subject_entity) == name,
                        col(GeneratedDocument.subject_id).in_(ids),
                    )
                    for name, ids in subjects.items()
                    if ids
                ]
            )
        )
    return conditions


def _projects(session: Session, documents: Iterable[GeneratedDocument]) -> dict[tuple[str, int], Project]:
    """The project of each (subject, id) among ``documents``: a few queries for the whole page."""
    wanted: dict[str, set[int]] = {name: set() for name in PROJECT_SUBJECTS}
    for document in documents:
        if document.subject_entity in wanted and document.subject_id is not None:
            wanted[document.subject_entity].add(document.subject_id)
    grant_of: dict[tuple[str, int], int] = {}
    for name, table in (("tranche", Tranche), ("checkpoint", Checkpoint), ("rectification", Rectification)):
        if wanted[name]:
            rows = session.exec(select(table.id, table.grant_id).where(col(table.id).in_(wanted[name])))
            grant_of.update({(name, i): g for i, g in rows if i is not None})
    grant_ids = wanted["grant"] | set(grant_of.values())
    application_of_grant = (
        dict(session.exec(select(Grant.id, Grant.application_id).where(col(Grant.id).in_(grant_ids))).all())
        if grant_ids
        else {}
    )
    application_ids = wanted["application"] | set(application_of_grant.values())
    applications = {
        a.id: Project(a.id, a.ref, a.title)
        for a in session.exec(select(Application).where(col(Application.id).in_(application_ids)))
        if a.id is not None
    }
    found: dict[tuple[str, int], Project] = {}
    for name, ids in wanted.items():
        for subject_id in ids:
            if name == "application":
                application_id: int | None = subject_id
            elif name == "grant":
                application_id = application_of_grant.get(subject_id)
            else:
                application_id = application_of_grant.get(grant_of.get((name, subject_id), -1))
            if application_id in applications:
                found[(name, subject_id)] = applications[application_id]
    return found


def _row(document: GeneratedDocument, projects: Mapping[tuple[str, int], Project]) -> DocumentRow:
    project = projects.get((document.subject_entity, document.subject_id or 0))
    return DocumentRow(document=document, stage=stage_of(document), project=project)


def documents_page(session: Session, *, competition_id: int, slug: str, query: DocumentQuery) -> DocumentPage:
    """One page of the competition's documents in the order of the year (stage, then as written)."""
    conditions = _conditions(session, competition_id, slug, query)
    total = int(session.exec(select(func.count()).select_from(GeneratedDocument).where(*conditions)).one())
    query = within(query, total)
    documents = list(
        session.exec(
            _ordered(select(GeneratedDocument).where(*conditions), slug)
            .offset((query.page - 1) * query.per_page)
            .limit(query.per_page)
        )
    )
    projects = _projects(session, documents)
    stages: dict[str, int] = {"": 0}
    for path, count in session.exec(
        select(_stage_case(slug), func.count())
        .where(GeneratedDocument.competition_id == competition_id)
        .group_by(_stage_case(slug))
    ):
        stage = str(path or "")
        stages[stage] = stages.get(stage, 0) + int(count)
        stages[""] += int(count)
    roles = [
        (str(role), int(n))
        for role, n in session.exec(
            select(GeneratedDocument.role, func.count())
            .where(GeneratedDocument.competition_id == competition_id)
            .group_by(col(GeneratedDocument.role))
            .order_by(col(GeneratedDocument.role))
        )
    ]
    project = None
    if query.application:
        application = session.get(Application, query.application)
        if application is not None and application.competition_id == competition_id and application.id:
            project = Project(application.id, application.ref, application.title)
    return DocumentPage(
        rows=[_row(d, projects) for d in documents],
        total=total,
        query=query,
        stages=stages,
        roles=roles,
        project=project,
    )


def _stage_case(slug: str) -> Any:
    """The stage folder of a document's path, in SQL ('' for a path in none of them)."""
    return sa.case(*[(_in_stage(slug, stage), stage) for stage in STAGES], else_="")


def _in_stage(slug: str, stage: str) -> Any:
    return col(GeneratedDocument.path).like(escaped(f"{slug}/{stage}/") + "%", escape="\\")


def _ordered(statement: Any, slug: str) -> Any:
    order = sa.case(
        *[(_in_stage(slug, stage), index) for index, stage in enumerate(STAGES)], else_=len(STAGES)
    )
    return statement.order_by(order, col(GeneratedDocument.created_at), col(GeneratedDocument.id))


def view_documents(
    session: Session, *, competition_id: int, slug: str, query: DocumentQuery
) -> list[DocumentRow]:
    """Every document of the view (all pages), for its zip."""
    conditions = _conditions(session, competition_id, slug, query)
    documents = list(session.exec(_ordered(select(GeneratedDocument).where(*conditions), slug)))
    projects = _projects(session, documents)
    return [_row(d, projects) for d in documents]


# ---- the zip ---------------------------------------------------------------------------------------


def safe_name(text: str, fallback: str = "_") -> str:
    """A name for one part of a path inside a zip: no separators, no control characters, not '.'/'..'."""
    cleaned = _UNSAFE.sub("_", text).strip().strip(".").strip()
    return cleaned[:120] or fallback


def zip_names(rows: Iterable[DocumentRow]) -> list[tuple[DocumentRow, str]]:
    """Each document's name in the zip: ``<stage>/<申报编号 project>/<file>`` (the competition's own
    documents in ``<stage>/本届``); a repeated name gets ``(2)``, ``(3)`` … before its suffix."""
    taken: set[str] = set()
    named = []
    for row in rows:
        stage = STAGES.get(row.stage, (row.stage or "其他", ""))[0]
        project = f"{row.project.ref} {row.project.title}" if row.project else "本届"
        stem, dot, suffix = safe_name(row.document.filename, "文档").rpartition(".")
        if not dot:
            stem, suffix = suffix, ""
        base = f"{safe_name(stage)}/{safe_name(project)}/{stem}"
        name = f"{base}.{suffix}" if suffix else base
        number = 1
        while name.casefold() in taken:
            number += 1
            name = f"{base} ({number}).{suffix}" if suffix else f"{base} ({number})"
        taken.add(name.casefold())
        named.append((row, name))
    return named


class _Pipe(io.RawIOBase):
    """What the zip writer writes into, taken out in chunks as it goes (never seekable)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_stream(named: Iterable[tuple[DocumentRow, str]], documents_dir: Path) -> Iterator[bytes]:
    """The zip of ``named`` documents, chunk by chunk; a file missing from the folder is left out
    (and listed in ``缺失文件.txt`` at the end)."""
    base = documents_dir.resolve()
    pipe = _Pipe()
    missing: list[str] = []
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for row, name in named:
            path = (base / row.document.path).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                missing.append(name)
                continue
            with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    if pipe.parts:
                        yield pipe.take()
            yield pipe.take()
        if missing:
            archive.writestr("缺失文件.txt", "\n".join(["以下文件在文档目录中找不到 / missing:", *missing]))
    yield pipe.take()
