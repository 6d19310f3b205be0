"""Score sheets to a ranking: validation, totals, every aggregation, deviation, flags and ties,
each against values computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.competition.config import Aggregation, Criterion, TieBreak
from models.errors import InputError
from models.review.aggregation import (
    RankEntry,
    aggregate,
    check_points,
    expert_total,
    flags_for,
    plain_number,
    population_std,
    rank_entries,
)

D = Decimal
# Σ max_points × weight = 40·1 + 20·2 + 40·0.5 = 100
RUBRIC = [
    Criterion(code="need", name="需求分析", max_points=D(40), weight=D(1), step=D("0.5")),
    Criterion(code="design", name="项目设计", max_points=D(20), weight=D(2), step=D(1)),
    Criterion(code="budget", name="预算合理性", max_points=D(40), weight=D("0.5"), step=D("0.5")),
]


def test_check_points_valid_sheet_returns_decimals():
    points = check_points({"need": "35.5", "design": 18, "budget": 30.5}, RUBRIC, where="sheet")
    assert points == {"need": D("35.5"), "design": D(18), "budget": D("30.5")}
    assert all(isinstance(v, Decimal) for v in points.values())


def test_check_points_lists_every_problem_by_field():
    with pytest.raises(InputError) as caught:
        check_points({"need": "41", "design": "12.5", "budget": "abc", "bogus": "1"}, RUBRIC, where="sheet")
    fields = {p.field: p for p in caught.value.problems}
    assert set(fields) == {"need", "design", "budget", "bogus"}
    assert "0 到 40" in fields["need"].zh and "between 0 and 40" in fields["need"].en
    assert "multiple of 1" in fields["design"].en
    assert "not a number" in fields["budget"].en
    assert "no criterion" in fields["bogus"].en


def test_check_points_submit_requires_every_criterion():
    with pytest.raises(InputError) as caught:
        check_points({"need": "", "design": None}, RUBRIC, where="sheet")
    assert sorted(p.field for p in caught.value.problems) == ["budget", "design", "need"]
    assert all("not scored" in p.en for p in caught.value.problems)


def test_check_points_draft_allows_missing_but_checks_given():
    assert check_points({"need": "20"}, RUBRIC, where="draft", require_all=False) == {"need": D(20)}
    with pytest.raises(InputError) as caught:
        check_points({"need": "-1"}, RUBRIC, where="draft", require_all=False)
    assert [p.field for p in caught.value.problems] == ["need"]


def test_check_points_rejects_nan_and_infinity():
    with pytest.raises(InputError) as caught:
        check_points({"need": "NaN", "design": "Infinity", "budget": "1"}, RUBRIC, where="sheet")
    assert sorted(p.field for p in caught.value.problems) == ["design", "need"]


def test_expert_total_is_sum_of_points_times_weight():
    # 35.5·1 + 18·2 + 30.5·0.5 = 35.5 + 36 + 15.25 = 86.75
    points = {"need": D("35.5"), "design": D(18), "budget": D("30.5")}
    assert expert_total(points, RUBRIC) == D("86.75")


def test_expert_total_full_marks_equal_rubric_total():
    assert expert_total({"need": D(40), "design": D(20), "budget": D(40)}, RUBRIC) == D(100)


def test_expert_total_missing_criterion_raises():
    with pytest.raises(ValueError, match="budget"):
        expert_total({"need": D(1), "design": D(1)}, RUBRIC)


def test_aggregate_weighted_mean_by_hand():
    result = aggregate({1: D(80), 2: D(85), 3: D(91)}, method=Aggregation.weighted_mean)
    assert result.value == D("85.33")  # 256 / 3 = 85.333…
    assert result.dropped == ()
    assert result.spread == D(11)


def test_aggregate_rounds_half_up():
    assert aggregate({1: D("85.00"), 2: D("85.01")}, method=Aggregation.weighted_mean).value == D("85.01")


def test_aggregate_median_odd_and_even():
    assert aggregate({1: D(70), 2: D(90), 3: D(80)}, method=Aggregation.median).value == D(80)
    assert aggregate({1: D(70), 2: D(90), 3: D(80), 4: D(85)}, method=Aggregation.median).value == D("82.50")


def test_aggregate_trimmed_mean_drops_highest_and_lowest():
    totals = {1: D(70), 2: D(80), 3: D(85), 4: D(90), 5: D(99)}
    result = aggregate(totals, method=Aggregation.trimmed_mean, trimmed_min=5)
    assert result.value == D("85.00")  # (80 + 85 + 90) / 3
    assert (result.dropped_low, result.dropped_high) == (1, 5)
    assert result.kept == (2, 3, 4)


def test_aggregate_trimmed_mean_equal_extremes_drop_stable_expert():
    totals = {7: D(90), 3: D(90), 4: D(60), 9: D(60), 5: D(75)}
    result = aggregate(totals, method=Aggregation.trimmed_mean, trimmed_min=5)
    assert (result.dropped_low, result.dropped_high) == (4, 7)
    assert result.value == D(75)  # (60 + 75 + 90) / 3


def test_aggregate_trimmed_mean_below_minimum_is_plain_mean():
    totals = {1: D(70), 2: D(80), 3: D(90), 4: D(100)}
    result = aggregate(totals, method=Aggregation.trimmed_mean, trimmed_min=5)
    assert result.value == D(85)
    assert not result.trimmed
    assert flags_for(result, spread_limit=D(50), expected=4) == ["not_trimmed"]


def test_population_std_by_hand():
    # mean 85; squared deviations 25, 0, 25 → variance 50/3; √16.666… = 4.0824829…
    assert population_std([D(80), D(85), D(90)]).quantize(D("0.0001")) == D("4.0825")
    assert aggregate({1: D(80), 2: D(85), 3: D(90)}, method=Aggregation.median).std == D("4.08")


def test_population_std_single_score_is_zero():
    assert aggregate({1: D(77)}, method=Aggregation.weighted_mean).std == D(0)


def test_flags_disagreement_only_beyond_the_spread():
    at_limit = aggregate({1: D(70), 2: D(90)}, method=Aggregation.weighted_mean)
    beyond = aggregate({1: D(70), 2: D("90.5")}, method=Aggregation.weighted_mean)
    assert flags_for(at_limit, spread_limit=D(20), expected=2) == []
    assert flags_for(beyond, spread_limit=D(20), expected=2) == ["disagreement"]
    assert flags_for(beyond, spread_limit=D(20), expected=3) == ["disagreement", "incomplete"]


def _entry(
    key: int,
    ref: str,
    agg: str,
    means: tuple[str, ...] = ("10", "10"),
    amount: int = 500_000,
    at: datetime = datetime(2025, 2, 1, tzinfo=UTC),
) -> RankEntry:
    return RankEntry(
        key=key,
        ref=ref,
        aggregate=D(agg),
        criterion_means=tuple(D(m) for m in means),
        amount_fen=amount,
        submitted_at=at,
    )


NAMES = ("需求分析", "项目设计")


def test_rank_entries_orders_by_aggregate_without_notes():
    ranked = rank_entries(
        [_entry(1, "A", "80"), _entry(2, "B", "90"), _entry(3, "C", "85")],
        tie_break=[TieBreak.criterion],
        criterion_names=NAMES,
    )
    assert [(r.key, r.rank) for r in ranked] == [(2, 1), (3, 2), (1, 3)]
    assert all(r.tie_note == "" for r in ranked)


def test_rank_entries_tie_broken_by_first_differing_criterion():
    entries = [_entry(1, "A", "85", ("18", "20")), _entry(2, "B", "85", ("18", "22"))]
    ranked = rank_entries(entries, tie_break=[TieBreak.criterion, TieBreak.ref], criterion_names=NAMES)
    assert [r.key for r in ranked] == [2, 1]
    assert "“项目设计”平均分较高（22.00 > 20.00）" in ranked[0].tie_note
    assert "before A, having a higher mean on 项目设计: 22.00 > 20.00" in ranked[0].tie_note
    assert "after B, which has a higher mean on 项目设计" in ranked[1].tie_note


def test_rank_entries_tie_broken_by_lower_amount():
    entries = [_entry(1, "A", "85", amount=800_000), _entry(2, "B", "85", amount=600_000)]
    rules = [TieBreak.criterion, TieBreak.lower_amount]
    ranked = rank_entries(entries, tie_break=rules, criterion_names=NAMES)
    assert [r.key for r in ranked] == [2, 1]
    assert "申请金额较少（6,000.00 元 < 8,000.00 元）" in ranked[0].tie_note


def test_rank_entries_tie_broken_by_earlier_submission():
    late, early = datetime(2025, 2, 20, tzinfo=UTC), datetime(2025, 2, 10, tzinfo=UTC)
    entries = [_entry(1, "A", "85", at=late), _entry(2, "B", "85", at=early)]
    ranked = rank_entries(entries, tie_break=[TieBreak.earlier_submission], criterion_names=NAMES)
    assert [r.key for r in ranked] == [2, 1]
    assert "an earlier submission: 2025-02-10T00:00:00+00:00 before 2025-02-20" in ranked[0].tie_note
    assert "申报时间较早" in ranked[0].tie_note


def test_rank_entries_ref_always_ends_the_order():
    entries = [_entry(1, "JT-002", "85"), _entry(2, "JT-001", "85"), _entry(3, "JT-003", "70")]
    ranked = rank_entries(entries, tie_break=[TieBreak.lower_amount], criterion_names=NAMES)
    assert [(r.key, r.rank) for r in ranked] == [(2, 1), (1, 2), (3, 3)]
    assert "申报编号在前（JT-001 先于 JT-002）" in ranked[0].tie_note
    assert "tied at 85 among JT-001, JT-002: 1 of 2" in ranked[0].tie_note


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1E+1", "10"),
        ("-0", "0"),
        ("0.00", "0"),
        ("0E+3", "0"),
        ("18.50", "18.5"),
        ("2.5E-1", "0.25"),
        ("7", "7"),
    ],
)
def test_plain_number_drops_exponents_trailing_zeros_and_negative_zero(typed, stored):
    value = plain_number(Decimal(typed))
    assert str(value) == stored and value == Decimal(typed)
