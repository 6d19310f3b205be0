"""The contexts of the call, intake and screening documents, built from the configuration."""

from __future__ import annotations

from datetime import date

import pytest

from models.call.notices import (
    blank_form_context,
    call_notice_context,
    eligibility_lines,
    gate_text,
    screening_due,
)
from models.competition.tables import competition_config
from models.documents.registry import DOCUMENTS
from models.errors import NotFound
from models.intake.notices import channel_of
from models.screening.notices import rule_code
from models.settings import Settings
from tests.support.factories import example_config_text, make_competition

SETTINGS = Settings(
    mail_from="江头街道社工站 <shenbao@jiangtou.example.org>", portal_url="https://gy.example.org/"
)


def test_call_notice_context_carries_every_declared_key_from_the_configuration(session):
    competition = make_competition(session)
    config = competition_config(competition)
    context = call_notice_context(competition, config, issue_date=date(2025, 1, 6), settings=SETTINGS)
    DOCUMENTS.get("call_notice").check_context(context)
    assert context["pool_fen"] == 6_000_000 and context["per_project_cap_fen"] == 800_000
    assert [p["amount_fen"] for p in context["pools"]] == [3_600_000, 2_400_000]
    assert [c["name"] for c in context["categories"]] == ["一老", "一小", "公益服务"]
    assert sum(c["max_points"] for c in context["criteria"]) == context["rubric_total"] == 100
    assert context["submit_email"] == "gongyi@jiangtou.example.org"  # competition.submit_email
    assert "portal_url" not in context  # no web form yet: the call names only real channels
    assert [t["gate"] for t in context["tranches"]] == ["资助协议签订后", "中期评估合格后", "结项评估合格后"]
    assert context["schedule"][1] == {"step": "申报截止", "when": "2025年2月28日17:00"}
    DOCUMENTS.get("application_form").check_context(blank_form_context(competition, config))


def test_eligibility_lines_follow_the_configured_rules(session):
    text = example_config_text(
        **{
            "required_attachments: []": "required_attachments: [登记证书复印件]\n  min_founded_months: 12",
            "one_application_per_organisation: true": "one_application_per_organisation: false",
        }
    )
    config = competition_config(make_competition(session, text=text))
    lines = eligibility_lines(config)
    assert "截至申报截止日成立满12个月；" in lines and "须附登记证书复印件；" in lines
    assert not any("限报1个项目" in line for line in lines)
    assert gate_text("nowhere", config) == "nowhere合格后"
    assert screening_due(config) == date(2025, 3, 7)


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        ("applications.xlsx:第3行 (row 3)", "电子表格申报汇总表"),
        ("applications-gbk.csv:第2行 (row 2)", "文本格式申报汇总表"),
        ("申报书-01-科普志愿者协会.docx", "电子版申报书"),
        ("batch.JSON:#2", "数据文件"),
        ("", "申报材料"),
    ],
)
def test_channel_of_names_how_an_application_arrived(source, channel):
    assert channel_of(source) == channel


def test_rule_code_accepts_code_or_chinese_label_and_names_the_choices():
    assert rule_code("barred") == "barred" and rule_code("禁止申报名单") == "barred"
    with pytest.raises(NotFound, match="禁止申报名单"):
        rule_code("没有的规则")
