"""The intake inbox: a file's bytes as a flow parameter, checked and stored under their digest."""

from __future__ import annotations

import base64
import hashlib

import pytest

from models.errors import InputError
from models.intake.inbox import MAX_UPLOAD_BYTES, receive_upload, upload_from
from tests.conftest import EXAMPLE_DIR

EXAMPLE = EXAMPLE_DIR / "applications.xlsx"


def test_an_upload_round_trips_to_the_same_bytes_under_its_digest(tmp_path):
    upload = upload_from(EXAMPLE)
    assert upload["name"] == "applications.xlsx" and upload["size"] == EXAMPLE.stat().st_size
    stored = receive_upload(upload, inbox=tmp_path)
    digest = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert stored == tmp_path / digest / "applications.xlsx"
    assert stored.read_bytes() == EXAMPLE.read_bytes()
    mtime = stored.stat().st_mtime_ns
    assert receive_upload(upload, inbox=tmp_path) == stored and stored.stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / digest).iterdir()] == ["applications.xlsx"]  # no leftovers


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": "../../etc/passwd.xlsx"}, "bare name"),
        ({"name": "sub/applications.xlsx"}, "bare name"),
        ({"name": "applications.exe"}, "must be one of"),
        ({"sha256": "abc"}, "sha256 is missing"),
        ({"content": "not base64!"}, "not valid base64"),
        ({"content": base64.b64encode(b"other bytes").decode()}, "does not match its sha256"),
        ({"content": None}, "content missing"),
    ],
)
def test_a_bad_upload_is_refused_naming_the_file_and_writes_nothing(tmp_path, change, reason):
    upload = upload_from(EXAMPLE) | change
    with pytest.raises(InputError, match=reason):
        receive_upload(upload, inbox=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_file_over_the_bound_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.xlsx"
    with big.open("wb") as f:
        f.truncate(MAX_UPLOAD_BYTES + 1)
    with pytest.raises(InputError, match="too large"):
        upload_from(big)
    with pytest.raises(InputError, match="file not found"):
        upload_from(tmp_path / "missing.xlsx")
