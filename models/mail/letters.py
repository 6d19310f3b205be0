"""The letters grantflow writes: one mail role per occasion, rendered into the outbox.

Each role declares its context keys with a sample (``tests/models/test_letters.py`` renders every
role in every language with its samples and fails on a key a template uses but does not declare).
Templates live in ``templates/mail/``: ``<role>.<language>.txt`` (the plain-text part; its
``{% set subject %}`` block is the subject line) and ``<role>.<language>.html`` (the HTML
alternative, extending ``_layout.<language>.html``). Languages: zh-CN, en.

Trust: every context value is untrusted text — XML-forbidden characters are removed, HTML is
escaped in the HTML part, template syntax in a value is printed, never run, and the subject line
and the recipient's name are folded onto one line (no header can be injected).

``compose_letter`` renders a letter and queues it in the outbox (as a draft when the competition
requires an administrator to release letters); the same letter composed twice is one row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.documents.engine.templating import (
    Registry,
    TemplateError,
    TemplateRole,
    clean_text,
    explain_undefined,
    sandbox,
)
from models.errors import InputError, Problem
from models.mail.mime import one_line
from models.mail.outbox import OutboxLetter, find_by_key, idempotency_key, queue_letter
from models.settings import TEMPLATES_DIR
from models.states import LetterState

MAIL_TEMPLATES = TEMPLATES_DIR / "mail"
LANGUAGES = ("zh-CN", "en")

LETTERS = Registry("mail")

_COMMON = {
    "recipient_name": "厦门市湖里区乐龄社会工作服务中心",
    "competition_name": "江头街道2025年微公益创投大赛",
    "organiser": "江头街道社会工作服务站",
}
_PROJECT = {"application_ref": "JT2025-001", "project_title": "银龄互助·社区食堂温暖行动"}
_SHEETS = [  # the sheets a letter names (the review's letters: ref and title; the panel's: a link each)
    {"ref": "JT2025-001", "title": "银龄互助·社区食堂温暖行动", "url": "http://127.0.0.1:8000/review/Ab3dE"},
    {
        "ref": "JT2025-007",
        "title": "小小科学家——园山社区科普周末课堂",
        "url": "http://127.0.0.1:8000/review/Kq8Zt",
    },
]


def _role(name: str, title: str, purpose: str, **keys: Any) -> TemplateRole:
    return LETTERS.register(
        TemplateRole(
            name=name,
            title=title,
            purpose=purpose,
            template=f"mail/{name}",
            keys={**_COMMON, **keys},
            kind="mail",
        )
    )


_role(
    "call",
    "征集公告",
    "announces the competition to the mailing list, with the 征集公告 and the blank 申报书",
    applications_close="2025年5月31日",
    pool_amount="200,000.00",
    per_project_cap="20,000.00",
    submit_email="gongyi@jiangtou.example.org",
    applicant_kinds="社会组织、备案志愿服务团队和社区社工室",
    apply_url="http://127.0.0.1:8000/apply/jiangtou-2025",
    contact="吴老师 0592-5550101",
)
_role(
    "receipt",
    "受理回执",
    "confirms that an application was received and registered",
    **_PROJECT,
    amount="20,000.00",
    received_at="2025年5月20日 14:30",
    screening_by="2025年6月10日",
)
_role(
    "rejection",
    "申报未受理",
    "tells an applicant why a submission could not be accepted, and until when to resubmit",
    project_title=_PROJECT["project_title"],
    reasons=["申请金额 25,000.00 元超过单个项目上限 20,000.00 元", "缺少联系人电子邮箱"],
    applications_close="2025年5月31日",
)
_role(
    "eligibility_result",
    "资格审查结果通知",
    "the result of the eligibility screening, with the reasons when not eligible",
    **_PROJECT,
    eligible=False,
    reasons=["服务社区“湖边”不在本次创投的 11 个社区之内"],
)
_EXPERT_URL = "http://127.0.0.1:8000/expert/Zx9Wq"  # the expert's own page: every sheet, each with its link
_role(
    "review_invitation",
    "专家评审邀请",
    "invites an expert to score the applications assigned to them, with one link to the list of their sheets",
    application_count=2,
    sheets=_SHEETS,
    expert_url=_EXPERT_URL,
    review_deadline="2025年6月30日 18:00",
)
_role(
    "review_reminder",
    "评审提醒",
    "reminds an expert of the sheets still open before the deadline, with one link to their list",
    pending_count=2,
    sheets=_SHEETS,
    expert_url=_EXPERT_URL,
    review_deadline="2025年6月30日 18:00",
)
_role(
    "final_review_invitation",
    "结项专家评审邀请",
    "invites an expert of the final evaluation's panel to score the projects assigned to them, with one "
    "link to the list of their sheets",
    project_count=2,
    sheets=[{**sheet, "url": sheet["url"].replace("/review/", "/final-review/")} for sheet in _SHEETS],
    expert_url=_EXPERT_URL,
    review_deadline="2025年10月27日 23:59",
    top_score="100",
)
_role(
    "final_review_reminder",
    "结项专家评审提醒",
    "reminds an expert of the panel's 结项 sheets still open before their due day, with one link to "
    "their list",
    pending_count=2,
    sheets=[{**sheet, "url": sheet["url"].replace("/review/", "/final-review/")} for sheet in _SHEETS],
    expert_url=_EXPERT_URL,
    review_deadline="2025年10月27日 23:59",
)
_role(
    "award",
    "立项通知",
    "tells an applicant that the project is funded, with the 立项通知书",
    **_PROJECT,
    amount="20,000.00",
    amount_in_capitals="人民币贰万元整",
    agreement_deadline="2025年7月20日",
)
_role(
    "not_selected",
    "未入选通知",
    "tells an applicant that the project was not selected, with its one-sentence reason and, when "
    "configured, the experts' comments without their names",
    **_PROJECT,
    reason="总排名第12、社会组织组第7名，得分74.20，社会组织组此时仅剩1,500.00元，不足所需6,000.00元，"
    "跳过并资助下一个放得下的项目。",
    comments=["需求分析扎实，建议细化活动安排与预算测算。", "服务对象明确，可加强社区资源联动。"],
)
_role(
    "agreement_lapsed",
    "资助协议逾期未签",
    "tells a funded applicant that the agreement was not signed by its date and the grant lapsed",
    **_PROJECT,
    sign_by="2025年4月15日",
    amount="8,000.00",
)
_role(
    "agreement",
    "资助协议书",
    "sends the 资助协议书 to sign, with the tranche plan",
    **_PROJECT,
    amount="20,000.00",
    amount_in_capitals="人民币贰万元整",
    sign_by="2025年7月20日",
    tranche_plan=[
        "签订协议后拨付 50%：10,000.00 元",
        "中期评估通过后拨付 30%：6,000.00 元",
        "结项评估通过后拨付 20%：4,000.00 元",
    ],
)
_role(
    "tranche_paid",
    "拨款通知",
    "tells a funded project that a tranche has been paid",
    **_PROJECT,
    tranche_label="首期拨款（签订协议后 50%）",
    amount="10,000.00",
    paid_on="2025年7月25日",
)
_role(
    "supervision_request",
    "督导任务通知",
    "asks a supervisor to visit a project and report on a checkpoint",
    **_PROJECT,
    organisation_name="厦门市湖里区乐龄社会工作服务中心",
    checkpoint_name="中期评估",
    report_url="http://127.0.0.1:8000/supervise/Zx9Qw",
    due_date="2025年9月15日",
)
_role(
    "rectification",
    "整改通知",
    "tells a project that a checkpoint failed, what to fix, and by when",
    **_PROJECT,
    checkpoint_name="中期评估",
    findings=["签到表缺少 3 场活动的记录", "活动照片未标注日期与地点"],
    rectify_by="2025年10月10日",
    withheld_amount="6,000.00",
)
_role(
    "supervision_reminder",
    "督导提醒",
    "reminds a supervisor of a checkpoint record still to be submitted before its due day",
    **_PROJECT,
    organisation_name="厦门市湖里区乐龄社会工作服务中心",
    checkpoint_name="中期评估",
    report_url="http://127.0.0.1:8000/supervise/Zx9Qw",
    due_date="2025年6月30日",
    days_left=7,
)
_role(
    "progress_report_request",
    "进度报告填报通知",
    "asks a funded project for its own progress report (中期报告 / 结项报告) before a checkpoint",
    **_PROJECT,
    checkpoint_name="中期评估",
    report_name="中期报告",
    report_url="http://127.0.0.1:8000/report/Pq7Lm",
    due_date="2025年6月27日",
    missing_fails=True,
)
_role(
    "progress_report_reminder",
    "进度报告提醒",
    "reminds a funded project that its progress report is still missing",
    **_PROJECT,
    checkpoint_name="中期评估",
    report_name="中期报告",
    report_url="http://127.0.0.1:8000/report/Pq7Lm",
    due_date="2025年6月27日",
    days_left=1,
    missing_fails=True,
)
_role(
    "termination",
    "终止通知",
    "tells a project that its grant is terminated, why, and what is to be returned (终止通知 attached)",
    **_PROJECT,
    doc_number="江头社工〔2025〕9号",
    reason="中期评估整改复查仍不合格",
    terminated_on="2025年8月1日",
    released_amount="4,000.00",
    accepted_spend="3,650.00",
    clawback_amount="350.00",
    clawback_in_capitals="人民币叁佰伍拾元整",
    cancelled_amount="4,000.00",
    return_days=15,
    return_to="江头街道财政所",
)
_role(
    "final_result",
    "结项评估结果",
    "the final evaluation: score and grade band, with the 结项评估报告",
    **_PROJECT,
    score="86.5",
    grade="良好",
    remarks="服务人次超过计划，台账完整。",
)


# ---- rendering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedLetter:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4)
def _environment(html: bool, folder: Path = MAIL_TEMPLATES) -> SandboxedEnvironment:
    env = sandbox(autoescape=html)
    env.loader = FileSystemLoader(str(folder))
    return env


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def template_files(role: TemplateRole, language: str) -> tuple[str, str]:
    """The names, under templates/mail/, of a role's text and HTML templates in ``language``."""
    name = role.template.removeprefix("mail/")
    return f"{name}.{language}.txt", f"{name}.{language}.html"


def render_letter(role: str, context: Mapping[str, Any], language: str = "zh-CN") -> RenderedLetter:
    """Render a role's subject, plain text and HTML; a missing key is an error naming key and template."""
    if language not in LANGUAGES:
        raise TemplateError(
            f"不支持的语言 / unsupported letter language {language!r} (use {', '.join(LANGUAGES)})"
        )
    spec = LETTERS.get(role)
    spec.check_context(context)
    values = _clean(dict(context))
    text_name, html_name = template_files(spec, language)
    try:
        text_module = _environment(False).get_template(text_name).make_module(values)
        html = _environment(True).get_template(html_name).render(values)
    except TemplateNotFound as exc:
        raise TemplateError(f"缺少邮件模板 / missing mail template templates/mail/{exc.name}") from None
    except UndefinedError as exc:
        raise explain_undefined(exc, f"mail/{role}.{language}") from None
    subject = one_line(str(getattr(text_module, "subject", "")))
    if not subject:
        raise TemplateError(f"模板 mail/{text_name} 没有主题 / sets no subject ({{% set subject %}})")
    text = str(text_module).lstrip("\n")
    return RenderedLetter(subject=subject, text=text, html=html)


# ---- composing into the outbox -----------------------------------------------------------------

_release_required: dict[str, bool] = {}


def release_required(competition: Competition) -> bool:
    """Whether this competition's letters wait as drafts for an administrator (cached per config)."""
    found = _release_required.get(competition.config_sha256)
    if found is None:
        found = competition_config(competition).require_letter_release
        _release_required[competition.config_sha256] = found
    return found


def checked_address(email: str, *, where: str = "") -> str:
    """A syntactically valid address (no display name, no CR/LF), normalised; else InputError."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(
            Problem(
                where,
                "email",
                f"电子邮箱无效：{email!r}（{exc}）",
                f"not a valid email address {email!r}: {exc}",
            )
        ) from None
    return str(result.normalized)


def letter_key(
    *, role: str, stage: str, recipient_email: str, subject_entity: str, subject_id: int | None, occasion: str
) -> str:
    """stage + recipient + subject; the subject is the role and the entity (``award:application:12``)."""
    subject = f"{role}:{subject_entity}:{subject_id if subject_id is not None else ''}"
    if occasion:
        subject += f":{occasion}"
    return idempotency_key(stage, recipient_email, subject)


def compose_letter(
    session: Session,
    *,
    role: str,
    stage: str,
    recipient_email: str,
    context: Mapping[str, Any],
    recipient_name: str = "",
    competition: Competition | None = None,
    subject_entity: str = "",
    subject_id: int | None = None,
    occasion: str = "",
    attachments: Sequence[int] = (),
    language: str | None = None,
    hold: str = "",
) -> OutboxLetter:
    """Render a letter and queue it in the outbox; composing the same letter again returns the stored row.

    The letter is a ``draft`` (waiting for ``grantflow outbox release``) when the competition's
    configuration says ``require_letter_release: true``, or when the caller holds it (``hold``: why,
    kept in the row's ``extra``); else ``queued``. The caller commits.
    """
    address = checked_address(recipient_email, where=f"{role} → {recipient_name or recipient_email}")
    key = letter_key(
        role=role,
        stage=stage,
        recipient_email=address,
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
    )
    existing = find_by_key(session, key=key)
    if existing is not None:
        return existing  # rendered once: the stored letter is what the administrator previewed
    from models.settings import get_settings

    language = language or get_settings().language
    rendered = render_letter(role, context, language)
    release = bool(hold) or (competition is not None and release_required(competition))
    letter = OutboxLetter(
        competition_id=competition.id if competition is not None else None,
        idempotency_key=key,
        role=role,
        stage=stage,
        recipient_email=address,
        recipient_name=one_line(recipient_name)[:200],
        subject_entity=subject_entity,
        subject_id=subject_id,
        subject=rendered.subject[:500],
        body_text=rendered.text,
        body_html=rendered.html,
        attachments=list(attachments),
        state=LetterState.draft if release else LetterState.queued,
        extra={"language": language, **({"held": hold} if hold else {})},
    )
    return queue_letter(session, letter)
