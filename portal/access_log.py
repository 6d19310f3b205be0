"""Personal links are secrets: the web server's access log names them by a fingerprint only.

uvicorn writes one line per request to the ``uvicorn.access`` logger, with the path as an argument
(``'%s - "%s %s HTTP/%s" %d'``). ``TokenRedaction`` rewrites that path before any handler sees it:
the token of ``/review/{token}``, ``/supervise/{token}``, ``/report/{token}``,
``/final-review/{token}``, ``/expert/{token}`` (and the evidence paths below them) and
``/apply/{slug}/done/{token}`` becomes
``~`` and ``models.links.token_fingerprint`` of it (the same fingerprint the portal's refusal lines
carry), and the query string is dropped. ``install`` puts the filter on the logger once; a logging
configuration applied later (uvicorn's own, at start) keeps a logger's filters.
"""

from __future__ import annotations

import logging
import re

from models.links import token_fingerprint

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PATHS = (
    re.compile(r"^(/(?:review|supervise|report|final-review|expert)/)([^/?#]+)"),
    re.compile(r"^(/apply/[^/?#]+/done/)([^/?#]+)"),
)


def redact_path(path: str) -> str:
    """``/review/<token>?lang=en`` → ``/review/~<fingerprint>``; other paths keep their path."""
    bare = path.split("?", 1)[0]
    for pattern in _SECRET_PATHS:
        match = pattern.match(bare)
        if match:
            return f"{match.group(1)}~{token_fingerprint(match.group(2))}{bare[match.end() :]}"
    return path


class TokenRedaction(logging.Filter):
    """Rewrites the path argument of uvicorn's access lines (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Put the redaction on ``logger_name`` (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, TokenRedaction) for f in logger.filters):
        logger.addFilter(TokenRedaction())
