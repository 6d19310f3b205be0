"""The portal's words: Chinese by default, English on ``?lang=en`` (remembered in a cookie).

Every string a page shows lives in ``MESSAGES``; templates call ``t("key")`` (the applicants' web
form's words are kept in ``portal.words.apply`` and merged in). A key missing from a language falls
back to Chinese; a key missing everywhere is shown as itself (and a test checks that both languages
have the same keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.errors import Problem
from portal.words.admin import ADMIN_EN, ADMIN_ZH
from portal.words.admin_pages import PAGES_EN, PAGES_ZH
from portal.words.apply import APPLY_EN, APPLY_ZH
from portal.words.final_review import FINAL_REVIEW_EN, FINAL_REVIEW_ZH
from portal.words.rectification import RECTIFICATION_EN, RECTIFICATION_ZH
from portal.words.steps import STEPS_EN, STEPS_ZH
from portal.words.supervision import SUPERVISE_EN, SUPERVISE_ZH

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "gf_lang"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "site": "微公益创投 · 专家评审",
        "portal.site": "微公益创投",
        "report.site": "微公益创投 · 项目进度报告",
        "expert_page.title": "我的评审",
        "expert_page.link": "我的全部评分表",
        "expert_page.progress": "进度",
        "expert_page.done": "已提交 {done} / {total} 份",
        "expert_page.next": "下一份待评：",
        "expert_page.all_done": "您的评分表都已提交或已截止，谢谢！",
        "expert_page.sheets": "全部评分表",
        "expert_page.kind.review": "项目评审",
        "expert_page.kind.final_review": "结项评审",
        "state.closed": "已截止（未提交）",
        "deadline.planned": "（提前截止，原定 {moment}）",
        "next_sheet": "下一份：{ref} {title}",
        "next_sheet.none": "您的评分表都已提交，谢谢！",
        "criterion.step.whole": "请打整数分。",
        "criterion.step.fraction": "可打到 {step} 分，如 {example} 分。",
        "criterion.step.multiple": "分数须为 {step} 的整数倍。",
        "table.scrolls": "表格较宽，可左右滑动查看。",
        "conflict.confirm.title": "确认申报回避？",
        "conflict.confirm.body": "申报后您将退出本项目的评审，本表不再计分，也不能撤回；"
        "组织方会另请专家评审。",
        "conflict.confirm": "确认申报回避",
        "conflict.cancel": "返回，不申报",
        "status.sheet.invited": "尚未评分。请在 {deadline} 前提交；提交后截止前仍可修改。",
        "status.sheet.draft": "草稿已保存，尚未提交——草稿不计分。请在 {deadline} 前提交。",
        "status.sheet.submitted": "已于 {moment} 提交。",
        "status.sheet.amend": "截止 {deadline} 前可修改后再次提交，每次修改都会留痕；"
        "截止后评分汇总计入排名。",
        "status.sheet.closed": "评审已截止。",
        "status.sheet.closed_at": "评审已于 {moment} 提前截止。",
        "status.sheet.counted": "您提交的评分已计入。",
        "status.sheet.not_counted": "本表未在截止前提交，不计分。",
        "status.sheet.withdrawn": "您已退出本项目的评审（谢绝或回避），本表不计分。",
        "status.panel.amend": "截止 {deadline} 前可修改后再次提交；截止后计入结项得分。",
        "status.panel.closed": "结项评分已截止或项目已完成评估，本表只读。",
        "refused.contact": "如有疑问请联系",
        "refused.body.expert": "链接无效、已过期或不属于您。"
        "请使用评审邀请邮件中的个人链接（“我的评审”页面列出您的全部评分表）。",
        "refused.body.supervisor": "链接无效、已过期或不属于您。请使用督导通知邮件中的个人链接；"
        "项目改由其他督导负责时，旧链接会失效。",
        "refused.body.grantee": "链接无效、已过期或已被更换。"
        "请使用发给项目联系人的进度报告通知邮件中的链接。",
        "refused.body.applicant": "该页面无法打开。请使用征集公告或通知邮件中的网上申报链接。",
        "csrf.body.expert": "为保护您的评分，该表单已失效。请返回评分页面刷新后重新提交。",
        "not_found.body.applicant": "没有这个申报页面。请使用征集公告或通知邮件中的网上申报链接。",
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
        "refused.body": "链接无效、已过期或不属于您。请使用通知邮件中的个人链接。",
        "csrf.title": "表单已失效",
        "csrf.body": "为保护您填写的内容，该表单已失效。请返回页面刷新后重新提交。",
        "not_found.title": "页面不存在",
        "not_found.body": "您访问的页面不存在。",
        "closed.title": "评审已截止",
        "too_slow.title": "提交超时",
        "too_slow.body": "本次提交的内容未能及时传送完毕，未保存任何内容。请检查网络后重新提交。",
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
        "busy.title": "系统繁忙，请稍后再试",
        "busy.body": "系统暂时无法保存（数据库繁忙或正在重启），这次提交未保存任何内容。"
        "请过一分钟后返回页面重新提交；如有疑问请联系组织方。",
        "refusal.state": "该评分表当前的状态不允许这一操作，请刷新页面查看最新状态；如有疑问请联系组织方。",
        **APPLY_ZH,
        **SUPERVISE_ZH,
        **FINAL_REVIEW_ZH,
        **ADMIN_ZH,
        **PAGES_ZH,
        **STEPS_ZH,
        **RECTIFICATION_ZH,
    },
    "en": {
        "site": "Micro-venture philanthropy · expert review",
        "portal.site": "Micro-venture philanthropy",
        "report.site": "Micro-venture philanthropy · progress report",
        "expert_page.title": "My reviews",
        "expert_page.link": "All my score sheets",
        "expert_page.progress": "Progress",
        "expert_page.done": "{done} of {total} submitted",
        "expert_page.next": "Next to score:",
        "expert_page.all_done": "All your sheets are submitted or closed. Thank you!",
        "expert_page.sheets": "All score sheets",
        "expert_page.kind.review": "review",
        "expert_page.kind.final_review": "final evaluation",
        "state.closed": "closed (not submitted)",
        "deadline.planned": " (closed early; planned for {moment})",
        "next_sheet": "Next: {ref} {title}",
        "next_sheet.none": "All your sheets are submitted. Thank you!",
        "criterion.step.whole": "Whole points only.",
        "criterion.step.fraction": "Points in steps of {step}, e.g. {example}.",
        "criterion.step.multiple": "Points in multiples of {step}.",
        "table.scrolls": "A wide table: swipe sideways to see all of it.",
        "conflict.confirm.title": "Declare a conflict of interest?",
        "conflict.confirm.body": "You will withdraw from this application: this sheet will not count and "
        "this cannot be undone; the organiser will ask another expert.",
        "conflict.confirm": "Yes, declare the conflict",
        "conflict.cancel": "Back, do not declare",
        "status.sheet.invited": "Not scored yet. Submit before {deadline}; you can still change it until "
        "then.",
        "status.sheet.draft": "Draft saved, not submitted: a draft does not count. Submit before {deadline}.",
        "status.sheet.submitted": "Submitted on {moment}.",
        "status.sheet.amend": "Until {deadline} you can change it and submit again (every change is "
        "recorded); then the scores go into the ranking.",
        "status.sheet.closed": "The review has closed.",
        "status.sheet.closed_at": "The review closed early, on {moment}.",
        "status.sheet.counted": "Your submitted scores count.",
        "status.sheet.not_counted": "This sheet was not submitted before the review closed: it does not "
        "count.",
        "status.sheet.withdrawn": "You have withdrawn from this application (declined or conflict): "
        "this sheet does not count.",
        "status.panel.amend": "Until {deadline} you can change it and submit again; then it goes into the "
        "final score.",
        "status.panel.closed": "The sheet has closed (deadline passed or the project evaluated): read-only.",
        "refused.contact": "Questions? Contact",
        "refused.body.expert": "The link is invalid, has expired, or is not yours. Use the personal link in "
        "your invitation letter (“My reviews” lists all your sheets).",
        "refused.body.supervisor": "The link is invalid, has expired, or is not yours. Use the personal link "
        "in your supervision letter; when a project moves to another supervisor, the old link stops working.",
        "refused.body.grantee": "The link is invalid, has expired, or was replaced. Use the link in the "
        "progress report letter sent to the project's contact.",
        "refused.body.applicant": "This page cannot be opened. Use the online application link in the call "
        "or in your letter.",
        "csrf.body.expert": "To protect your scores this form is no longer valid. Go back, reload the page "
        "and submit again.",
        "not_found.body.applicant": "There is no application page here. Use the online application link in "
        "the call or in your letter.",
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
        "criterion.weight": "weight",
        "points": "Points",
        "total": "Total",
        "total_weighted": "Weighted total",
        "comment": "Comment",
        "comment.hint": "Main strengths, weaknesses and suggestions.",
        "save_draft": "Save draft",
        "submit": "Submit scores",
        "submit.hint": "A submitted sheet can be changed until the deadline; every change is recorded.",
        "resubmit": "Submit changes",
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
        "letter.",
        "csrf.title": "This form has expired",
        "csrf.body": "To protect what you typed, this form is no longer valid. Go back, reload the page and "
        "submit again.",
        "not_found.title": "Page not found",
        "not_found.body": "There is no page at this address.",
        "closed.title": "The review has closed",
        "too_slow.title": "The form took too long to arrive",
        "too_slow.body": "What was sent did not arrive in time; nothing was saved. Check the connection and "
        "submit again.",
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
        "busy.title": "Busy: please try again shortly",
        "busy.body": "The system could not save just now (its database is busy or restarting); nothing of "
        "this submission was saved. Go back in a minute and submit again, or contact the organiser.",
        "refusal.state": "This sheet's present state does not allow that. Reload the page to see its state, "
        "or contact the organiser.",
        **APPLY_EN,
        **SUPERVISE_EN,
        **FINAL_REVIEW_EN,
        **ADMIN_EN,
        **PAGES_EN,
        **STEPS_EN,
        **RECTIFICATION_EN,
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


def local_moment(moment: datetime, timezone: str) -> str:
    """A moment as every page prints it: ``2025-03-21 17:00`` in the competition's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def has_message(key: str) -> bool:
    """Whether ``key`` is in the catalogue (a room's own wording of a shared message, say)."""
    return key in MESSAGES[DEFAULT_LANGUAGE]


def problem_text(problem: Problem, language: str) -> str:
    """A domain problem in the reader's language."""
    return problem.en if language == "en" else problem.zh


def in_language(message: str, language: str) -> str:
    """One side of a bilingual ``中文 / English`` message."""
    zh, sep, en = message.partition(" / ")
    return (en if language == "en" else zh) if sep else message
