"""Spending reconciliation of one grant (pure, integer fen): granted, released, spent, to return.

Per budget line: the budget (the 申报书's 预算明细, lines of the same item added together) against
what the final report says was spent on it (``CheckpointReport.indicators["spent_by_line"]``,
item → fen); spending on an item the budget does not have is listed too. The money to return is
what was released but not spent (never negative: overspending is the organisation's own money).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.money import Fen


@dataclass(frozen=True)
class LineSpending:
    item: str
    budget_fen: Fen
    spent_fen: Fen

    @property
    def difference_fen(self) -> Fen:
        return self.spent_fen - self.budget_fen


@dataclass(frozen=True)
class Reconciliation:
    granted_fen: Fen
    released_fen: Fen
    spent_fen: Fen
    lines: list[LineSpending] = field(default_factory=list)

    @property
    def to_return_fen(self) -> Fen:
        return max(0, self.released_fen - self.spent_fen)

    def as_json(self) -> dict[str, Any]:
        return {
            "granted_fen": self.granted_fen,
            "released_fen": self.released_fen,
            "spent_fen": self.spent_fen,
            "to_return_fen": self.to_return_fen,
            "lines": [
                {
                    "item": line.item,
                    "budget_fen": line.budget_fen,
                    "spent_fen": line.spent_fen,
                    "difference_fen": line.difference_fen,
                }
                for line in self.lines
            ],
        }


def spent_by_line(indicators: Mapping[str, Any]) -> dict[str, Fen]:
    """The report's spending per budget item; anything that is not whole fen is refused."""
    raw = indicators.get("spent_by_line") or {}
    if not isinstance(raw, Mapping):
        raise ValueError("spent_by_line 须为“科目: 金额（分）” / spent_by_line must map items to fen")
    spent: dict[str, Fen] = {}
    for item, fen in raw.items():
        if isinstance(fen, bool) or not isinstance(fen, int):
            raise ValueError(f"科目“{item}”的支出须为整数分 / {item!r}: spending must be integer fen")
        spent[str(item)] = fen
    return spent


def reconcile(
    *,
    granted_fen: Fen,
    released_fen: Fen,
    spent_fen: Fen,
    budget: Sequence[tuple[str, Fen]],
    spent: Mapping[str, Fen],
) -> Reconciliation:
    """Granted, released and spent money of one grant, and budget against actual per item."""
    planned: dict[str, Fen] = {}
    for item, amount in budget:
        planned[item] = planned.get(item, 0) + amount
    lines = [LineSpending(item, amount, spent.get(item, 0)) for item, amount in planned.items()]
    lines += [LineSpending(item, 0, amount) for item, amount in spent.items() if item not in planned]
    return Reconciliation(granted_fen, released_fen, spent_fen, lines)
