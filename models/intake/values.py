"""Values as people write them in forms and spreadsheets: dates, periods, phone numbers, lists, kinds.

Each parser returns None for a text it cannot read; the caller reports the problem.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import phonenumbers

from models.states import ORGANISATION_KIND_LABELS, OrganisationKind

KIND_WORDS: dict[str, OrganisationKind] = {
    **{label: kind for kind, label in ORGANISATION_KIND_LABELS.items()},
    **{kind.value: kind for kind in OrganisationKind},
    "社会团体": OrganisationKind.registered,
    "民办非企业单位": OrganisationKind.registered,
    "社会服务机构": OrganisationKind.registered,
    "基金会": OrganisationKind.registered,
    "志愿服务团队": OrganisationKind.volunteer_team,
    "志愿服务队": OrganisationKind.volunteer_team,
    "志愿者团队": OrganisationKind.volunteer_team,
    "社工室": OrganisationKind.community_office,
}
_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")
# 附件清单: one name a line, or names separated by 、 or ；— never by spaces or "/" (法人/负责人身份证 复印件)
_NAMES_SPLIT = re.compile(r"[\n\r、；;]+")
_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)(?:\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?|\s*月?)")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def normalise_phone(text: str) -> str | None:
    """``13805920101`` or ``0592-5512345`` for a valid mainland number (several joined by 、), else None.
    Full-width digits and dashes are read as their plain forms (NFKC)."""
    found = []
    text = unicodedata.normalize("NFKC", text)
    for part in (p for p in re.split(r"[/、,，;；]", text) if p.strip()):
        try:
            number = phonenumbers.parse(part, "CN")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        national = phonenumbers.national_significant_number(number)
        area = phonenumbers.length_of_geographical_area_code(number)
        found.append(f"0{national[:area]}-{national[area:]}" if area else national)
    return "、".join(found) or None


def parse_date(value: object, *, month_ok: bool = False) -> date | None:
    """A date as people write it (2025-03-01, 2025/3/1, 2025年3月1日, Excel dates); None if not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if m := _COMPACT_DATE.match(text):
        parts: tuple[str | None, ...] = m.groups()
    elif (m := _DATE.fullmatch(text)) is not None:
        parts = m.groups()
    else:
        return None
    if parts[2] is None and not month_ok:
        return None
    try:
        return date(int(str(parts[0])), int(str(parts[1])), int(parts[2] or 1))
    except ValueError:
        return None


def parse_period(text: str) -> tuple[date, date] | None:
    """``2025-03-01至2025-09-30`` (or 年月日, ~, —, 到); a month alone ends on its last day."""
    found = list(_DATE.finditer(unicodedata.normalize("NFKC", text)))
    if len(found) != 2:
        return None
    start, end = (parse_date(m.group(0), month_ok=True) for m in found)
    if start is None or end is None:
        return None
    if found[1].group(3) is None:  # "2025.09" means the end of September
        next_month = date(end.year + end.month // 12, end.month % 12 + 1, 1)
        end = date.fromordinal(next_month.toordinal() - 1)
    return start, end


MAX_WHOLE_DIGITS = 15  # counts people write (人数, 数量, rows); longer is a mistake, not a number
_WHOLE = re.compile(rf"[0-9]{{1,{MAX_WHOLE_DIGITS}}}")
WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def whole_number(value: object) -> int | None:
    """A count as people write it (``120``, full-width ``１２０``), or None: the one strict reading of
    every whole number from a form or a file — ASCII or full-width digits only (no ``²``, no ``١٢``,
    no ``1e3``, no sign), at most ``MAX_WHOLE_DIGITS`` of them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = int(value) if value.is_integer() and abs(value) < 10**MAX_WHOLE_DIGITS else None
    if isinstance(value, int):
        return value if abs(value) < 10**MAX_WHOLE_DIGITS else None
    if value is None:
        return None
    text = str(value).translate(WIDE_DIGITS).strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def split_list(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in _LIST_SPLIT.split(text):
        if part:
            seen.setdefault(part, None)
    return list(seen)


def split_names(text: str) -> list[str]:
    """The names in a 附件清单: one a line, or separated by 、 or ；(spaces and "/" stay in a name)."""
    seen: dict[str, None] = {}
    for part in _NAMES_SPLIT.split(text):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)
