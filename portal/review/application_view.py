"""What an expert reads of an application: the 申报书 as intake stored it, in the form's own order
(``models.documents.application_form.SECTIONS``), with its Chinese headings.

    申报单位信息   organisation, kind, registration number, founded, rating, legal representative,
                  contact, phone, e-mail, address            (blind: only the kind)
    项目信息       title, category, pool, communities, served group, beneficiaries, period, amounts
    项目简介 · 需求分析 · 项目目标 · 活动安排 · 预期成效与评估方式 · 执行团队 · 风险与应对 · 可持续性 ·
    预算明细 · 社区意见 · 附件清单

Where intake keeps each part (``models.intake.validation``): the texts under ``details`` by key;
the 活动安排 as rows (a Word form's table: period, content, sessions, participants) or as text
(``activities_text``: a spreadsheet cell or the web form, one ``时间|活动内容|场次|预计人次`` line
per activity, shown as the same table when every line has that shape); the 执行团队 likewise
(``team``: name, duty, contact; ``team_text``); the budget as ``BudgetLine`` rows. A section the
applicant left empty is shown as such, so that the expert sees what is missing.

In a blind review every text passes through ``portal.blind.Identity.hide`` and the team table
keeps only its 职务/分工 column: no organisation, person, phone, e-mail, address or registration
number reaches the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.documents.application_form import (
    ACTIVITY_COLUMNS,
    BUDGET_COLUMNS,
    BUDGET_TOTAL_LABEL,
    TEAM_COLUMNS,
)
from models.intake.tables import Application, BudgetLine, Organisation
from models.money import format_yuan
from models.states import ORGANISATION_KIND_LABELS
from portal.review.blind import Identity

_ACTIVITY_KEYS = ("period", "content", "sessions", "participants")
_TEAM_KEYS = ("name", "duty", "contact")
_TEAM_BLIND = (1,)  # 职务/分工 only
# (section key, heading as the 申报书 has it); texts by their key in Application.details
SECTION_ORDER: tuple[tuple[str, str], ...] = (
    ("summary", "项目简介"),
    ("need_analysis", "需求分析"),
    ("objectives", "项目目标"),
    ("activities", "活动安排"),
    ("outcomes", "预期成效与评估方式"),
    ("team", "执行团队"),
    ("risks", "风险与应对"),
    ("sustainability", "可持续性"),
    ("budget", "预算明细"),
    ("community_opinion", "社区意见"),
    ("attachments", "附件清单"),
)


@dataclass
class Fact:
    key: str  # i18n: the label
    value: str
    id: str = ""  # an element id for tests and styling


@dataclass
class Section:
    key: str  # i18n: section.<key>
    heading: str  # the 申报书's own heading (Chinese)
    text: str = ""
    items: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)  # 合计 of the budget
    numeric: tuple[int, ...] = ()  # columns aligned right

    @property
    def empty(self) -> bool:
        return not (self.text or self.items or self.rows)


@dataclass
class ApplicationView:
    ref: str
    title: str
    amount: str
    blind: bool
    organisation: list[Fact]  # 申报单位信息
    project: list[Fact]  # 项目信息
    sections: list[Section]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _rows(value: Any, keys: Sequence[str]) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    rows = [[str(row.get(k, "") or "").strip() for k in keys] for row in value if isinstance(row, Mapping)]
    return [row for row in rows if any(row)]


def _lines_as_rows(text: str, width: int) -> list[list[str]]:
    """``时间|内容|场次|人次`` lines as rows, or [] when any line has another shape."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows = [[part.strip() for part in line.split("|")] for line in lines]
    return rows if rows and all(len(row) == width for row in rows) else []


def _table_section(
    key: str,
    heading: str,
    *,
    rows: list[list[str]],
    text: str,
    headers: Sequence[str],
    numeric: tuple[int, ...] = (),
    keep: tuple[int, ...] | None = None,
) -> Section:
    rows = rows or _lines_as_rows(text, len(headers))
    section = Section(key, heading, numeric=numeric)
    if rows:
        columns = keep if keep is not None else tuple(range(len(headers)))
        section.headers = [headers[i] for i in columns]
        section.rows = [[row[i] for i in columns] for row in rows]
        section.numeric = tuple(columns.index(i) for i in numeric if i in columns)
    else:
        section.text = text
    return section


def _budget(session: Session, application: Application) -> Section:
    lines = list(
        session.exec(
            select(BudgetLine)
            .where(BudgetLine.application_id == application.id)
            .order_by(col(BudgetLine.position))
        )
    )
    section = Section("budget", "预算明细", headers=list(BUDGET_COLUMNS), numeric=(2, 3, 4))
    section.rows = [
        [
            line.item,
            line.purpose,
            format_yuan(line.unit_price_fen),
            str(line.quantity),
            format_yuan(line.amount_fen),
        ]
        for line in lines
    ]
    if lines:
        total = sum(line.amount_fen for line in lines)
        section.footer = [BUDGET_TOTAL_LABEL, "", "", "", format_yuan(total)]
    return section


def application_view(
    session: Session, application: Application, competition: Competition, *, blind: bool
) -> ApplicationView:
    """The application as the expert reads it (see the module docstring)."""
    config = competition_config(competition)
    organisation = session.get(Organisation, application.organisation_id)
    identity = Identity.of(application, organisation) if blind else None
    hide: Callable[[str], str] = identity.hide if identity is not None else (lambda text: text)
    details: Mapping[str, Any] = application.details or {}

    kind = ORGANISATION_KIND_LABELS.get(organisation.kind, str(organisation.kind)) if organisation else ""
    facts_of_organisation = [Fact("organisation_kind", kind)]
    if not blind and organisation is not None:
        facts_of_organisation = [
            Fact("organisation", organisation.name, "organisation"),
            Fact("organisation_kind", kind),
            Fact("registration_number", organisation.registration_number),
            Fact("founded_on", f"{organisation.founded_on:%Y-%m-%d}" if organisation.founded_on else ""),
            Fact("rating", organisation.rating),
            Fact("legal_representative", organisation.legal_representative),
            Fact("contact", application.contact_name, "contact"),
            Fact("contact_phone", application.contact_phone),
            Fact("contact_email", application.contact_email),
            Fact("address", organisation.address),
        ]
    categories = {c.code: c.name for c in config.categories}
    pools = {p.code: p.name for p in config.pools}
    communities = dict.fromkeys(c for c in [application.community, *application.communities] if c)
    period = ""
    if application.period_start and application.period_end:
        period = f"{application.period_start:%Y-%m-%d} – {application.period_end:%Y-%m-%d}"
    project = [
        Fact("category", categories.get(application.category, application.category)),
        Fact("pool", pools.get(application.pool, application.pool)),
        Fact("communities", "、".join(communities)),
        Fact("target_group", hide(application.target_group)),
        Fact("beneficiaries", str(application.beneficiaries) if application.beneficiaries else ""),
        Fact("period", period),
        Fact("amount", format_yuan(application.amount_fen)),
        Fact("self_funded", format_yuan(application.self_funded_fen)),
    ]

    sections: list[Section] = []
    for key, heading in SECTION_ORDER:
        if key == "summary":
            section = Section(key, heading, text=application.summary.strip())
        elif key == "activities":
            section = _table_section(
                key,
                heading,
                rows=_rows(details.get("activities"), _ACTIVITY_KEYS),
                text=_text(details.get("activities_text")),
                headers=ACTIVITY_COLUMNS,
                numeric=(2, 3),
            )
        elif key == "team":
            section = _table_section(
                key,
                heading,
                rows=_rows(details.get("team"), _TEAM_KEYS),
                text=_text(details.get("team_text")),
                headers=TEAM_COLUMNS,
                keep=_TEAM_BLIND if blind else None,
            )
        elif key == "budget":
            section = _budget(session, application)
        elif key == "attachments":
            value = details.get("attachments")
            items = [str(v).strip() for v in value if str(v).strip()] if isinstance(value, list) else []
            section = Section(key, heading, items=items)
        else:
            section = Section(key, heading, text=_text(details.get(key)))
        if blind:
            section.text = hide(section.text)
            section.items = [hide(item) for item in section.items]
            section.rows = [[hide(cell) for cell in row] for row in section.rows]
        sections.append(section)
    return ApplicationView(
        ref=application.ref,
        title=hide(application.title),
        amount=format_yuan(application.amount_fen),
        blind=blind,
        organisation=facts_of_organisation,
        project=project,
        sections=sections,
    )
