"""管理员决定 Decisions from the Prefect UI: one deployment per decision, each with a typed form.

An administrator who never opens a terminal runs the year from the Prefect UI: each flow here takes
one form (a pydantic model whose fields carry Chinese titles and descriptions, so the UI's "Run"
form explains itself) and calls the same tasks and models as the CLI. An answer that must be chosen
is a required Enum (an untouched checkbox would submit ``false``). Every decision is audited by the
model functions it calls; a refused one ends the run with the reason (a GrantflowError), and
changes nothing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from flows.funding import funding_approve
from flows.grants import grants_sign
from flows.naming import run_name
from tasks.competition import competition_id_for
from tasks.decisions import (
    adjust_amount_task,
    decide_tie_task,
    gate_tranche_task,
    objection_task,
    ruling_task,
)

COMPETITION = Field(
    title="竞赛代码 / competition",
    description="竞赛的代码（slug），如 jiangtou-2025 / the competition's slug",
    min_length=2,
    max_length=64,
)
WHO = Field(title="决定人 / decided by", description="姓名，记入审计 / your name, kept in the audit trail")


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Approval(StrEnum):
    approve = "批准 approve"
    hold = "暂不批准 not now"


class FundingApproval(_Form):
    """批准资助方案并发布公示 / approve the funding draft and publish the 公示."""

    competition: str = COMPETITION
    answer: Approval = Field(title="决定 / decision", description="批准后即发布拟资助项目公示")
    decided_by: str = WHO


class ObjectionRecord(_Form):
    """登记公示期内的实名异议 / record a named objection during the 公示."""

    competition: str = COMPETITION
    ref: str = Field(title="申报编号 / ref", description="被异议项目的申报编号，如 JT2025-003")
    raised_by: str = Field(title="异议人 / raised by", description="实名 / the objector's name", min_length=2)
    text: str = Field(title="异议的事实与理由 / the facts", min_length=2, max_length=4000)
    recorded_by: str = WHO


class Ruling(StrEnum):
    upheld = "成立 upheld"
    dismissed = "不成立 dismissed"


class ObjectionRuling(_Form):
    """处理异议：成立则修订方案并重新公示；不成立则记录理由 / rule on an objection."""

    objection: int = Field(title="异议编号 / objection number", ge=1)
    ruling: Ruling = Field(title="结论 / ruling")
    reason: str = Field(title="核实结论与理由 / the finding", min_length=2, max_length=4000)
    decided_by: str = WHO


class AmountAdjustment(_Form):
    """调整一个项目的资助金额（须写理由）/ adjust one funded amount, with a reason."""

    competition: str = COMPETITION
    ref: str = Field(title="申报编号 / ref")
    amount_yuan: str = Field(title="调整后的金额，元 / new amount in yuan", description="如 7500 或 7,500.00")
    reason: str = Field(title="理由 / why", description="如：核减宣传费 500 元", min_length=2)
    decided_by: str = WHO


class TieDecision(_Form):
    """决定同分项目的先后 / decide the order of projects tied at the cut."""

    competition: str = COMPETITION
    refs: list[str] = Field(title="同分项目，按先后 / tied refs, first = ahead", min_length=2)
    reason: str = Field(title="决定理由 / why this order", min_length=2)
    decided_by: str = WHO


class SigningTiming(StrEnum):
    signed = "已签订（今天或以前）signed, today or before"
    ahead = "预先登记（晚于今天）recorded ahead, after today"


class SigningRecord(_Form):
    """登记资助协议签订日期（首期拨付随之发放）/ record that an agreement was signed."""

    competition: str = COMPETITION
    ref: str = Field(title="申报编号 / ref")
    signed_on: date = Field(title="签订日期 / signed on")
    timing: SigningTiming = Field(
        title="签订日期 / the date is",
        description="晚于今天的日期只在选“预先登记”时受理 / a date after today only as recorded ahead",
    )
    recorded_by: str = WHO


class Gate(StrEnum):
    release = "拨付 release"
    withhold = "暂缓拨付 withhold"


class TrancheGate(_Form):
    """拨付或暂缓一期资金 / release or withhold one tranche."""

    competition: str = COMPETITION
    ref: str = Field(title="申报编号 / ref")
    gate: str = Field(title="拨付条件 / gate", description="配置中的检查点代码，如 midterm、final")
    answer: Gate = Field(title="决定 / decision")
    reason: str = Field(title="理由 / reason", min_length=2)
    decided_by: str = WHO


def _actor(name: str) -> str:
    return f"admin:{name}"


@flow(name="decide-funding", flow_run_name=run_name("批准资助方案 funding decision"))
def decide_funding(form: FundingApproval) -> dict[str, Any]:
    """批准资助方案 / approve the funding draft (refused while a tie or an objection is open)."""
    if form.answer is Approval.hold:
        return {"approved": False, "note": "暂不批准 / not approved: nothing changed"}
    return funding_approve(form.competition, actor=_actor(form.decided_by))


@flow(name="record-objection", flow_run_name=run_name("登记异议 objection"))
def record_objection(form: ObjectionRecord) -> dict[str, Any]:
    """登记公示期内的实名异议 / record an objection (only within the window)."""
    competition_id = competition_id_for(form.competition)
    number = objection_task(competition_id, form.ref, form.raised_by, form.text, _actor(form.recorded_by))
    return {"objection": number}


@flow(name="rule-on-objection", flow_run_name=run_name("处理异议 objection ruling"))
def rule_on_objection(form: ObjectionRuling) -> dict[str, Any]:
    """处理异议 / uphold (revise the draft, a new 公示) or dismiss (the reason is kept)."""
    return ruling_task(form.objection, form.ruling is Ruling.upheld, form.reason, _actor(form.decided_by))


@flow(name="adjust-amount", flow_run_name=run_name("调整资助金额 amount adjusted"))
def adjust_amount(form: AmountAdjustment) -> dict[str, Any]:
    """调整资助金额 / adjust one funded amount (audited; the explanation names it)."""
    competition_id = competition_id_for(form.competition)
    return adjust_amount_task(
        competition_id, form.ref, form.amount_yuan, form.reason, _actor(form.decided_by)
    )


@flow(name="decide-tie", flow_run_name=run_name("同分决定 tie decided"))
def decide_tie(form: TieDecision) -> dict[str, Any]:
    """决定同分项目的先后 / decide a tie at the cut (audited)."""
    competition_id = competition_id_for(form.competition)
    return decide_tie_task(competition_id, form.refs, form.reason, _actor(form.decided_by))


@flow(name="record-signing", flow_run_name=run_name("协议签订 agreement signed"))
async def record_signing(form: SigningRecord) -> dict[str, Any]:
    """登记协议签订 / record a signing; the signing tranche is released with its 拨款通知."""
    return await grants_sign(
        form.competition,
        signings=[(form.ref, form.signed_on)],
        actor=_actor(form.recorded_by),
        future=form.timing is SigningTiming.ahead,
    )


@flow(name="gate-tranche", flow_run_name=run_name("拨付决定 tranche decided"))
def gate_tranche(form: TrancheGate) -> dict[str, Any]:
    """拨付或暂缓 / release (拨款通知 and letter) or withhold one tranche, with the reason."""
    competition_id = competition_id_for(form.competition)
    return gate_tranche_task(
        competition_id,
        form.ref,
        form.gate,
        form.answer is Gate.release,
        form.reason,
        _actor(form.decided_by),
    )
