"""Spending reconciliation of one grant (pure, integer fen): its money in parts and, per budget
line, the budget against what was reported spent.

Per budget line: the budget (the 申报书's 预算明细, lines of the same item added together) against
what the round's report says was spent on it (``CheckpointReport.indicators["spent_by_line"]``,
item → fen, else the grantee's report of that round); spending on an item the budget does not
have is listed too. The money — granted, paid, settled off, cancelled, withheld, still due, spent,
to return — is funding's ``GrantMoney`` (``models.funding.tranches.grant_money``): one function
per figure, whoever prints it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.funding.money import GrantMoney
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
    money: GrantMoney
    lines: list[LineSpending] = field(default_factory=list)

    @property
    def lines_spent_fen(self) -> Fen:
        return sum(line.spent_fen for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        money = self.money
        return {
            "granted_fen": money.granted_fen,
            "paid_fen": money.paid_fen,
            "reduced_fen": money.reduced_fen,
            "cancelled_fen": money.cancelled_fen,
            "withheld_fen": money.withheld_fen,
            "due_fen": money.due_fen,
            "spent_fen": money.spent_fen,
            "to_return_fen": money.to_return_fen,
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
    *, money: GrantMoney, budget: Sequence[tuple[str, Fen]], spent: Mapping[str, Fen]
) -> Reconciliation:
    """A grant's money, and budget against actual per item."""
    planned: dict[str, Fen] = {}
    for item, amount in budget:
        planned[item] = planned.get(item, 0) + amount
    lines = [LineSpending(item, amount, spent.get(item, 0)) for item, amount in planned.items()]
    lines += [LineSpending(item, 0, amount) for item, amount in spent.items() if item not in planned]
    return Reconciliation(money, lines)
