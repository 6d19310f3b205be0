"""Mail tasks: deliver the outbox (async, aiosmtplib). The engine is ``tasks/mail_delivery.py``."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task

from tasks.mail.delivery import deliver_configured


@task(name="deliver-letters", retries=1, retry_delay_seconds=5)
async def deliver_pending(competition_id: int | None = None, takeover: bool = False) -> dict[str, Any]:
    """Send every due letter (of one competition, or all); returns the delivery report.

    Each letter's own retries (4xx, lost connections) happen inside; a task retry only covers
    the run itself (e.g. the database was busy) and is safe: a re-run never sends a letter twice.
    """
    logger = get_run_logger()
    report = await deliver_configured(competition_id=competition_id, takeover=takeover)
    logger.info(
        "已发送 %d 封，失败 %d 封，待重试 %d 封 / sent %d, failed %d, waiting for a retry %d — via %s",
        report.sent,
        len(report.failed),
        report.waiting,
        report.sent,
        len(report.failed),
        report.waiting,
        report.server,
    )
    if report.next_attempt_at is not None:
        logger.info(
            "下次尝试 / next attempt at %s (UTC): run deliver-letters again then",
            report.next_attempt_at.isoformat(),
        )
    if report.unanswered:
        logger.warning(
            "%d 次发送在 DATA 之后无答复（结果未知）/ %d sends got no reply after DATA (outcome unknown)",
            report.unanswered,
            report.unanswered,
        )
    for failure in report.failed:
        logger.error(
            "信件 %s 发送失败 / letter #%s to %s failed: %s",
            failure["id"],
            failure["id"],
            failure["recipient"],
            failure["answer"],
        )
    if report.mail_dir:
        logger.info(
            "未配置 SMTP 服务器，信件已存为 .eml 文件 / no SMTP server set: letters saved in %s",
            report.mail_dir,
        )
    return report.as_dict()
