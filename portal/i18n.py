"""The portal's words: Chinese by default, English on ``?lang=en`` (remembered in a cookie).

Every string a page shows lives in ``MESSAGES``; templates call ``t("key")`` (the applicants' web
form's words are kept in ``portal.words.apply`` and merged in). A key missing from a language falls
back to Chinese; a key missing everywhere is shown as itself (and a test checks that both languages
have the same keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from models.errors import Problem
from portal.words.admin import ADMIN_EN, ADMIN_ZH
from portal.words.admin_pages import PAGES_EN, PAGES_ZH
from portal.words.apply import APPLY_EN, APPLY_ZH
from portal.words.final_review import FINAL_REVIEW_EN, FINAL_REVIEW_ZH
from portal.words.supervision import SUPERVISE_EN, SUPERVISE_ZH

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "gf_lang"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "site": "微公益创投 · 专家评审",
        "switch_language": "English",
        "sheet_title": "专家评分表",
        "expert": "评审专家",
        "deadline": "截止时间",
        "state": "状态",
        "state.invited": "待评分",
        "state.draft": "已暂存",
        "state.submitted": "已提交",
        "state.declined": "已谢绝",
        "state.conflicted": "已申报回避",
        "application": "申报项目",
        "ref": "申报编号",
        "title": "项目名称",
        "organisation": "申报单位",
        "organisation_kind": "单位性质",
        "blind_notice": "本次评审为匿名评审，申报单位信息已隐去。",
        "category": "项目类别",
        "pool": "组别",
        "communities": "服务社区",
        "target_group": "服务对象",
        "beneficiaries": "直接受益人数",
        "period": "项目周期",
        "amount": "申请金额（元）",
        "self_funded": "自筹/配套金额（元）",
        "contact": "联系人",
        "summary": "项目简介",
        "registration_number": "统一社会信用代码或登记证号",
        "founded_on": "成立时间",
        "rating": "年检结论/评估等级",
        "legal_representative": "法定代表人或负责人",
        "contact_phone": "联系电话",
        "contact_email": "电子邮箱",
        "address": "单位地址",
        "not_given": "（未填写）",
        "application.read": "申报书（点击展开阅读）",
        "part.organisation": "申报单位信息",
        "part.project": "项目信息",
        "section.summary": "项目简介",
        "section.need_analysis": "需求分析",
        "section.objectives": "项目目标",
        "section.activities": "活动安排",
        "section.outcomes": "预期成效与评估方式",
        "section.team": "执行团队",
        "section.risks": "风险与应对",
        "section.sustainability": "可持续性",
        "section.budget": "预算明细",
        "section.community_opinion": "社区意见",
        "section.attachments": "附件清单",
        "budget": "预算明细",
        "budget.item": "科目",
        "budget.purpose": "用途",
        "budget.unit_price": "单价（元）",
        "budget.quantity": "数量",
        "budget.amount": "金额（元）",
        "rubric": "评分标准",
        "criterion.max": "满分",
        "criterion.step": "最小分值单位",
        "criterion.weight": "权重",
        "points": "得分",
        "total": "合计",
        "total_weighted": "加权合计",
        "comment": "评审意见",
        "comment.hint": "请写明主要优点、不足与建议。",
        "save_draft": "暂存草稿",
        "submit": "提交评分",
        "submit.hint": "提交后在截止时间前仍可修改，每次修改都会留痕。",
        "resubmit": "提交修改",
        "resubmit.hint": "本表已提交。截止时间前可修改后再次提交，每次修改都会留痕。",
        "conflict": "利益冲突申报",
        "conflict.hint": "如您与该申报单位存在利益关系（任职、亲属、合作等），请申报回避，本表将不再计分。",
        "conflict.reason": "回避原因",
        "conflict.declare": "申报回避",
        "notice.draft": "草稿已保存。",
        "notice.submitted": "评分已提交，谢谢！截止前仍可修改。",
        "notice.conflict": "已记录您的回避申报，本项目不再需要您评分。",
        "notice.closed": "评审已截止，本表只读。",
        "notice.withdrawn": "您已退出本项目的评审，本表只读。",
        "errors.title": "请更正以下问题后再提交：",
        "refused.title": "无法打开此链接",
        "refused.body": "链接无效、已过期或不属于您。请使用评审邀请邮件中的个人链接；如有疑问请联系组织方。",
        "csrf.title": "表单已失效",
        "csrf.body": "为保护您的评分，该表单已失效。请返回评分页面刷新后重新提交。",
        "not_found.title": "页面不存在",
        "not_found.body": "您访问的页面不存在。",
        "closed.title": "评审已截止",
        "too_large.title": "提交的内容过大",
        "too_large.body": "本次提交超过了允许的大小，未保存任何内容。"
        "请删减过长的文字后重新提交；如有疑问请联系组织方。",
        "form_refused.title": "表单无法受理",
        "form_refused.body": "表单的栏目过多或某一栏内容过长（或附带了文件），未保存任何内容。"
        "请返回页面检查后重新提交。",
        "bad_request.title": "请求无法受理",
        "bad_request.body": "请求的格式不正确，未保存任何内容。请返回页面重新操作；如有疑问请联系组织方。",
        "not_allowed.title": "不支持此操作",
        "not_allowed.body": "此页面不支持这种访问方式。请通过邮件中的链接或页面上的按钮操作。",
        "refusal.state": "该评分表当前的状态不允许这一操作，请刷新页面查看最新状态；如有疑问请联系组织方。",
        **APPLY_ZH,
        **SUPERVISE_ZH,
        **FINAL_REVIEW_ZH,
        **ADMIN_ZH,
        **PAGES_ZH,
    },
    "en": {
        "site": "Micro-venture philanthropy · expert review",
        "switch_language": "中文",
        "sheet_title": "Expert score sheet",
        "expert": "Expert",
        "deadline": "Deadline",
        "state": "State",
        "state.invited": "not started",
        "state.draft": "draft saved",
        "state.submitted": "submitted",
        "state.declined": "declined",
        "state.conflicted": "conflict declared",
        "application": "Application",
        "ref": "Reference",
        "title": "Project",
        "organisation": "Applicant",
        "organisation_kind": "Kind of applicant",
        "blind_notice": "This is a blind review: the applicant's identity is hidden.",
        "category": "Category",
        "pool": "Pool",
        "communities": "Communities served",
        "target_group": "Served group",
        "beneficiaries": "Direct beneficiaries",
        "period": "Project period",
        "amount": "Amount asked (yuan)",
        "self_funded": "Self-funded / matched (yuan)",
        "contact": "Contact",
        "summary": "Summary",
        "registration_number": "Credit code or registration number",
        "founded_on": "Founded",
        "rating": "Annual inspection / rating",
        "legal_representative": "Legal representative",
        "contact_phone": "Phone",
        "contact_email": "E-mail",
        "address": "Address",
        "not_given": "(not given)",
        "application.read": "The application (tap to read)",
        "part.organisation": "Applicant",
        "part.project": "Project",
        "section.summary": "Summary 项目简介",
        "section.need_analysis": "Needs analysis 需求分析",
        "section.objectives": "Objectives 项目目标",
        "section.activities": "Activities 活动安排",
        "section.outcomes": "Expected outcomes and evaluation 预期成效与评估方式",
        "section.team": "Team 执行团队",
        "section.risks": "Risks and responses 风险与应对",
        "section.sustainability": "Sustainability 可持续性",
        "section.budget": "Budget 预算明细",
        "section.community_opinion": "Community's opinion 社区意见",
        "section.attachments": "Attachments 附件清单",
        "budget": "Budget",
        "budget.item": "Item",
        "budget.purpose": "Purpose",
        "budget.unit_price": "Unit price (yuan)",
        "budget.quantity": "Quantity",
        "budget.amount": "Amount (yuan)",
        "rubric": "Rubric",
        "criterion.max": "Maximum",
        "criterion.step": "Step",
        "criterion.weight": "weight",
        "points": "Points",
        "total": "Total",
        "total_weighted": "Weighted total",
        "comment": "Comment",
        "comment.hint": "Main strengths, weaknesses and suggestions.",
        "save_draft": "Save draft",
        "submit": "Submit scores",
        "submit.hint": "A submitted sheet can be changed until the deadline; every change is recorded.",
        "resubmit": "Resubmit",
        "resubmit.hint": "This sheet is submitted. Until the deadline you can change it and submit again; "
        "every change is recorded.",
        "conflict": "Conflict of interest",
        "conflict.hint": "If you have ties with this applicant (employment, family, partnership…), "
        "declare a conflict: this sheet will no longer count.",
        "conflict.reason": "Reason",
        "conflict.declare": "Declare a conflict",
        "notice.draft": "Draft saved.",
        "notice.submitted": "Scores submitted, thank you. You can still change them until the deadline.",
        "notice.conflict": "Your conflict of interest is recorded; you need not score this application.",
        "notice.closed": "The review has closed: this sheet is read-only.",
        "notice.withdrawn": "You have withdrawn from this application: this sheet is read-only.",
        "errors.title": "Please correct the following and submit again:",
        "refused.title": "This link cannot be opened",
        "refused.body": "The link is invalid, has expired, or is not yours. Use the personal link in your "
        "invitation letter, or contact the organiser.",
        "csrf.title": "This form has expired",
        "csrf.body": "To protect your scores this form is no longer valid. Go back, reload the page and "
        "submit again.",
        "not_found.title": "Page not found",
        "not_found.body": "There is no page at this address.",
        "closed.title": "The review has closed",
        "too_large.title": "Too much was sent",
        "too_large.body": "What was sent is larger than allowed; nothing was saved. Shorten the longest "
        "texts and submit again, or contact the organiser.",
        "form_refused.title": "This form cannot be accepted",
        "form_refused.body": "The form has too many fields, a field that is too long, or a file; nothing was "
        "saved. Go back, check it and submit again.",
        "bad_request.title": "This request cannot be accepted",
        "bad_request.body": "The request is malformed; nothing was saved. Go back and try again, or contact "
        "the organiser.",
        "not_allowed.title": "Not supported",
        "not_allowed.body": "This page cannot be used this way. Use the link in your letter or the buttons "
        "on the page.",
        "refusal.state": "This sheet's present state does not allow that. Reload the page to see its state, "
        "or contact the organiser.",
        **APPLY_EN,
        **SUPERVISE_EN,
        **FINAL_REVIEW_EN,
        **ADMIN_EN,
        **PAGES_EN,
    },
}


def choose_language(query: str | None, cookie: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """``?lang=`` first, then the cookie, then the default (Chinese); unknown values are ignored."""
    for candidate in (query, cookie, default):
        if candidate in LANGUAGES:
            return candidate
        if candidate and candidate.lower().startswith("zh"):
            return "zh-CN"
    return DEFAULT_LANGUAGE


def translator(language: str) -> Callable[..., str]:
    """``t(key, **values)``: the message in ``language`` (Chinese when missing), formatted with values."""
    own = MESSAGES.get(language, MESSAGES[DEFAULT_LANGUAGE])
    fallback = MESSAGES[DEFAULT_LANGUAGE]

    def t(key: str, **values: Any) -> str:
        text = own.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


def problem_text(problem: Problem, language: str) -> str:
    """A domain problem in the reader's language."""
    return problem.en if language == "en" else problem.zh


def in_language(message: str, language: str) -> str:
    """One side of a bilingual ``中文 / English`` message."""
    zh, sep, en = message.partition(" / ")
    return (en if language == "en" else zh) if sep else message
