"""What a stage run shows in the Prefect UI beside its logs: the progress of a long batch, and where
the competition's documents are (a table per role: how many, the folder, the newest file).

Artifacts are for people watching a run; nothing reads them back. Outside a flow run (a task called
as a plain function in tests or the CLI) they are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from pathlib import PurePosixPath
from uuid import UUID

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.exceptions import MissingContextError
from sqlmodel import col, select

from models.db import session_scope
from models.documents.registry import DOCUMENTS
from models.documents.tables import GeneratedDocument
from tasks.database_faults import ON_DATABASE_FAULT


class BatchProgress:
    """A progress bar in the run's artifacts: ``advance()`` after each item of ``total``.

    Used in an async flow's body too (intake), where Prefect's artifact functions would hand back
    a coroutine nobody awaits: they are called with ``_sync=True`` (Prefect's ``async_dispatch``).
    """

    def __init__(self, total: int, description: str) -> None:
        self.total, self.done, self.description = max(total, 1), 0, description
        self.artifact: UUID | None = None
        with suppress(MissingContextError, RuntimeError):
            self.artifact = create_progress_artifact(progress=0.0, description=description, _sync=True)

    def advance(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total)
        if self.artifact is not None:
            with suppress(MissingContextError, RuntimeError):
                update_progress_artifact(
                    self.artifact,
                    progress=round(100 * self.done / self.total, 1),
                    description=f"{self.description}: {self.done}/{self.total}",
                    _sync=True,
                )


TITLES = {role.name: role.title for role in DOCUMENTS}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@task(name="documents-artifact", **ON_DATABASE_FAULT)
def documents_artifact(competition_id: int, slug: str) -> str:
    """A markdown table of the competition's documents by role; returns the markdown."""
    with session_scope() as session:
        rows = session.exec(
            select(GeneratedDocument)
            .where(GeneratedDocument.competition_id == competition_id)
            .order_by(col(GeneratedDocument.id))
        ).all()
    by_role: dict[str, list[GeneratedDocument]] = defaultdict(list)
    for row in rows:
        by_role[row.role].append(row)
    lines = [
        f"### {_cell(slug)} · 文书 documents",
        "",
        "| 文书 role | 份数 count | 文件夹 folder | 最新 newest |",
        "| --- | --: | --- | --- |",
    ]
    for role, documents in by_role.items():
        title = TITLES.get(role, role)
        newest = documents[-1]
        folder = PurePosixPath(newest.path).parent
        lines.append(
            f"| {_cell(title)} ({role}) | {len(documents)} | `{_cell(folder)}` | {_cell(newest.filename)} |"
        )
    markdown = "\n".join(lines) + "\n"
    with suppress(MissingContextError, RuntimeError):
        create_markdown_artifact(
            markdown=markdown, key=f"{slug}-documents", description="文书位置 / where the documents are"
        )
    return markdown
