"""Panel agreement statistics, as pure functions on a targets × judges matrix (no database).

- ``icc2_1`` / ``icc2_k``: the intraclass correlation of Shrout & Fleiss (1979), case 2 — two-way
  random effects, absolute agreement — for one judge and for the mean of the k judges:

      ICC(2,1) = (MSR − MSE) / (MSR + (k−1)·MSE + k·(MSC − MSE)/n)
      ICC(2,k) = (MSR − MSE) / (MSR + (MSC − MSE)/n)

  with MSR, MSC, MSE the mean squares of targets (rows), judges (columns) and error of a two-way
  ANOVA without replication.
- ``kendall_w``: Kendall's coefficient of concordance with the correction for ties:
  W = 12·S / (m²(n³ − n) − m·ΣT), S = Σ(Rᵢ − R̄)², T = Σ(t³ − t) over each judge's tied groups.

  Each needs a complete matrix of at least 2 targets × 2 judges.
- ``icc1``: the one-way random-effects ICC of Shrout & Fleiss, case 1, for designs where each
  target has its own subset of judges (our review: each application is scored by 5 of 7 experts,
  some sheets missing). With n targets, target i scored nᵢ times (N = Σnᵢ scores), target means
  x̄ᵢ and grand mean x̄, the one-way ANOVA with unequal group sizes gives

      MSB = Σ nᵢ·(x̄ᵢ − x̄)² / (n − 1)          (between targets)
      MSW = Σᵢ Σⱼ (xᵢⱼ − x̄ᵢ)² / (N − n)        (within targets: judges and error together)
      k₀  = (N − Σnᵢ² / N) / (n − 1)            (the unbalanced-design group size; = k if balanced)

      ICC(1,1) = (MSB − MSW) / (MSB + (k₀ − 1)·MSW)    the reliability of a single score
      ICC(1,k̄) = (MSB − MSW) / MSB                     the reliability of the mean of k̄ = k₀ scores

  (ICC(1,k̄) is ICC(1,1) stepped up by Spearman–Brown to k₀ scores; with equal nᵢ = k both are
  Shrout & Fleiss's ICC(1,1) and ICC(1,k).) A target scored once adds to MSB only.

Each returns a ``Statistic``: a value (Decimal, rounded half-up to 4 places) or None with the reason
in Chinese and English, and the formula it used. Arithmetic is exact — rationals (``Fraction``)
from the Decimal scores to the final ratio, which alone becomes a Decimal (34 digits) — never
float: a mean of thirds is not rounded on the way, so a denominator that is zero is exactly zero
(no variance: undefined), never 10⁻³⁴ giving a figure of 10³³. ``panel_agreement`` takes the
cells of a possibly incomplete design and names the design: complete → the two-way figures apply;
incomplete → the one-way ICC(1,1) / ICC(1,k̄) on every score apply, and the two-way figures are
still given on the largest complete block, saying which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from itertools import combinations
from typing import Any

from models.bilingual import Bilingual

Matrix = Sequence[Sequence[Decimal | int | None]]
Shape = tuple[int, int, str]  # applications, experts, experts per application ("5" or "4–5")
FOUR_PLACES = Decimal("0.0001")
MAX_CANDIDATE_BLOCKS = 50_000


@dataclass(frozen=True)
class Statistic:
    """A statistic's value, or None and why; ``basis`` says which data it was computed on."""

    value: Decimal | None
    reason: str = ""
    basis: str = ""
    formula: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "value": None if self.value is None else str(self.value),
            "reason": self.reason or None,
            "basis": self.basis or None,
            "formula": self.formula or None,
        }


def _round(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        with localcontext() as ctx:
            ctx.prec = 34
            value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _design_problem(matrix: Matrix) -> str | None:
    n = len(matrix)
    k = len(matrix[0]) if n else 0
    if n < 2 or k < 2:
        return (
            f"至少需要 2 个评审对象 × 2 位评委（现为 {n} × {k}） / "
            f"needs 2 targets × 2 judges at least ({n} × {k})"
        )
    if any(len(row) != k for row in matrix):
        return "各行评委数不同 / rows have different numbers of judges"
    missing = sum(1 for row in matrix for cell in row if cell is None)
    if missing:
        return (
            f"设计不完整：缺少 {missing} 个评分（并非每位评委都评了每个对象） / "
            f"incomplete design: {missing} cells missing (not every judge scored every target)"
        )
    return None


def _mean_squares(matrix: Matrix) -> tuple[Fraction, Fraction, Fraction]:
    """(MSR, MSC, MSE) of the two-way ANOVA without replication, exactly."""
    rows = [[Fraction(Decimal(c)) for c in row if c is not None] for row in matrix]
    n, k = len(rows), len(rows[0])
    zero = Fraction(0)
    grand = sum((sum(r, zero) for r in rows), zero) / (n * k)
    row_means = [sum(r, zero) / k for r in rows]
    col_means = [sum((r[j] for r in rows), zero) / n for j in range(k)]
    ss_rows = k * sum(((m - grand) ** 2 for m in row_means), zero)
    ss_cols = n * sum(((m - grand) ** 2 for m in col_means), zero)
    ss_total = sum(((x - grand) ** 2 for r in rows for x in r), zero)
    ss_error = ss_total - ss_rows - ss_cols
    return ss_rows / (n - 1), ss_cols / (k - 1), ss_error / ((n - 1) * (k - 1))


FORMULAS = {
    "icc2_1": "ICC(2,1) = (MSR − MSE) / (MSR + (k−1)·MSE + k·(MSC − MSE)/n)",
    "icc2_k": "ICC(2,k) = (MSR − MSE) / (MSR + (MSC − MSE)/n)",
    "kendall_w": "W = 12·S / (m²(n³ − n) − m·ΣT)",
    "icc1_1": "ICC(1,1) = (MSB − MSW) / (MSB + (k₀ − 1)·MSW), k₀ = (N − Σnᵢ²/N) / (n − 1)",
    "icc1_k": "ICC(1,k̄) = (MSB − MSW) / MSB, k̄ = k₀",
}
NAMES = {
    "icc1_1": "ICC(1,1)",
    "icc1_k": "ICC(1,k̄)",
    "icc2_1": "ICC(2,1)",
    "icc2_k": "ICC(2,k)",
    "kendall_w": "Kendall's W",
}


def _icc(matrix: Matrix, *, average: bool) -> Statistic:
    problem = _design_problem(matrix)
    if problem:
        return Statistic(None, problem)
    n, k = len(matrix), len(matrix[0])
    msr, msc, mse = _mean_squares(matrix)
    single = msr + (k - 1) * mse + k * (msc - mse) / n
    denominator = msr + (msc - mse) / n if average else single
    if denominator == 0:
        return Statistic(None, "分母为零（评分没有差异），无法计算 / no variance: undefined")
    value = (msr - mse) / denominator
    return Statistic(_round(value), basis=f"{n} × {k}", formula=FORMULAS["icc2_k" if average else "icc2_1"])


def icc2_1(matrix: Matrix) -> Statistic:
    """ICC(2,1): the reliability of a single judge (two-way random, absolute agreement)."""
    return _icc(matrix, average=False)


def icc2_k(matrix: Matrix) -> Statistic:
    """ICC(2,k): the reliability of the mean of the k judges (two-way random, absolute agreement)."""
    return _icc(matrix, average=True)


def _ranks(values: Sequence[Decimal]) -> tuple[list[Decimal], int]:
    """Ranks 1 … n (ties get their mean rank) and Σ(t³ − t) over the tied groups."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [Decimal(0)] * len(values)
    ties = 0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        mean_rank = Decimal(start + end + 2) / 2
        for i in order[start : end + 1]:
            ranks[i] = mean_rank
        t = end - start + 1
        ties += t**3 - t
        start = end + 1
    return ranks, ties


def kendall_w(matrix: Matrix) -> Statistic:
    """Kendall's W of the judges (columns) ranking the targets (rows), corrected for ties."""
    problem = _design_problem(matrix)
    if problem:
        return Statistic(None, problem)
    n, m = len(matrix), len(matrix[0])
    with localcontext() as ctx:
        ctx.prec = 34
        rank_sums = [Decimal(0)] * n
        tie_total = 0
        for j in range(m):
            ranks, ties = _ranks([Decimal(cell) for row in matrix if (cell := row[j]) is not None])
            tie_total += ties
            rank_sums = [s + r for s, r in zip(rank_sums, ranks, strict=True)]
        mean_sum = Decimal(m * (n + 1)) / 2
        s = sum(((r - mean_sum) ** 2 for r in rank_sums), Decimal(0))
        denominator = m * m * (n**3 - n) - m * tie_total
        if denominator == 0:
            return Statistic(None, "每位评委都给全部对象同一名次，无法计算 / every judge ties all targets")
        value = 12 * s / denominator
    return Statistic(_round(value), basis=f"{n} × {m}", formula=FORMULAS["kendall_w"])


@dataclass(frozen=True)
class OneWay:
    """ICC(1,1) and ICC(1,k̄) of an unbalanced one-way design, with the ANOVA they came from."""

    icc1_1: Statistic
    icc1_k: Statistic
    k0: Decimal | None = None  # rounded to 4 places
    targets: int = 0  # n
    scores: int = 0  # N


def one_way_mean_squares(groups: Sequence[Sequence[Decimal]]) -> tuple[Fraction, Fraction, Fraction]:
    """(MSB, MSW, k₀) of a one-way ANOVA with unequal group sizes (see the module docstring), exactly."""
    exact = [[Fraction(x) for x in g] for g in groups]
    n = len(exact)
    sizes = [len(g) for g in exact]
    total = sum(sizes)
    zero = Fraction(0)
    grand = sum((x for g in exact for x in g), zero) / total
    means = [sum(g, zero) / len(g) for g in exact]
    ss_between = sum((size * (m - grand) ** 2 for size, m in zip(sizes, means, strict=True)), zero)
    ss_within = sum(((x - m) ** 2 for g, m in zip(exact, means, strict=True) for x in g), zero)
    k0 = (total - Fraction(sum(size * size for size in sizes), total)) / (n - 1)
    return ss_between / (n - 1), ss_within / (total - n), k0


def icc1(groups: Sequence[Sequence[Decimal | int]]) -> OneWay:
    """ICC(1,1) and ICC(1,k̄) (one-way random effects) of targets each scored by its own judges.

    ``groups[i]`` holds the scores of target i (any number ≥ 1; at least one target needs 2)."""
    clean = [[Decimal(x) for x in group] for group in groups if group]
    n, total = len(clean), sum(len(g) for g in clean)
    if n < 2 or total - n < 1:
        reason = (
            f"至少需要 2 个评审对象且至少一个对象有 2 个评分（现为 {n} 个对象、{total} 个评分） / "
            f"needs 2 targets and a target with 2 scores at least ({n} targets, {total} scores)"
        )
        return OneWay(Statistic(None, reason), Statistic(None, reason), None, n, total)
    msb, msw, k0 = one_way_mean_squares(clean)
    single_denominator = msb + (k0 - 1) * msw
    undefined = "分母为零（评分没有差异），无法计算 / no variance: undefined"
    single = (
        Statistic(_round((msb - msw) / single_denominator), formula=FORMULAS["icc1_1"])
        if single_denominator != 0
        else Statistic(None, undefined, formula=FORMULAS["icc1_1"])
    )
    average = (
        Statistic(_round((msb - msw) / msb), formula=FORMULAS["icc1_k"])
        if msb != 0
        else Statistic(None, undefined, formula=FORMULAS["icc1_k"])
    )
    return OneWay(single, average, _round(k0), n, total)


COMPLETE, INCOMPLETE, NO_SCORES = "complete", "incomplete", "none"
APPLIES = {
    COMPLETE: ("icc2_1", "icc2_k", "kendall_w"),
    INCOMPLETE: ("icc1_1", "icc1_k"),
    NO_SCORES: (),
}
# The one statistic a paper prints for a design: how closely two experts' scores of the same
# application agree (a single score's reliability) — ICC(2,1) when every expert scored every
# application, ICC(1,1) when each application had its own experts.
HEADLINE = {COMPLETE: "icc2_1", INCOMPLETE: "icc1_1"}
# Its level in words (Koo & Li 2016, "A guideline of selecting and reporting intraclass correlation
# coefficients"): below 0.50 poor, 0.50–0.75 moderate, 0.75–0.90 good, 0.90 and above excellent.
LEVELS = (
    (Decimal("0.90"), "优秀", "excellent"),
    (Decimal("0.75"), "良好", "good"),
    (Decimal("0.50"), "一般", "moderate"),
)
POOR = ("较差", "poor")


@dataclass(frozen=True)
class PanelAgreement:
    icc2_1: Statistic
    icc2_k: Statistic
    kendall_w: Statistic
    targets: tuple[int, ...] = ()  # the block the two-way statistics were computed on
    judges: tuple[int, ...] = ()
    icc1_1: Statistic = Statistic(None)
    icc1_k: Statistic = Statistic(None)
    k0: Decimal | None = None
    design: str = NO_SCORES  # complete | incomplete | none
    design_zh: str = ""  # the design in words
    design_en: str = ""
    shape: Shape | None = None  # how many applications and experts, and experts per application

    @property
    def applies(self) -> tuple[str, ...]:
        """The statistics that describe this design (the others are given for reference)."""
        return APPLIES[self.design]

    def summary(self) -> dict[str, str | None]:
        """The one figure papers and people are shown (``HEADLINE`` of the design), its level and one
        sentence saying what it means, in Chinese and English — the same wherever it is printed."""
        key = HEADLINE.get(self.design)
        stat = getattr(self, key) if key else None
        if key is None or stat is None or self.shape is None:
            return {"statistic": None, "value": None, "level": None, "zh": _NONE_ZH, "en": _NONE_EN}
        applications, experts, span = self.shape
        if self.design == COMPLETE:
            who = f"{experts}位专家对全部{applications}个申报逐一评分"
            who_en = f"{experts} experts scored all {applications} applications"
        else:
            each = span.replace("–", "至")
            who = f"{applications}个申报各由{each}位专家评分（共{experts}位专家，每人评其中一部分）"
            who_en = f"{applications} applications, each scored by {span} of {experts} experts"
        if stat.value is None:
            reason = Bilingual.parse(stat.reason)
            return {
                "statistic": key,
                "value": None,
                "level": None,
                "zh": f"{who}；专家评分一致性系数：{reason.zh}。",
                "en": f"{who_en}; the experts' agreement: {reason.en}.",
            }
        level, level_en = next(((zh, en) for floor, zh, en in LEVELS if stat.value >= floor), POOR)
        return {
            "statistic": key,
            "value": str(stat.value),
            "level": level,
            "zh": f"{who}，专家评分一致性系数（组内相关系数）为{stat.value}（最大为1，越接近1，不同专家给同一"
            f"项目的分数越接近；0.75以上为良好，0.90以上为优秀），专家之间评分一致性{level}。",
            "en": f"{who_en}; the experts' agreement (intraclass correlation) is {stat.value} (at most 1; "
            "the closer to 1, the closer two experts' scores of the same application; 0.75 and above "
            f"is good, 0.90 and above excellent): {level_en}.",
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "design_text": f"{self.design_zh} / {self.design_en}" if self.design_zh else None,
            "design_zh": self.design_zh or None,
            "applies": list(self.applies),
            "icc1_1": self.icc1_1.as_json(),
            "icc1_k": self.icc1_k.as_json(),
            "k0": None if self.k0 is None else str(self.k0),
            "icc2_1": self.icc2_1.as_json(),
            "icc2_k": self.icc2_k.as_json(),
            "kendall_w": self.kendall_w.as_json(),
            "block": {"applications": list(self.targets), "experts": list(self.judges)},
            "summary": self.summary(),
        }


_NONE_ZH = "尚无评分，未计算专家评分一致性。"
_NONE_EN = "no scores yet: the experts' agreement is not computed."


def _none(reason: str, **one_way: Any) -> PanelAgreement:
    missing = Statistic(None, reason)
    fields = {"icc1_1": missing, "icc1_k": missing, **one_way}
    return PanelAgreement(missing, missing, missing, **fields)


Block = tuple[tuple[int, ...], tuple[int, ...]]


def largest_complete_block(cells: Mapping[tuple[int, int], object]) -> Block | None:
    """The (targets, judges) of the complete block with the most cells (≥ 2 × 2), or None.

    Every maximal complete block's judges are the intersection of its targets' judge sets, so the
    candidates are the closure of those sets under intersection. Ties prefer more targets, then the
    smaller judge ids.

    Two sets can meet in two judges only if they share a pair of judges, so each set is intersected
    with the sets sharing one of its pairs (an index by pair), not with all of them; and a block's
    targets are looked for among the targets of its rarest judge. Both were scans of everything
    per set: 9,000 applications of three experts each took minutes.
    """
    targets = sorted({t for t, _ in cells})
    judges = sorted({j for _, j in cells})
    bit = {j: 1 << i for i, j in enumerate(judges)}
    masks = {t: 0 for t in targets}
    for t, j in cells:
        masks[t] |= bit[j]
    base = {m for m in masks.values() if m.bit_count() >= 2}
    partners = _Partners(base)
    candidates = set(base)
    frontier = set(base)
    while frontier:  # intersecting with the base sets, round by round, reaches every intersection
        new: set[int] = set()
        for a in frontier:
            for b in partners.of(a):
                both = a & b
                if both.bit_count() >= 2 and both not in candidates:
                    new.add(both)
            if len(candidates) + len(new) > MAX_CANDIDATE_BLOCKS:
                return None
        candidates |= new
        frontier = new
    targets_of: dict[int, list[int]] = {}  # judge position → targets, in order
    for t in targets:
        for position in _positions(masks[t]):
            targets_of.setdefault(position, []).append(t)
    best: tuple[tuple[int, int, tuple[int, ...]], tuple[int, ...], tuple[int, ...]] | None = None
    for mask in candidates:
        rarest = min(_positions(mask), key=lambda position: len(targets_of[position]))
        block_targets = tuple(t for t in targets_of[rarest] if masks[t] & mask == mask)
        if len(block_targets) < 2:
            continue
        block_judges = tuple(j for j in judges if bit[j] & mask)
        score = (len(block_targets) * len(block_judges), len(block_targets), tuple(-j for j in block_judges))
        if best is None or score > best[0]:
            best = (score, block_targets, block_judges)
    return None if best is None else (best[1], best[2])


_PAIRS_UP_TO = 24  # judges in a set indexed by its pairs (276 pairs); a wider set meets every set


class _Partners:
    """The sets of ``base`` that may meet a given set in two judges or more."""

    def __init__(self, base: set[int]) -> None:
        self.base = base
        self.wide: set[int] = set()
        self.by_pair: dict[tuple[int, int], list[int]] = {}
        for mask in base:
            positions = _positions(mask)
            if len(positions) > _PAIRS_UP_TO:
                self.wide.add(mask)
                continue
            for pair in combinations(positions, 2):
                self.by_pair.setdefault(pair, []).append(mask)

    def of(self, mask: int) -> set[int]:
        positions = _positions(mask)
        if len(positions) > _PAIRS_UP_TO:
            return self.base
        found = set(self.wide)
        for pair in combinations(positions, 2):
            found.update(self.by_pair.get(pair, ()))
        return found


def _positions(mask: int) -> list[int]:
    positions = []
    while mask:
        low = mask & -mask
        positions.append(low.bit_length() - 1)
        mask ^= low
    return positions


def _design(cells: Mapping[tuple[int, int], Decimal], one: OneWay) -> tuple[str, str, str, Shape]:
    targets = {t for t, _ in cells}
    judges = {j for _, j in cells}
    n, k = len(targets), len(judges)
    if len(cells) == n * k:
        return (
            COMPLETE,
            f"完整设计：{n} 个申报 × {k} 位专家，每位专家评了每个申报，按双因素随机效应（绝对一致）计算",
            f"complete design: {n} applications × {k} experts, every expert scored every application; "
            "two-way random effects, absolute agreement",
            (n, k, str(k)),
        )
    per_target: dict[int, int] = {}
    for t, _ in cells:
        per_target[t] = per_target.get(t, 0) + 1
    low, high = min(per_target.values()), max(per_target.values())
    span = f"{low}" if low == high else f"{low}–{high}"
    shape = (n, k, span)
    k0 = f"，k₀ = {one.k0}" if one.k0 is not None else ""
    k0_en = f", k₀ = {one.k0}" if one.k0 is not None else ""
    return (
        INCOMPLETE,
        f"不完整设计：{n} 个申报、{k} 位专家，每个申报由 {span} 位专家评分，共 {len(cells)} 个评分，"
        f"按单因素随机效应计算{k0}",
        f"incomplete design: {n} applications, {k} experts, each application "
        f"scored by {span} experts, {len(cells)} scores; one-way random effects{k0_en}",
        shape,
    )


def panel_agreement(cells: Mapping[tuple[int, int], Decimal]) -> PanelAgreement:
    """The panel's agreement from its (target, judge) → score cells, for the design it has.

    A complete design: ICC(2,1), ICC(2,k) and Kendall's W on the whole matrix (they apply), and the
    one-way figures for reference. An incomplete one (each expert scoring a subset): ICC(1,1) and
    ICC(1,k̄) on every score (they apply), and the two-way figures on the largest complete block,
    named in their ``basis`` (None with the reason when there is no block of 2 × 2).
    """
    if not cells:
        return _none("还没有评分 / no scores yet", design_zh="还没有评分", design_en="no scores yet")
    scores: dict[int, list[Decimal]] = {}
    for (t, _), value in sorted(cells.items()):
        scores.setdefault(t, []).append(value)
    one = icc1(list(scores.values()))
    design, design_zh, design_en, shape = _design(cells, one)
    every = f"全部 {one.scores} 个评分（{one.targets} 个申报）/ all {one.scores} scores"
    every += f" of {one.targets} applications"
    one_way: dict[str, Any] = {
        "icc1_1": Statistic(one.icc1_1.value, one.icc1_1.reason, every, one.icc1_1.formula),
        "icc1_k": Statistic(one.icc1_k.value, one.icc1_k.reason, every, one.icc1_k.formula),
        "k0": one.k0,
        "design": design,
        "design_zh": design_zh,
        "design_en": design_en,
        "shape": shape,
    }
    n_targets = len(scores)
    n_judges = len({j for _, j in cells})
    block = largest_complete_block(cells)
    if block is None:
        return _none(
            f"设计不完整（{n_targets} 个申报 × {n_judges} 位专家），找不到至少 2 × 2 的完整子块 / "
            f"incomplete design ({n_targets} applications × {n_judges} experts) without a complete "
            "block of at least 2 × 2",
            **one_way,
        )
    targets, judges = block
    matrix = [[cells[(t, j)] for j in judges] for t in targets]
    if design == COMPLETE:
        basis = (
            f"完整设计：{n_targets} 个申报 × {n_judges} 位专家 / complete design: {n_targets} × {n_judges}"
        )
    else:
        basis = (
            f"设计不完整（{n_targets} 个申报 × {n_judges} 位专家），按最大完整子块计算："
            f"{len(targets)} 个申报 × {len(judges)} 位专家 / incomplete design ({n_targets} × {n_judges}): "
            f"computed on the largest complete block of {len(targets)} applications × {len(judges)} experts"
        )

    def based(stat: Statistic) -> Statistic:
        return Statistic(stat.value, stat.reason, basis, stat.formula)

    return PanelAgreement(
        icc2_1=based(icc2_1(matrix)),
        icc2_k=based(icc2_k(matrix)),
        kendall_w=based(kendall_w(matrix)),
        targets=targets,
        judges=judges,
        **one_way,
    )
