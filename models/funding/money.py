"""The money of a grant, in parts that always add up, and the settlement rule's arithmetic (pure,
integer fen; light: ``grantflow report`` reads it without the .docx engine).

``grant_money``: every part from the grant's tranches (paid and settled-off amounts, states) and
its verified spending, so that

    granted = paid + reduced (据实结算核减) + cancelled + withheld + still due
    paid    = used + to return + still in hand
    spent   = used + borne by the organisation + spent ahead of the next tranche

Every paper, the CLI's report and the export print these parts, from this one function.

``net_settlement``: the configured ``settlement.rule`` (据实结算) — at 结项 the final tranche and the
balance are settled together: the final tranche pays what the verified spending exceeds the
tranches paid before, at most its planned amount; what those exceed the spending is returned.
One of the two is always zero: never "pay the 尾款 and return the balance" at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from models.competition.config import SettlementRule
from models.funding.tables import Tranche
from models.money import Fen
from models.states import TrancheState


@dataclass(frozen=True)
class FinalSettlement:
    """The final tranche and the balance, settled together at 结项 by the configured rule."""

    rule: SettlementRule
    planned_fen: Fen  # the final tranche as the plan has it
    paid_before_fen: Fen  # the tranches paid before it
    spent_fen: Fen  # the verified spending
    pay_fen: Fen  # what the final tranche pays
    reduced_fen: Fen  # what the settlement takes off it (据实结算核减)
    to_return_fen: Fen  # what was paid beyond the verified spending (结余退回)


def net_settlement(
    *, planned_fen: Fen, paid_before_fen: Fen, spent_fen: Fen, rule: SettlementRule = SettlementRule.net
) -> FinalSettlement:
    """据实结算 (``SettlementRule.net``): the final tranche pays what the verified spending exceeds
    the tranches paid before, at most its planned amount; what the tranches paid before exceeds
    the spending is returned. One of the two is always zero."""
    pay = min(planned_fen, max(0, spent_fen - paid_before_fen))
    return FinalSettlement(
        rule=rule,
        planned_fen=planned_fen,
        paid_before_fen=paid_before_fen,
        spent_fen=spent_fen,
        pay_fen=pay,
        reduced_fen=planned_fen - pay,
        to_return_fen=max(0, paid_before_fen - spent_fen),
    )


@dataclass(frozen=True)
class GrantMoney:
    """One grant's money in parts (integer fen), so that every identity holds:

    granted = paid + reduced + cancelled + withheld + due    (what became of the grant)
    paid    = used + to_return + in_hand                     (what became of the money paid)
    spent   = used + borne + advanced                        (who paid for the verified spending)

    ``closed``: the grant is completed or terminated, its money settled — a balance is then to be
    returned, and spending the grant did not pay is the organisation's own (自行承担); while it
    runs, they are money still in hand and spending ahead of the next tranche.
    """

    granted_fen: Fen
    paid_fen: Fen
    reduced_fen: Fen  # 据实结算核减
    cancelled_fen: Fen  # 终止取消
    withheld_fen: Fen  # 暂缓或不予拨付
    due_fen: Fen  # 尚待拨付 (planned or due)
    spent_fen: Fen  # 核定支出
    closed: bool

    @property
    def used_fen(self) -> Fen:
        return min(self.spent_fen, self.paid_fen)

    @property
    def to_return_fen(self) -> Fen:
        return max(0, self.paid_fen - self.spent_fen) if self.closed else 0

    @property
    def in_hand_fen(self) -> Fen:
        return 0 if self.closed else max(0, self.paid_fen - self.spent_fen)

    @property
    def borne_fen(self) -> Fen:
        return max(0, self.spent_fen - self.paid_fen) if self.closed else 0

    @property
    def advanced_fen(self) -> Fen:
        return 0 if self.closed else max(0, self.spent_fen - self.paid_fen)


def grant_money(tranches: Iterable[Tranche], *, spent_fen: Fen, closed: bool) -> GrantMoney:
    """The parts of a grant's money from its tranches and its verified spending (see GrantMoney)."""
    parts = dict.fromkeys(("granted", "paid", "reduced", "cancelled", "withheld", "due"), 0)
    for tranche in tranches:
        parts["granted"] += tranche.amount_fen
        parts["reduced"] += tranche.reduced_fen
        if tranche.state is TrancheState.released:
            parts["paid"] += tranche.paid_fen
        elif tranche.state is TrancheState.cancelled:
            parts["cancelled"] += tranche.amount_fen - tranche.reduced_fen
        elif tranche.state is TrancheState.withheld:
            parts["withheld"] += tranche.amount_fen
        else:
            parts["due"] += tranche.amount_fen
    return GrantMoney(
        granted_fen=parts["granted"],
        paid_fen=parts["paid"],
        reduced_fen=parts["reduced"],
        cancelled_fen=parts["cancelled"],
        withheld_fen=parts["withheld"],
        due_fen=parts["due"],
        spent_fen=spent_fen,
        closed=closed,
    )
