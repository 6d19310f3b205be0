"""Panel agreement: ICC(2,1), ICC(2,k) and Kendall's W against values computed by hand, the
Shrout & Fleiss (1979) textbook example, and (when installed) pingouin."""

from __future__ import annotations

import itertools
import json
import warnings
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.review.agreement import (
    icc1,
    icc2_1,
    icc2_k,
    kendall_w,
    largest_complete_block,
    one_way_mean_squares,
    panel_agreement,
)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def test_icc_shrout_fleiss_example_matches_the_paper():
    single, average = icc2_1(SHROUT_FLEISS), icc2_k(SHROUT_FLEISS)
    assert single.value is not None and average.value is not None
    assert round(single.value, 2) == Decimal("0.29")
    assert round(average.value, 2) == Decimal("0.62")
    # to four places: MSR = 11.24, MSC = 32.49, MSE = 1.02 (the paper's ANOVA table)
    assert (single.value, average.value) == (Decimal("0.2898"), Decimal("0.6201"))


def test_icc_small_matrix_by_hand():
    # grand mean 3.5; MSR = 8, MSC = 1.5, MSE = 0
    # ICC(2,1) = 8 / (8 + 0 + 2·1.5/3) = 8/9; ICC(2,2) = 8 / (8 + 1.5/3) = 16/17
    matrix = [[1, 2], [3, 4], [5, 6]]
    assert icc2_1(matrix).value == Decimal("0.8889")
    assert icc2_k(matrix).value == Decimal("0.9412")


def test_icc_perfect_agreement_is_one():
    matrix = [[Decimal("70.5")] * 3, [Decimal(80)] * 3, [Decimal(95)] * 3]
    assert icc2_1(matrix).value == Decimal(1)
    assert icc2_k(matrix).value == Decimal(1)


def test_icc_no_variance_is_none_with_reason():
    stat = icc2_1([[5, 5], [5, 5]])
    assert stat.value is None
    assert "no variance" in stat.reason


def test_icc_incomplete_matrix_is_none_with_reason():
    stat = icc2_k([[1, 2, None], [3, 4, 5]])
    assert stat.value is None
    assert "incomplete design" in stat.reason and "设计不完整" in stat.reason


def test_icc_single_judge_is_none_with_reason():
    stat = icc2_1([[1], [2], [3]])
    assert stat.value is None
    assert "2 judges" in stat.reason


def test_kendall_w_shrout_fleiss_with_tie_correction_by_hand():
    # rank sums R = 17, 6, 19, 7.5, 23.5, 11 (mean 14): S = 239.5;
    # ties Σ(t³ − t) = 6 + 12 + 6 + 6 = 30; W = 12·239.5 / (16·210 − 4·30) = 2874 / 3240
    assert kendall_w(SHROUT_FLEISS).value == Decimal("0.8870")


def test_kendall_w_without_ties_by_hand():
    # judges rank 3 targets: (1,2,3), (1,3,2), (2,1,3): R = 4, 6, 8, S = 8; W = 12·8 / (9·24) = 4/9
    matrix = [[1, 1, 2], [2, 3, 1], [3, 2, 3]]
    assert kendall_w(matrix).value == Decimal("0.4444")


def test_kendall_w_total_agreement_is_one():
    matrix = [[10, 20, 30], [11, 21, 31], [12, 22, 32]]
    assert kendall_w(matrix).value == Decimal(1)


def test_kendall_w_all_tied_is_none_with_reason():
    stat = kendall_w([[3, 3], [3, 3]])
    assert stat.value is None
    assert "ties" in stat.reason


def test_largest_complete_block_picks_most_cells():
    # judge 3 scored only target 1; targets 1-3 by judges 1 and 2: block 3 × 2
    cells = {(t, j): Decimal(1) for t in (1, 2, 3) for j in (1, 2)} | {(1, 3): Decimal(1)}
    assert largest_complete_block(cells) == ((1, 2, 3), (1, 2))


def test_largest_complete_block_none_without_two_by_two():
    cells = {(1, 1): Decimal(1), (2, 2): Decimal(1), (3, 3): Decimal(1)}
    assert largest_complete_block(cells) is None


def _every_block_by_brute_force(cells):
    """The largest complete block by trying every subset of judges (small inputs only)."""
    targets = sorted({t for t, _ in cells})
    judges = sorted({j for _, j in cells})
    best = None
    for size in range(2, len(judges) + 1):
        for chosen in itertools.combinations(judges, size):
            block_targets = tuple(t for t in targets if all((t, j) in cells for j in chosen))
            if len(block_targets) < 2:
                continue
            score = (len(block_targets) * size, len(block_targets), tuple(-j for j in chosen))
            if best is None or score > best[0]:
                best = (score, block_targets, chosen)
    return None if best is None else (best[1], best[2])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sets(st.integers(1, 7), min_size=2, max_size=4), max_size=14),
    st.sets(st.integers(1, 14), max_size=3),
)
def test_largest_complete_block_equals_trying_every_set_of_judges(panels, complete_targets):
    """Each target's panel of 2–4 of 7 experts, some targets scored by all 7 (wide sets beside narrow)."""
    cells = {(t, j): Decimal(1) for t, panel in enumerate(panels, 1) for j in panel} | {
        (t, j): Decimal(1) for t in complete_targets for j in range(1, 8)
    }
    assert largest_complete_block(cells) == _every_block_by_brute_force(cells)


def test_largest_complete_block_found_where_panels_meet():
    """Panels {1,2,3}, {1,2,4}, {1,2,5}: no panel twice, the block is where they meet."""
    cells = {
        (t, j): Decimal(1) for t, panel in enumerate(({1, 2, 3}, {1, 2, 4}, {1, 2, 5}), 1) for j in panel
    }
    assert largest_complete_block(cells) == ((1, 2, 3), (1, 2))


def test_largest_complete_block_of_panels_wider_than_the_pair_index():
    """Sets of 30 judges are met by scanning, not by the pair index: the same answer."""
    cells = {(t, j): Decimal(1) for t in (1, 2, 3) for j in range(1, 31)} | {
        (t, j): Decimal(1) for t in (4, 5) for j in (1, 2, 40)
    }
    assert largest_complete_block(cells) == ((1, 2, 3), tuple(range(1, 31)))


def test_panel_agreement_complete_design_uses_everything():
    cells = {(t, j): Decimal(v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)}
    panel = panel_agreement(cells)
    assert panel.icc2_1.value == Decimal("0.2898")
    assert "complete design" in panel.icc2_1.basis
    assert json.loads(json.dumps(panel.as_json()))["icc2_k"]["value"] == "0.6201"


def test_panel_agreement_incomplete_design_names_the_block():
    cells = {(t, j): Decimal(v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)}
    del cells[(5, 3)]  # judge 3 did not score target 5: 5 targets × 4 judges (20) beat 6 × 3 (18)
    panel = panel_agreement(cells)
    assert panel.targets == (0, 1, 2, 3, 4) and panel.judges == (0, 1, 2, 3)
    assert "largest complete block of 5 applications × 4 experts" in panel.kendall_w.basis
    assert panel.icc2_1.value == icc2_1(SHROUT_FLEISS[:5]).value


def test_panel_agreement_without_block_is_null_with_reason():
    panel = panel_agreement({(1, 1): Decimal(80), (2, 2): Decimal(70)})
    as_json = panel.as_json()
    for name in ("icc2_1", "icc2_k", "kendall_w"):
        assert as_json[name]["value"] is None
        assert "incomplete design" in as_json[name]["reason"]


scores = st.integers(min_value=0, max_value=100)
matrices = st.integers(min_value=2, max_value=7).flatmap(
    lambda k: st.lists(st.lists(scores, min_size=k, max_size=k), min_size=3, max_size=9)
)


def test_a_denominator_of_exactly_zero_is_undefined_not_a_huge_figure():
    """[[0, 0], [0, 1], [1, 0]]: MSR = 1/6, MSC = 0, MSE = 1/2, so ICC(2,k)'s denominator
    MSR + (MSC − MSE)/n = 1/6 − 1/6 is zero. Rounded to 34 digits on the way it was 10⁻³⁴ and the
    figure 10³³ (found by hypothesis on a fresh machine); exact, it is undefined. pingouin, in
    floats, gives −1.2·10¹⁶ for it, which is why the comparison below leaves undefined cases out."""
    average = icc2_k([[0, 0], [0, 1], [1, 0]])
    assert average.value is None and "no variance: undefined" in average.reason
    single = icc2_1([[0, 0], [0, 1], [1, 0]])
    assert single.value == Decimal("-1.0000")  # (1/6 − 1/2) / (1/6 + 1/2 + 2·(0 − 1/2)/3) = (−1/3)/(1/3)


@settings(max_examples=40, deadline=None)
@given(matrices)
def test_icc_agrees_with_pingouin(matrix):
    pingouin = pytest.importorskip("pingouin")
    pandas = pytest.importorskip("pandas")
    single, average = icc2_1(matrix), icc2_k(matrix)
    assume(single.value is not None and average.value is not None)  # 0/0: pingouin gives nan
    frame = pandas.DataFrame(
        [(t, j, v) for t, row in enumerate(matrix) for j, v in enumerate(row)], columns=["t", "j", "v"]
    )
    with warnings.catch_warnings():
        # pingouin 0.7 uses a pandas keyword pandas 3 deprecates, and its F test divides by MSE = 0
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        table = pingouin.intraclass_corr(frame, targets="t", raters="j", ratings="v").set_index("Type")
    # pingouin ≥ 0.7 labels case 2 "ICC(A,1)" / "ICC(A,k)" (absolute agreement); older ones "ICC2"
    labels = ("ICC(A,1)", "ICC(A,k)") if "ICC(A,1)" in table.index else ("ICC2", "ICC2k")
    assert abs(float(single.value) - table.loc[labels[0], "ICC"]) < 6e-5
    assert abs(float(average.value) - table.loc[labels[1], "ICC"]) < 6e-5


# ---- one-way ICC(1,1) / ICC(1,k̄) for designs where each application has its own experts -------------


def test_icc1_shrout_fleiss_example_matches_the_paper():
    # Shrout & Fleiss (1979) report ICC(1,1) = .17 and ICC(1,k) = .44 for it (BMS 11.24, WMS 6.26)
    one = icc1(SHROUT_FLEISS)
    assert one.icc1_1.value == Decimal("0.1657") and one.icc1_k.value == Decimal("0.4428")
    assert one.k0 == Decimal("4.0000")  # balanced: k₀ = k


def test_icc1_unbalanced_example_by_hand():
    # Three applications scored by 2, 3 and 4 experts:
    #   A = 8, 6        mean 7   Σ(x − x̄ᵢ)² = 1 + 1         = 2
    #   B = 4, 2, 3     mean 3   Σ(x − x̄ᵢ)² = 1 + 1 + 0     = 2
    #   C = 7, 9, 8, 8  mean 8   Σ(x − x̄ᵢ)² = 1 + 1 + 0 + 0 = 2
    # N = 9, n = 3, grand mean = 55/9; deviations of the means: 8/9, −28/9, 17/9
    # SSB = (2·64 + 3·784 + 4·289)/81 = 3636/81       MSB = SSB/(n − 1) = 202/9 ≈ 22.444
    # SSW = 6                                           MSW = SSW/(N − n) = 6/6 = 1
    # k₀  = (N − Σnᵢ²/N)/(n − 1) = (9 − 29/9)/2 = 26/9 ≈ 2.8889
    # ICC(1,1) = (202/9 − 1)/(202/9 + (26/9 − 1)·1) = (193/9)/(219/9) = 193/219 = 0.88127…
    # ICC(1,k̄) = (202/9 − 1)/(202/9) = 193/202 = 0.95544…
    groups = [[8, 6], [4, 2, 3], [7, 9, 8, 8]]
    msb, msw, k0 = one_way_mean_squares([[Decimal(x) for x in g] for g in groups])
    assert (msb, msw) == (Fraction(202, 9), Fraction(1)) and k0 == Fraction(26, 9)  # exact, not 34 digits
    one = icc1(groups)
    assert one.icc1_1.value == Decimal("0.8813") and one.icc1_k.value == Decimal("0.9554")
    assert one.k0 == Decimal("2.8889") and (one.targets, one.scores) == (3, 9)
    assert "k₀ = (N − Σnᵢ²/N) / (n − 1)" in one.icc1_1.formula


def test_icc1_unbalanced_example_agrees_with_numpy():
    numpy = pytest.importorskip("numpy")
    groups = [[81, 77, 90, 85, 79], [62, 70, 66], [88, 91, 85, 90], [70, 75, 72, 68, 74], [55, 61]]
    values = [numpy.array(g, dtype=float) for g in groups]
    allv = numpy.concatenate(values)
    sizes = numpy.array([len(g) for g in values])
    msb = sum(len(g) * (g.mean() - allv.mean()) ** 2 for g in values) / (len(values) - 1)
    msw = sum(((g - g.mean()) ** 2).sum() for g in values) / (len(allv) - len(values))
    k0 = (len(allv) - (sizes**2).sum() / len(allv)) / (len(values) - 1)
    one = icc1(groups)
    assert abs(float(one.icc1_1.value) - (msb - msw) / (msb + (k0 - 1) * msw)) < 6e-5
    assert abs(float(one.icc1_k.value) - (msb - msw) / msb) < 6e-5


def test_icc1_needs_two_targets_and_a_repeated_score():
    assert icc1([[80, 82]]).icc1_1.value is None
    lonely = icc1([[80], [70]])
    assert lonely.icc1_1.value is None and "a target with 2 scores" in lonely.icc1_k.reason
    flat = icc1([[5, 5], [5, 5, 5]])
    assert flat.icc1_1.value is None and "no variance" in flat.icc1_1.reason


@settings(max_examples=30, deadline=None)
@given(matrices)
def test_icc1_agrees_with_pingouin_on_balanced_designs(matrix):
    pingouin = pytest.importorskip("pingouin")
    pandas = pytest.importorskip("pandas")
    one = icc1(matrix)
    assume(one.icc1_1.value is not None and one.icc1_k.value is not None)
    frame = pandas.DataFrame(
        [(t, j, v) for t, row in enumerate(matrix) for j, v in enumerate(row)], columns=["t", "j", "v"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        table = pingouin.intraclass_corr(frame, targets="t", raters="j", ratings="v").set_index("Type")
    labels = ("ICC(1,1)", "ICC(1,k)") if "ICC(1,1)" in table.index else ("ICC1", "ICC1k")
    assert abs(float(one.icc1_1.value) - table.loc[labels[0], "ICC"]) < 6e-5
    assert abs(float(one.icc1_k.value) - table.loc[labels[1], "ICC"]) < 6e-5


def test_panel_agreement_incomplete_design_applies_the_one_way_figures():
    # 4 applications, 4 experts, each application scored by its own 2 or 3 experts
    cells = {
        (1, 1): Decimal(80), (1, 2): Decimal(84), (1, 3): Decimal(78),
        (2, 2): Decimal(65), (2, 4): Decimal(70),
        (3, 1): Decimal(90), (3, 3): Decimal(88), (3, 4): Decimal(93),
        (4, 1): Decimal(72), (4, 2): Decimal(75),
    }  # fmt: skip
    panel = panel_agreement(cells)
    as_json = json.loads(json.dumps(panel.as_json()))
    assert as_json["design"] == "incomplete" and as_json["applies"] == ["icc1_1", "icc1_k"]
    assert "each application scored by 2–3 experts, 10 scores" in as_json["design_text"]
    expected = icc1([[80, 84, 78], [65, 70], [90, 88, 93], [72, 75]])
    assert as_json["icc1_1"]["value"] == str(expected.icc1_1.value)
    assert as_json["icc1_k"]["value"] == str(expected.icc1_k.value)
    assert as_json["k0"] == str(expected.k0) and as_json["icc1_1"]["basis"].endswith(
        "all 10 scores of 4 applications"
    )
    assert as_json["icc1_1"]["formula"].startswith("ICC(1,1) = (MSB − MSW)")
    # the two-way figures stay, for reference, on the largest complete block
    assert "largest complete block" in as_json["icc2_1"]["basis"]


def test_panel_agreement_complete_design_applies_the_two_way_figures():
    cells = {(t, j): Decimal(v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)}
    panel = panel_agreement(cells)
    assert panel.design == "complete" and panel.applies == ("icc2_1", "icc2_k", "kendall_w")
    assert panel.icc1_1.value == Decimal("0.1657")  # given too, for reference
    assert panel.icc2_k.formula == "ICC(2,k) = (MSR − MSE) / (MSR + (MSC − MSE)/n)"


def test_summary_prints_the_one_figure_of_each_design_in_words():
    complete = {(t, j): Decimal(v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)}
    summary = panel_agreement(complete).summary()
    # every expert scored every application: the two-way ICC(2,1), below 0.50 (Koo & Li): poor
    assert (summary["statistic"], summary["value"], summary["level"]) == ("icc2_1", "0.2898", "较差")
    assert summary["zh"].startswith(
        "4位专家对全部6个申报逐一评分，专家评分一致性系数（组内相关系数）为0.2898"
    )
    assert summary["zh"].endswith("专家之间评分一致性较差。")
    assert "0.2898" in summary["en"] and summary["en"].endswith(": poor.")

    incomplete = dict(complete)
    del incomplete[(5, 3)]  # one sheet missing: each application has its own experts
    panel = panel_agreement(incomplete)
    summary = panel.summary()
    assert summary["statistic"] == "icc1_1" and summary["value"] == str(panel.icc1_1.value)
    assert summary["zh"].startswith("6个申报各由3至4位专家评分（共4位专家，每人评其中一部分）")
    assert summary["en"].startswith("6 applications, each scored by 3–4 of 4 experts")
    assert panel.as_json()["summary"] == summary


@pytest.mark.parametrize(
    ("value", "level"),
    [("0.9500", "优秀"), ("0.9000", "优秀"), ("0.8999", "良好"), ("0.7500", "良好"), ("0.6000", "一般"),
     ("0.4999", "较差"), ("-0.2000", "较差")],
)  # fmt: skip
def test_summary_levels_follow_koo_and_li(value, level):
    from dataclasses import replace

    from models.review.agreement import Statistic

    complete = {(t, j): Decimal(v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)}
    panel = replace(panel_agreement(complete), icc2_1=Statistic(Decimal(value)))
    assert panel.summary()["level"] == level
    assert f"为{value}（" in panel.summary()["zh"]


def test_summary_without_a_figure_says_why_in_chinese():
    assert panel_agreement({}).summary()["zh"] == "尚无评分，未计算专家评分一致性。"
    flat = {(t, j): Decimal(70) for t in range(3) for j in range(3)}  # no variance at all
    summary = panel_agreement(flat).summary()
    assert summary["value"] is None
    assert (
        summary["zh"]
        == "3位专家对全部3个申报逐一评分；专家评分一致性系数：分母为零（评分没有差异），无法计算。"
    )
