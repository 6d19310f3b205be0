"""What a stage run will do before it does: the papers it writes, the letters it sends (how many, to
whom) — read from the applications as they stand, one function for every step (``preview``).

The figures are the flow's own work list, counted: the applications in the states the step acts
on. A step that finds nothing to act on still may run (it finishes what a failed run left), and
the page says so; whether it may run at all is ``models.stage_order`` and the step's own check
(asked by the console before it starts the run, the same as the CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from models.competition.tables import Competition, competition_config
from models.intake.tables import Application
from models.stage_order import StageRun
from models.states import ApplicationState

A = ApplicationState


@dataclass(frozen=True)
class Preview:
    """One step's consequences, Chinese with its English."""

    acts_on: int  # the applications (or recipients) it acts on now
    what_zh: str  # what it acts on, e.g. "份待审查的申报"
    what_en: str
    documents: tuple[tuple[str, str], ...]  # (zh, en) of each kind of paper it writes
    letters: int  # how many letters it queues and sends (an upper bound where a rule decides)
    to_zh: str  # to whom
    to_en: str


def _count(session: Session, competition_id: int, *states: ApplicationState) -> int:
    query = select(func.count()).select_from(Application).where(Application.competition_id == competition_id)
    query = query.where(col(Application.state).in_(list(states)))
    return int(session.exec(query).one())


def _call(session: Session, competition: Competition) -> Preview:
    recipients = len(competition_config(competition).mailing_list)
    return Preview(
        recipients,
        "个邮件列表收件人",
        "recipients on the mailing list",
        (("征集公告", "the call"), ("申报书（空白）", "the blank application form")),
        recipients,
        "邮件列表上的每个收件人",
        "everyone on the mailing list",
    )


def _screening(session: Session, competition: Competition) -> Preview:
    waiting = _count(session, competition.id or 0, A.submitted)
    return Preview(
        waiting,
        "份待审查的申报",
        "applications waiting for screening",
        (("资格审查表（每份申报一张）", "a 资格审查表 per application"),),
        waiting,
        "每个申报单位（审查结果通知）",
        "each applicant (its result)",
    )


def _review_open(session: Session, competition: Competition) -> Preview:
    eligible = _count(session, competition.id or 0, A.eligible)
    return Preview(
        eligible,
        "份通过资格审查的申报",
        "eligible applications",
        (),
        len(competition_config(competition).experts),
        "每位评审专家（邀请信与个人评分链接）",
        "each expert (an invitation with their personal links)",
    )


def _review_close(session: Session, competition: Competition) -> Preview:
    return Preview(
        _count(session, competition.id or 0, A.in_review),
        "份评审中的申报",
        "applications under review",
        (("评分汇总表", "the score summary"), ("评审结果排名", "the ranking")),
        0,
        "无",
        "nobody",
    )


def _funding_draft(session: Session, competition: Competition) -> Preview:
    return Preview(
        _count(session, competition.id or 0, A.scored, A.shortlisted, A.not_funded),
        "份已评分的申报",
        "scored applications",
        (),
        0,
        "无（方案待批准）",
        "nobody (the draft waits for approval)",
    )


def _funding_approve(session: Session, competition: Competition) -> Preview:
    return Preview(
        _count(session, competition.id or 0, A.scored, A.shortlisted),
        "个拟资助项目",
        "projects proposed for funding",
        (("拟资助项目公示", "the public notice of the proposed grants"),),
        0,
        "无（公示在公示栏发布）",
        "nobody (the notice is posted)",
    )


def _publicity_close(session: Session, competition: Competition) -> Preview:
    cid = competition.id or 0
    shortlisted, not_funded = _count(session, cid, A.shortlisted), _count(session, cid, A.not_funded)
    return Preview(
        shortlisted,
        "个拟资助项目立项",
        "projects to be awarded",
        (("立项通知书", "the award letter"), ("资助协议书", "the grant agreement")),
        shortlisted + not_funded,
        "每个立项单位（通知书与协议书）和每个未入选单位（结果通知）",
        "each awarded applicant (letter and agreement) and each one not funded (the result)",
    )


def _grants_lapse(session: Session, competition: Competition) -> Preview:
    return Preview(
        _count(session, competition.id or 0, A.funded),
        "份尚未签订的协议（逾期者作废）",
        "agreements not yet signed (the overdue ones lapse)",
        (),
        _count(session, competition.id or 0, A.funded),
        "逾期未签的立项单位（至多）",
        "the applicants whose signing is overdue (at most)",
    )


def _supervision(session: Session, competition: Competition) -> Preview:
    under_way = _count(session, competition.id or 0, A.active, A.rectifying)
    return Preview(
        under_way,
        "个实施中的项目",
        "projects under way",
        (
            (
                "督导记录与整改通知（到期的检查点）",
                "supervision records and rectification notices (checkpoints due)",
            ),
        ),
        under_way,
        "到期检查点的项目单位与督导员（至多每项一封）",
        "the grantees and supervisors of checkpoints due (at most one each)",
    )


def _final_evaluation(session: Session, competition: Competition) -> Preview:
    under_way = _count(session, competition.id or 0, A.active, A.rectifying)
    return Preview(
        under_way,
        "个待结项评估的项目",
        "projects for the final evaluation",
        (("结项评估报告", "the final evaluation report"), ("结项通知", "the completion notice")),
        under_way,
        "每个项目单位（结项结果）",
        "each grantee (its result)",
    )


def _annual_report(session: Session, competition: Competition) -> Preview:
    return Preview(
        _count(session, competition.id or 0, A.completed, A.terminated),
        "个已结项或终止的项目",
        "projects completed or terminated",
        (("年度总结报告（含图表）", "the year's report with its charts"),),
        0,
        "无",
        "nobody",
    )


PREVIEWS: Mapping[StageRun, Callable[[Session, Competition], Preview]] = {
    StageRun.publish_call: _call,
    StageRun.screening: _screening,
    StageRun.review_open: _review_open,
    StageRun.review_close: _review_close,
    StageRun.funding_draft: _funding_draft,
    StageRun.funding_approve: _funding_approve,
    StageRun.publicity_close: _publicity_close,
    StageRun.grants_lapse: _grants_lapse,
    StageRun.supervision: _supervision,
    StageRun.final_evaluation: _final_evaluation,
    StageRun.annual_report: _annual_report,
}


def preview(session: Session, competition: Competition, run: StageRun) -> Preview:
    """What ``run`` will do to ``competition`` as things stand."""
    return PREVIEWS[run](session, competition)
