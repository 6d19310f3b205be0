"""A grant's money in integer fen: budget against actual per item, the settlement rule (the final
tranche and the balance settled together, one of them always zero), and the parts that add up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.evaluation.spending import reconcile, spent_by_line
from models.funding.money import grant_money, net_settlement
from models.funding.tables import Tranche
from models.states import TrancheState


def _tranche(seq: int, amount: int, state: TrancheState, *, paid: int = 0, reduced: int = 0) -> Tranche:
    return Tranche(
        grant_id=1,
        seq=seq,
        label=f"第{seq}期",
        percent=0,
        amount_fen=amount,
        gate="signing",
        state=state,
        paid_fen=paid,
        reduced_fen=reduced,
    )


def test_reconcile_lines_budget_against_actual():
    money = grant_money([_tranche(1, 800_000, TrancheState.planned)], spent_fen=600_050, closed=False)
    result = reconcile(
        money=money,
        budget=[("物资", 300_000), ("培训", 200_000), ("物资", 100_000), ("宣传", 200_000)],
        spent={"物资": 380_000, "培训": 200_050, "交通": 20_000},
    )
    assert [(line.item, line.budget_fen, line.spent_fen, line.difference_fen) for line in result.lines] == [
        ("物资", 400_000, 380_000, -20_000),
        ("培训", 200_000, 200_050, 50),
        ("宣传", 200_000, 0, -200_000),
        ("交通", 0, 20_000, 20_000),
    ]
    assert result.lines_spent_fen == 600_050
    assert all(isinstance(v, int) for v in result.as_json().values() if not isinstance(v, list))


@pytest.mark.parametrize(
    ("paid_before", "spent", "pay", "reduced", "to_return"),
    [
        (480_000, 600_000, 120_000, 0, 0),  # everything spent: the final tranche in full
        (480_000, 550_000, 70_000, 50_000, 0),  # underspent: planned − underspend
        (480_000, 480_000, 0, 120_000, 0),  # spent exactly what was paid: no final, nothing back
        (480_000, 453_300, 0, 120_000, 26_700),  # paid beyond the spending: the balance returned
        (480_000, 700_000, 120_000, 0, 0),  # above the grant (refused at the forms): never beyond the plan
    ],
)
def test_net_settlement_settles_the_final_tranche_and_the_balance_together(
    paid_before, spent, pay, reduced, to_return
):
    settled = net_settlement(planned_fen=120_000, paid_before_fen=paid_before, spent_fen=spent)
    assert (settled.pay_fen, settled.reduced_fen, settled.to_return_fen) == (pay, reduced, to_return)


@given(
    planned=st.integers(0, 10**9),
    paid_before=st.integers(0, 10**9),
    spent=st.integers(0, 2 * 10**9),
)
def test_net_settlement_never_pays_and_returns_at_once(planned, paid_before, spent):
    settled = net_settlement(planned_fen=planned, paid_before_fen=paid_before, spent_fen=spent)
    assert settled.pay_fen == 0 or settled.to_return_fen == 0
    assert settled.pay_fen + settled.reduced_fen == planned and settled.pay_fen >= 0
    assert settled.to_return_fen == max(0, paid_before - spent)


@given(
    amounts=st.lists(st.integers(0, 10**8), min_size=1, max_size=5),
    states=st.lists(st.sampled_from(list(TrancheState)), min_size=5, max_size=5),
    cuts=st.lists(st.integers(0, 100), min_size=5, max_size=5),
    spent=st.integers(0, 10**9),
    closed=st.booleans(),
)
def test_grant_money_parts_always_add_up(amounts, states, cuts, spent, closed):
    tranches = []
    for seq, amount in enumerate(amounts, start=1):
        state, cut = states[seq - 1], cuts[seq - 1]
        reduced = amount * cut // 100 if state in (TrancheState.released, TrancheState.cancelled) else 0
        paid = amount - reduced if state is TrancheState.released else 0
        tranches.append(_tranche(seq, amount, state, paid=paid, reduced=reduced))
    money = grant_money(tranches, spent_fen=spent, closed=closed)
    parts = money.paid_fen + money.reduced_fen + money.cancelled_fen + money.withheld_fen + money.due_fen
    assert money.granted_fen == sum(amounts) == parts
    assert money.paid_fen == money.used_fen + money.to_return_fen + money.in_hand_fen
    assert money.spent_fen == money.used_fen + money.borne_fen + money.advanced_fen
    if not closed:
        assert money.to_return_fen == money.borne_fen == 0


@pytest.mark.parametrize("value", [12.5, "12", True])
def test_spent_by_line_refuses_anything_but_integer_fen(value):
    with pytest.raises(ValueError, match="整数分"):
        spent_by_line({"spent_by_line": {"物资": value}})
