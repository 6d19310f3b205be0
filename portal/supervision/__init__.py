"""The supervisors' and grantees' room: a checkpoint's 督导记录表 and 中期 / 结项报告 on personal links.

It owns the checkpoint forms (show, post with evidence uploads, show again) and how a checkpoint's
plan and report are shown — that view is public, for the 结项 panel's sheet in the review room. It
imports only the portal's kernel.
"""

__public__ = ("routes", "checkpoint_view")
