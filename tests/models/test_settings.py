import pytest

from models.errors import ConfigError
from models.settings import Settings


def test_default_secret_refused_in_production(monkeypatch):
    monkeypatch.setenv("GRANTFLOW_ENVIRONMENT", "production")
    monkeypatch.delenv("GRANTFLOW_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="GRANTFLOW_SECRET_KEY"):
        Settings(_env_file=None)


def test_settings_read_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRANTFLOW_ENVIRONMENT", "production")
    monkeypatch.setenv("GRANTFLOW_SECRET_KEY", "s3cret-for-real")
    monkeypatch.setenv("GRANTFLOW_PORTAL_URL", "https://portal.jiangtou.example.org")
    monkeypatch.setenv("GRANTFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRANTFLOW_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("GRANTFLOW_SMTP_TLS", "starttls")
    monkeypatch.delenv("GRANTFLOW_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'grantflow.db'}"
    assert settings.smtp_password.get_secret_value() == "pw"
    assert "pw" not in repr(settings)
    assert settings.timezone == "Asia/Shanghai"
    assert settings.smtp_tls == "starttls"
    assert settings.portal_url == "https://portal.jiangtou.example.org"
    assert settings.smtp_data_timeout_seconds == 600 and settings.smtp_timeout_seconds == 30


def test_settings_read_dotenv_file(monkeypatch, tmp_path):
    monkeypatch.delenv("GRANTFLOW_LANGUAGE", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("GRANTFLOW_LANGUAGE=en\nGRANTFLOW_PORTAL_URL=https://portal.example.org\n")
    settings = Settings(_env_file=env_file)
    assert settings.language == "en"
    assert settings.portal_url == "https://portal.example.org"


def production(monkeypatch, **env):
    monkeypatch.setenv("GRANTFLOW_ENVIRONMENT", "production")
    monkeypatch.setenv("GRANTFLOW_SECRET_KEY", "s3cret-for-real")
    monkeypatch.delenv("GRANTFLOW_PORTAL_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_default_portal_url_refused_in_production(monkeypatch):
    with pytest.raises(ConfigError) as refused:
        production(monkeypatch)
    message = str(refused.value)
    assert "GRANTFLOW_PORTAL_URL" in message and "http://127.0.0.1:8000" in message
    assert "生产环境拒绝启动" in message and "refused in production" in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "is not set"),
        ("   ", "is not set"),
        ("http://localhost:8000", "points at this machine"),
        ("https://127.0.0.2/", "points at this machine"),
        ("http://[::1]:8000", "points at this machine"),
        ("http://0.0.0.0:8000", "points at this machine"),
        ("http://portal.localhost", "points at this machine"),
        ("portal.example.org", "is not an http(s) address"),
        ("ftp://portal.example.org", "is not an http(s) address"),
    ],
)
def test_unusable_portal_urls_refused_in_production(monkeypatch, url, reason):
    with pytest.raises(ConfigError, match="GRANTFLOW_PORTAL_URL") as refused:
        production(monkeypatch, GRANTFLOW_PORTAL_URL=url)
    assert reason in str(refused.value)


@pytest.mark.parametrize("url", ["https://portal.jiangtou.example.org", "http://10.0.0.5:8000"])
def test_public_or_lan_portal_url_accepted_in_production(monkeypatch, url):
    assert production(monkeypatch, GRANTFLOW_PORTAL_URL=url).portal_url == url


def test_loopback_portal_url_is_fine_in_development(monkeypatch):
    monkeypatch.delenv("GRANTFLOW_ENVIRONMENT", raising=False)
    monkeypatch.delenv("GRANTFLOW_PORTAL_URL", raising=False)
    assert Settings(_env_file=None).portal_url == "http://127.0.0.1:8000"
