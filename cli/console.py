"""How the CLI speaks: rich tables for people, ``--json`` for programs, one line for errors."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


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
