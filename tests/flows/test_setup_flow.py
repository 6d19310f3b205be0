"""The setup flow under Prefect's test harness."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.competition.tables import Competition
from models.db import session_scope
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

pytestmark = pytest.mark.flows


def test_setup_flow_creates_competition(prefect_harness, settings_env):
    from flows.setup import setup_competition

    competition_id = setup_competition(str(EXAMPLE_DIR / "competition.yaml"), actor="admin:test")
    with session_scope() as session:
        stored = session.get(Competition, competition_id)
        assert stored is not None and stored.slug == "jiangtou-2025"


def test_setup_flow_with_bad_file_fails_and_stores_nothing(prefect_harness, settings_env, tmp_path):
    from flows.setup import setup_competition

    bad = tmp_path / "bad.yaml"
    bad.write_text("competition: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"competition\.slug"):
        setup_competition(str(bad))
    with session_scope() as session:
        assert session.exec(select(Competition)).all() == []


def test_setup_flow_takes_the_configuration_as_text(prefect_harness, settings_env):
    """A run on a worker that never saw the file: the text travels as a parameter."""
    from flows.setup import setup_competition

    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    competition_id = setup_competition(config_text=text, config_name="admin:/tmp/competition.yaml")
    with session_scope() as session:
        stored = session.get(Competition, competition_id)
        assert stored is not None and stored.slug == "jiangtou-2025" and stored.config_yaml == text
        assert stored.config_source == "admin:/tmp/competition.yaml"


def test_setup_flow_wants_a_path_or_a_text_not_both(prefect_harness, settings_env):
    from flows.setup import setup_competition

    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    for arguments in ({}, {"config_path": str(EXAMPLE_DIR / "competition.yaml"), "config_text": text}):
        with pytest.raises(ConfigError, match="config_path / config_text"):
            setup_competition(**arguments)
    assert not (settings_env / "grantflow.db").exists()  # refused before the database is touched
