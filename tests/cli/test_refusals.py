"""Every refusal the README lists, as an administrator meets it: the real ``grantflow`` entry point in
a real process, a real database. A refusal is one line on stderr, exit code 1, no traceback and no
"Error logging to API" — whether the command refuses before any run starts (the stage's
precondition, asked by the CLI) or the refusal comes out of a flow run on Prefect's temporary
server (a sheet still open when the review closes, a signing after the sign-by date)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import Session, select

from models.call.notices import open_call, write_call_documents
from models.db import dispose_engines, get_engine, upgrade_database
from models.funding.tables import Grant
from models.intake.imports import import_applications
from models.intake.tables import Application
from models.lifecycle import set_state
from models.review.reviewing import assign_reviews, load_experts
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.settings import get_settings, override_settings, reset_settings
from models.setup import create_competition
from models.states import CompetitionStage, GrantState
from tests.cli.test_cli import ROOT, run
from tests.cli.test_funding_cli import scored
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import EXAMPLE_CONFIG, example_config_text
from tests.support.grants import CALL_AT, INTAKE_AT, SCREEN_AT, Funded, funded_template

__all__ = ["funded_template", "scored"]

ACTOR = "admin:test"
BEIJING = ZoneInfo("Asia/Shanghai")  # the station's timezone (settings.timezone): the CLI's "today"


def refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one line a refusal prints; fails unless it is one line, exit 1, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "Error logging to API" not in output, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("错误 / error: "), line
    for word in words:
        assert word in line, line
    return line


def stage_of(data: Path) -> str:
    result = run(["status", "--json"], data)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["competition"]["stage"])


# ---- refused before any run starts ------------------------------------------------------------------


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the example competition just created (筹备), by ``competition create``."""
    data = tmp_path_factory.mktemp("draft")
    created = run(["competition", "create", str(EXAMPLE_CONFIG)], data)
    assert created.returncode == 0, created.stderr
    return data


IN_DRAFT = [
    (["screening", "run"], "请先发布征集公告"),
    (["review", "open"], "请先完成资格审查"),
    (["review", "close"], "评审尚未开始"),
    (["funding", "draft"], "请先结束评审"),
    (["funding", "approve"], "请先结束评审并拟定资助方案"),
    (["publicity", "close"], "资助方案尚未批准公示"),
    (["grants", "sign", "2025-001", "--on", "2025-04-08"], "还没有资助协议"),
    (["grants", "lapse"], "还没有资助协议"),
    (["supervision", "run"], "项目尚未进入实施"),
    (["supervision", "follow-up"], "项目尚未进入实施"),
    (["evaluation", "run"], "项目尚未进入实施"),
    (["evaluation", "annual-report"], "结项评估之后才能撰写"),
]


@pytest.mark.parametrize(("command", "why"), IN_DRAFT, ids=[" ".join(c[:2]) for c, _ in IN_DRAFT])
def test_a_stage_out_of_order_is_refused_in_one_line_before_any_run(
    draft: Path, command: list[str], why: str
) -> None:
    line = refused(run(command, draft), "jiangtou-2025", "“筹备”阶段", why)
    assert "stage 筹备 (draft)" in line  # the stage in Chinese, its code beside it
    assert not (draft / "documents").exists()  # nothing was written
    assert stage_of(draft) == "draft"


def test_the_call_after_the_application_deadline_is_refused(draft: Path) -> None:
    refused(run(["call", "publish", "--as-of", "2025-03-01T09:00"], draft), "不能再发布征集公告")
    assert stage_of(draft) == "draft"


def test_intake_after_the_deadline_without_a_reason_is_refused(draft: Path) -> None:
    late = run(["intake", "import", str(EXAMPLE_DIR / "applications-gbk.csv")], draft)
    refused(late, "applications-gbk.csv", "截止", "an administrator may import late")


def test_a_mistake_in_the_configuration_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["budget"]["per_project_cap"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    refused(run(["competition", "create", str(bad)], tmp_path), "bad.yaml", "budget", "不能为负数")


def _published(data: Path, *, review: bool = False) -> Path:
    """The example's call published (征集中) and its spreadsheet received, in ``data``; with
    ``review``, screened and the review opened (专家评审): sheets assigned, none submitted."""
    override_settings(data_dir=data)
    try:
        engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
        upgrade_database(engine)
        with Session(engine) as session:
            competition = create_competition(
                session, text=example_config_text(), source=str(EXAMPLE_CONFIG), actor=ACTOR
            )
            assert competition.id is not None
            write_call_documents(session, competition=competition, now=CALL_AT, settings=get_settings())
            open_call(session, competition=competition, now=CALL_AT, actor=ACTOR)
            import_applications(
                session,
                competition_id=competition.id,
                path=EXAMPLE_DIR / "applications.xlsx",
                actor=ACTOR,
                now=INTAKE_AT,
            )
            if review:
                open_screening(session, competition=competition, now=SCREEN_AT, actor=ACTOR)
                screen_applications(session, competition_id=competition.id, actor=ACTOR)
                load_experts(session, competition_id=competition.id, actor=ACTOR)
                assign_reviews(session, competition_id=competition.id, actor=ACTOR)
                set_state(session, competition, CompetitionStage.review, actor=ACTOR)
            session.commit()
        dispose_engines()
    finally:
        reset_settings()
    return data


@pytest.fixture
def call_open(tmp_path: Path) -> Path:
    return _published(tmp_path)


def test_screening_before_the_application_deadline_is_refused(call_open: Path) -> None:
    early = run(["screening", "run", "--as-of", "2025-02-01T09:00"], call_open)
    refused(early, "deadlines.applications_close", "申报尚未截止", "screening cannot start yet")
    assert stage_of(call_open) == "call_open"


def test_approving_without_a_draft_is_refused(scored: Path) -> None:
    refused(run(["funding", "approve"], scored), "还没有资助方案", "funding draft")
    refused(run(["call", "publish"], scored), "“立项决定”阶段", "不能发布征集公告", "此阶段已经过去")
    assert stage_of(scored) == "funding"


def test_closing_the_notice_before_its_window_ends_is_refused(scored: Path) -> None:
    from models.competition.tables import get_competition
    from models.funding.decision import approve_decision
    from models.funding.publicity import publish_notice
    from tests.support.funding_data import APPROVED_AT

    engine = get_engine(f"sqlite:///{scored / 'grantflow.db'}")
    with Session(engine) as session:
        competition = get_competition(session, slug="jiangtou-2025")
        approve_decision(session, competition_id=competition.id or 0, actor=ACTOR)
        publish_notice(
            session,
            competition_id=competition.id or 0,
            now=APPROVED_AT,
            actor=ACTOR,
            documents_dir=scored / "documents",
        )
        session.commit()
    dispose_engines()
    early = run(["publicity", "close", "--as-of", "2025-03-26T09:00"], scored)
    refused(early, "公示第1次至 2025-03-28 17:30 结束", "closes after its window")
    objection = ["publicity", "objection", "add", "JT2025-001", "--by", "陈先生", "--text", "服务对象重复"]
    assert run([*objection, "--as-of", "2025-03-25T10:00"], scored).returncode == 0
    open_objection = run(["publicity", "close", "--as-of", "2025-03-31T09:00"], scored)
    refused(open_objection, "还有 1 件异议未处理", "publicity objection resolve")
    assert stage_of(scored) == "publicity"


# ---- the funded year: signings ------------------------------------------------------------------------


@pytest.fixture
def funded_data(funded_template: tuple[Path, Funded], tmp_path: Path) -> tuple[Path, str]:
    """A copy of the funded competition (项目实施) and the 申报编号 of a grant not signed yet."""
    template, _ = funded_template
    data = tmp_path / "data"
    shutil.copytree(template, data)
    engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
    with Session(engine) as session:
        ref = session.exec(
            select(Application.ref)
            .join(Grant, Grant.application_id == Application.id)  # type: ignore[arg-type]
            .where(Grant.state == GrantState.awarded)
        ).first()
    dispose_engines()
    assert ref is not None
    return data, ref


def test_a_signing_after_today_is_refused_unless_future_says_so(funded_data: tuple[Path, str]) -> None:
    data, ref = funded_data
    tomorrow = (datetime.now(BEIJING).date() + timedelta(days=1)).isoformat()  # the CLI's today
    line = refused(run(["grants", "sign", ref, "--on", tomorrow], data), ref, "--on", "晚于今天", "--future")
    assert tomorrow in line
    refused(run(["grants", "sign", "2099-999", "--on", "2025-04-08"], data), "2099-999", "没有资助")
    assert stage_of(data) == "implementation"


@pytest.mark.slow
def test_a_refusal_out_of_a_flow_run_is_one_line_too(funded_data: tuple[Path, str]) -> None:
    """``--future`` lets the date pass the CLI; the run's task then refuses it for the agreement's
    sign-by date — on Prefect's temporary server, logged there as a refusal, printed here once."""
    data, ref = funded_data
    tomorrow = (datetime.now(BEIJING).date() + timedelta(days=1)).isoformat()  # the CLI's today
    result = run(["grants", "sign", ref, "--on", tomorrow, "--future"], data)
    refused(result, ref, "晚于协议签订期限")
    signed = json.loads(run(["grants", "list", "--json"], data).stdout)
    assert [g["signed_on"] for g in signed if g["state"] == "active"] == ["2025-04-08"] * 3


# ---- the review: a sheet still open ---------------------------------------------------------------------


@pytest.fixture
def in_review(tmp_path: Path) -> Path:
    return _published(tmp_path, review=True)


@pytest.mark.slow
def test_closing_a_review_with_open_sheets_is_refused_by_its_run(in_review: Path) -> None:
    result = run(["review", "close", "--as-of", "2025-03-21T18:00"], in_review)
    refused(result, "cannot close the review: no submitted sheet for")
    assert stage_of(in_review) == "review"
    funding = run(["funding", "draft"], in_review)
    refused(funding, "“专家评审”阶段", "请先结束评审")


# ---- the README lists exactly these ---------------------------------------------------------------------


TESTED = {
    "competition create",
    "call publish",
    "intake import",
    "screening run",
    "review open",
    "review close",
    "funding draft",
    "funding approve",
    "publicity close",
    "grants sign",
    "grants lapse",
    "supervision run",
    "supervision follow-up",
    "evaluation run",
    "evaluation annual-report",
}


def test_the_readme_lists_the_refusals_tested_here() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Refusals") :]
    section = section[: section.index("\n#", 1)]
    listed = set()
    for row in re.findall(r"^\| (`.+?) \|", section, flags=re.M):
        for command in re.findall(r"`([a-z][a-z -]*[a-z])", row):
            listed.add(" ".join(command.split()[:2]))
    assert listed == TESTED
