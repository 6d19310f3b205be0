"""Which stages of the competition each stage's run may start in — one table — and the refusal of a
run out of order: one line naming the competition, its stage (in Chinese) and what comes first.

Asked twice with the same answer: by the stage's task inside its flow (the run is refused and
nothing changes) and by the CLI before the flow starts (the administrator gets that line without
waiting for a Prefect run). A stage that is re-run where its own stage has already moved on
(finishing the letters of a run that failed half-way) is allowed there. Runs that look for work on
a schedule are not refused by their flow: the reminders are not in the table, and the daily
supervision finds nothing to do outside its stages — only the CLI refuses running it by hand there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from models.errors import Conflict
from models.states import STATE_LABELS, CompetitionStage

S = CompetitionStage
# the stages in the order a year passes through them (cancelled stands apart)
ORDER = (
    S.draft,
    S.call_open,
    S.screening,
    S.review,
    S.funding,
    S.publicity,
    S.implementation,
    S.evaluation,
    S.closed,
)


class StageRun(StrEnum):
    publish_call = "publish_call"
    screening = "screening"
    review_open = "review_open"
    review_close = "review_close"
    funding_draft = "funding_draft"
    funding_approve = "funding_approve"
    publicity_close = "publicity_close"
    grants_sign = "grants_sign"
    grants_lapse = "grants_lapse"
    supervision = "supervision"
    final_evaluation = "final_evaluation"
    annual_report = "annual_report"


@dataclass(frozen=True)
class Needs:
    """The stages a run may start in, what it does, and what must come before it."""

    stages: frozenset[CompetitionStage]
    zh: str
    en: str
    first_zh: str
    first_en: str


RUNS: Mapping[StageRun, Needs] = {
    StageRun.publish_call: Needs(
        frozenset({S.draft, S.call_open}), "发布征集公告", "publish the call", "", ""
    ),
    StageRun.screening: Needs(  # and later: an override re-runs it for its sheet and letter
        frozenset(ORDER[1:]),
        "开始资格审查",
        "screen the applications",
        "请先发布征集公告（grantflow call publish）",
        "publish the call first (grantflow call publish)",
    ),
    StageRun.review_open: Needs(
        frozenset({S.screening, S.review}),
        "开始专家评审",
        "open the review",
        "请先完成资格审查（grantflow screening run）",
        "screen the applications first (grantflow screening run)",
    ),
    StageRun.review_close: Needs(
        frozenset({S.review, S.funding}),
        "结束评审",
        "close the review",
        "评审尚未开始（grantflow review open）",
        "the review never opened (grantflow review open)",
    ),
    StageRun.funding_draft: Needs(
        frozenset({S.funding, S.publicity, S.implementation}),
        "拟定资助方案",
        "draft the funding",
        "请先结束评审（grantflow review close）",
        "close the review first (grantflow review close)",
    ),
    StageRun.funding_approve: Needs(
        frozenset({S.funding, S.publicity, S.implementation}),
        "批准资助方案",
        "approve the funding",
        "请先结束评审并拟定资助方案（grantflow funding draft）",
        "close the review and draft the funding first (grantflow funding draft)",
    ),
    StageRun.publicity_close: Needs(
        frozenset({S.publicity, S.implementation}),
        "结束公示",
        "close the public notice",
        "资助方案尚未批准公示（grantflow funding approve）",
        "the funding is not approved and published yet (grantflow funding approve)",
    ),
    StageRun.grants_sign: Needs(
        frozenset({S.implementation}),
        "登记协议签订",
        "record signings",
        "公示尚未结束，还没有资助协议（grantflow publicity close）",
        "the notice has not closed: there are no agreements yet (grantflow publicity close)",
    ),
    StageRun.grants_lapse: Needs(
        frozenset({S.implementation}),
        "处理逾期未签的协议",
        "lapse unsigned agreements",
        "公示尚未结束，还没有资助协议（grantflow publicity close）",
        "the notice has not closed: there are no agreements yet (grantflow publicity close)",
    ),
    # the daily supervision flow finds nothing to do outside these; run by hand, it is refused
    StageRun.supervision: Needs(
        frozenset({S.implementation, S.evaluation}),
        "进行督导",
        "run the supervision",
        "项目尚未进入实施（grantflow publicity close）",
        "no project is under way yet (grantflow publicity close)",
    ),
    StageRun.final_evaluation: Needs(
        frozenset({S.implementation, S.evaluation}),
        "进行结项评估",
        "run the final evaluation",
        "项目尚未进入实施（grantflow publicity close）",
        "no project is under way yet (grantflow publicity close)",
    ),
    StageRun.annual_report: Needs(
        frozenset({S.evaluation, S.closed}),
        "撰写年度总结报告",
        "write the annual report",
        "结项评估之后才能撰写（grantflow evaluation run）",
        "the final evaluation comes first (grantflow evaluation run)",
    ),
}


def stage_refusal(run: StageRun, *, slug: str, stage: CompetitionStage) -> Conflict | None:
    """The refusal of ``run`` while the competition ``slug`` is in ``stage``; None when it may run."""
    needs = RUNS[run]
    if stage in needs.stages:
        return None
    label = STATE_LABELS[stage]
    if stage is S.cancelled:
        why_zh, why_en = "竞赛已取消", "the competition was cancelled"
    elif ORDER.index(stage) < min(ORDER.index(s) for s in needs.stages):
        why_zh, why_en = needs.first_zh, needs.first_en
    else:
        why_zh, why_en = "此阶段已经过去", "that stage is over"
    return Conflict(
        f"竞赛 {slug} 处于“{label}”阶段，不能{needs.zh}：{why_zh} / "
        f"competition {slug} is in stage {label} ({stage}): cannot {needs.en}: {why_en}"
    )


def require_stage(run: StageRun, *, slug: str, stage: CompetitionStage) -> None:
    """Refuse ``run`` (``Conflict``, one line) unless the competition's ``stage`` allows it."""
    refusal = stage_refusal(run, slug=slug, stage=stage)
    if refusal is not None:
        raise refusal
