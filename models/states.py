"""The state machines of the lifecycle: one StrEnum each, one table of allowed moves each.

Only ``models.lifecycle.set_state`` writes a state. Named groups of states stand in for tuples
repeated across the code. Every machine's table is checked by ``tests/models/test_states.py``:
each state is reachable from the initial one and every target is a member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Machine:
    """A table's state machine: its audit name, the attribute it moves, and the legal moves.

    A stateful table declares one as ``__machine__: ClassVar[Machine]``; ``set_state`` reads it.
    """

    entity: str  # the audit name of the table
    attribute: str  # "state" or "stage"
    moves: Mapping[Any, frozenset[Any]]


class CompetitionStage(StrEnum):
    """Where the whole competition stands."""

    draft = "draft"  # 筹备：配置已导入
    call_open = "call_open"  # 征集中
    screening = "screening"  # 资格审查
    review = "review"  # 专家评审
    funding = "funding"  # 立项决定
    publicity = "publicity"  # 公示期
    implementation = "implementation"  # 项目实施（拨付、督导）
    evaluation = "evaluation"  # 结项评估
    closed = "closed"  # 已结束
    cancelled = "cancelled"  # 已取消


COMPETITION_MOVES: Mapping[CompetitionStage, frozenset[CompetitionStage]] = {
    CompetitionStage.draft: frozenset({CompetitionStage.call_open, CompetitionStage.cancelled}),
    CompetitionStage.call_open: frozenset({CompetitionStage.screening, CompetitionStage.cancelled}),
    CompetitionStage.screening: frozenset({CompetitionStage.review, CompetitionStage.cancelled}),
    CompetitionStage.review: frozenset({CompetitionStage.funding, CompetitionStage.cancelled}),
    CompetitionStage.funding: frozenset({CompetitionStage.publicity, CompetitionStage.cancelled}),
    CompetitionStage.publicity: frozenset(
        {CompetitionStage.implementation, CompetitionStage.funding, CompetitionStage.cancelled}
    ),
    CompetitionStage.implementation: frozenset({CompetitionStage.evaluation}),
    CompetitionStage.evaluation: frozenset({CompetitionStage.closed}),
    CompetitionStage.closed: frozenset(),
    CompetitionStage.cancelled: frozenset(),
}


class ApplicationState(StrEnum):
    """One application, from receipt to its end."""

    submitted = "submitted"  # 已受理
    ineligible = "ineligible"  # 资格审查未通过
    eligible = "eligible"  # 资格审查通过
    in_review = "in_review"  # 评审中
    scored = "scored"  # 已评分
    shortlisted = "shortlisted"  # 拟资助（公示中）
    not_funded = "not_funded"  # 未入选
    funded = "funded"  # 已立项（待签协议）
    active = "active"  # 实施中
    rectifying = "rectifying"  # 整改中
    completed = "completed"  # 已结项
    terminated = "terminated"  # 已终止
    withdrawn = "withdrawn"  # 已撤回


A = ApplicationState
APPLICATION_MOVES: Mapping[ApplicationState, frozenset[ApplicationState]] = {
    A.submitted: frozenset({A.eligible, A.ineligible, A.withdrawn}),
    # an administrator may overturn a screening result (audited, with a reason)
    A.ineligible: frozenset({A.eligible}),
    A.eligible: frozenset({A.in_review, A.ineligible, A.withdrawn}),
    A.in_review: frozenset({A.scored, A.withdrawn}),
    A.scored: frozenset({A.shortlisted, A.not_funded, A.in_review, A.withdrawn}),
    # an objection upheld during 公示 takes a project off the list
    A.shortlisted: frozenset({A.funded, A.not_funded, A.withdrawn}),
    A.not_funded: frozenset({A.shortlisted}),
    A.funded: frozenset({A.active, A.terminated, A.withdrawn}),
    A.active: frozenset({A.rectifying, A.completed, A.terminated}),
    A.rectifying: frozenset({A.active, A.terminated}),
    A.completed: frozenset(),
    A.terminated: frozenset(),
    A.withdrawn: frozenset(),
}

# Named groups instead of repeated tuples.
APPLICATIONS_UNDER_CONSIDERATION = frozenset({A.submitted, A.eligible, A.in_review, A.scored, A.shortlisted})
APPLICATIONS_FUNDED = frozenset({A.funded, A.active, A.rectifying, A.completed, A.terminated})
APPLICATIONS_CLOSED = frozenset({A.ineligible, A.not_funded, A.completed, A.terminated, A.withdrawn})
APPLICATIONS_REVIEWABLE = frozenset({A.eligible, A.in_review})


class AssignmentState(StrEnum):
    """One expert's sheet for one application."""

    invited = "invited"  # 已邀请
    draft = "draft"  # 已暂存
    submitted = "submitted"  # 已提交
    declined = "declined"  # 已谢绝
    conflicted = "conflicted"  # 申报回避


R = AssignmentState
ASSIGNMENT_MOVES: Mapping[AssignmentState, frozenset[AssignmentState]] = {
    R.invited: frozenset({R.draft, R.submitted, R.declined, R.conflicted}),
    R.draft: frozenset({R.draft, R.submitted, R.declined, R.conflicted}),
    # a submitted sheet may be changed until the deadline (each change audited)
    R.submitted: frozenset({R.submitted, R.draft}),
    R.declined: frozenset(),
    R.conflicted: frozenset(),
}
ASSIGNMENTS_OPEN = frozenset({R.invited, R.draft})
ASSIGNMENTS_WITHDRAWN = frozenset({R.declined, R.conflicted})


class GrantState(StrEnum):
    """A funded project's grant, from award to close."""

    awarded = "awarded"  # 已立项，待签协议
    active = "active"  # 协议已签，实施中
    rectifying = "rectifying"  # 整改中
    completed = "completed"  # 已结项
    terminated = "terminated"  # 已终止


G = GrantState
GRANT_MOVES: Mapping[GrantState, frozenset[GrantState]] = {
    G.awarded: frozenset({G.active, G.terminated}),
    G.active: frozenset({G.rectifying, G.completed, G.terminated}),
    G.rectifying: frozenset({G.active, G.terminated}),
    G.completed: frozenset(),
    G.terminated: frozenset(),
}
GRANTS_RUNNING = frozenset({G.active, G.rectifying})


class TrancheState(StrEnum):
    """One payment of a grant, gated on its checkpoint."""

    planned = "planned"  # 计划中
    due = "due"  # 条件已满足，待拨付
    released = "released"  # 已拨付
    withheld = "withheld"  # 暂缓拨付（检查未通过）
    cancelled = "cancelled"  # 取消（项目终止）


T = TrancheState
TRANCHE_MOVES: Mapping[TrancheState, frozenset[TrancheState]] = {
    T.planned: frozenset({T.due, T.withheld, T.cancelled}),
    T.due: frozenset({T.released, T.withheld, T.cancelled}),
    T.withheld: frozenset({T.due, T.cancelled}),
    T.released: frozenset(),
    T.cancelled: frozenset(),
}


class ObjectionState(StrEnum):
    """An objection raised during the 公示 window."""

    open = "open"  # 待核实
    upheld = "upheld"  # 异议成立（修订决定、重新公示）
    dismissed = "dismissed"  # 异议不成立（记录理由）


OBJECTION_MOVES: Mapping[ObjectionState, frozenset[ObjectionState]] = {
    ObjectionState.open: frozenset({ObjectionState.upheld, ObjectionState.dismissed}),
    ObjectionState.upheld: frozenset(),
    ObjectionState.dismissed: frozenset(),
}


class CheckpointState(StrEnum):
    """A supervision checkpoint (中期评估, 结项评估, a visit)."""

    scheduled = "scheduled"  # 已排期
    open = "open"  # 已通知督导填报
    submitted = "submitted"  # 督导已提交
    passed = "passed"  # 通过
    failed = "failed"  # 未通过（整改）
    waived = "waived"  # 免检（项目终止等）


C = CheckpointState
CHECKPOINT_MOVES: Mapping[CheckpointState, frozenset[CheckpointState]] = {
    C.scheduled: frozenset({C.open, C.waived}),
    C.open: frozenset({C.submitted, C.failed, C.waived}),  # no report by the deadline counts as failing
    C.submitted: frozenset({C.passed, C.failed, C.open}),
    C.failed: frozenset({C.open, C.waived}),  # re-checked after rectification
    C.passed: frozenset(),
    C.waived: frozenset(),
}


class RectificationState(StrEnum):
    """A 整改 rectification opened by a failed checkpoint, settled by its re-check."""

    open = "open"  # 整改中
    passed = "passed"  # 复查通过
    failed = "failed"  # 复查未通过（可终止）
    lapsed = "lapsed"  # 逾期未整改（可终止）


RX = RectificationState
RECTIFICATION_MOVES: Mapping[RectificationState, frozenset[RectificationState]] = {
    RX.open: frozenset({RX.passed, RX.failed, RX.lapsed}),
    RX.passed: frozenset(),
    RX.failed: frozenset(),
    RX.lapsed: frozenset(),
}
RECTIFICATIONS_TERMINABLE = frozenset({RX.failed, RX.lapsed})  # the administrator may terminate the grant
CHECKPOINTS_OPEN = frozenset({C.scheduled, C.open, C.submitted})  # not yet settled
CHECKPOINTS_SETTLED = frozenset({C.passed, C.failed, C.waived})


class LetterState(StrEnum):
    """An outgoing letter in the outbox."""

    draft = "draft"  # 待审核（需管理员放行）
    queued = "queued"  # 待发送
    sending = "sending"  # 发送中
    sent = "sent"  # 已发送
    failed = "failed"  # 发送失败（保留服务器答复）


L = LetterState
LETTER_MOVES: Mapping[LetterState, frozenset[LetterState]] = {
    L.draft: frozenset({L.queued}),
    L.queued: frozenset({L.sending}),
    L.sending: frozenset({L.sent, L.queued, L.failed}),
    L.failed: frozenset({L.queued}),
    L.sent: frozenset(),
}
LETTERS_PENDING = frozenset({L.queued, L.sending})


class RunState(StrEnum):
    """A stage run started from the console (``models.steps.runs``): one at a time per stage."""

    queued = "queued"  # 排队中（已登记，尚未开始）
    running = "running"  # 运行中
    done = "done"  # 已完成
    refused = "refused"  # 未能进行（一句话说明原因）
    failed = "failed"  # 出错（意外错误，或门户中断）


RN = RunState
RUN_MOVES: Mapping[RunState, frozenset[RunState]] = {
    RN.queued: frozenset({RN.running, RN.refused, RN.failed}),
    RN.running: frozenset({RN.done, RN.refused, RN.failed}),
    RN.done: frozenset(),
    RN.refused: frozenset(),
    RN.failed: frozenset(),
}
RUNS_ACTIVE = frozenset({RN.queued, RN.running})  # at most one such run per competition and step
# its codes share values with the letters' (queued, failed): a map of its own, not STATE_LABELS
RUN_LABELS: Mapping[RunState, tuple[str, str]] = {
    RN.queued: ("排队中", "queued"),
    RN.running: ("运行中", "running"),
    RN.done: ("已完成", "done"),
    RN.refused: ("未能进行", "refused"),
    RN.failed: ("出错", "failed"),
}


class OrganisationKind(StrEnum):
    """单位性质."""

    registered = "registered"  # 登记注册的社会组织
    volunteer_team = "volunteer_team"  # 备案志愿服务团队
    community_office = "community_office"  # 社区社工室


ORGANISATION_KIND_LABELS: Mapping[OrganisationKind, str] = {
    OrganisationKind.registered: "社会组织",
    OrganisationKind.volunteer_team: "备案志愿服务团队",
    OrganisationKind.community_office: "社区社工室",
}

# Machines whose codes share a value with another machine's (active, cancelled …) have maps of their own.
GRANT_LABELS: Mapping[GrantState, str] = {
    G.awarded: "已立项，待签协议",
    G.active: "实施中",
    G.rectifying: "整改中",
    G.completed: "已结项",
    G.terminated: "已终止",
}
TRANCHE_LABELS: Mapping[TrancheState, str] = {
    T.planned: "计划中",
    T.due: "待拨付",
    T.released: "已拨付",
    T.withheld: "暂缓拨付",
    T.cancelled: "已取消",
}

STATE_LABELS: Mapping[StrEnum, str] = {
    CompetitionStage.draft: "筹备",
    CompetitionStage.call_open: "征集中",
    CompetitionStage.screening: "资格审查",
    CompetitionStage.review: "专家评审",
    CompetitionStage.funding: "立项决定",
    CompetitionStage.publicity: "公示期",
    CompetitionStage.implementation: "项目实施",
    CompetitionStage.evaluation: "结项评估",
    CompetitionStage.closed: "已结束",
    CompetitionStage.cancelled: "已取消",
    A.submitted: "已受理",
    A.ineligible: "资格审查未通过",
    A.eligible: "资格审查通过",
    A.in_review: "评审中",
    A.scored: "已评分",
    A.shortlisted: "拟资助",
    A.not_funded: "未入选",
    A.funded: "已立项",
    A.active: "实施中",
    A.rectifying: "整改中",
    A.completed: "已结项",
    A.terminated: "已终止",
    A.withdrawn: "已撤回",
}
