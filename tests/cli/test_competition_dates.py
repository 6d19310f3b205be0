"""``grantflow competition create --start-on`` and ``grantflow competition copy`` as an
administrator runs them: a real process, a real database."""

from __future__ import annotations

import json
from datetime import date

from models.competition.config_file import load_config
from tests.cli.test_cli import run
from tests.conftest import EXAMPLE_DIR

EXAMPLE = str(EXAMPLE_DIR / "competition.yaml")


def test_create_start_on_moves_the_call_to_that_day(tmp_path):
    created = run(["competition", "create", EXAMPLE, "--start-on", "2026-12-07"], tmp_path)
    assert created.returncode == 0, created.stderr
    shown = json.loads(run(["competition", "show", "--json"], tmp_path).stdout)
    assert shown["deadlines"]["call_published"] == "2026-12-07"
    days = (date(2026, 12, 7) - date(2025, 1, 6)).days
    assert (
        shown["deadlines"]["screening_by"]
        == date.fromordinal(date(2025, 3, 7).toordinal() + days).isoformat()
    )
    assert shown["deadlines"]["applications_close"].endswith("+08:00")


def test_create_start_on_refuses_a_bad_date_in_one_line(tmp_path):
    refused = run(["competition", "create", EXAMPLE, "--start-on", "2026-13-01"], tmp_path)
    assert refused.returncode == 1
    assert "--start-on" in refused.stderr and "not a date" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_copy_writes_next_years_file(tmp_path):
    assert run(["competition", "create", EXAMPLE], tmp_path).returncode == 0
    target = tmp_path / "jiangtou-2026.yaml"
    copied = run(["competition", "copy", str(target), "-c", "jiangtou-2025"], tmp_path)
    assert copied.returncode == 0, copied.stderr
    config = load_config(target)
    assert (config.competition.slug, config.competition.year) == ("jiangtou-2026", 2026)
    assert config.deadlines.call_published == date(2026, 1, 6)
    again = run(["competition", "copy", str(target)], tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr
    created = run(["competition", "create", str(target)], tmp_path)
    assert created.returncode == 0, created.stderr
    assert "jiangtou-2026" in created.stdout
