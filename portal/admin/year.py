"""年度: the year's figures and the 年度总结报告's charts on the page, the report and the Excel export
to download.

    GET /admin/c/{slug}/year                     the figures (``models.evaluation.annual.annual_figures``
                                                 — what ``grantflow report`` prints — and the report's
                                                 own money sentences, ``money_lines``) and the charts
    GET /admin/c/{slug}/year/charts/{chart}.png  one of the report's four charts (``annual_report.charts``
                                                 at screen resolution, from the same figures)
    GET /admin/c/{slug}/year.xlsx                every table (``models.evaluation.export.export_workbook``
                                                 — what ``grantflow export`` writes), audited
    (the 年度总结报告 itself is a document: ``/admin/c/{slug}/documents/{id}``)

Nothing is computed here: the page prints the figures as the function returns them. A chart is
drawn once per figures (kept by their digest) — the figures change only when the year does.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from models.accounts.roles import Power
from models.documents.engine.charts import DPI
from models.errors import NotFound
from models.evaluation.annual import annual_figures, money_lines
from models.evaluation.annual_report import annual_report_of, charts
from models.evaluation.export import export_workbook
from portal.admin.console import Call, Console, Nav, attachment

NAV = Nav("year", "year", 80)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the report's charts, in its order: the key of ``charts()`` and the key of the page's words
CHARTS = {
    "communities": "chart_communities",
    "categories": "chart_categories",
    "delivery": "chart_delivery",
    "grades": "chart_grades",
}
KEPT = 16  # sets of charts kept (one per figures)


def shown(figures: dict[str, Any]) -> list[str]:
    """The charts with something to draw yet (before the 结项 there is no grade to chart)."""
    has = {
        "communities": any(row["granted_fen"] for row in figures["by_community"]),
        "categories": any(row["granted_fen"] for row in figures["by_category"]),
        "delivery": any(row["planned_person_times"] or row["person_times"] for row in figures["by_category"]),
        "grades": any(row["count"] for row in figures["grades"]),
    }
    return [chart for chart in CHARTS if has[chart]]


class ChartCache:
    """The charts of the figures last asked for, drawn once (a lock: four images asked at once draw once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, dict[str, bytes]] = OrderedDict()

    def png(self, figures: dict[str, Any], chart: str) -> bytes:
        digest = hashlib.sha256(json.dumps(figures, sort_keys=True, default=str).encode()).hexdigest()
        with self._lock:
            drawn = self._kept.get(digest)
            if drawn is None:
                drawn = {key: image.png for key, image in charts(figures, dpi=DPI).items()}
                self._kept[digest] = drawn
                while len(self._kept) > KEPT:
                    self._kept.popitem(last=False)
            self._kept.move_to_end(digest)
            return drawn[CHARTS[chart]]


def register(console: Console) -> None:
    cache = ChartCache()

    def figures_of(call: Call) -> tuple[Any, dict[str, Any]]:
        with call.session() as session:
            competition = call.competition(session)
            figures = annual_figures(
                session, competition_id=competition.id or 0, timezone=call.settings.timezone
            )
            report = annual_report_of(session, competition_id=competition.id or 0)
        return competition, {
            "figures": figures,
            "report": report,
            "money_lines": money_lines(figures["money"]),
        }

    @console.page("/admin/c/{slug}/year", nav=NAV)
    def year(call: Call) -> Response:
        competition, context = figures_of(call)
        drawn = shown(context["figures"])
        waiting = [chart for chart in CHARTS if chart not in drawn]
        return call.render(
            "admin/year.html", {**context, "charts": drawn, "waiting": waiting}, competition=competition
        )

    @console.page("/admin/c/{slug}/year/charts/{chart}.png")
    def chart(call: Call) -> Response:
        name = call.param("chart")
        if name not in CHARTS:
            raise NotFound(f"没有图表 {name} / no chart {name!r}")
        _, context = figures_of(call)
        png = cache.png(context["figures"], name)
        response = Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
        return console.site.finish(call.request, response)

    @console.page("/admin/c/{slug}/year.xlsx", power=Power.download)
    def export(call: Call) -> Response:
        folder = Path(tempfile.mkdtemp(prefix="grantflow-export-"))
        path = folder / "export.xlsx"
        try:
            with call.session() as session:
                competition = call.competition(session)
                counts = export_workbook(
                    session, competition_id=competition.id or 0, path=path, timezone=call.settings.timezone
                )
                call.audit(
                    session,
                    entity="competition",
                    entity_id=competition.id or 0,
                    action="export",
                    reason=f"全部数据导出 {sum(counts.values())} 行 / every table exported",
                    data={"rows": counts},
                )
        except BaseException:
            _remove(folder)
            raise
        stamp = f"{call.now:%Y%m%d-%H%M}"
        headers = {
            "Content-Disposition": attachment(
                f"{competition.name}-全部数据-{stamp}.xlsx", f"{competition.slug}-export-{stamp}.xlsx"
            )
        }
        response = FileResponse(
            path, media_type=XLSX, headers=headers, background=BackgroundTask(_remove, folder)
        )
        return console.site.finish(call.request, response)


def _remove(folder: Path) -> None:
    for item in folder.iterdir():
        item.unlink(missing_ok=True)
    folder.rmdir()
