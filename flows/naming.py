"""Flow run names: the competition's slug and the stage, never ``None``.

A run started without a slug works on the newest competition; its name says so instead of
showing ``None`` (Prefect fills ``{slug}`` templates with the parameter's value as it is).
"""

from __future__ import annotations

from collections.abc import Callable

from prefect.runtime import flow_run

NEWEST = "最新竞赛 newest"
ALL = "全部竞赛 all"


def run_name(label: str, *, parameter: str = "slug", default: str = NEWEST) -> Callable[[], str]:
    """A ``flow_run_name`` callable: "<slug> · <label>", or "<default> · <label>" without a slug."""

    def name() -> str:
        value = flow_run.parameters.get(parameter)
        return f"{value or default} · {label}"

    return name
