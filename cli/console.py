"""How the CLI speaks: rich tables for people, ``--json`` for programs, one line for errors.

User text — a competition's name, a file name, a title from a spreadsheet, an error naming a
field — is data, never rich markup: ``[/red]`` in a name must print as ``[/red]``, not crash the
command or vanish. So there are two ways to print, and the safe one is the easy one:

- ``say("已创建竞赛 [bold]{slug}[/bold]: {name}", slug=..., name=...)``: the template is ours (a
  constant, with markup); every value is escaped and stripped of control characters first.
- ``line(text)``: a line of plain text (no markup at all), never wrapped.

Table cells go through ``cell(value)``, tables through ``print_table`` (cells wrap, never cut).
``error_line`` prints an error as one line on stderr,
whatever the terminal's width (or no terminal at all). ``tests/cli/test_console.py`` scans ``cli/``
for an f-string or ``.format`` handed to ``console.print`` as markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

# emoji=False: ":thumbs_up:" in a title stays as typed.
console = Console(highlight=False, emoji=False)
errors = Console(stderr=True, highlight=False, emoji=False)

# C0 and C1 control characters (an ESC could drive the terminal); tab and newline are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """User text as it may reach a terminal: control characters shown as U+FFFD."""
    return _CONTROL.sub("\ufffd", str(value))


def safe(value: object) -> str:
    """User text to put into markup: cleaned and escaped (``[bold]`` prints as ``[bold]``)."""
    return escape(clean(value))


def say(template: str, /, *, err: bool = False, **values: object) -> None:
    """Print our ``template`` (markup allowed) with every ``{name}`` filled by an escaped value."""
    text = template.format(**{name: safe(value) for name, value in values.items()})
    (errors if err else console).print(text, soft_wrap=True)


def line(text: object, *, err: bool = False) -> None:
    """One line of plain text: no markup, never wrapped."""
    (errors if err else console).print(clean(text), markup=False, soft_wrap=True)


def cell(value: object) -> Text:
    """A table cell holding user text (never read as markup)."""
    return Text(clean("" if value is None else value))


def print_table(table: Table) -> None:
    """A table whose cells wrap, never cut: a long title or name folds onto the next line of its
    cell at any width (80 columns when stdout is not a terminal) instead of ending in "…"."""
    for column in table.columns:
        column.overflow = "fold"
    console.print(table)


def one_line(message: object) -> str:
    """A message on one line: its own line breaks become ``；``."""
    return "；".join(part.strip() for part in clean(message).splitlines() if part.strip())


def error_line(message: object, *, label: str = "错误 / error:") -> None:
    """An error as one line on stderr, never wrapped (also when stderr is not a terminal)."""
    errors.print(Text.assemble((label, "red"), " ", one_line(message)), soft_wrap=True)


@contextmanager
def waiting(text: object) -> Iterator[Callable[[object], None]]:
    """A spinner on stderr while something runs elsewhere; yields ``update(text)`` (plain text).

    On a terminal only: when stderr is a file or a pipe nothing is drawn (the caller prints the
    lines that matter with ``line(..., err=True)``).
    """
    if not errors.is_terminal:
        yield lambda _text: None
        return
    with errors.status(Text(clean(text))) as status:
        yield lambda new: status.update(Text(clean(new)))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colours, no wrapping), Chinese kept readable."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=_default))
