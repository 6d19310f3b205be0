"""Spending reconciliation: integer fen, budget against actual per item, money to return."""

from __future__ import annotations

import pytest

from models.evaluation.spending import reconcile, spent_by_line


def test_reconcile_lines_and_return():
    result = reconcile(
        granted_fen=800_000,
        released_fen=640_000,
        spent_fen=600_050,
        budget=[("物资", 300_000), ("培训", 200_000), ("物资", 100_000), ("宣传", 200_000)],
        spent={"物资": 380_000, "培训": 200_050, "交通": 20_000},
    )
    assert [(line.item, line.budget_fen, line.spent_fen, line.difference_fen) for line in result.lines] == [
        ("物资", 400_000, 380_000, -20_000),
        ("培训", 200_000, 200_050, 50),
        ("宣传", 200_000, 0, -200_000),
        ("交通", 0, 20_000, 20_000),
    ]
    assert result.to_return_fen == 39_950
    assert all(isinstance(v, int) for v in result.as_json().values() if not isinstance(v, list))


def test_overspending_returns_nothing():
    assert reconcile(granted_fen=1, released_fen=100, spent_fen=150, budget=[], spent={}).to_return_fen == 0


@pytest.mark.parametrize("value", [12.5, "12", True])
def test_spent_by_line_refuses_anything_but_integer_fen(value):
    with pytest.raises(ValueError, match="整数分"):
        spent_by_line({"spent_by_line": {"物资": value}})
