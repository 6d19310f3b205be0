"""``grantflow intake import --deployment``: the files travel as bytes to the server's intake
deployment. Its refusals come before anything is sent, each one line naming the file or the server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cli.on_server import run_on_server
from models.errors import ConfigError
from models.intake.inbox import MAX_RUN_UPLOAD_BYTES, MAX_UPLOAD_BYTES
from tests.cli.test_cli import GRANTFLOW, ROOT
from tests.cli.test_intake_cli import error_lines
from tests.conftest import EXAMPLE_DIR

GOOD = str(EXAMPLE_DIR / "applications.xlsx")


def run_without_server(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command with no Prefect server anywhere: no PREFECT_API_URL, no ``grantflow up``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTFLOW_", "PREFECT_API_URL"))}
    environ.update({"GRANTFLOW_DATA_DIR": str(data_dir), "COLUMNS": "200", **env})
    return subprocess.run(
        [*GRANTFLOW, *args], capture_output=True, text=True, env=environ, cwd=ROOT, timeout=300
    )


def sparse(path: Path, size: int) -> str:
    with path.open("wb") as file:
        file.truncate(size)
    return str(path)


def test_without_a_server_it_says_how_to_start_one(tmp_path: Path):
    result = run_without_server(["intake", "import", GOOD, "--deployment"], tmp_path / "data")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert "没有在运行的 Prefect 服务" in line and "grantflow up" in line and "PREFECT_API_URL" in line
    assert not (tmp_path / "data" / "uploads").exists()


def test_a_server_address_where_nothing_answers_is_named(tmp_path: Path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_without_server(
        ["intake", "import", GOOD, "--deployment"],
        tmp_path / "data",
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert f"无法连接 Prefect 服务 http://127.0.0.1:{port}/api" in line and "grantflow up" in line


def test_a_missing_or_too_large_file_is_refused_before_anything_is_sent(tmp_path: Path):
    big = sparse(tmp_path / "big.xlsx", MAX_UPLOAD_BYTES + 1)
    missing = str(tmp_path / "nowhere.xlsx")
    result = run_without_server(
        ["intake", "import", GOOD, missing, big, str(tmp_path / "notes.txt"), "--deployment"],
        tmp_path / "data",
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 3, result.stderr  # one per bad file; none about the server: not asked yet
    assert "nowhere.xlsx" in lines[0] and "file not found" in lines[0]
    assert "big.xlsx" in lines[1] and f"at most {MAX_UPLOAD_BYTES}" in lines[1]
    assert "notes.txt" in lines[2] and ".xlsx .csv .json .docx" in lines[2]


def test_files_over_the_bound_of_one_run_together_are_refused(tmp_path: Path):
    each = MAX_UPLOAD_BYTES - 1
    count = MAX_RUN_UPLOAD_BYTES // each + 1
    files = [sparse(tmp_path / f"part{n}.xlsx", each) for n in range(count)]
    result = run_without_server(["intake", "import", *files, "--deployment"], tmp_path / "data")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert f"{count * each} bytes, over {MAX_RUN_UPLOAD_BYTES} for one run" in line
    assert "分几次导入" in line


def test_a_server_without_the_intake_deployment_is_named(prefect_harness, settings_env: Path):
    """A real (temporary) Prefect server, nothing deployed: the error names the deployment and the fix."""
    with pytest.raises(ConfigError) as refused:
        run_on_server("intake/intake", {"uploads": []}, timeout=5)
    message = str(refused.value)
    assert "没有部署 intake/intake" in message and "has no deployment intake/intake" in message
    assert "prefect deploy --all --prefect-file deployments/prefect.yaml" in message


def test_a_bad_configuration_is_refused_here_before_the_server_is_asked(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("competition: {}\n", encoding="utf-8")
    result = run_without_server(["competition", "create", str(bad), "--deployment"], tmp_path / "data")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert lines and all("bad.yaml" in line for line in lines)
    assert any("competition.slug" in line for line in lines)
    assert not any("Prefect" in line for line in lines)
    good = run_without_server(
        ["competition", "create", str(EXAMPLE_DIR / "competition.yaml"), "--deployment"], tmp_path / "data"
    )
    assert good.returncode == 1
    (line,) = error_lines(good.stderr)
    assert "没有在运行的 Prefect 服务" in line
    assert not (tmp_path / "data" / "grantflow.db").exists()  # nothing created here


@pytest.mark.slow
def test_setup_and_intake_with_deployment_run_on_a_worker_and_print_the_same_summary(
    prefect_harness, settings_env: Path, tmp_path: Path
):
    """The whole way: the CLI (its own process) sends the configuration's text to the setup
    deployment, then the example workbooks as bytes to the intake deployment of a real Prefect
    server; a runner (as a worker does) picks each run up in a process of its own; the CLI prints
    the summary of the local import from the run's persisted result."""
    import asyncio
    import shutil

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL

    from flows.intake import intake
    from flows.setup import setup_competition
    from models.competition.tables import get_competition
    from models.db import session_scope
    from models.lifecycle import set_state
    from models.states import CompetitionStage

    admin = tmp_path / "admin"  # the files exist only on the administrator's side
    admin.mkdir()
    names = ("competition.yaml", "applications.xlsx", "broken.xlsx")
    config, *files = (str(shutil.copy(EXAMPLE_DIR / name, admin / name)) for name in names)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    environ.update({"PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "200"})

    async def on_the_server(runner: Runner, deployment_id: object, *args: str) -> tuple[int, str, str]:
        cli = await asyncio.create_subprocess_exec(
            *GRANTFLOW, *args, env=environ, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        async with get_client() as client:
            for _ in range(300):
                runs = await client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
                )
                if runs:
                    break
                await asyncio.sleep(0.5)
        await runner.start(run_once=True)
        out, err = await asyncio.wait_for(cli.communicate(), timeout=300)
        return cli.returncode or 0, out.decode(), err.decode()

    async def year() -> list[tuple[int, str, str]]:
        runner = Runner(name="test-worker", limit=1)
        setup_id = await runner.aadd_deployment(await setup_competition.ato_deployment(name="setup"))
        intake_id = await runner.aadd_deployment(await intake.ato_deployment(name="intake"))
        try:
            created = await on_the_server(runner, setup_id, "competition", "create", config, "--deployment")
            with session_scope() as session:  # the call is out (as `grantflow call publish` leaves it)
                set_state(session, get_competition(session), CompetitionStage.call_open, actor="test")
            imported = await on_the_server(
                runner, intake_id, "intake", "import", *files, "--deployment", "--as-of", "2025-02-28T12:00"
            )
        finally:  # the session's harness is shared: a deployment left there with no worker would take
            # the console's in-process runs of later tests (portal.admin.runner prefers a deployment)
            async with get_client() as client:
                for deployment_id in (setup_id, intake_id):
                    await client.delete_deployment(deployment_id)
        return [created, imported]

    (code, out, err), (code2, out2, err2) = asyncio.run(year())
    assert code == 0, err
    assert "已创建竞赛 / created competition jiangtou-2025" in out
    assert "setup · " in err and "Completed" in err
    with session_scope() as session:
        assert get_competition(session).config_source == config

    assert code2 == 0, err2
    assert "applications.xlsx: 受理 / accepted 24，重复 / duplicates 0，未受理 / refused 0" in out2
    assert "✓ 2025-001  银龄共膳——吕岭敬老餐厅助餐陪伴计划  (applications.xlsx:第2行 (row 2))" in out2
    assert "broken.xlsx: 受理 / accepted 0，重复 / duplicates 0，未受理 / refused 20" in out2
    assert (
        "- 申请金额（元）: 申请金额 12,000.00 元超过单个项目上限 8,000.00 元 / "
        "the amount 12,000.00 exceeds the per-project cap 8,000.00 yuan"
    ) in out2
    assert "受理回执 / receipts: 24；未受理通知 / refusal letters: 17" in out2
    assert "已提交 / submitted:" in err2 and "/runs/flow-run/" in err2
    stored = list((settings_env / "uploads" / "intake").glob("*/applications.xlsx"))
    assert len(stored) == 1 and stored[0].read_bytes() == (EXAMPLE_DIR / "applications.xlsx").read_bytes()
