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


def test_settings_read_dotenv_file(monkeypatch, tmp_path):
    monkeypatch.delenv("GRANTFLOW_LANGUAGE", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("GRANTFLOW_LANGUAGE=en\nGRANTFLOW_PORTAL_URL=https://portal.example.org\n")
    settings = Settings(_env_file=env_file)
    assert settings.language == "en"
    assert settings.portal_url == "https://portal.example.org"
