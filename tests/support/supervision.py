"""Moving a funded competition through supervision in tests: what a supervisor and a grantee type
into their forms (as the portal posts them), and the steps the flow takes, in one session."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.settings import Settings
from models.supervision.notices import queue_invitations
from models.supervision.plan import project_plan
from models.supervision.schedule import open_checkpoints, schedule_checkpoints
from models.supervision.supervisors import assign_supervisors, load_supervisors

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 6, 2, 9, 0, tzinfo=BEIJING)  # the mid-term checkpoints open (due 30 June)
VISIT_AT = datetime(2025, 6, 20, 15, 0, tzinfo=BEIJING)


def record_fields(
    session: Session, competition: Competition, *, code: str, share: float, **extra: str
) -> dict[str, str]:
    """A supervisor's form: every rubric indicator scored at ``share`` of its maximum (in steps)."""
    plan = competition_config(competition).checkpoint(code)
    assert plan is not None
    fields = {
        "visit_date": "2025-06-18",
        "visit_mode": "on_site",
        "activities_held": "6",
        "person_times": "320",
        "beneficiaries": "80",
        "spent": "2,150.50",
        "findings": "活动按计划推进。",
        "rectify": "",
    }
    for item in plan.rubric:
        fields[f"points_{item.code}"] = str(int(item.max_points * Decimal(str(share))))
        fields[f"comment_{item.code}"] = f"{item.name}：良好"
    fields.update(extra)
    return fields


def progress_fields(session: Session, *, grant_id: int) -> dict[str, str]:
    """A grantee's progress report: two activities, person-times and spending on every budget line."""
    plan = project_plan(session, grant_id=grant_id)
    fields = {
        "act_date_1": "2025-04-20",
        "act_name_1": "启动仪式",
        "act_sessions_1": "1",
        "act_people_1": "60",
        "act_date_2": "2025-05-18",
        "act_name_2": "主题活动",
        "act_sessions_2": "4",
        "act_people_2": "240",
        "person_times": "300",
        "beneficiaries": "75",
        "problems": "雨季影响户外活动。",
        "changes": "",
    }
    for line in plan.budget:
        fields[f"spent_{line.budget_line_id}"] = str(line.amount_fen // 200)  # half of it, in yuan
    return fields


def open_supervision(
    session: Session, *, competition_id: int, settings: Settings, now: datetime = OPEN_AT
) -> None:
    """Supervisors from the configuration, assigned; checkpoints scheduled and opened; invitations."""
    load_supervisors(session, competition_id=competition_id, actor="admin")
    assign_supervisors(session, competition_id=competition_id, actor="admin")
    schedule_checkpoints(session, competition_id=competition_id, actor="admin")
    open_checkpoints(
        session, competition_id=competition_id, today=now.astimezone(BEIJING).date(), actor="admin"
    )
    competition = session.get(Competition, competition_id)
    assert competition is not None
    queue_invitations(session, competition=competition, settings=settings)
