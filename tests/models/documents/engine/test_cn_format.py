"""Percentages as every paper prints them: whole percent, rounded half-up, by one function."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.documents.engine.cn_format import percent


@pytest.mark.parametrize(
    ("part", "whole", "printed"),
    [
        (8, 12, "67%"),  # 66.67: rounded, not truncated to 66%
        (3_240, 4_920, "66%"),  # 65.85: the annual report's delivery
        (1, 8, "13%"),  # 12.5: half-up, not half-to-even (12%)
        (5, 8, "63%"),  # 62.5
        (1, 200, "1%"),  # 0.5
        (0, 7, "0%"),
        (7, 7, "100%"),
        (3_650_00, 3_000_00, "122%"),  # over the plan
        (Decimal("84.5"), 100, "85%"),
        (5, 0, "—"),  # nothing planned
    ],
)
def test_percent_rounds_half_up(part, whole, printed):
    assert percent(part, whole) == printed
