"""The words of the expert panel's 结项 sheet (``/final-review/<token>``), merged into
``portal.i18n.MESSAGES``; the plan and the grantee's report reuse the supervision pages' words."""

from __future__ import annotations

from collections.abc import Mapping

FINAL_REVIEW_ZH: Mapping[str, str] = {
    "fr.site": "微公益创投 · 结项评审",
    "fr.title": "结项专家评分表",
    "fr.expert": "评审专家",
    "fr.deadline": "评分截止",
    "fr.delivered": "完成情况",
    "fr.delivered.activities": "活动场次",
    "fr.delivered.people": "服务人次",
    "fr.delivered.spent": "经费使用（元）",
    "fr.delivered.planned": "计划",
    "fr.delivered.actual": "实际",
    "fr.delivered.rate": "完成率",
    "fr.findings": "督导意见",
    "fr.findings.score": "督导评分 {score}",
    "fr.findings.none": "督导尚未填写意见。",
    "fr.findings.evidence": "督导上传的材料",
    "fr.delivered.what": "项目",
    "fr.score": "评分",
    "fr.score.hint": "请按项目的完成情况与成效给出 0–{top} 分的评分，可保留两位小数。",
    "fr.comment": "评审意见",
    "fr.comment.hint": "可写明亮点、不足与建议，将汇入结项评估。",
    "fr.weight": "专家组评分占结项得分的 {share}%，督导评分占 {rest}%。",
    "fr.late": "截止后未提交的评分不计入结项得分。",
    "fr.notice.draft": "草稿已保存。",
    "fr.notice.submitted": "评分已提交，谢谢！截止前仍可修改。",
    "fr.notice.closed": "结项评分已截止或项目已完成评估，本表只读。",
}

FINAL_REVIEW_EN: Mapping[str, str] = {
    "fr.site": "Micro-venture philanthropy · final evaluation",
    "fr.title": "Final evaluation score sheet",
    "fr.expert": "Expert",
    "fr.deadline": "Deadline",
    "fr.delivered": "What was delivered",
    "fr.delivered.activities": "Activities",
    "fr.delivered.people": "Person-times",
    "fr.delivered.spent": "Spending (yuan)",
    "fr.delivered.planned": "Planned",
    "fr.delivered.actual": "Delivered",
    "fr.delivered.rate": "Rate",
    "fr.findings": "The supervisors' findings",
    "fr.findings.score": "supervisor's score {score}",
    "fr.findings.none": "No findings from the supervisors yet.",
    "fr.findings.evidence": "The supervisors' evidence",
    "fr.delivered.what": "Measure",
    "fr.score": "Score",
    "fr.score.hint": "Score the project's delivery and results from 0 to {top}; up to two decimals.",
    "fr.comment": "Comment",
    "fr.comment.hint": "Strengths, shortcomings and advice; they go into the final evaluation.",
    "fr.weight": "The panel's score weighs {share}% of the final score, the supervisors' {rest}%.",
    "fr.late": "A score not submitted by the deadline does not count.",
    "fr.notice.draft": "Draft saved.",
    "fr.notice.submitted": "Score submitted, thank you. You can still change it until the deadline.",
    "fr.notice.closed": "The sheet has closed (deadline passed or the project evaluated): read-only.",
}
