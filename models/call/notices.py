"""征集 The call: the 征集公告 and the blank 申报书, built from the configuration, and the letter that
sends both to the mailing list.

Publishing is a one-time act: the two documents are written once and reused by a re-run (the
letters that went out point at them), each mailing-list address gets the call letter once, and only
then — its work done — the competition moves 筹备 → 征集中 (refused after the application deadline,
and refused while the documents are missing). A run that fails half-way leaves the competition in
筹备, and running it again finishes the work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.competition.config import CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.documents.application_form import blank_application_context
from models.documents.engine.cn_format import cn_day, cn_moment, local_date
from models.documents.registry import write_document
from models.documents.tables import GeneratedDocument
from models.errors import InputError, Problem
from models.lifecycle import set_state
from models.mail.correspondence import write_to
from models.mail.outbox import OutboxLetter, letter_ids
from models.money import format_yuan
from models.settings import Settings
from models.stage_order import StageRun, require_stage
from models.states import ORGANISATION_KIND_LABELS, CompetitionStage

STAGE = "call"
CALL_DOCUMENTS = {"call_notice": "征集公告", "application_form": "申报书"}  # role → file name prefix
# 资格审查结果的通知期限：申报截止后 7 天 (the configuration has no date for it yet)


def screening_due(config: CompetitionConfig) -> date:
    """The day by which applicants hear the screening result (configured)."""
    return config.deadlines.screening_by


def applicant_kinds(config: CompetitionConfig) -> str:
    """``社会组织、备案志愿服务团队和社区社工室``: who may apply, as the configuration says."""
    names = [ORGANISATION_KIND_LABELS[k] for k in config.eligibility.organisation_kinds]
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "和" + names[-1]


def apply_url(settings: Settings, slug: str) -> str:
    """The applicants' web form of the competition (网上申报): ``{portal_url}/apply/{slug}``."""
    return f"{settings.portal_url.rstrip('/')}/apply/{slug}"


def eligibility_lines(config: CompetitionConfig) -> list[str]:
    """The 申报条件 of the notice, one sentence per configured rule."""
    rules, budget = config.eligibility, config.budget
    kinds = "、".join(ORGANISATION_KIND_LABELS[k] for k in rules.organisation_kinds)
    lines = [f"申报主体为{kinds}；"]
    if rules.require_registration_number:
        lines.append("须提供统一社会信用代码、登记证号或备案号；")
    if rules.min_founded_months:
        lines.append(f"截至申报截止日成立满{rules.min_founded_months}个月；")
    if rules.within_communities:
        lines.append(f"项目服务对象在本街道{len(config.communities)}个社区内；")
    amount = f"申请金额在{format_yuan(budget.per_project_min)}元至{format_yuan(budget.per_project_cap)}元之间"
    if rules.one_application_per_organisation:
        lines.append(f"每个单位限报1个项目，{amount}；")
    else:
        lines.append(f"{amount}；")
    if rules.required_attachments:
        lines.append(f"须附{'、'.join(rules.required_attachments)}；")
    lines.append("近两年无违法违规、失信记录，未因违反资助协议被取消资格。")
    return lines


def gate_text(gate: str, config: CompetitionConfig) -> str:
    """When a tranche is paid, in the notice's words: ``资助协议签订后``, ``中期评估合格后``."""
    if gate == "signing":
        return "资助协议签订后"
    checkpoint = next((c for c in config.checkpoints if c.code == gate), None)
    return f"{checkpoint.name if checkpoint else gate}合格后"


def call_schedule(config: CompetitionConfig, timezone: str) -> list[dict[str, str]]:
    deadlines = config.deadlines
    close = deadlines.applications_close.astimezone(ZoneInfo(timezone))
    steps = [
        {"step": "发布征集公告", "when": cn_day(deadlines.call_published)},
        {"step": "申报截止", "when": f"{cn_day(close.date())}{close:%H:%M}"},
        {"step": "资格审查", "when": f"{cn_day(screening_due(config))}前"},
        {"step": "专家评审", "when": f"{cn_day(local_date(deadlines.review_close, timezone))}前"},
    ]
    if deadlines.agreements_by is not None:
        steps.append({"step": "公示与签订协议", "when": f"{cn_day(deadlines.agreements_by)}前"})
    return steps


def call_notice_context(
    competition: Competition,
    config: CompetitionConfig,
    *,
    issue_date: date,
    settings: Settings,
    doc_number: str = "",
) -> dict[str, Any]:
    """征集公告: money, dates, communities, categories, conditions, rubric, schedule, how to apply."""
    info, budget = config.competition, config.budget
    return {
        "doc_number": doc_number,
        "competition_name": competition.name,
        "organiser": info.organiser,
        "operator": info.operator or info.organiser,
        "pool_fen": budget.pool,
        "per_project_cap_fen": budget.per_project_cap,
        "per_project_min_fen": budget.per_project_min,
        "service_period_start": info.projects_run.start,  # 项目执行期
        "service_period_end": info.projects_run.end,
        "communities": list(config.communities),
        "categories": [{"name": c.name, "description": c.description} for c in config.categories],
        "pools": [{"name": p.name, "amount_fen": p.amount} for p in config.pools if p.amount is not None],
        "eligibility": eligibility_lines(config),
        "criteria": [
            {"name": c.name, "description": c.description, "max_points": c.max_points * c.weight}
            for c in config.rubric.criteria
        ],
        "rubric_total": config.rubric.total,
        "schedule": call_schedule(config, settings.timezone),
        "applications_close": config.deadlines.applications_close,
        "tranches": [
            {"label": t.label, "percent": t.percent, "gate": gate_text(t.gate, config)}
            for t in config.tranches
        ],
        "submit_email": str(config.competition.submit_email),
        "contact": info.contact,
        "address": info.address,
        "issue_date": issue_date,
    }


def blank_form_context(competition: Competition, config: CompetitionConfig) -> dict[str, Any]:
    """The blank 申报书 of this competition: its categories, communities, cap and deadline."""
    return blank_application_context(
        competition_name=competition.name,
        organiser=config.competition.organiser,
        communities=config.communities,
        categories=[c.name for c in config.categories],
        per_project_cap_fen=config.budget.per_project_cap,
        applications_close=config.deadlines.applications_close,
    )


def ensure_call_may_open(competition: Competition, *, now: datetime) -> None:
    """Refuse to publish a call past its stage (``models.stage_order``), or one that is still 筹备
    after the application deadline."""
    require_stage(StageRun.publish_call, slug=competition.slug, stage=competition.stage)
    if competition.stage is not CompetitionStage.draft:
        return
    close = competition_config(competition).deadlines.applications_close
    if now >= close:
        raise InputError(
            Problem(
                competition.slug,
                "deadlines.applications_close",
                f"申报截止时间 {close.isoformat()} 已过，不能再发布征集公告",
                f"applications closed at {close.isoformat()}: too late to publish the call",
            )
        )


def open_call(session: Session, *, competition: Competition, now: datetime, actor: str) -> bool:
    """筹备 → 征集中 (audited) once the call's documents are written; False when the call is open
    already. Refused after the deadline, and while a document of the call is missing."""
    if competition.stage is not CompetitionStage.draft:
        return False
    ensure_call_may_open(competition, now=now)
    assert competition.id is not None
    missing = [
        role
        for role in CALL_DOCUMENTS
        if _published(session, competition_id=competition.id, role=role) is None
    ]
    if missing:
        raise InputError(
            Problem(
                competition.slug,
                "",
                f"征集文书尚未生成（{'、'.join(CALL_DOCUMENTS[r] for r in missing)}），不能发布",
                f"the call's documents are not written yet ({', '.join(missing)}): not published",
            )
        )
    set_state(
        session, competition, CompetitionStage.call_open, actor=actor, reason="发布征集公告 / call published"
    )
    return True


def _published(session: Session, *, competition_id: int, role: str) -> GeneratedDocument | None:
    return session.exec(
        select(GeneratedDocument)
        .where(
            GeneratedDocument.competition_id == competition_id,
            GeneratedDocument.role == role,
            GeneratedDocument.subject_entity == "competition",
        )
        .order_by(col(GeneratedDocument.id))
    ).first()


def write_call_documents(
    session: Session, *, competition: Competition, now: datetime, settings: Settings
) -> list[GeneratedDocument]:
    """The 征集公告 and the blank 申报书 (written once; a re-run returns the published ones).
    Refused for a call still 筹备 after the application deadline."""
    assert competition.id is not None
    ensure_call_may_open(competition, now=now)
    issue_date = local_date(now, settings.timezone)
    config = competition_config(competition)
    contexts: dict[str, Callable[[], dict[str, Any]]] = {
        "call_notice": lambda: call_notice_context(
            competition, config, issue_date=issue_date, settings=settings
        ),
        "application_form": lambda: blank_form_context(competition, config),
    }
    names = CALL_DOCUMENTS
    documents = []
    for role, build in contexts.items():
        found = _published(session, competition_id=competition.id, role=role)
        if found is None or not (settings.documents_dir / found.path).is_file():
            found = write_document(
                session,
                role=role,
                context=build(),
                competition_id=competition.id,
                stage=STAGE,
                subject_entity="competition",
                subject_id=competition.id,
                filename=f"{names[role]}-{competition.name}.docx",
                documents_dir=settings.documents_dir,
            )
        documents.append(found)
    return documents


def queue_call_letters(
    session: Session, *, competition: Competition, attachments: list[int], settings: Settings
) -> list[OutboxLetter]:
    """One call letter per mailing-list address, with the notice and the blank form attached;
    returns the letters queued now (a re-run queues none)."""
    assert competition.id is not None
    config = competition_config(competition)
    before = letter_ids(session, competition_id=competition.id, role="call")
    info = config.competition
    letters = []
    for entry in config.mailing_list:
        name = entry.name or str(entry.email)
        letters.append(
            write_to(
                session,
                competition=competition,
                role="call",
                stage=STAGE,
                email=str(entry.email),
                name=name,
                subject_entity="competition",
                subject_id=competition.id,
                attachments=attachments,
                context={
                    "applications_close": cn_moment(config.deadlines.applications_close, settings.timezone),
                    "pool_amount": format_yuan(config.budget.pool),
                    "per_project_cap": format_yuan(config.budget.per_project_cap),
                    "submit_email": str(config.competition.submit_email),
                    "applicant_kinds": applicant_kinds(config),
                    "apply_url": apply_url(settings, competition.slug),
                    "contact": info.contact,
                },
            )
        )
    session.flush()
    return [letter for letter in letters if letter.id not in before]
