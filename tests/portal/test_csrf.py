"""The double-submit CSRF token: the form's signed copy must match the cookie and the page."""

from __future__ import annotations

import pytest

from portal.csrf import CsrfRefused, check_form_token, form_token, new_cookie_value

SECRET = "csrf-test-secret"


def test_check_form_token_genuine_post_passes() -> None:
    cookie = new_cookie_value()
    token = form_token(cookie_value=cookie, scope="sheet-1", secret=SECRET)
    assert check_form_token(field_value=token, cookie_value=cookie, scope="sheet-1", secret=SECRET) is None


@pytest.mark.parametrize(
    ("field", "cookie", "scope", "secret", "reason"),
    [
        (None, "c", "sheet-1", SECRET, "no token in the form"),
        ("token", None, "sheet-1", SECRET, "no CSRF cookie"),
        ("token", "other-cookie", "sheet-1", SECRET, "token does not match the cookie"),
        ("token", "c", "sheet-2", SECRET, "token belongs to another page"),
        ("token", "c", "sheet-1", "another-secret", "token forged"),
        ("garbage", "c", "sheet-1", SECRET, "token forged"),
    ],
)
def test_check_form_token_bad_post_is_refused(
    field: str | None, cookie: str | None, scope: str, secret: str, reason: str
) -> None:
    genuine = form_token(cookie_value="c", scope="sheet-1", secret=SECRET)
    value = {"token": genuine, "garbage": "abc.def"}.get(field) if field else None
    with pytest.raises(CsrfRefused) as refused:
        check_form_token(field_value=value, cookie_value=cookie, scope=scope, secret=secret)
    assert refused.value.reason == reason


def test_check_form_token_stale_is_refused() -> None:
    token = form_token(cookie_value="c", scope="s", secret=SECRET)
    with pytest.raises(CsrfRefused) as refused:
        check_form_token(field_value=token, cookie_value="c", scope="s", secret=SECRET, max_age=-1)
    assert refused.value.reason == "token expired"


def test_new_cookie_value_is_random() -> None:
    values = {new_cookie_value() for _ in range(50)}
    assert len(values) == 50 and all(len(v) >= 24 for v in values)
