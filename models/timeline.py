"""What the competition's next step is, from its stage, the configured dates and the open sheets.

The lifecycle is state in the database, not a sleeping process: ``next_step`` is asked on a
schedule (the ``lifecycle`` flow) and answers which stage flow may run now, or nothing with the
reason it waits. Steps that need a person's decision (publishing the call, opening the review)
are only taken when the administrator allowed them in the run.

After the 公示: in 项目实施 and 结项评估 the next step is the final evaluation as soon as one
grant's 结项 is ready (its reports in, or past due without them — which counts as failing), and in
结项评估 also once every grant is completed or terminated (the run closes the competition); while
rectified projects wait for their re-check, it waits. Once 已结束, the 年度总结报告 is the step
until it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, func, select

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.documents.engine.cn_format import local_date
from models.evaluation.annual_report import annual_report_of
from models.evaluation.evaluating import GRANTS_CLOSED, finals_ready
from models.funding.decision import open_objections
from models.funding.publicity import current_notice
from models.funding.tables import Grant
from models.review.tables import ReviewAssignment
from models.states import ASSIGNMENTS_OPEN, CompetitionStage, GrantState


class Step(StrEnum):
    publish_call = "publish_call"
    screening = "screening"
    open_review = "open_review"
    close_review = "close_review"
    close_publicity = "close_publicity"
    lapse_agreements = "lapse_agreements"
    final_evaluation = "final_evaluation"
    annual_report = "annual_report"


@dataclass(frozen=True)
class Decision:
    step: Step | None
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def no_competition(slug: str | None) -> Decision:
    """Nothing to do yet: no competition (with ``slug``) exists — not a failure of the schedule."""
    if slug:
        return Decision(
            None,
            f"没有竞赛 {slug}，无事可做（先运行 grantflow competition create FILE）",
            f"no competition {slug!r} yet: nothing to do (run `grantflow competition create FILE`)",
        )
    return Decision(
        None,
        "数据库中还没有竞赛，无事可做（先运行 grantflow competition create FILE）",
        "no competition yet: nothing to do (run `grantflow competition create FILE`)",
    )


def next_step(
    *,
    stage: CompetitionStage,
    config: CompetitionConfig,
    now: datetime,
    open_sheets: int,
    sheets: int,
    publicity_ends_at: datetime | None = None,
    open_objections: int = 0,
    unsigned: int = 0,
    finals_ready: int = 0,
    grants_open: int = 0,
    annual_report_written: bool = False,
) -> Decision:
    """The step that may run at ``now``, or ``None`` with the reason the competition waits.

    In 公示期 the notice closes once its window (``publicity_ends_at``) has passed and no objection
    is open; in 项目实施 agreements still ``unsigned`` after ``deadlines.agreements_by`` lapse;
    ``finals_ready`` grants may have their 结项 evaluated, ``grants_open`` are not yet completed
    or terminated (see the module docstring).
    """
    deadlines = config.deadlines
    if stage is CompetitionStage.draft:
        if now.date() < deadlines.call_published:
            return Decision(None, f"征集公告定于 {deadlines.call_published} 发布", "the call is not due yet")
        if now >= deadlines.applications_close:
            return Decision(
                None, "申报已截止，征集未发布", "the call was never published and applications closed"
            )
        return Decision(Step.publish_call, "发布征集公告", "publish the call")
    if stage is CompetitionStage.call_open:
        if now < deadlines.applications_close:
            return Decision(None, "征集中，等待申报截止", "the call is open until applications close")
        return Decision(Step.screening, "申报已截止，开始资格审查", "applications closed: screen them")
    if stage is CompetitionStage.screening:  # the screening flow moves here last, once its work is done
        return Decision(Step.open_review, "资格审查完成，开始专家评审", "screening done: open the review")
    if stage is CompetitionStage.review:
        if sheets and open_sheets == 0:
            return Decision(Step.close_review, "评分表已全部提交", "every sheet is in: close the review")
        if now >= deadlines.review_close:
            return Decision(Step.close_review, "评审已截止", "the review deadline passed: close it")
        return Decision(
            None,
            f"评审中，还有 {open_sheets} 份评分表未提交",
            f"review open, {open_sheets} sheets outstanding",
        )
    if stage is CompetitionStage.publicity:
        if publicity_ends_at is None:
            return Decision(None, "资助方案已批准，公示尚未发布", "approved, the notice is not published yet")
        if now < publicity_ends_at:
            return Decision(
                None,
                f"公示中，至 {publicity_ends_at.isoformat()} 结束",
                "the notice is open until its window ends",
            )
        if open_objections:
            return Decision(
                None,
                f"公示期已满，还有 {open_objections} 件异议待处理",
                f"the window has passed but {open_objections} objections are open",
            )
        return Decision(
            Step.close_publicity, "公示期满且无未处理异议", "the notice may close: no objection open"
        )
    if stage is CompetitionStage.implementation:
        deadline = config.deadlines.agreements_by
        if unsigned and deadline is not None and now.date() > deadline:
            return Decision(
                Step.lapse_agreements,
                f"{unsigned} 份资助协议逾期未签",
                f"{unsigned} agreements were not signed by {deadline}",
            )
    if stage in (CompetitionStage.implementation, CompetitionStage.evaluation):
        if finals_ready:
            return Decision(
                Step.final_evaluation,
                f"{finals_ready} 个项目的结项评估报告已齐（或已逾期），进行结项评估",
                f"the 结项 of {finals_ready} grants is ready (reports in, or past due): evaluate them",
            )
        if stage is CompetitionStage.evaluation and grants_open == 0:
            return Decision(
                Step.final_evaluation,
                "全部项目已结项或终止，结束本届竞赛",
                "every grant is completed or terminated: close the competition",
            )
        if stage is CompetitionStage.evaluation:
            return Decision(
                None,
                f"结项评估中，{grants_open} 个项目尚未结项（待整改复查）",
                f"final evaluation under way, {grants_open} grants not closed yet (re-checks due)",
            )
        return Decision(
            None,
            f"项目实施中，{grants_open} 个项目尚未到结项评估",
            f"implementation: {grants_open} grants are not ready for the final evaluation yet",
        )
    if stage is CompetitionStage.closed:
        if not annual_report_written:
            return Decision(
                Step.annual_report,
                "本届已结束，生成年度总结报告",
                "the competition closed: write the annual report",
            )
        return Decision(
            None, "本届已结束，年度总结报告已生成", "the competition closed and its annual report is written"
        )
    return Decision(None, f"阶段 {stage} 没有自动步骤", f"no automatic step in stage {stage}")


def next_step_of(session: Session, competition: Competition, *, now: datetime, timezone: str) -> Decision:
    """``next_step`` for a stored competition, its inputs read from every stage's tables (the
    lifecycle flow and the console's 首页 ask this)."""
    competition_id = competition.id or 0
    sheets = dict(
        session.exec(
            select(ReviewAssignment.state, func.count())
            .where(ReviewAssignment.competition_id == competition_id)
            .group_by(col(ReviewAssignment.state))
        ).all()
    )
    grants = dict(
        session.exec(
            select(Grant.state, func.count())
            .where(Grant.competition_id == competition_id)
            .group_by(col(Grant.state))
        ).all()
    )
    notice = current_notice(session, competition_id=competition_id)
    return next_step(
        stage=competition.stage,
        config=competition_config(competition),
        now=now,
        open_sheets=sum(n for state, n in sheets.items() if state in ASSIGNMENTS_OPEN),
        sheets=sum(sheets.values()),
        publicity_ends_at=notice.ends_at if notice is not None else None,
        open_objections=len(open_objections(session, competition_id=competition_id)),
        unsigned=grants.get(GrantState.awarded, 0),
        finals_ready=finals_ready(session, competition_id=competition_id, on=local_date(now, timezone)),
        grants_open=sum(n for state, n in grants.items() if state not in GRANTS_CLOSED),
        annual_report_written=annual_report_of(session, competition_id=competition_id) is not None,
    )
