"""年度 through the real app on the example's year: the figures are ``annual_figures``' own, the
charts are the 年度总结报告's charts drawn from them, the report and the Excel export download (the
export audited with the user)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.competition.tables import get_competition
from models.documents.engine.charts import DPI
from models.evaluation.annual import annual_figures, money_lines
from models.evaluation.annual_report import charts, write_annual_report
from models.evaluation.export import export_workbook
from tests.portal.admin.console_world import SLUG, ConsoleWorld

pytestmark = pytest.mark.slow

BASE = f"/admin/c/{SLUG}/year"


def figures_of(world: ConsoleWorld) -> dict:
    with Session(world.engine) as session:
        competition = get_competition(session, slug=SLUG)
        return annual_figures(session, competition_id=competition.id or 0, timezone=world.settings.timezone)


def test_the_page_prints_the_years_figures_as_the_report_has_them(console: ConsoleWorld) -> None:
    figures = figures_of(console)
    page = console.signed_in("du").get(BASE)
    assert page.status_code == 200
    for key, value in figures["applications"].items():
        assert f'id="figure-{key}" data-value="{value}"' in page.text
    for key, value in figures["outcomes"].items():
        assert f'id="figure-{key}" data-value="{value}"' in page.text
    for key, value in figures["money_yuan"].items():
        assert f'<div id="money-{key}"><dt>' in page.text and f'<dd class="num">{value}</dd>' in page.text
    for line in money_lines(figures["money"]):  # the 年度总结报告's own sentences
        assert f"<li>{line}</li>" in page.text
    for row in figures["by_community"]:
        cells = f'<th scope="row">{row["name"]}</th><td class="num">{row["received"]}</td>'
        assert f'<tr data-code="{row["code"]}">{cells}' in page.text
    assert 'id="annual-report-none"' in page.text


def test_the_charts_are_the_annual_reports_charts(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    drawn = charts(figures_of(console), dpi=DPI)
    for name in ("communities", "categories", "delivery", "grades"):
        answer = client.get(f"{BASE}/charts/{name}.png")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert answer.content == drawn[f"chart_{name}"].png
    assert client.get(f"{BASE}/charts/elsewhere.png").status_code == 404


def test_a_chart_with_nothing_to_draw_yet_is_named_not_drawn(console: ConsoleWorld) -> None:
    figures = figures_of(console)
    assert not any(row["count"] for row in figures["grades"])  # the year's projects still run
    page = console.signed_in("du").get(BASE).text
    for name in ("communities", "categories", "delivery"):
        assert f'<img src="{BASE}/charts/{name}.png"' in page
    assert 'id="chart-grades"' not in page
    assert "结项评估等级分布" in page.split('id="charts-waiting"')[1].split("</p>")[0]


def test_the_report_and_the_export_download(console: ConsoleWorld, tmp_path) -> None:
    client = console.signed_in("du")
    with Session(console.engine, expire_on_commit=False) as session:
        competition = get_competition(session, slug=SLUG)
        report = write_annual_report(
            session, competition=competition, issue_date=date(2025, 12, 20), settings=console.settings
        )
        export_workbook(
            session,
            competition_id=competition.id or 0,
            path=tmp_path / "cli.xlsx",
            timezone=console.settings.timezone,
        )
        session.commit()
    page = client.get(BASE)
    assert f'href="/admin/c/{SLUG}/documents/{report.id}"' in page.text
    assert (
        client.get(f"/admin/c/{SLUG}/documents/{report.id}").content
        == (console.settings.documents_dir / report.path).read_bytes()
    )

    answer = client.get(f"{BASE}.xlsx")
    assert answer.status_code == 200 and "filename*=UTF-8''" in answer.headers["content-disposition"]
    downloaded = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    written = openpyxl.load_workbook(tmp_path / "cli.xlsx", read_only=True)  # what grantflow export writes
    assert downloaded.sheetnames == written.sheetnames
    for name in written.sheetnames:
        assert list(downloaded[name].values) == list(written[name].values), name
    with Session(console.engine) as session:
        (event,) = session.exec(
            select(AuditEvent).where(AuditEvent.actor == "admin:du", AuditEvent.action == "export")
        )
    assert sum(event.data["rows"].values()) > 0
