"""结项 grading, as pure rules (no database): the final score, its grade band, what a fail leads to.

- ``final_score``: the final checkpoint's report scores (one per evaluator: supervisors, keyed by
  their id) combined with the configured ``evaluation.aggregation`` — the review's own
  ``aggregate`` (weighted mean / median / trimmed mean), rounded half-up to 0.01. No report by the
  checkpoint's deadline counts as failing: the score is 0.
  With an expert panel (``evaluation.expert_panel``) and at least one panel score in: the
  supervisors' aggregate × (1 − w) + the panel's aggregate × w, each aggregate as above (the
  panel's with its own ``aggregation``, else ``evaluation.aggregation``), the sum rounded half-up
  to 0.01. No panel score in by its due day: the supervisors' aggregate alone. No supervisor report:
  0, whatever the panel says (the rule above).
- ``grade_of``: the configured band holding the score (each band from its ``min_score``, inclusive,
  up to the next band's, exclusive — the configuration checks they are ordered and cover 0..total).
  A project passes when its band passes **and** the score reaches the checkpoint's ``pass_score``.
- ``decide``: a pass completes the grant and settles its final tranche (``settlement.rule``); a
  fail follows ``evaluation.on_fail`` — ``withhold``
  (no final tranche, the project closes failed), ``terminate``, or ``rectify_once`` (round 1 →
  rectification and a second round; a second fail terminates).
- ``planned_delivery``: the activities and person-times the 申报书 planned (its activity table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from models.competition.config import CompetitionConfig, FailRule, GradeBand
from models.intake.plan import activity_plan
from models.review.aggregation import aggregate, round_cent


class Outcome(StrEnum):
    """What a final evaluation led to (``FinalEvaluation.outcome``)."""

    released = "released"  # 合格：予以结项，尾款按结算规则拨付
    withheld = "withheld"  # 不合格：不拨尾款，按不合格结项
    rectification = "rectification"  # 不合格：限期整改后复评
    terminated = "terminated"  # 不合格：终止资助协议


OUTCOME_LABELS: Mapping[Outcome, tuple[str, str]] = {
    Outcome.released: ("评估合格，予以结项", "passed: the grant is completed and settled"),
    Outcome.withheld: ("评估不合格，不予拨付尾款", "failed: the final tranche is withheld"),
    Outcome.rectification: ("评估不合格，限期整改后复评", "failed: rectify, then a second evaluation"),
    Outcome.terminated: ("评估不合格，终止资助协议", "failed: the grant is terminated"),
}
FINAL_OUTCOMES = frozenset({Outcome.released, Outcome.withheld, Outcome.terminated})


@dataclass(frozen=True)
class FinalScore:
    score: Decimal
    grade: str
    passed: bool
    evaluators: tuple[int, ...]  # whose scores count (report keys, e.g. supervisor ids)
    supervisor_score: Decimal | None = None  # with a panel: the supervisors' part …
    panel_score: Decimal | None = None  # … the panel's aggregate (None: no panel score counted)
    panel_weight: Decimal | None = None  # … and its weight w (None: no panel configured)
    panel_experts: tuple[int, ...] = ()  # whose panel scores count (expert ids)


def grade_of(score: Decimal, bands: Sequence[GradeBand]) -> GradeBand:
    """The band holding ``score``: the highest band whose min_score it reaches."""
    for band in sorted(bands, key=lambda b: b.min_score, reverse=True):
        if score >= band.min_score:
            return band
    raise ValueError(f"分数 {score} 低于所有等级 / score {score} is below every grade band")


def final_score(
    scores: Mapping[int, Decimal],
    *,
    config: CompetitionConfig,
    pass_score: Decimal,
    panel: Mapping[int, Decimal] | None = None,
) -> FinalScore:
    """The final score and grade from each evaluator's score (keyed by evaluator id), and, with an
    expert panel configured, the panel's submitted scores (keyed by expert id)."""
    trimmed_min = config.review.trimmed_min_scores
    if scores:
        value = aggregate(scores, method=config.evaluation.aggregation, trimmed_min=trimmed_min).value
    else:
        value = Decimal("0.00")  # no report by the deadline counts as failing
    rules = config.evaluation.expert_panel
    if rules is None or panel is None:
        band = grade_of(value, config.grade_bands)
        return FinalScore(value, band.name, band.passed and value >= pass_score, tuple(sorted(scores)))
    supervisors, panel_value = value, None
    if scores and panel:
        method = rules.aggregation or config.evaluation.aggregation
        panel_value = aggregate(panel, method=method, trimmed_min=trimmed_min).value
        value = round_cent(supervisors * (1 - rules.weight) + panel_value * rules.weight)
    band = grade_of(value, config.grade_bands)
    return FinalScore(
        value,
        band.name,
        band.passed and value >= pass_score,
        tuple(sorted(scores)),
        supervisor_score=supervisors,
        panel_score=panel_value,
        panel_weight=rules.weight,
        panel_experts=tuple(sorted(panel)) if panel_value is not None else (),
    )


def decide(passed: bool, *, rule: FailRule, round_: int) -> Outcome:
    """What the final evaluation leads to (see the module docstring)."""
    if passed:
        return Outcome.released
    if rule is FailRule.withhold:
        return Outcome.withheld
    if rule is FailRule.rectify_once and round_ < 2:
        return Outcome.rectification
    return Outcome.terminated


def planned_delivery(details: Mapping[str, Any]) -> tuple[int, int]:
    """(activities, person-times) planned in the 申报书's 活动安排 (``models.intake.plan``)."""
    plan = activity_plan(details)
    return plan.sessions, plan.participants
