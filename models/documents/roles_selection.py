"""Document roles from the call to the funding decision: what each template needs, with samples.

Money is integer fen (printed with the ``yuan`` / ``yuan_capitals`` filters), dates are ``date`` or
aware ``datetime`` (printed with ``cn_date`` / ``cn_datetime``), scores are ``Decimal`` or text.
Rows of tables are lists of dicts. The samples are what the 2025 江头街道 competition would print.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from models.documents.application_form import COMMUNITIES
from models.documents.engine.templating import TemplateRole

COMPETITION = "2025年江头街道“江头公益圈”微公益创投大赛"
ORGANISER = "厦门市湖里区人民政府江头街道办事处"
OPERATOR = "江头街道社会工作服务站"
CONTACT = "江头街道社会工作服务站 林老师 0592-5512345"
ADDRESS = "厦门市湖里区江头街道社会工作服务站（江头北路88号）"

_CRITERIA = [
    {
        "name": "需求分析",
        "description": "服务需求真实、具体，有调研依据；服务对象明确（民生性）",
        "max_points": 20,
    },
    {"name": "项目设计", "description": "目标清晰，活动安排合理、可操作，与目标对应", "max_points": 25},
    {"name": "执行能力", "description": "团队经验与分工，过往项目成效，风险应对", "max_points": 20},
    {"name": "预算合理性", "description": "预算科目清楚，单价合理，专款专用", "max_points": 15},
    {"name": "创新性", "description": "服务方式或资源整合有新意", "max_points": 10},
    {"name": "可持续性", "description": "项目结束后能否持续，是否带动社区力量", "max_points": 10},
]
_TRANCHES = [
    {"label": "首期拨付", "percent": 50, "amount_fen": 400_000, "gate": "资助协议签订后"},
    {"label": "中期拨付", "percent": 30, "amount_fen": 240_000, "gate": "中期评估合格后"},
    {"label": "尾款", "percent": 20, "amount_fen": 160_000, "gate": "结项评估合格后"},
]


def _scores(points: list[str]) -> list[dict[str, object]]:
    return [
        {"criterion": c["name"], "max_points": c["max_points"], "points": Decimal(p)}
        for c, p in zip(_CRITERIA, points, strict=True)
    ]


CALL_NOTICE = TemplateRole(
    name="call_notice",
    title="征集公告",
    purpose="向社会发布本届微公益创投大赛的征集公告：资金、对象、条件、评审标准、时间安排和申报方式",
    template="docs/call_notice.docx",
    keys={
        "doc_number": "江头街〔2025〕1号",
        "competition_name": COMPETITION,
        "organiser": ORGANISER,
        "operator": OPERATOR,
        "pool_fen": 6_000_000,
        "per_project_cap_fen": 800_000,
        "per_project_min_fen": 200_000,
        "service_period_start": date(2025, 4, 1),
        "service_period_end": date(2025, 10, 31),
        "communities": COMMUNITIES,
        "categories": [
            {"name": "一老", "description": "为老服务：敬老餐厅、社区食堂、助老员联动"},
            {"name": "一小", "description": "未成年人服务：科普基地、图书馆、夏令营、家校社联动、手工课堂"},
            {"name": "公益服务", "description": "公益合伙人、一周一公益、爱心会客厅、公益市集"},
        ],
        "pools": [
            {"name": "社会组织组", "amount_fen": 3_600_000},
            {"name": "志愿服务团队组", "amount_fen": 2_400_000},
        ],
        "eligibility": [
            "在民政部门登记的社会组织，或在江头街道备案的志愿服务团队、社区社工室；",
            "项目服务对象在江头街道11个社区内；",
            "每个单位限报1个项目，申请金额在资助上下限之间；",
            "近两年无违法违规、失信记录，未因违反资助协议被取消资格。",
        ],
        "criteria": _CRITERIA,
        "rubric_total": 100,
        "schedule": [
            {"step": "发布征集公告", "when": "2025年1月6日"},
            {"step": "申报截止", "when": "2025年2月28日17:00"},
            {"step": "资格审查", "when": "2025年3月上旬"},
            {"step": "专家评审", "when": "2025年3月21日前"},
            {"step": "公示与签订协议", "when": "2025年4月15日前"},
        ],
        "applications_close": datetime(2025, 2, 28, 9, 0, tzinfo=UTC),
        "tranches": [{k: t[k] for k in ("label", "percent", "gate")} for t in _TRANCHES],
        "submit_email": "gongyi@jiangtou.example.org",
        "contact": CONTACT,
        "address": ADDRESS,
        "issue_date": date(2025, 1, 6),
    },
)

RECEIPT = TemplateRole(
    name="receipt",
    title="受理回执",
    purpose="确认收到申报材料并告知受理编号和后续安排（随受理邮件发送）",
    template="docs/receipt.docx",
    keys={
        "competition_name": COMPETITION,
        "application_ref": "JT2025-003",
        "project_title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
        "organisation_name": "厦门市湖里区吕岭社区志愿服务队",
        "contact_name": "王丽华",
        "submitted_at": datetime(2025, 2, 20, 2, 35, tzinfo=UTC),
        "amount_fen": 800_000,
        "category": "一老",
        "communities": ["吕岭", "江头"],
        "channel": "电子版申报书（电子邮件）",
        "screening_by": date(2025, 3, 7),
        "operator": OPERATOR,
        "contact": CONTACT,
        "issue_date": date(2025, 2, 20),
    },
)

ELIGIBILITY_SHEET = TemplateRole(
    name="eligibility_sheet",
    title="资格审查表",
    purpose="逐条记录一个申报项目的资格审查结果及结论，由审查人签字",
    template="docs/eligibility_sheet.docx",
    keys={
        "competition_name": COMPETITION,
        "application_ref": "JT2025-003",
        "project_title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
        "organisation_name": "厦门市湖里区吕岭社区志愿服务队",
        "org_kind": "备案志愿服务团队",
        "registration_number": "湖里志备〔2021〕017号",
        "amount_fen": 800_000,
        "communities": ["吕岭", "江头"],
        "checks": [
            {
                "rule": "申报主体",
                "requirement": "社会组织、备案志愿服务团队或社区社工室",
                "result": "符合",
                "note": "备案志愿服务团队",
            },
            {
                "rule": "登记或备案证号",
                "requirement": "须提供",
                "result": "符合",
                "note": "湖里志备〔2021〕017号",
            },
            {"rule": "服务范围", "requirement": "江头街道11个社区内", "result": "符合", "note": "吕岭、江头"},
            {
                "rule": "申请金额",
                "requirement": "2,000.00元至8,000.00元",
                "result": "符合",
                "note": "8,000.00元",
            },
            {"rule": "限报一项", "requirement": "每个单位限报1个项目", "result": "符合", "note": ""},
            {"rule": "失信记录", "requirement": "不在限制名单内", "result": "符合", "note": ""},
        ],
        "passed": True,
        "conclusion": "符合申报条件，进入专家评审。",
        "reviewer": "林晓燕",
        "review_date": date(2025, 3, 5),
    },
)

EXPERT_SCORE_SHEET = TemplateRole(
    name="expert_score_sheet",
    title="专家评分表",
    purpose="一位评审专家对其所评全部项目的逐项评分和意见，供专家签字存档",
    template="docs/expert_score_sheet.docx",
    keys={
        "competition_name": COMPETITION,
        "expert_name": "陈慧敏",
        "expert_organisation": "厦门大学社会与人类学院",
        "criteria": _CRITERIA,
        "rubric_total": 100,
        "applications": [
            {
                "ref": "JT2025-003",
                "title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
                "organisation": "厦门市湖里区吕岭社区志愿服务队",
                "scores": _scores(["18", "22", "17", "13", "8", "8.5"]),
                "total": Decimal("86.5"),
                "comment": "需求调研扎实，送餐流程清楚；建议补充志愿者保险。",
            },
            {
                "ref": "JT2025-007",
                "title": "小小科学家——园山社区科普周末课堂",
                "organisation": "厦门市湖里区启航青少年服务中心",
                "scores": _scores(["16", "21", "18", "12", "9", "7"]),
                "total": Decimal("83"),
                "comment": "课程设计有新意，预算中讲师费偏高。",
            },
        ],
        "signed_date": date(2025, 3, 18),
    },
)

SCORE_SUMMARY = TemplateRole(
    name="score_summary",
    title="评分汇总表/排名表",
    purpose="各组项目的专家评分、去掉的最高分和最低分、最终得分与排名，以及评审一致性",
    template="docs/score_summary.docx",
    keys={
        "competition_name": COMPETITION,
        "aggregation": "去掉一个最高分和一个最低分后取算术平均（评分不少于5份时）",
        "pools": [
            {
                "name": "志愿服务团队组",
                "rows": [
                    {
                        "rank": 1,
                        "ref": "JT2025-003",
                        "title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
                        "organisation": "厦门市湖里区吕岭社区志愿服务队",
                        "scores": "86.5、88.0、85.0、92.0、79.0",
                        "dropped": "92.0、79.0",
                        "aggregate": Decimal("86.50"),
                        "flag": "",
                    },
                    {
                        "rank": 2,
                        "ref": "JT2025-011",
                        "title": "护苗成长——蔡塘社区四点半课堂",
                        "organisation": "蔡塘社区社工室",
                        "scores": "80.0、84.5、78.0、83.0、62.0",
                        "dropped": "84.5、62.0",
                        "aggregate": Decimal("80.33"),
                        "flag": "分歧较大",
                    },
                ],
            },
            {
                "name": "社会组织组",
                "rows": [
                    {
                        "rank": 1,
                        "ref": "JT2025-007",
                        "title": "小小科学家——园山社区科普周末课堂",
                        "organisation": "厦门市湖里区启航青少年服务中心",
                        "scores": "83.0、85.5、81.0、88.0、84.0",
                        "dropped": "88.0、81.0",
                        "aggregate": Decimal("84.17"),
                        "flag": "",
                    },
                ],
            },
        ],
        "agreement": (
            "24个申报各由4至5位专家评分（共7位专家，每人评其中一部分），专家评分一致性系数（组内相关系数）为0.4123"
            "（最大为1，越接近1，不同专家给同一项目的分数越接近；0.75以上为良好，0.90以上为优秀），"
            "专家之间评分一致性较差。"
        ),
        "experts": ["陈慧敏", "黄志强", "林雅琴", "王建华", "郑丽娟"],
        "prepared_by": "林晓燕",
        "issue_date": date(2025, 3, 21),
    },
)

_PUBLICITY_PROJECTS = [
    {
        "seq": 1,
        "ref": "JT2025-003",
        "title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
        "organisation": "厦门市湖里区吕岭社区志愿服务队",
        "category": "一老",
        "amount_fen": 800_000,
    },
    {
        "seq": 2,
        "ref": "JT2025-007",
        "title": "小小科学家——园山社区科普周末课堂",
        "organisation": "厦门市湖里区启航青少年服务中心",
        "category": "一小",
        "amount_fen": 750_000,
    },
    {
        "seq": 3,
        "ref": "JT2025-011",
        "title": "护苗成长——蔡塘社区四点半课堂",
        "organisation": "蔡塘社区社工室",
        "category": "一小",
        "amount_fen": 600_000,
    },
]

FUNDING_PUBLICITY = TemplateRole(
    name="funding_publicity",
    title="拟资助项目公示",
    purpose="公示拟资助项目、金额和评审专家名单，写明公示期和异议受理方式",
    template="docs/funding_publicity.docx",
    keys={
        "competition_name": COMPETITION,
        "organiser": ORGANISER,
        "projects": _PUBLICITY_PROJECTS,
        "project_count": 3,
        "total_fen": 2_150_000,
        "publicity_start": date(2025, 3, 24),
        "publicity_end": datetime(2025, 3, 28, 9, 30, tzinfo=UTC),  # 17:30 Beijing time
        "judges": ["陈慧敏", "黄志强", "林雅琴", "王建华", "郑丽娟", "吴少华", "蔡美玲"],
        "objection_contact": CONTACT,
        "objection_address": ADDRESS,
        "issue_date": date(2025, 3, 24),
    },
)

AWARD_NOTICE = TemplateRole(
    name="award_notice",
    title="立项通知书",
    purpose="通知入选单位项目已立项：资助金额、拨付安排和签订协议的期限",
    template="docs/award_notice.docx",
    keys={
        "doc_number": "江头街〔2025〕12号",
        "organisation_name": "厦门市湖里区吕岭社区志愿服务队",
        "competition_name": COMPETITION,
        "project_title": "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目",
        "application_ref": "JT2025-003",
        "score": Decimal("86.50"),
        "amount_fen": 800_000,
        "tranches": _TRANCHES,
        "agreements_by": date(2025, 4, 15),
        "contact": CONTACT,
        "organiser": ORGANISER,
        "issue_date": date(2025, 3, 31),
    },
)

REJECTION_NOTICE = TemplateRole(
    name="rejection_notice",
    title="未入选通知",
    purpose="告知未入选的申报单位结果、得分和原因，并致谢",
    template="docs/rejection_notice.docx",
    keys={
        "organisation_name": "厦门市湖里区邻里守望公益服务中心",
        "competition_name": COMPETITION,
        "project_title": "邻里守望——金尚社区楼道文化营造",
        "application_ref": "JT2025-014",
        "score": Decimal("68.40"),
        "reason": "本组资金按得分排序分配完毕，项目排名第5，未进入资助范围。",
        "comments": [
            "需求调研不够具体，活动与目标对应性较弱，建议细化服务对象和成效指标。",
            "预算中宣传费占比偏高，建议压缩并补充测算依据。",
        ],
        "contact": CONTACT,
        "organiser": ORGANISER,
        "issue_date": date(2025, 3, 31),
    },
)

SELECTION_ROLES = (
    CALL_NOTICE,
    RECEIPT,
    ELIGIBILITY_SHEET,
    EXPERT_SCORE_SHEET,
    SCORE_SUMMARY,
    FUNDING_PUBLICITY,
    AWARD_NOTICE,
    REJECTION_NOTICE,
)
