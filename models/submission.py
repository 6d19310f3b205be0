"""A submitted form stays submitted: the one rule of every form a person fills on the portal (the
review's 专家评分表, the 结项 panel's sheet, the supervisor's 督导记录表, the grantee's 中期 / 结项报告).

    the form is …       the post is …   before its deadline        after its deadline
    never submitted     a draft         draft                      (the form's own rule)
    never submitted     a submission    submitted                  (the form's own rule)
    submitted           a submission    amended (audited as such)  refused: submitted stays as it is
    submitted           a draft         refused: a draft never replaces a submission

A refusal is a ``Conflict`` (bilingual) raised before anything is written, so a crafted POST of
``action=draft`` after 提交 changes nothing, whatever the page showed. Each form's save calls
``next_submission`` and writes its audit row with the answer's ``action`` and ``reason``.
"""

from __future__ import annotations

from enum import StrEnum

from models.errors import Conflict


class Submission(StrEnum):
    """What a save does to its form."""

    draft = "draft"  # saved, not submitted (nothing submitted before)
    submitted = "submitted"  # submitted for the first time
    amended = "amended"  # a submitted form changed and submitted again, before its deadline

    @property
    def reason(self) -> str:
        """The audit row's reason, Chinese first."""
        return {
            Submission.draft: "暂存草稿 / draft saved",
            Submission.submitted: "提交 / submitted",
            Submission.amended: "修改已提交的内容并再次提交 / submission amended",
        }[self]


def next_submission(*, submitted: bool, submit: bool, amendable: bool, form: tuple[str, str]) -> Submission:
    """What a post does to a form that is ``submitted`` (or not); ``Conflict`` when the rule refuses it.

    ``amendable``: the form's deadline for changes has not passed (a form whose deadline refuses
    every change checks that itself, before). ``form`` names it, Chinese and English
    (``("督导记录表", "supervision record")``).
    """
    zh, en = form
    if not submitted:
        return Submission.submitted if submit else Submission.draft
    if not submit:
        raise Conflict(
            f"该{zh}已提交，草稿不能替换已提交的内容，未作任何修改；如需修改，请改好后点击“提交修改” / "
            f"this {en} is submitted: a draft cannot replace it and nothing was changed; "
            "to change it, edit it and press “Submit changes”"
        )
    if not amendable:
        raise Conflict(
            f"该{zh}已提交且修改期限已过，不能再修改 / this {en} is submitted and the time for changes "
            "has passed: it cannot be changed any more"
        )
    return Submission.amended
