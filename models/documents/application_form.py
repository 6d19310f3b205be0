"""申报书 — the application form: the blank form applicants fill in, and the same form filled.

``templates/docs/application_form.docx`` renders blank (every value empty, a few empty rows in each
table: ``blank_application_context``) for the call, and filled (the demo's sample applications).
The intake side reads a filled-in form back with python-docx. Its tables, in document order:

1. 申报单位信息 — 2 columns, one row per label, ``label cell | value cell`` (labels exactly
   ``ORGANISATION_LABELS``). The 单位性质 value cell holds one checkbox per kind,
   ``☑社会组织　☐备案志愿服务团队　☐社区社工室``: the kind ticked is the one after ``☑`` (people
   who fill it by hand may also write ■, √, ✓, ☒ or ✔ instead of ☐).
2. 项目信息 — 2 columns, ``label | value`` (labels exactly ``PROJECT_LABELS``). 项目类别 and 服务社区 are
   checkbox cells like 单位性质 (categories and communities from the competition's configuration);
   项目周期 reads ``2025年4月1日至2025年9月30日``; amounts are yuan (``8,000.00``).
3. One table per section, in ``SECTIONS`` order. Row 0 is a single merged cell holding exactly the
   section's name. Text sections (项目简介, 需求分析, 项目目标, 预期成效与评估方式, 风险与应对, 可持续性,
   社区意见) have one more row: the text (line breaks as <w:br/>, which python-docx reads as
   ``\\n``). Table sections have row 1 = the column headers (``ACTIVITY_COLUMNS``, ``TEAM_COLUMNS``,
   ``BUDGET_COLUMNS``) and one row per line; empty rows are left for handwriting and should be
   skipped; 预算明细 ends with a row whose first cell is ``合计`` and whose last cell is the total.
   承诺书's second row is the fixed pledge (``PLEDGE``) with the signature and seal lines; 社区意见
   has a third row with the residents' committee's seal and date line.

Paragraphs before the tables are the cover (项目名称, 申报单位, 申报日期, 受理编号) and the filling
instructions, on pages of their own;
the intake side need not read them: the tables hold every value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from models.documents.engine.templating import TemplateRole

ORGANISATION_HEADING = "申报单位信息"
PROJECT_HEADING = "项目信息"
ORGANISATION_LABELS = (
    "申报单位",
    "单位性质",
    "统一社会信用代码或登记证号",
    "成立时间",
    "年检结论/评估等级",
    "法定代表人或负责人",
    "联系人",
    "联系电话",
    "电子邮箱",
    "单位地址",
)
PROJECT_LABELS = (
    "项目名称",
    "项目类别",
    "服务社区",
    "服务对象",
    "直接受益人数",
    "项目周期",
    "申请金额（元）",
    "自筹/配套金额（元）",
)
ORGANISATION_KINDS = ("社会组织", "备案志愿服务团队", "社区社工室")
CHECKED, UNCHECKED = "☑", "☐"
CHECK_MARKS = frozenset("☑■√✓☒✔")

ACTIVITY_COLUMNS = ("时间", "活动内容", "场次", "预计人次")
TEAM_COLUMNS = ("姓名", "职务/分工", "联系方式")
BUDGET_COLUMNS = ("科目", "用途", "单价（元）", "数量", "金额（元）")
BUDGET_TOTAL_LABEL = "合计"

# section name -> context key of its text, or the columns of its table
SECTIONS: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("项目简介", "summary"),
    ("需求分析", "need_analysis"),
    ("项目目标", "objectives"),
    ("活动安排", ACTIVITY_COLUMNS),
    ("预期成效与评估方式", "outcomes"),
    ("执行团队", TEAM_COLUMNS),
    ("风险与应对", "risks"),
    ("可持续性", "sustainability"),
    ("预算明细", BUDGET_COLUMNS),
    ("承诺书", ""),  # fixed text (PLEDGE) and signature lines, not a value
    ("社区意见", "community_opinion"),
)
TEXT_SECTION_KEYS = {name: key for name, key in SECTIONS if isinstance(key, str) and key}
PLEDGE = (
    "本单位郑重承诺：申报书所填内容及所附材料真实、准确、完整；如获资助，将严格按照资助协议实施项目，"
    "资助资金专款专用，自觉接受主办方及督导方的监督、评估和审计；如有虚假，愿承担相应责任。"
)

COMMUNITIES = ["江头", "吕厝", "吕岭", "园山", "金尚", "江村", "蔡塘", "后埔", "祥店", "江华", "忠仑"]
CATEGORIES = ["一老", "一小", "公益服务"]


def blank_application_context(
    *,
    competition_name: str,
    organiser: str,
    communities: Sequence[str],
    categories: Sequence[str],
    per_project_cap_fen: int,
    applications_close: datetime,
    empty_rows: tuple[int, int, int] = (6, 4, 6),
) -> dict[str, Any]:
    """The context of the blank form: every value empty, a few empty rows in each table."""
    activities, team, budget = empty_rows
    context: dict[str, Any] = {key: "" for key in APPLICATION_FORM.keys}
    context.update(
        competition_name=competition_name,
        organiser=organiser,
        communities=list(communities),
        categories=list(categories),
        served_communities=[],
        per_project_cap_fen=per_project_cap_fen,
        applications_close=applications_close,
        activities=[{"period": "", "content": "", "sessions": "", "participants": ""}] * activities,
        team=[{"name": "", "duty": "", "contact": ""}] * team,
        budget_lines=[{"item": "", "purpose": "", "unit_price_fen": "", "quantity": "", "amount_fen": ""}]
        * budget,
    )
    return context


_SAMPLE: dict[str, Any] = {
    "competition_name": "2025年江头街道“江头公益圈”微公益创投大赛",
    "organiser": "厦门市湖里区人民政府江头街道办事处",
    "per_project_cap_fen": 800_000,
    "applications_close": datetime(2025, 2, 28, 9, 0, tzinfo=UTC),
    "application_ref": "JT2025-003",
    "application_date": date(2025, 2, 20),
    "project_title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
    "organisation_name": "厦门市湖里区吕岭社区志愿服务队",
    "org_kind": "备案志愿服务团队",
    "registration_number": "湖里志备〔2021〕017号",
    "founded_on": date(2021, 5, 12),
    "rating": "2024年度考核合格",
    "legal_representative": "陈秀兰",
    "contact_name": "王丽华",
    "contact_phone": "13950012345",
    "contact_email": "lvling.volunteers@example.org",
    "address": "厦门市湖里区吕岭路1023号吕岭社区党群服务中心二楼",
    "categories": CATEGORIES,
    "category": "一老",
    "communities": COMMUNITIES,
    "served_communities": ["吕岭", "江头"],
    "target_group": "辖区60岁以上独居、空巢及高龄老人",
    "beneficiaries": 120,
    "period_start": date(2025, 5, 1),
    "period_end": date(2025, 9, 30),
    "amount_fen": 800_000,
    "self_funded_fen": 150_000,
    "summary": "依托吕岭社区长者食堂，组建助餐志愿者队伍，为辖区独居、高龄老人提供送餐上门、"
    "就餐陪伴和健康提醒服务，并每月举办一次“邻里共餐日”，让老人吃得好、有人陪。",
    "need_analysis": "吕岭社区60岁以上老人1,860人，其中独居、空巢老人312人。2024年12月入户走访"
    "96户，71%的老人表示做饭困难，58%的老人希望有人陪伴就餐。\n长者食堂开业一年，送餐和陪伴人手不足。",
    "objectives": "1. 为120名老人提供送餐上门和就餐陪伴服务；\n2. 培育一支40人的助餐志愿者队伍；\n"
    "3. 老人对服务的满意度达到90%以上。",
    "activities": [
        {"period": "2025年5月", "content": "助餐志愿者招募与培训", "sessions": 2, "participants": 45},
        {"period": "2025年5月—9月", "content": "送餐上门与就餐陪伴", "sessions": 24, "participants": 960},
        {"period": "2025年5月—9月", "content": "“邻里共餐日”主题活动", "sessions": 5, "participants": 300},
        {"period": "2025年9月", "content": "成果分享会与志愿者表彰", "sessions": 1, "participants": 80},
    ],
    "outcomes": "服务老人不少于120人、960人次；志愿者服务时长不少于1,500小时。\n评估方式：签到表、"
    "服务记录、满意度问卷（前后测）、督导走访。",
    "team": [
        {"name": "王丽华", "duty": "项目负责人，统筹协调", "contact": "13950012345"},
        {"name": "林志明", "duty": "志愿者招募与排班", "contact": "13806001234"},
        {"name": "黄美玉", "duty": "财务与台账管理", "contact": "13859012345"},
    ],
    "risks": "志愿者流失：建立积分激励与轮班制度；\n食品安全：送餐全程保温、专人核对，由食堂持证人员配餐。",
    "sustainability": "项目结束后由社区长者食堂与志愿服务队共同维持送餐服务，并申请社区慈善基金持续支持。",
    "budget_lines": [
        {
            "item": "志愿者培训费",
            "purpose": "讲师费及培训资料",
            "unit_price_fen": 80_000,
            "quantity": 2,
            "amount_fen": 160_000,
        },
        {
            "item": "送餐物资",
            "purpose": "保温箱、餐盒、防滑手套",
            "unit_price_fen": 2_500,
            "quantity": 80,
            "amount_fen": 200_000,
        },
        {
            "item": "活动物资",
            "purpose": "邻里共餐日食材与布置",
            "unit_price_fen": 60_000,
            "quantity": 5,
            "amount_fen": 300_000,
        },
        {
            "item": "宣传与台账",
            "purpose": "海报、照片冲印、台账印制",
            "unit_price_fen": 140_000,
            "quantity": 1,
            "amount_fen": 140_000,
        },
    ],
    "budget_total_fen": 800_000,
    "community_opinion": "情况属实，同意申报。",
}

APPLICATION_FORM = TemplateRole(
    name="application_form",
    title="申报书",
    purpose="微公益创投项目申报书：征集时发布的空白表，也可渲染为已填写的申报书（示例申报）",
    template="docs/application_form.docx",
    keys=_SAMPLE,
)
