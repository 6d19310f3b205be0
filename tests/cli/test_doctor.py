"""``grantflow doctor`` as an administrator runs it on a machine (a real process, real servers),
and the preflight every stage flow runs first on its worker."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from models.errors import ConfigError
from models.settings import Settings
from tasks.doctor import preflight
from tasks.mail.sink import MailSink
from tests.cli.test_cli import run


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def _checks(result) -> dict[str, dict]:
    report = json.loads(result.stdout)
    return {c["name"]: c for c in report["checks"]} | {"ok": report["ok"]}


def test_doctor_names_every_problem_with_its_fix_and_exits_1(tmp_path: Path):
    home = tmp_path / "not-a-project"
    home.mkdir()
    result = run(
        ["doctor", "--json"],
        tmp_path / "missing-data",
        GRANTFLOW_ENVIRONMENT="production",
        GRANTFLOW_SECRET_KEY="a-real-secret-shared-with-the-portal",
        GRANTFLOW_PORTAL_URL="http://localhost:8000",
        GRANTFLOW_SMTP_HOST="127.0.0.1",
        GRANTFLOW_SMTP_PORT=str(_closed_port()),
        GRANTFLOW_HOME=str(home),
        PREFECT_API_URL=f"http://127.0.0.1:{_closed_port()}/api",
    )
    assert result.returncode == 1, result.stderr
    checks = _checks(result)
    assert checks.pop("ok") is False
    failed = {name for name, c in checks.items() if not c["ok"]}
    assert failed == {
        "项目目录 project root",
        "数据目录 data folder",
        "数据库 database",
        "门户地址 portal URL",
        "管理后台 console administrator",
        "邮件服务器 SMTP",
        "Prefect API",
    }
    assert all(c["fix"] for c in checks.values() if not c["ok"])
    assert "flows/lifecycle.py" in checks["项目目录 project root"]["detail"]
    assert "grantflow init" in checks["数据库 database"]["fix"]
    assert "GRANTFLOW_PORTAL_URL" in checks["门户地址 portal URL"]["fix"]
    assert checks["签名密钥 secret key"]["ok"]
    assert not (tmp_path / "missing-data").exists()  # looking created nothing


def test_doctor_passes_on_a_ready_machine(tmp_path: Path):
    assert run(["init"], tmp_path).returncode == 0
    added = run(
        ["admin", "add", "lin", "--role", "管理员", "--password-stdin"], tmp_path, stdin="a-long-password\n"
    )
    assert added.returncode == 0, added.stderr
    with MailSink(tmp_path / "sink") as sink:
        result = run(["doctor"], tmp_path, GRANTFLOW_SMTP_HOST=sink.host, GRANTFLOW_SMTP_PORT=str(sink.port))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout and "every check passed" in result.stdout
    assert f"{sink.host}:{sink.port} (none): EHLO 250" in result.stdout


def test_preflight_fails_fast_with_the_fix(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "nowhere", home=tmp_path)
    with pytest.raises(ConfigError) as refused:
        preflight(settings)
    message = str(refused.value)
    assert "grantflow doctor" in message
    assert "GRANTFLOW_HOME" in message and "GRANTFLOW_DATA_DIR" in message and "grantflow init" in message


def test_doctor_says_when_the_charts_have_no_cjk_font(tmp_path: Path):
    assert run(["init"], tmp_path).returncode == 0
    missing = tmp_path / "NotoSansCJK-Regular.ttc"
    result = run(["doctor", "--json"], tmp_path, GRANTFLOW_CJK_FONT=str(missing))
    assert result.returncode == 1
    font = _checks(result)["中文字体 CJK font"]
    assert not font["ok"] and str(missing) in font["detail"]
    assert "make fonts" in font["fix"] and "fonts-noto-cjk" in font["fix"]
    found = _checks(run(["doctor", "--json"], tmp_path))["中文字体 CJK font"]
    assert found["ok"] and found["detail"].endswith((".ttc", ".otf", ".ttf"))  # this machine has one
