"""The words of the console's 整改与终止 (``portal/admin/rectification.py``,
``templates/web/admin/rectification*.html``, ``terminate.html``) and of the file pickers' drop
zones (``dropzone.js``), merged into ``portal.i18n.MESSAGES`` beside the console's own."""

from __future__ import annotations

from collections.abc import Mapping

RECTIFICATION_ZH: Mapping[str, str] = {
    "admin.drop.one": ("把文件拖放到这里，或点击选择 / drop the file here, or choose it"),
    "admin.drop.many": (
        "把文件拖放到这里（可一次多个），或点击选择 / drop files here (several at once), or choose them"
    ),
    "admin.nav.rectification": "整改与终止",
    "admin.rect.title": "整改与终止",
    "admin.rect.intro": (
        "督导提交的检查点在此判定（通过则拨付，未通过则整改）；整改复查仍不合格或逾期未整改的项目可以终止。"
    ),
    "admin.rect.settling": "待判定的检查点",
    "admin.rect.settling_count": "督导已提交 {count} 个检查点，尚未判定。",
    "admin.rect.settling_none": "没有待判定的检查点。",
    "admin.rect.settle": "判定检查点结果",
    "admin.rect.settle_what": (
        "与命令 grantflow supervision follow-up 相同：按"
        "督导的结论拨付或暂缓款项、开启整改或结束整改，并发出随之而来的文书与信件。"
    ),
    "admin.rect.list": "整改",
    "admin.rect.none": "没有整改。",
    "admin.rect.failed_at": "未通过的检查点",
    "admin.rect.deadline": "整改期限",
    "admin.rect.recheck": "整改复查",
    "admin.rect.state": "整改结果",
    "admin.rect.state.open": "整改中",
    "admin.rect.state.passed": "复查通过",
    "admin.rect.state.failed": "复查未通过",
    "admin.rect.state.lapsed": "逾期未整改",
    "admin.rect.cp.scheduled": "已排期",
    "admin.rect.cp.open": "待督导填报",
    "admin.rect.cp.submitted": "督导已提交，待判定",
    "admin.rect.cp.passed": "通过",
    "admin.rect.cp.failed": "未通过",
    "admin.rect.cp.waived": "免检",
    "admin.rect.terminable": "可以终止的项目",
    "admin.rect.terminable_none": "没有可以终止的项目（只有整改复查未通过或逾期未整改的项目才能终止）。",
    "admin.rect.terminate": "终止项目",
    "admin.rect.terminated": "已终止的项目",
    "admin.rect.terminated_none": "没有已终止的项目。",
    "admin.rect.released": "已拨付",
    "admin.rect.spend": "核定支出",
    "admin.rect.clawback": "应退回",
    "admin.rect.cancelled": "不再拨付",
    "admin.rect.back": "返回整改与终止",
    "admin.rect.checkpoint": "检查点",
    "admin.rect.verdict": "督导结论",
    "admin.rect.passed": "通过",
    "admin.rect.failed": "未通过",
    "admin.rect.follows": "随后",
    "admin.rect.follows.pass": "拨付该检查点对应的款项（拨款通知，致项目单位）",
    "admin.rect.follows.pass_recheck": "整改结束，暂缓的款项拨付（拨款通知，致项目单位）",
    "admin.rect.follows.fail": "暂缓拨付，开启整改（整改通知，致项目单位），到期整改复查",
    "admin.rect.follows.fail_recheck": "整改复查不合格：可以终止该项目",
    "admin.rect.money": "终止时结算的金额",
    "admin.rect.will": "确认后将",
    "admin.rect.will.state": "项目及其申报改为“已终止”，未拨付的款项取消，未完成的检查点免检；",
    "admin.rect.will.document": "生成终止通知（编文号），写明理由与上述金额；",
    "admin.rect.will.letter": "终止通知随信发给项目单位 {email}（进入发信箱）。",
    "admin.rect.will.no_letter": "项目单位没有有效邮箱：不发信，终止通知可在文档中下载。",
    "admin.rect.reason": "终止理由（写入终止通知并审计）",
    "admin.rect.confirm": "确认终止",
    "admin.rect.grounds.failed": "整改复查未通过（整改期限 {deadline}）。",
    "admin.rect.grounds.lapsed": "逾期未整改（整改期限 {deadline}）。",
    "admin.done.terminated": "项目已终止，终止通知已放入发信箱。",
}

RECTIFICATION_EN: Mapping[str, str] = {
    "admin.drop.one": ("把文件拖放到这里，或点击选择 / drop the file here, or choose it"),
    "admin.drop.many": (
        "把文件拖放到这里（可一次多个），或点击选择 / drop files here (several at once), or choose them"
    ),
    "admin.nav.rectification": "Rectification",
    "admin.rect.title": "Rectification and termination",
    "admin.rect.intro": (
        "The checkpoints supervisors submitted ar"
        "e settled here (passed: paid; failed: a "
        "整改); a grant whose re-check failed or wh"
        "ose rectification lapsed may be terminat"
        "ed."
    ),
    "admin.rect.settling": "Checkpoints to settle",
    "admin.rect.settling_count": "{count} checkpoint(s) submitted by the supervisors, not settled yet.",
    "admin.rect.settling_none": "No checkpoint waits to be settled.",
    "admin.rect.settle": "Settle the checkpoints",
    "admin.rect.settle_what": (
        "The same as grantflow supervision follow-up: by the supervisors' verdi"
        "cts, tranches released or withheld, rectifications opened or closed, a"
        "nd the papers and letters that follow."
    ),
    "admin.rect.list": "Rectifications",
    "admin.rect.none": "No rectification.",
    "admin.rect.failed_at": "Failed checkpoint",
    "admin.rect.deadline": "Deadline",
    "admin.rect.recheck": "Re-check",
    "admin.rect.state": "Outcome",
    "admin.rect.state.open": "under way",
    "admin.rect.state.passed": "re-check passed",
    "admin.rect.state.failed": "re-check failed",
    "admin.rect.state.lapsed": "lapsed",
    "admin.rect.cp.scheduled": "scheduled",
    "admin.rect.cp.open": "waiting for the supervisor",
    "admin.rect.cp.submitted": "submitted, to settle",
    "admin.rect.cp.passed": "passed",
    "admin.rect.cp.failed": "failed",
    "admin.rect.cp.waived": "waived",
    "admin.rect.terminable": "Grants that may be terminated",
    "admin.rect.terminable_none": "None (only after a failed re-check or a lapsed rectification).",
    "admin.rect.terminate": "Terminate",
    "admin.rect.terminated": "Terminated grants",
    "admin.rect.terminated_none": "None terminated.",
    "admin.rect.released": "Paid",
    "admin.rect.spend": "Accepted spending",
    "admin.rect.clawback": "To return",
    "admin.rect.cancelled": "No longer paid",
    "admin.rect.back": "Back to rectification",
    "admin.rect.checkpoint": "Checkpoint",
    "admin.rect.verdict": "Verdict",
    "admin.rect.passed": "passed",
    "admin.rect.failed": "failed",
    "admin.rect.follows": "Then",
    "admin.rect.follows.pass": ("the checkpoint's tranche is paid (拨款通知 to the grantee)"),
    "admin.rect.follows.pass_recheck": (
        "the rectification ends, the withheld tranche is paid (拨款通知 to the grantee)"
    ),
    "admin.rect.follows.fail": (
        "the tranche is withheld, a rectification opens (整改通知 to the grantee), re-check at its deadline"
    ),
    "admin.rect.follows.fail_recheck": "the re-check failed: the grant may be terminated",
    "admin.rect.money": "The money the termination settles",
    "admin.rect.will": "On confirming",
    "admin.rect.will.state": (
        "the grant and its application become terminated, unpaid tranches are c"
        "ancelled, open checkpoints waived;"
    ),
    "admin.rect.will.document": ("a numbered 终止通知 is written with the reason and these amounts;"),
    "admin.rect.will.letter": ("the 终止通知 goes by letter to the grantee {email} (into the outbox)."),
    "admin.rect.will.no_letter": (
        "the grantee has no usable address: no letter; the 终止通知 is under Documents."
    ),
    "admin.rect.reason": "Why (written into the 终止通知 and audited)",
    "admin.rect.confirm": "Terminate",
    "admin.rect.grounds.failed": "The re-check failed (rectification deadline {deadline}).",
    "admin.rect.grounds.lapsed": "The rectification lapsed (deadline {deadline}).",
    "admin.done.terminated": "Terminated; the 终止通知 is in the outbox.",
}
