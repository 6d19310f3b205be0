"""The station's contact line on a page: its text escaped, each phone number in it a ``tel:`` link,
so that a grantee reading an error page on a phone calls with one tap."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# a mobile (138 0592 0123 written whole) or a landline with its area code (0592-5512345)
PHONE = re.compile(r"(?<![\d-])(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?![\d-])")


def contact_html(text: object) -> Markup:
    """``text`` escaped, its phone numbers linked: ``林老师 0592-5512345`` → ``林老师 <a
    href="tel:0592-5512345">0592-5512345</a>``."""
    parts = []
    last = 0
    plain = str(text)
    for found in PHONE.finditer(plain):
        parts.append(escape(plain[last : found.start()]))
        number = found.group(1)
        parts.append(Markup('<a class="tel" href="tel:{0}">{0}</a>').format(number))
        last = found.end()
    parts.append(escape(plain[last:]))
    return Markup("").join(parts)
