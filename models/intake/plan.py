"""What an application promised: its 活动安排 (time, content, sessions, expected person-times) and its
直接受益人数, as intake stored them — the one reading of the plan for every later stage and paper.

Intake stores the plan as rows of whole numbers whichever channel it came by (an Excel sheet or cell,
CSV, JSON, the Word 申报书, the web form). An application stored before that (only the cell's text,
``activities_text``, or numbers written with units such as ``10场``) is read the same way here.

A paper never states a zero commitment: ``commitment`` says 活动不少于N场，服务不少于M人次 only for
figures the plan gives, and 按申报书约定 for the rest; ``sessions_text`` / ``participants_text`` /
``beneficiaries_text`` likewise for the planned column of a comparison.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.intake.tables import Application

AS_AGREED = "按申报书约定"
_NUMBER = re.compile(r"\d[\d,]*")


def _count(value: Any) -> int:
    """A whole number as stored (an int) or as people wrote it before (“10场”, “1,385人次”), else 0."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    found = _NUMBER.search(str(value or ""))
    return int(found.group().replace(",", "")) if found else 0


@dataclass(frozen=True)
class PlannedActivity:
    period: str
    content: str
    sessions: int
    participants: int


@dataclass(frozen=True)
class ActivityPlan:
    activities: tuple[PlannedActivity, ...] = ()
    beneficiaries: int = 0

    @property
    def sessions(self) -> int:
        return sum(a.sessions for a in self.activities)

    @property
    def participants(self) -> int:
        return sum(a.participants for a in self.activities)

    @property
    def stated(self) -> bool:
        """Whether the application gave a plan with at least one session."""
        return self.sessions > 0

    @property
    def sessions_text(self) -> str:
        return f"{self.sessions:,}场" if self.sessions else AS_AGREED

    @property
    def participants_text(self) -> str:
        return f"{self.participants:,}人次" if self.participants else AS_AGREED

    @property
    def beneficiaries_text(self) -> str:
        return f"{self.beneficiaries:,}人" if self.beneficiaries else AS_AGREED

    @property
    def commitment(self) -> str:
        """The plan as a grantee's duty, never a zero: 活动不少于8场，服务不少于320人次."""
        if not self.sessions and not self.participants:
            return f"活动场次和服务人次{AS_AGREED}"
        sessions = f"活动不少于{self.sessions:,}场" if self.sessions else f"活动场次{AS_AGREED}"
        people = f"服务不少于{self.participants:,}人次" if self.participants else f"服务人次{AS_AGREED}"
        return f"{sessions}，{people}"


def activity_plan(details: Mapping[str, Any], *, beneficiaries: int = 0) -> ActivityPlan:
    """The plan in an application's ``details``: its rows, or (stored before rows) the cell's lines."""
    rows = [r for r in details.get("activities") or [] if isinstance(r, Mapping)]
    if not rows:
        for line in str(details.get("activities_text") or "").splitlines():
            parts = [p.strip() for p in re.split(r"[|｜]", line)]
            if len(parts) >= 4:
                rows.append(dict(zip(("period", "content", "sessions", "participants"), parts, strict=False)))
    return ActivityPlan(
        activities=tuple(
            PlannedActivity(
                period=str(row.get("period") or ""),
                content=str(row.get("content") or ""),
                sessions=_count(row.get("sessions")),
                participants=_count(row.get("participants")),
            )
            for row in rows
        ),
        beneficiaries=max(beneficiaries, 0),
    )


def application_plan(application: Application) -> ActivityPlan:
    """The plan of a stored application (its activity rows and 直接受益人数)."""
    return activity_plan(application.details or {}, beneficiaries=application.beneficiaries or 0)
