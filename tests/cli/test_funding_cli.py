"""``grantflow funding|publicity|grants|tranches`` in a real process against a real database."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from models.db import dispose_engines, get_engine, upgrade_database
from tests.cli.test_cli import run
from tests.support.funding_data import scored_competition


@pytest.fixture
def scored(tmp_path):
    """A competition whose review closed, in the data folder the commands use."""
    engine = get_engine(f"sqlite:///{tmp_path / 'grantflow.db'}")
    upgrade_database(engine)
    with Session(engine) as session:
        scored_competition(session)
        session.commit()
    dispose_engines()
    return tmp_path


@pytest.fixture
def drafted(scored):
    """… and its funding drafted (as ``grantflow funding draft`` does, without starting Prefect)."""
    from models.competition.tables import get_competition
    from models.funding.decision import draft_decision

    engine = get_engine(f"sqlite:///{scored / 'grantflow.db'}")
    with Session(engine) as session:
        competition = get_competition(session, slug="jiangtou-2025")
        draft_decision(session, competition_id=competition.id, actor="admin:test")
        session.commit()
    dispose_engines()
    return scored


@pytest.mark.slow
def test_draft_show_adjust(scored, tmp_path):
    drafted = run(["funding", "draft"], scored)
    assert drafted.returncode == 0, drafted.stderr
    assert "总排名第7、社会组织组第5名，得分70.00" in drafted.stdout and "✓" in drafted.stdout

    bad = run(["funding", "adjust", "JT2025-002", "--amount", "九千块", "--reason", "x"], scored)
    assert bad.returncode == 1 and "--amount" in bad.stderr and "Traceback" not in bad.stderr
    adjusted = run(
        ["funding", "adjust", "JT2025-002", "--amount", "6500", "--reason", "核减[red]宣传费[/red]"], scored
    )
    assert adjusted.returncode == 0, adjusted.stderr
    assert "管理员调整为6,500.00元（核减[red]宣传费[/red]）" in adjusted.stdout  # printed, not styled

    xlsx = tmp_path / "资助方案.xlsx"
    shown = run(["funding", "show", "--json", "--xlsx", str(xlsx)], scored)
    report = json.loads(shown.stdout[shown.stdout.index("{") :])
    assert report["reconciles"] and report["funded_fen"] == 5_450_000
    sheet = load_workbook(xlsx).active
    assert sheet["A1"].value == "申报编号" and sheet.max_row == 9

    tie = run(["funding", "decide-tie", "JT2025-003", "JT2025-004", "--reason", "x"], scored)
    assert tie.returncode == 1 and "not an open tie" in tie.stderr


@pytest.mark.slow
def test_approve_object_close_sign(drafted, tmp_path):
    scored = drafted
    approved = run(["funding", "approve", "--as-of", "2025-03-24T09:00"], scored)
    assert approved.returncode == 0, approved.stderr
    assert "2025-03-28T17:30:00+08:00" in approved.stdout

    objection = run(
        [
            "publicity",
            "objection",
            "add",
            "JT2025-001",
            "--by",
            "陈先生",
            "--text",
            "服务对象重复",
            "--as-of",
            "2025-03-25T10:00",
        ],
        scored,
    )
    assert objection.returncode == 0, objection.stderr
    late = run(
        [
            "publicity",
            "objection",
            "add",
            "JT2025-001",
            "--by",
            "李",
            "--text",
            "x",
            "--as-of",
            "2025-03-31T10:00",
        ],
        scored,
    )
    assert late.returncode == 1 and "逾期异议不予受理" in late.stderr
    resolved = run(
        ["publicity", "objection", "resolve", "1", "--dismissed", "--reason", "经核实不重复"], scored
    )
    assert resolved.returncode == 0 and "dismissed" in resolved.stdout
    closed = run(["publicity", "close", "--as-of", "2025-03-31T09:00"], scored)
    assert closed.returncode == 0 and "grants 7" in closed.stdout, closed.stdout + closed.stderr

    book = Workbook()
    book.active.append(["申报编号", "签订日期"])
    book.active.append(["JT2025-001", "2025-04-08"])
    book.active.append(["JT2025-003", "四月八日"])
    signings = tmp_path / "签订.xlsx"
    book.save(signings)
    refused = run(["grants", "sign", "--xlsx", str(signings)], scored)
    assert refused.returncode == 1 and "第3行" in refused.stderr and "签订日期" in refused.stderr
    signed = run(["grants", "sign", "JT2025-001", "--on", "2025-04-08"], scored)
    assert signed.returncode == 0, signed.stderr
    tranches = json.loads(run(["tranches", "--json", "--state", "released"], scored).stdout)
    assert [(t["ref"], t["label"], t["amount_fen"]) for t in tranches] == [
        ("JT2025-001", "首期拨付", 400_000)
    ]
