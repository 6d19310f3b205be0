"""Personal links never reach the log: the real uvicorn access log (info level, as ``grantflow
portal`` runs it) names review links and applicants' confirmation links by a fingerprint only."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select
from uvicorn.logging import AccessFormatter

from models.db import session_scope
from models.intake.tables import Application
from models.links import token_fingerprint
from portal.access_log import ACCESS_LOGGER, redact_path
from portal.app import create_app
from portal.apply.requests import done_token
from portal.serving import serve_in_background
from tests.portal.apply_world import SLUG
from tests.portal.conftest import ReviewWorld


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_lines(world: ReviewWorld) -> Iterator[tuple[str, Lines]]:
    with serve_in_background(create_app(world.settings), access_log=True) as base:
        lines = Lines()  # attached after uvicorn configured its logging, beside its own handler
        logger = logging.getLogger(ACCESS_LOGGER)
        logger.addHandler(lines)
        try:
            yield base, lines
        finally:
            logger.removeHandler(lines)


def test_access_log_names_a_review_link_by_its_fingerprint(
    world: ReviewWorld, access_lines: tuple[str, Lines]
) -> None:
    base, lines = access_lines
    path = world.path(world.sheets[0])
    token = path.removeprefix("/review/")
    assert httpx.get(base + path + "?lang=en").status_code == 200
    assert httpx.get(base + path[:-3] + "xyz").status_code == 403  # a refused one too
    text = "\n".join(lines.lines)
    assert len(lines.lines) == 2, text
    assert token not in text and token[:20] not in text and path[:-3] not in text
    assert f"/review/~{token_fingerprint(token)} HTTP/1.1" in text


def test_access_log_names_a_confirmation_link_by_its_fingerprint(
    world: ReviewWorld, access_lines: tuple[str, Lines]
) -> None:
    base, lines = access_lines
    with session_scope(world.engine) as session:
        application = session.exec(select(Application)).first()
        assert application is not None and application.id is not None
        token = done_token(application.id, SLUG, secret=world.settings.secret_key.get_secret_value())
    answer = httpx.get(f"{base}/apply/{SLUG}/done/{token}")
    assert answer.status_code == 200 and application.ref in answer.text
    text = "\n".join(lines.lines)
    assert token not in text and token[:20] not in text
    assert f"/apply/{SLUG}/done/~{token_fingerprint(token)}" in text


def test_redact_path_keeps_other_paths() -> None:
    assert redact_path("/apply/jiangtou-2025?lang=en") == "/apply/jiangtou-2025?lang=en"
    assert redact_path("/static/portal.css") == "/static/portal.css"
    assert redact_path("/review/abc.def?lang=en") == f"/review/~{token_fingerprint('abc.def')}"


def test_redact_path_hides_every_personal_link() -> None:
    for prefix in ("/supervise/", "/report/", "/final-review/", "/expert/"):
        assert redact_path(f"{prefix}tok.en?lang=en") == f"{prefix}~{token_fingerprint('tok.en')}"
    # an evidence file opened through a link: the token hidden, the file's number kept
    assert (
        redact_path("/supervise/tok.en/evidence/12?thumb=1")
        == f"/supervise/~{token_fingerprint('tok.en')}/evidence/12"
    )
