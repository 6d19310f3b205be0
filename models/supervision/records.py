"""The two forms of a checkpoint: the supervisor's record (督导记录) and the grantee's progress report
(中期报告 / 结项报告). Both are drafts until submitted, and only while the checkpoint is open
(not yet settled: passed / failed / waived). A submitted form stays submitted (``models.submission``):
a draft never replaces it, and it is changed only by an amended submission until the end of its
due day (the record: the checkpoint's ``due_on``; the report: its ``report_due_on``), audited as
``record_amended`` / ``progress_amended``. A first submission after the due day is still taken (it is
late; ``report_on_time`` says so). Every save is audited.

Both take what the form posted as text (``Mapping[str, str]``) and check all of it at once:
``InputError`` lists every Problem with its field, and nothing is stored. Money is never above
what it may be: a budget line's spending above its budget, the lines' sum above the grant, or the
supervisor's accepted spending above the grant is refused at its field — the excess is the
organisation's own money (自筹), never silently dropped. Scores follow the
checkpoint's rubric: Σ points × weight; the verdict is computed from the pass mark and may be
overridden (``verdict=pass|fail``) only with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, select

from models.audit import record
from models.competition.config import CheckpointPlan, CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.tables import Grant
from models.lifecycle import set_state
from models.money import MoneyError, format_yuan, parse_yuan
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.submission import Submission, next_submission
from models.supervision.links import end_of_day
from models.supervision.plan import project_plan
from models.supervision.tables import Checkpoint, CheckpointReport, ProgressReport

POINTS = "points_"
COMMENT = "comment_"
MODES = {"on_site": "实地走访", "remote": "远程跟进"}
MAX_TEXT = 4000
MAX_ACTIVITY_ROWS = 40
_ACTIVITY = re.compile(r"^act_(date|name|sessions|people)_(\d{1,2})$")
RECORD_NAMED = ("督导记录表", "supervision record")
REPORT_NAMED = ("进度报告", "progress report")
DEFAULT_TIMEZONE = "Asia/Shanghai"  # the settings' default; callers pass settings.timezone


def checkpoint_context(
    session: Session, checkpoint_id: int
) -> tuple[Checkpoint, Grant, CheckpointPlan, CompetitionConfig]:
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if checkpoint is None:
        raise NotFound(f"没有检查点 #{checkpoint_id} / no checkpoint #{checkpoint_id}")
    grant = session.get(Grant, checkpoint.grant_id)
    assert grant is not None
    competition = session.get(Competition, grant.competition_id)
    assert competition is not None
    config = competition_config(competition)
    plan = config.checkpoint(checkpoint.code)
    if plan is None:
        raise Conflict(
            f"检查点 {checkpoint.code} 已不在配置中 / checkpoint {checkpoint.code} is no longer configured"
        )
    return checkpoint, grant, plan, config


def record_amendable_until(checkpoint: Checkpoint, timezone: str) -> datetime:
    """The last moment a submitted 督导记录 may be amended: the end of the checkpoint's due day."""
    return end_of_day(checkpoint.due_on, timezone)


def report_amendable_until(checkpoint: Checkpoint, timezone: str) -> datetime:
    """The last moment a submitted progress report may be amended: the end of its due day."""
    return end_of_day(checkpoint.report_due_on or checkpoint.due_on, timezone)


def _writable(checkpoint: Checkpoint) -> None:
    if checkpoint.state not in CHECKPOINTS_OPEN:
        raise Conflict("该检查点已结束，不能再修改 / this checkpoint is closed: nothing can be changed")
    if checkpoint.state is CheckpointState.scheduled:
        raise Conflict("该检查点尚未开放 / this checkpoint is not open yet")


class _Reader:
    """Reads posted text into values, collecting a Problem per bad field."""

    def __init__(self, fields: Mapping[str, str], where: str) -> None:
        self.fields = fields
        self.where = where
        self.problems: list[Problem] = []

    def add(self, name: str, zh: str, en: str) -> None:
        self.problems.append(Problem(self.where, name, zh, en))

    def text(self, name: str, *, limit: int = MAX_TEXT) -> str:
        value = self.fields.get(name, "").replace("\r\n", "\n").strip()
        if len(value) > limit:
            self.add(name, f"不超过 {limit} 字", f"at most {limit} characters")
        return value[:limit]

    def count(self, name: str, *, required: bool = False) -> int:
        raw = self.fields.get(name, "").strip().replace(",", "")
        if not raw:
            if required:
                self.add(name, "必填", "required")
            return 0
        if not raw.isdigit() or len(raw) > 7:
            self.add(name, "应为不小于 0 的整数", "must be a whole number ≥ 0")
            return 0
        return int(raw)

    def money(self, name: str) -> int:
        raw = self.fields.get(name, "").strip()
        if not raw:
            return 0
        try:
            fen = parse_yuan(raw)
        except MoneyError as exc:
            self.add(name, f"金额无法识别：{raw}", f"not an amount: {exc}")
            return 0
        if fen < 0:
            self.add(name, "金额不能为负数", "the amount must not be negative")
        return fen

    def day(self, name: str, *, required: bool, latest: date | None = None) -> date | None:
        raw = self.fields.get(name, "").strip()
        if not raw:
            if required:
                self.add(name, "请填写日期", "give the date")
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            self.add(name, "日期格式应为 2025-06-18", "a date like 2025-06-18")
            return None
        if latest is not None and value > latest:
            self.add(name, "日期不能晚于今天", "the date must not be in the future")
        return value


@dataclass(frozen=True)
class Scored:
    indicators: dict[str, Any]
    score: Decimal
    computed_passed: bool


def score_indicators(reader: _Reader, plan: CheckpointPlan, *, submit: bool) -> Scored:
    """Points per rubric indicator (0 … max, in steps), comments, and the total Σ points × weight."""
    indicators: dict[str, Any] = {}
    total = Decimal(0)
    for item in plan.rubric:
        raw = reader.fields.get(POINTS + item.code, "").strip()
        comment = reader.text(COMMENT + item.code, limit=1000)
        points: Decimal | None = None
        if raw:
            try:
                points = Decimal(raw)
                if not points.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                reader.add(POINTS + item.code, "应为数字", "must be a number")
                points = None
            else:
                if points < 0 or points > item.max_points:
                    reader.add(
                        POINTS + item.code,
                        f"应在 0 到 {item.max_points} 之间",
                        f"must be between 0 and {item.max_points}",
                    )
                    points = None
                elif (points / item.step) % 1 != 0:
                    reader.add(POINTS + item.code, f"以 {item.step} 分为单位", f"in steps of {item.step}")
                    points = None
        elif submit:
            reader.add(POINTS + item.code, "提交前请为每项打分", "score every indicator before submitting")
        indicators[item.code] = {"points": str(points) if points is not None else "", "comment": comment}
        if points is not None:
            total += points * item.weight
    return Scored(indicators, total, total >= plan.pass_score)


_RECORD_ACTIONS = {
    Submission.draft: "record_saved",
    Submission.submitted: "record_submitted",
    Submission.amended: "record_amended",
}
_PROGRESS_ACTIONS = {
    Submission.draft: "progress_saved",
    Submission.submitted: "progress_submitted",
    Submission.amended: "progress_amended",
}


def report_of(session: Session, *, checkpoint_id: int) -> CheckpointReport | None:
    return session.exec(
        select(CheckpointReport).where(CheckpointReport.checkpoint_id == checkpoint_id)
    ).first()


def progress_of(session: Session, *, checkpoint_id: int) -> ProgressReport | None:
    return session.exec(select(ProgressReport).where(ProgressReport.checkpoint_id == checkpoint_id)).first()


def save_record(
    session: Session,
    *,
    checkpoint_id: int,
    fields: Mapping[str, str],
    submit: bool,
    actor: str,
    now: datetime,
    evidence_ids: Sequence[int] = (),
    timezone: str = DEFAULT_TIMEZONE,
) -> CheckpointReport:
    """Store the supervisor's record (draft, submitted or amended); see the module docstring."""
    checkpoint, _, plan, _ = checkpoint_context(session, checkpoint_id)
    _writable(checkpoint)
    report = report_of(session, checkpoint_id=checkpoint_id)
    submission = next_submission(
        submitted=report is not None and not report.draft,
        submit=submit,
        amendable=now <= record_amendable_until(checkpoint, timezone),
        form=RECORD_NAMED,
    )
    reader = _Reader(fields, "督导记录 / supervision record")
    visit_date = reader.day("visit_date", required=submit, latest=now.date())
    mode = fields.get("visit_mode", "").strip()
    if mode and mode not in MODES:
        reader.add("visit_mode", "走访方式应为实地或远程", "the mode is on_site or remote")
    elif submit and not mode:
        reader.add("visit_mode", "请选择走访方式", "choose how the visit was made")
    activities = reader.count("activities_held", required=submit)
    person_times = reader.count("person_times", required=submit)
    beneficiaries = reader.count("beneficiaries")
    spent = reader.money("spent")
    grant = session.get(Grant, checkpoint.grant_id)
    if grant is not None and spent > grant.amount_fen:
        granted = format_yuan(grant.amount_fen)
        reader.add(
            "spent",
            f"核定支出不能超过资助金额{granted}元；超出部分是项目方自筹资金，不计入资助资金支出",
            f"the spending accepted cannot exceed the grant ({granted} yuan): the excess is the "
            "organisation's own money (自筹), not the grant's",
        )
    scored = score_indicators(reader, plan, submit=submit)
    findings = reader.text("findings")
    rectify = reader.text("rectify")
    verdict = fields.get("verdict", "").strip()
    override = reader.text("override_reason", limit=1000)
    if verdict not in ("", "pass", "fail"):
        reader.add("verdict", "结论应为通过或不通过", "the verdict is pass or fail")
        verdict = ""
    passed = scored.computed_passed if not verdict else verdict == "pass"
    if passed != scored.computed_passed and not override:
        reader.add(
            "override_reason",
            "结论与按合格分计算的结果不同，请写明理由",
            "the verdict differs from the one the pass mark gives: give the reason",
        )
    if submit and not passed and not (rectify or findings):
        reader.add("rectify", "不通过时请写明须整改的问题", "say what must be rectified when it fails")
    if reader.problems:
        raise InputError(reader.problems)
    values: dict[str, Any] = {
        "visit_date": visit_date,
        "visit_mode": mode,
        "activities_held": activities,
        "person_times": person_times,
        "beneficiaries": beneficiaries,
        "spent_fen": spent,
        "indicators": scored.indicators,
        "score": scored.score,
        "computed_passed": scored.computed_passed,
        "passed": passed,
        "override_reason": override if passed != scored.computed_passed else "",
        "findings": findings,
        "rectify": rectify,
    }
    if report is None:
        assert checkpoint.supervisor_id is not None
        report = CheckpointReport(
            checkpoint_id=checkpoint_id, supervisor_id=checkpoint.supervisor_id, **values
        )
    else:
        for key, value in values.items():
            setattr(report, key, value)
    known = {int(e["id"]) for e in report.evidence}
    report.evidence = [*report.evidence, *({"id": i} for i in evidence_ids if i not in known)]
    report.draft = not submit
    report.updated_at = now
    if submit:
        report.submitted_at = now
    session.add(report)
    session.flush()
    record(
        session,
        actor=actor,
        entity="checkpoint",
        entity_id=checkpoint_id,
        action=_RECORD_ACTIONS[submission],
        reason=submission.reason,
        data={"score": str(scored.score), "passed": passed, "override": bool(report.override_reason)},
    )
    if submit and checkpoint.state is CheckpointState.open:
        set_state(
            session, checkpoint, CheckpointState.submitted, actor=actor, reason="督导已提交 / submitted"
        )
    return report


def _activity_rows(reader: _Reader) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, str]] = {}
    for key, value in reader.fields.items():
        match = _ACTIVITY.match(key)
        if match and value.strip():
            rows.setdefault(int(match.group(2)), {})[match.group(1)] = value.strip()
    activities = []
    for number in sorted(rows)[:MAX_ACTIVITY_ROWS]:
        row = rows[number]
        where = f"act_{{}}_{number}"
        if not row.get("name"):
            reader.add(where.format("name"), "请填写活动名称", "give the activity's name")
        held = reader.day(where.format("date"), required=True)
        activities.append(
            {
                "date": held.isoformat() if held else "",
                "name": row.get("name", "")[:200],
                "sessions": reader.count(where.format("sessions")),
                "person_times": reader.count(where.format("people")),
            }
        )
    return activities


def save_progress_report(
    session: Session,
    *,
    checkpoint_id: int,
    fields: Mapping[str, str],
    submit: bool,
    actor: str,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> ProgressReport:
    """Store the grantee's progress report (draft, submitted or amended): activities with dates,
    person-times, beneficiaries, spending per budget line of the application, problems and changes."""
    checkpoint, grant, _, _ = checkpoint_context(session, checkpoint_id)
    _writable(checkpoint)
    stored = progress_of(session, checkpoint_id=checkpoint_id)
    submission = next_submission(
        submitted=stored is not None and not stored.draft,
        submit=submit,
        amendable=now <= report_amendable_until(checkpoint, timezone),
        form=REPORT_NAMED,
    )
    reader = _Reader(fields, "进度报告 / progress report")
    activities = _activity_rows(reader)
    if submit and not activities:
        reader.add("act_name_1", "请至少填写一项已开展的活动", "list at least one activity held")
    person_times = reader.count("person_times", required=submit)
    beneficiaries = reader.count("beneficiaries", required=submit)
    plan = project_plan(session, grant_id=grant.id or 0)
    spending = []
    total = 0
    for line in plan.budget:
        field = f"spent_{line.budget_line_id}"
        actual = reader.money(field)
        total += actual
        if actual > line.amount_fen:
            budget = format_yuan(line.amount_fen)
            reader.add(
                field,
                f"“{line.item}”的支出不能超过预算{budget}元；超出部分是项目方自筹资金，不在此填报",
                f"spending on {line.item!r} cannot exceed its budget of {budget} yuan: the excess is "
                "the organisation's own money (自筹), not reported here",
            )
        elif total > grant.amount_fen and actual:
            granted = format_yuan(grant.amount_fen)
            reader.add(
                field,
                f"各科目支出合计{format_yuan(total)}元，超过资助金额{granted}元；超出部分是项目方自筹资金，"
                "不在此填报",
                f"the spending adds up to {format_yuan(total)} yuan, more than the grant of {granted} "
                "yuan: the excess is the organisation's own money (自筹), not reported here",
            )
            total -= actual  # one problem for the line that crosses the grant, not every line after it
        spending.append(
            {
                "budget_line_id": line.budget_line_id,
                "item": line.item,
                "budget_fen": line.amount_fen,
                "actual_fen": actual,
                "variance_fen": actual - line.amount_fen,
            }
        )
    problems = reader.text("problems")
    changes = reader.text("changes")
    if reader.problems:
        raise InputError(reader.problems)
    report = stored or ProgressReport(checkpoint_id=checkpoint_id)
    report.activities = activities
    report.person_times = person_times
    report.beneficiaries = beneficiaries
    report.spending = spending
    report.problems = problems
    report.changes = changes
    report.draft = not submit
    report.updated_at = now
    if submit:
        report.submitted_at = now
    session.add(report)
    session.flush()
    record(
        session,
        actor=actor,
        entity="checkpoint",
        entity_id=checkpoint_id,
        action=_PROGRESS_ACTIONS[submission],
        reason=submission.reason,
        data={"activities": len(activities), "person_times": person_times},
    )
    return report


def report_on_time(checkpoint: Checkpoint, progress: ProgressReport | None, *, timezone: str) -> bool:
    """Whether the grantee's report was submitted by its due day (local time)."""
    if progress is None or progress.draft or progress.submitted_at is None:
        return False
    if checkpoint.report_due_on is None:
        return True
    from zoneinfo import ZoneInfo

    return progress.submitted_at.astimezone(ZoneInfo(timezone)).date() <= checkpoint.report_due_on
