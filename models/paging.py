"""The console's lists filtered and paged by the database (申报一览, 发信箱, 文档): a number read from
a page's parameters, a filter's text, a LIKE pattern that matches the text literally, a query's
parameters without its defaults, and a page's numbers (pages, first and last row shown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

SEARCH_MAX = 100  # characters of a filter's text that count


def number(value: Any, default: int, *, digits: int = 9) -> int:
    """A whole number of at most ``digits`` digits as typed in an address; ``default`` otherwise."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else default


def search_text(params: Mapping[str, Any], name: str) -> str:
    """A filter's text: spaces folded, at most ``SEARCH_MAX`` characters."""
    return " ".join(str(params.get(name, "")).split())[:SEARCH_MAX]


def escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``escape="\\\\"``: its % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere (``escape="\\\\"``)."""
    return f"%{escaped(text)}%"


def changed_params(query: Any, names: Mapping[str, str], **changes: Any) -> dict[str, str]:
    """A query dataclass's page parameters (with ``changes``), those at their default left out;
    ``names`` renames a field's parameter (``text`` → ``q``)."""
    changed = replace(query, **changes)
    default = type(query)()
    return {
        names.get(item.name, item.name): str(getattr(changed, item.name))
        for item in fields(query)
        if getattr(changed, item.name) != getattr(default, item.name)
    }


class Paged:
    """The numbers of one page of a list: mixed into a dataclass with ``rows``, ``total`` (rows on
    every page) and a ``query`` with ``page`` and ``per_page``."""

    rows: Sequence[Any]
    total: int
    query: Any

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    @property
    def first(self) -> int:
        return 0 if not self.rows else (self.query.page - 1) * self.query.per_page + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def within(query: Any, total: int) -> Any:
    """``query`` asking for a page past the last of ``total`` rows: the last page instead."""
    pages = max(1, -(-total // query.per_page))
    return replace(query, page=pages) if query.page > pages else query
