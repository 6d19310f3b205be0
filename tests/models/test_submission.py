"""The one rule of every form a person fills on the portal: a submitted form stays submitted."""

from __future__ import annotations

import pytest

from models.errors import Conflict
from models.submission import Submission, next_submission

FORM = ("督导记录表", "supervision record")


@pytest.mark.parametrize(
    ("submitted", "submit", "amendable", "expected"),
    [
        (False, False, True, Submission.draft),
        (False, True, True, Submission.submitted),
        (False, True, False, Submission.submitted),  # a first submission after the deadline: late, taken
        (False, False, False, Submission.draft),
        (True, True, True, Submission.amended),
    ],
)
def test_next_submission_of_each_post(
    submitted: bool, submit: bool, amendable: bool, expected: Submission
) -> None:
    assert next_submission(submitted=submitted, submit=submit, amendable=amendable, form=FORM) is expected


@pytest.mark.parametrize("amendable", [True, False])
def test_next_submission_a_draft_never_replaces_a_submission(amendable: bool) -> None:
    with pytest.raises(Conflict) as refused:
        next_submission(submitted=True, submit=False, amendable=amendable, form=FORM)
    zh, en = str(refused.value).split(" / ", 1)
    assert "督导记录表已提交" in zh and "草稿不能替换" in zh and "a draft cannot replace it" in en


def test_next_submission_an_amendment_after_the_deadline_is_refused() -> None:
    with pytest.raises(Conflict, match="修改期限已过"):
        next_submission(submitted=True, submit=True, amendable=False, form=FORM)


def test_submission_reasons_name_the_amendment() -> None:
    assert Submission.amended.reason == "修改已提交的内容并再次提交 / submission amended"
    assert len({s.reason for s in Submission}) == 3  # each says what it was
