"""What a delivery run's report says in one line (sent, waiting for a retry and when, failed): the
outbox command, the stage commands and the demo print it alike."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def next_attempt_text(report: Mapping[str, Any], timezone: str) -> str:
    """``2025-03-05 10:31 (Asia/Shanghai)`` — when the earliest waiting letter is due ("" if none)."""
    when = report.get("next_attempt_at")
    if not when:
        return ""
    moment = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} ({timezone})"


def delivery_summary(report: Mapping[str, Any], timezone: str) -> str:
    """One line for a delivery run's report: sent, waiting for a retry (and when), failed."""
    sent, waiting, failed = report["sent"], report["waiting"], len(report["failed"])
    parts = [f"已发送 {sent} 封 / {sent} sent"]
    if waiting:
        when = next_attempt_text(report, timezone)
        parts.append(
            f"待重试 {waiting} 封，下次尝试 {when} / {waiting} waiting for a retry, next attempt at {when}"
        )
    if failed:
        parts.append(f"发送失败 {failed} 封 / {failed} failed")
    return "；".join(parts)
