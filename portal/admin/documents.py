"""文档: every document of a competition by stage and project, one to download or a stage as a zip.

    GET /admin/c/{slug}/documents        the list (``models.archive.DocumentQuery``: stage, project,
                                         role, a text in the file name, a page)
    GET /admin/c/{slug}/documents.zip    the same view, every page of it, as one zip (audited)
    (GET /admin/c/{slug}/documents/{id}  one document: ``application``'s download, audited)

The zip is streamed as it is written (``models.archive.zip_stream``: one file at a time, 64 KB at a
time), its names ``<stage>/<申报编号 project>/<file>``, made safe; its own name says the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response, StreamingResponse

from models.accounts.roles import Power
from models.archive import (
    PAGE_SIZES,
    STAGES,
    DocumentPage,
    DocumentQuery,
    documents_page,
    view_documents,
    zip_names,
    zip_stream,
)
from models.documents.registry import DOCUMENTS
from portal.admin.console import Call, Console, Nav, attachment

NAV = Nav("documents", "documents", 70)
TITLES = {role.name: role.title for role in DOCUMENTS}


@dataclass(frozen=True)
class DocumentsPage:
    slug: str
    page: DocumentPage
    per_page: tuple[int, ...]
    titles: dict[str, str]  # role → its title (受理回执 …)

    @property
    def stage_names(self) -> Mapping[str, tuple[str, str]]:
        return STAGES

    @property
    def stages(self) -> list[tuple[str, str, str]]:
        """(key, Chinese, English) of each stage tab, "" first (every stage)."""
        return [("", "全部", "all"), *[(key, zh, en) for key, (zh, en) in STAGES.items()]]

    def href(self, **changes: Any) -> str:
        params = self.page.query.params(**changes)
        return f"/admin/c/{self.slug}/documents" + (f"?{urlencode(params)}" if params else "")

    @property
    def zip_href(self) -> str:
        params = self.page.query.params(page=1, per_page=50)
        return f"/admin/c/{self.slug}/documents.zip" + (f"?{urlencode(params)}" if params else "")


def register(console: Console) -> None:
    @console.page("/admin/c/{slug}/documents", nav=NAV)
    def documents(call: Call) -> Response:
        query = DocumentQuery.from_params(dict(call.request.query_params))
        with call.session() as session:
            competition = call.competition(session)
            page = documents_page(
                session, competition_id=competition.id or 0, slug=competition.slug, query=query
            )
        view = DocumentsPage(competition.slug, page, PAGE_SIZES, TITLES)
        response = call.render("admin/documents.html", {"docs": view}, competition=competition)
        if call.request.headers.get("HX-Request") == "true":
            response.headers["HX-Push-Url"] = view.href()
        return response

    @console.page("/admin/c/{slug}/documents.zip", power=Power.download)
    def documents_zip(call: Call) -> Response:
        query = DocumentQuery.from_params(dict(call.request.query_params))
        with call.session() as session:
            competition = call.competition(session)
            rows = view_documents(
                session, competition_id=competition.id or 0, slug=competition.slug, query=query
            )
            stage = STAGES.get(query.stage, ("全部文档", "all"))[0]
            call.audit(
                session,
                entity="competition",
                entity_id=competition.id or 0,
                action="download",
                reason=f"文档打包：{stage} {len(rows)} 个文件 / documents zipped: {len(rows)} files",
                data={"query": query.params(page=1), "documents": [row.document.id for row in rows]},
            )
        name = f"{competition.slug}-{query.stage or 'all'}-{call.now:%Y%m%d-%H%M}.zip"
        chinese = f"{competition.name}-{stage}-{call.now:%Y%m%d-%H%M}.zip"
        stream = zip_stream(zip_names(rows), call.settings.documents_dir)
        response = StreamingResponse(
            stream, media_type="application/zip", headers={"Content-Disposition": attachment(chinese, name)}
        )
        return console.site.finish(call.request, response)
