"""CSRF protection for the portal's forms: a signed double-submit token.

A GET gives the browser a random value in the ``gf_csrf`` cookie (HttpOnly, SameSite=Strict) and
puts into the form a hidden ``csrf_token``: that value and the page's scope (a fingerprint of the
personal link), signed with ``settings.secret_key`` and a salt of its own. A POST is accepted only
when the hidden field's signature holds, it is younger than ``MAX_AGE_SECONDS``, its value equals
the cookie, and its scope is the page being posted to. A page on another site can neither read the
cookie nor forge the signature, and a field copied from one sheet does not work on another.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from models.errors import AccessDenied

COOKIE = "gf_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 12 * 3600


class CsrfRefused(AccessDenied):
    """A form post without a valid CSRF token (missing, forged, stale, or for another page)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"表单校验失败 / CSRF check failed: {reason}")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="grantflow.csrf")


def new_cookie_value() -> str:
    return secrets.token_urlsafe(18)


def form_token(*, cookie_value: str, scope: str, secret: str) -> str:
    """The hidden field's value for a page whose cookie holds ``cookie_value``."""
    return str(_serializer(secret).dumps([cookie_value, scope]))


def check_form_token(
    *,
    field_value: str | None,
    cookie_value: str | None,
    scope: str,
    secret: str,
    max_age: int = MAX_AGE_SECONDS,
) -> None:
    """Return quietly when the post is genuine; raise ``CsrfRefused`` naming the reason otherwise."""
    if not field_value:
        raise CsrfRefused("no token in the form")
    if not cookie_value:
        raise CsrfRefused("no CSRF cookie")
    try:
        signed_value, signed_scope = _serializer(secret).loads(field_value, max_age=max_age)
    except SignatureExpired:
        raise CsrfRefused("token expired") from None
    except (BadSignature, ValueError, TypeError):
        raise CsrfRefused("token forged") from None
    if not secrets.compare_digest(str(signed_value), cookie_value):
        raise CsrfRefused("token does not match the cookie")
    if not secrets.compare_digest(str(signed_scope), scope):
        raise CsrfRefused("token belongs to another page")
