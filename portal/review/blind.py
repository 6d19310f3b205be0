"""Blind review (匿名评审): what would name the applicant, found and hidden in every text shown.

``Identity.of`` gathers an application's identifying values — the organisation's name (and its
name without the place in front, and a quoted 品牌 inside it), registration number, legal
representative and address, the contact person, phone and e-mail, and the name and contact of every
member of the team table. ``Identity.hide`` replaces each of them in a text, longest first, and also
anything that looks like a phone number, an e-mail address or a 统一社会信用代码, with ``HIDDEN``.
The page model runs every text of a blind sheet through it; the tables drop their name and contact
columns altogether.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from models.intake.tables import Application, Organisation

HIDDEN = "〔已隐去〕"
_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"),  # mobile
    re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)"),  # landline with area code
    re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])"),  # USCC
)
_PLACE = re.compile(r"^(?:.{1,8}?(?:省|自治区|市|区|县|街道|镇|社区))+")
_QUOTED = re.compile(r"[“\"「『‘']([^”\"」』’']{2,})[”\"」』’']")
_MIN_LENGTH = 2  # shorter values (a one-character name) would blank ordinary words
_MIN_SHORT_NAME = 4  # the name without its place: shorter ones are generic (社工室)


@dataclass(frozen=True)
class Identity:
    values: tuple[str, ...]  # longest first

    @classmethod
    def of(cls, application: Application, organisation: Organisation | None) -> Identity:
        found: list[str] = [application.contact_name, application.contact_phone, application.contact_email]
        if organisation is not None:
            name = organisation.name
            short = _PLACE.sub("", name)
            found += [
                name,
                short if len(short) >= _MIN_SHORT_NAME else "",
                *_QUOTED.findall(name),
                organisation.registration_number,
                organisation.legal_representative,
                organisation.address,
            ]
        for member in _rows(application.details.get("team") if application.details else None):
            found += [str(member.get("name", "")), str(member.get("contact", ""))]
        cleaned = {v.strip() for v in found if v and len(v.strip()) >= _MIN_LENGTH}
        return cls(tuple(sorted(cleaned, key=len, reverse=True)))

    def hide(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, HIDDEN)
        for pattern in _PATTERNS:
            text = pattern.sub(HIDDEN, text)
        return text


def _rows(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, list):
        return [row for row in value if isinstance(row, Mapping)]
    return []
