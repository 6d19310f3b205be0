"""The funding stage's documents, rendered from a real run (公示 → letters → signing), convert to PDF
in LibreOffice with their text, the currency printed once, and the signature block on the page of
the last paragraph."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from models.documents.tables import GeneratedDocument
from models.funding.decision import approve_decision, draft_decision
from models.funding.grants import award_grants, record_signing, write_award_letters
from models.funding.publicity import close_publicity, publish_notice
from models.funding.tables import grants_of
from tests.models.documents.pdf_pages import pages as page_texts
from tests.models.documents.pdf_pages import to_pdf
from tests.support.funding_data import APPROVED_AT, scored_competition

pytestmark = pytest.mark.slow
ROLES = ("funding_publicity", "award_notice", "rejection_notice", "grant_agreement", "payment_notice")
# the last paragraph of each document, which must share its page with the signature / seal area
LAST = {
    "funding_publicity": ("异议受理地址", "江头街道办事处"),
    "award_notice": ("专款专用", "江头街道办事处"),
    "rejection_notice": ("5个工作日内", "江头街道办事处"),
    "grant_agreement": ("本协议一式三份", "甲方（盖章）"),
    "payment_notice": ("专此通知", "经办人"),
}


@pytest.fixture
def documents(sqlite_engine, settings_env) -> dict[str, Path]:
    from datetime import datetime

    from sqlmodel import Session

    from models.funding.workdays import BEIJING

    with Session(sqlite_engine, expire_on_commit=False) as session:
        competition, _ = scored_competition(session)
        draft_decision(session, competition_id=competition.id, actor="admin")
        approve_decision(session, competition_id=competition.id, actor="admin")
        publish_notice(
            session, competition_id=competition.id, now=APPROVED_AT, actor="admin", documents_dir=settings_env
        )
        close_publicity(
            session,
            competition_id=competition.id,
            now=datetime(2025, 3, 31, 9, tzinfo=BEIJING),
            actor="admin",
        )
        award_grants(session, competition_id=competition.id, actor="admin")
        write_award_letters(
            session, competition_id=competition.id, issue_date=date(2025, 3, 31), documents_dir=settings_env
        )
        grant = grants_of(session, competition_id=competition.id)[0]
        record_signing(
            session, grant_id=grant.id, on=date(2025, 4, 8), actor="admin", documents_dir=settings_env
        )
        found = {}
        for role in ROLES:
            row = session.exec(select(GeneratedDocument).where(GeneratedDocument.role == role)).first()
            assert row is not None, role
            found[role] = settings_env / row.path
        session.commit()
    return found


def test_funding_documents_render_in_libreoffice(documents, tmp_path):
    pdfs = to_pdf({role: path.read_bytes() for role, path in documents.items()}, tmp_path)
    pages = {role: ["".join(page.split()) for page in page_texts(pdfs[role])] for role in ROLES}
    whole = {role: "".join(p) for role, p in pages.items()}
    assert "至2025年3月28日17:30（北京时间）" in whole["funding_publicity"]
    assert "陈慧敏" in whole["funding_publicity"] and "8,000.00" in whole["funding_publicity"]
    assert "人民币捌仟元整" in whole["grant_agreement"] and "JT2025-XY-001" in whole["grant_agreement"]
    assert "四舍五入到分" in whole["grant_agreement"]
    # an application stored without a plan promises nothing in figures: never 不少于0场
    assert (
        "活动场次和服务人次按申报书约定" in whole["grant_agreement"]
        and "不少于0" not in whole["grant_agreement"]
    )
    assert "低于合格线60分" in whole["rejection_notice"]
    assert "4,000.00元" in whole["payment_notice"] and "人民币肆仟元整" in whole["payment_notice"]
    for role, text in whole.items():
        assert not re.search(r"[¥￥][\d,.]+元", text), role  # the currency is printed once
    for role, (paragraph, signature) in LAST.items():
        page = next(p for p in pages[role] if signature in p)
        assert paragraph in page, f"{role}: the signature is not on the page of the last paragraph"
