"""Alembic environment: runs on the engine that ``models.db`` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models.tables  # noqa: F401

config = context.config
engine = config.attributes["engine"]
_excluded = set(config.attributes.get("exclude_tables", ()))  # only used when writing a revision


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in _excluded


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    context.run_migrations()
