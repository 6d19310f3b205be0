"""The station's contact line: escaped, each phone number a tel: link, nothing else linked."""

from __future__ import annotations

import pytest

from portal.contact import contact_html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "江头街道社会工作服务站 林老师 0592-5512345",
            '江头街道社会工作服务站 林老师 <a class="tel" href="tel:0592-5512345">0592-5512345</a>',
        ),
        (
            "林老师13905920123，或05925512345",
            '林老师<a class="tel" href="tel:13905920123">13905920123</a>，或'
            '<a class="tel" href="tel:05925512345">05925512345</a>',
        ),
        ("受理编号 2025-001，2025年6月30日前", "受理编号 2025-001，2025年6月30日前"),  # no number to call
        ("<b>林</b> 139059201234", "&lt;b&gt;林&lt;/b&gt; 139059201234"),  # 12 digits: not a phone
    ],
)
def test_contact_html_links_phone_numbers_and_escapes_the_rest(text: str, expected: str) -> None:
    assert str(contact_html(text)) == expected


def test_contact_html_escapes_markup_around_a_number() -> None:
    html = str(contact_html('"><script>alert(1)</script> 0592-5512345'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.endswith('<a class="tel" href="tel:0592-5512345">0592-5512345</a>')
