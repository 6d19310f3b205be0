"""Document roles from the agreement to the year's report: what each template needs, with samples.

Same conventions as ``models.documents.roles_selection``: money in integer fen, dates as ``date``,
scores as ``Decimal``, table rows as lists of dicts, charts as ``models.documents.engine.docx.InlineImage``.

Long by design: it is data — the declared keys and sample values of the nine documents of funding,
supervision and evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from models.documents.application_form import COMMUNITIES
from models.documents.engine.templating import TemplateRole
from models.documents.roles_selection import COMPETITION, CONTACT, OPERATOR, ORGANISER

PROJECT = "银龄助餐·邻里相伴——吕岭社区长者食堂志愿服务项目"
ORGANISATION = "厦门市湖里区吕岭社区志愿服务队"
REF = "JT2025-003"


class LazySamples(Mapping[str, Any]):
    """Sample values of a role, some made on first use (a chart takes a moment to draw)."""

    def __init__(self, values: Mapping[str, Any], **makers: Callable[[], Any]) -> None:
        self._values = dict(values)
        self._makers = makers
        self._order = [*self._values, *makers]

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            if key not in self._makers:
                raise KeyError(key)
            self._values[key] = self._makers[key]()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


_INDICATORS = [
    {"name": "活动场次", "planned": "32场", "actual": "18场", "rate": "56%"},
    {"name": "服务人次", "planned": "1,385人次", "actual": "812人次", "rate": "59%"},
    {"name": "志愿者服务时长", "planned": "1,500小时", "actual": "760小时", "rate": "51%"},
    {"name": "台账（签到表、照片）", "planned": "齐全", "actual": "齐全", "rate": "—"},
]

GRANT_AGREEMENT = TemplateRole(
    name="grant_agreement",
    title="资助协议书",
    purpose="主办方与获资助单位签订的资助协议：金额（含大写）、分期拨付条件、双方权利义务",
    template="docs/grant_agreement.docx",
    keys={
        "agreement_number": "JT2025-XY-003",
        "competition_name": COMPETITION,
        "organiser": ORGANISER,
        "organiser_address": "厦门市湖里区江头北路100号",
        "operator": OPERATOR,
        "organisation_name": ORGANISATION,
        "legal_representative": "陈秀兰",
        "registration_number": "湖里志备〔2021〕017号",
        "org_address": "厦门市湖里区吕岭路1023号吕岭社区党群服务中心二楼",
        "contact_name": "王丽华",
        "contact_phone": "13950012345",
        "bank_name": "中国工商银行厦门湖里支行",
        "bank_account": "4100 0212 0900 1234 567",
        "project_title": PROJECT,
        "application_ref": REF,
        "period_start": date(2025, 4, 15),
        "period_end": date(2025, 10, 15),
        "amount_fen": 800_000,
        "tranches": [
            {"label": "首期拨付", "percent": 50, "amount_fen": 400_000, "gate": "本协议签订后10个工作日内"},
            {"label": "中期拨付", "percent": 30, "amount_fen": 240_000, "gate": "中期评估合格后"},
            {"label": "尾款", "percent": 20, "amount_fen": 160_000, "gate": "结项评估合格后"},
        ],
        "budget_lines": [
            {"item": "志愿者培训费", "purpose": "讲师费及培训资料", "amount_fen": 160_000},
            {"item": "送餐物资", "purpose": "保温箱、餐盒、防滑手套", "amount_fen": 200_000},
            {"item": "活动物资", "purpose": "邻里共餐日食材与布置", "amount_fen": 300_000},
            {"item": "宣传与台账", "purpose": "海报、照片冲印、台账印制", "amount_fen": 140_000},
        ],
        "plan_commitment": "活动不少于32场，服务不少于1,385人次",
        "sign_date": date(2025, 4, 10),
        "payment_days": 10,
    },
)

PAYMENT_NOTICE = TemplateRole(
    name="payment_notice",
    title="拨款通知",
    purpose="通知财务按资助协议拨付一期资金：金额（含大写）、拨付依据和收款账户",
    template="docs/payment_notice.docx",
    keys={
        "doc_number": "江头街财〔2025〕21号",
        "finance_office": "江头街道财政所",
        "competition_name": COMPETITION,
        "organisation_name": ORGANISATION,
        "project_title": PROJECT,
        "agreement_number": "JT2025-XY-003",
        "tranche_label": "中期拨付",
        "tranche_percent": 30,
        "planned_fen": 240_000,
        "reduced_fen": 0,
        "amount_fen": 240_000,
        "gate_result": "项目已于2025年6月20日通过中期评估（得分82分，合格）",
        "grant_fen": 800_000,
        "paid_before_fen": 400_000,
        "bank_name": "中国工商银行厦门湖里支行",
        "bank_account": "4100 0212 0900 1234 567",
        "organiser": ORGANISER,
        "issue_date": date(2025, 6, 25),
    },
)


def _sample_evidence() -> list[dict[str, Any]]:
    """The evidence list of a 督导记录表: photos and scans embedded small, other files by name."""
    import io

    from PIL import Image, ImageDraw

    from models.documents.engine.docx import InlineImage

    image = Image.new("RGB", (480, 320), (214, 160, 92))
    ImageDraw.Draw(image).rectangle((40, 60, 440, 280), outline=(60, 60, 60), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return [
        {
            "kind": "活动照片",
            "name": "长者食堂送餐现场.jpg",
            "image": InlineImage(out.getvalue(), 60, "活动照片"),
        },
        {"kind": "票据", "name": "5月食材采购发票.pdf", "image": None},
    ]


SUPERVISION_RECORD = TemplateRole(
    name="supervision_record",
    title="督导记录表",
    purpose="督导一次走访或远程跟进的记录：指标完成情况、台账查验、服务对象反馈、问题与建议",
    template="docs/supervision_record.docx",
    keys=LazySamples(
        {
            "competition_name": COMPETITION,
            "project_title": PROJECT,
            "application_ref": REF,
            "organisation_name": ORGANISATION,
            "supervisor_name": "许文婷",
            "visit_date": date(2025, 6, 18),
            "visit_method": "实地走访",
            "location": "吕岭社区长者食堂",
            "checkpoint_name": "中期评估",
            "participants": "项目负责人王丽华、志愿者代表2名、服务对象3名",
            "indicators": [
                {
                    "name": "活动场次",
                    "planned": "32场",
                    "actual": "18场",
                    "evidence": "活动记录18份",
                    "note": "",
                },
                {
                    "name": "服务人次",
                    "planned": "1,385人次",
                    "actual": "812人次",
                    "evidence": "签到表",
                    "note": "",
                },
                {
                    "name": "经费使用",
                    "planned": "8,000.00元",
                    "actual": "3,650.00元",
                    "evidence": "票据12张",
                    "note": "专款专用",
                },
            ],
            "beneficiary_feedback": "受访老人均表示送餐准时、饭菜可口，希望增加周末陪伴。",
            "findings": "活动按计划推进，台账齐全；志愿者排班集中在工作日，周末服务不足。",
            "suggestions": "增加周末志愿者班次；满意度问卷在结项前完成后测。",
            "score": Decimal("82"),
            "passed": True,
        },
        evidence=lambda: _sample_evidence(),
    ),
)

MIDTERM_OPINION = TemplateRole(
    name="midterm_opinion",
    title="中期评估意见",
    purpose="中期评估结论：得分、是否合格、指标完成率、经费使用和对下一期拨付的意见",
    template="docs/midterm_opinion.docx",
    keys={
        "competition_name": COMPETITION,
        "organisation_name": ORGANISATION,
        "project_title": PROJECT,
        "application_ref": REF,
        "checkpoint_name": "中期评估",
        "evaluation_date": date(2025, 6, 20),
        "supervisor_names": ["许文婷", "杨国栋"],
        "score": Decimal("82"),
        "pass_score": 60,
        "passed": True,
        "indicators": _INDICATORS,
        "granted_fen": 800_000,
        "spent_fen": 365_000,
        "opinion": "项目执行进度符合计划，服务对象反馈良好，台账规范。\n"
        "建议增加周末服务班次，加强志愿者激励。",
        "next_tranche": "同意拨付中期款2,400.00元。",
        "operator": OPERATOR,
        "issue_date": date(2025, 6, 20),
    },
)

RECTIFICATION_NOTICE = TemplateRole(
    name="rectification_notice",
    title="整改通知",
    purpose="评估不合格时通知限期整改：存在问题、整改要求、期限、暂缓拨付的款项",
    template="docs/rectification_notice.docx",
    keys={
        "doc_number": "江头社工〔2025〕8号",
        "organisation_name": "蔡塘社区社工室",
        "competition_name": COMPETITION,
        "project_title": "护苗成长——蔡塘社区四点半课堂",
        "application_ref": "JT2025-011",
        "checkpoint_name": "中期评估",
        "score": Decimal("55"),
        "pass_score": 60,
        "problems": [
            "活动场次完成率仅31%，明显落后于计划；",
            "5月份两次活动缺少签到表和照片；",
            "经费支出中有1笔未附明细的餐费。",
        ],
        "requirements": [
            "制定补开活动计划，7月15日前补开不少于6场课堂；",
            "补齐台账，无法补齐的如实说明；",
            "对未附明细的支出作出说明并补充凭证。",
        ],
        "deadline": date(2025, 7, 15),
        "withheld_label": "中期拨付",
        "withheld_fen": 180_000,
        "contact": CONTACT,
        "operator": OPERATOR,
        "issue_date": date(2025, 6, 30),
    },
)

FINAL_EVALUATION_REPORT = TemplateRole(
    name="final_evaluation_report",
    title="结项评估报告",
    purpose="一个项目的结项评估：得分与等级、指标完成情况、经费使用、成效与不足、评估结论",
    template="docs/final_evaluation_report.docx",
    keys={
        "competition_name": COMPETITION,
        "project_title": PROJECT,
        "application_ref": REF,
        "organisation_name": ORGANISATION,
        "category": "一老",
        "communities": ["吕岭", "江头"],
        "period_start": date(2025, 4, 15),
        "period_end": date(2025, 10, 15),
        "evaluators": ["许文婷", "杨国栋", "吴少华"],
        "evaluation_date": date(2025, 10, 20),
        "final_score": Decimal("91.5"),
        "grade": "优秀",
        "passed": True,
        "indicators": [
            {"name": "活动场次", "planned": "32场", "actual": "34场", "rate": "106%"},
            {"name": "服务人次", "planned": "1,385人次", "actual": "1,512人次", "rate": "109%"},
            {"name": "志愿者服务时长", "planned": "1,500小时", "actual": "1,630小时", "rate": "109%"},
            {"name": "服务对象满意度", "planned": "90%", "actual": "96%", "rate": "—"},
        ],
        "round": 1,
        "granted_fen": 800_000,
        "paid_fen": 792_000,
        "spent_fen": 792_000,
        "settlement": "按据实结算（尾款为核定支出超出已拨付资金的部分，以计划尾款为限；"
        "已拨付资金超出核定支出的部分退回），尾款计划1,600.00元，核减80.00元，拨付1,520.00元，累计拨付7,920.00元，与核定支出一致，"
        "无结余资金。",
        "spending": [
            {"item": "志愿者培训费", "budget_fen": 160_000, "spent_fen": 158_000},
            {"item": "送餐物资", "budget_fen": 200_000, "spent_fen": 204_000},
            {"item": "活动物资", "budget_fen": 300_000, "spent_fen": 292_000},
            {"item": "宣传与台账", "budget_fen": 140_000, "spent_fen": 138_000},
        ],
        "achievements": "为126名老人提供送餐上门和就餐陪伴服务，培育助餐志愿者43名；"
        "“邻里共餐日”成为社区品牌活动。",
        "shortcomings": "周末服务仍依赖少数志愿者，服务记录电子化程度不高。",
        "conclusion": "项目目标全部达成，经费使用规范，评估等级为优秀，同意结项。",
        "issue_date": date(2025, 10, 24),
        "operator": OPERATOR,
    },
)


TERMINATION_NOTICE = TemplateRole(
    name="termination_notice",
    title="终止通知",
    purpose="整改后仍不合格（或结项不合格）时终止资助协议：终止理由、依据的整改通知文号、已拨付与核定支出、"
    "应退回金额及期限、不再拨付的款项",
    template="docs/termination_notice.docx",
    keys={
        "doc_number": "江头社工〔2025〕14号",
        "organisation_name": "蔡塘社区社工室",
        "competition_name": COMPETITION,
        "project_title": "护苗成长——蔡塘社区四点半课堂",
        "application_ref": "JT2025-011",
        "agreement_number": "JT2025-XY-011",
        "grounds": "中期评估不合格，依整改通知（江头社工〔2025〕8号）限期整改，整改后经复查仍不合格",
        "reason": "中期评估不合格，整改复查仍不合格",
        "terminated_on": date(2025, 7, 4),
        "grant_fen": 600_000,
        "released_fen": 300_000,
        "accepted_spend_fen": 240_000,
        "clawback_fen": 60_000,
        "cancelled_fen": 300_000,
        "return_days": 15,
        "return_to": "江头街道财政所",
        "contact": CONTACT,
        "organiser": ORGANISER,
        "issue_date": date(2025, 7, 4),
    },
)

REFUND_NOTICE = TemplateRole(
    name="refund_notice",
    title="结余资金退回通知",
    purpose="结项结算后已拨付资金超出核定支出时，通知项目方退回结余：结算依据、金额（含大写）、期限和去向",
    template="docs/refund_notice.docx",
    keys={
        "doc_number": "江头社工〔2025〕27号",
        "organisation_name": "厦门市湖里区园山社区志愿服务队",
        "competition_name": COMPETITION,
        "project_title": "邻里守望——园山社区独居老人探访",
        "application_ref": "JT2025-004",
        "agreement_number": "JT2025-XY-004",
        "evaluation": "结项评估得分86.50分，等级“良好”，评估合格，予以结项",
        "settlement": "按据实结算（尾款为核定支出超出已拨付资金的部分，以计划尾款为限；"
        "已拨付资金超出核定支出的部分退回），核定支出4,500.00元未超过此前已拨付的4,800.00元，尾款1,200.00元全部核减，不再拨付；"
        "已拨付资金结余300.00元应予退回。",
        "granted_fen": 600_000,
        "paid_fen": 480_000,
        "spent_fen": 450_000,
        "to_return_fen": 30_000,
        "return_days": 15,
        "return_to": "江头街道财政所",
        "contact": CONTACT,
        "organiser": ORGANISER,
        "issue_date": date(2025, 10, 20),
    },
)


def _row(name: str, funded: int, granted: int, sessions: int, people: int, planned: int) -> dict[str, Any]:
    return {
        "code": name,
        "name": name,
        "received": funded * 2 + 1,
        "eligible": funded * 2,
        "funded": funded,
        "requested_fen": granted * 2,
        "granted_fen": granted,
        "paid_fen": granted,
        "spent_fen": granted - 10_000 * funded,
        "to_return_fen": 10_000 * funded,
        "withheld_fen": 0,
        "planned_sessions": sessions,
        "sessions": sessions,
        "planned_person_times": planned,
        "person_times": people,
    }


_BY_COMMUNITY: list[dict[str, Any]] = [  # adds up to the categories and pools below
    _row(name, projects, granted, sessions, people, planned)
    for name, projects, granted, sessions, people, planned in zip(
        COMMUNITIES,
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        [800_000, 700_000, 700_000, 700_000, 650_000, 650_000, 600_000, 600_000, 600_000, 0, 0],
        [18, 9, 34, 22, 18, 10, 26, 9, 16, 0, 0],
        [420, 160, 1512, 610, 330, 230, 680, 175, 360, 0, 0],
        [400, 140, 1492, 590, 310, 210, 660, 155, 378, 0, 0],
        strict=True,
    )
]
_BY_CATEGORY: list[dict[str, Any]] = [
    _row("一老", 4, 2_750_000, 70, 2480, 2300),
    _row("一小", 3, 2_150_000, 51, 1290, 1385),
    _row("公益服务", 2, 1_100_000, 41, 707, 650),
]
_BY_POOL: list[dict[str, Any]] = [
    _row("社会组织组", 5, 3_600_000, 90, 2500, 2400),
    _row("志愿服务团队组", 4, 2_400_000, 72, 1977, 1935),
]


def _chart(kind: str) -> Callable[[], Any]:
    def make() -> Any:
        from models.documents.engine.charts import bar_chart, grouped_bar_chart, pie_chart
        from models.documents.engine.docx import InlineImage

        names = [row["name"] for row in _BY_COMMUNITY]
        if kind == "communities":
            png = bar_chart(
                names,
                [row["granted_fen"] // 100 for row in _BY_COMMUNITY],
                title="各社区立项资助金额",
                unit="元",
            )
            return InlineImage(png, width_mm=150, description="各社区立项资助金额柱状图")
        categories = [row["name"] for row in _BY_CATEGORY]
        if kind == "categories":
            png = pie_chart(
                categories, [row["granted_fen"] for row in _BY_CATEGORY], title="资助金额按服务领域构成"
            )
            return InlineImage(png, width_mm=110, description="资助金额按服务领域构成饼图")
        if kind == "delivery":
            png = grouped_bar_chart(
                categories,
                [
                    ("计划服务人次", [row["planned_person_times"] for row in _BY_CATEGORY]),
                    ("实际服务人次", [row["person_times"] for row in _BY_CATEGORY]),
                ],
                title="各服务领域计划与实际服务人次",
                unit="人次",
            )
            return InlineImage(png, width_mm=150, description="计划与实际服务人次对比柱状图")
        png = bar_chart(
            ["优秀", "良好", "合格", "不合格"], [3, 4, 2, 0], title="结项评估等级分布", unit="项目数"
        )
        return InlineImage(png, width_mm=120, description="结项评估等级分布柱状图")

    return make


ANNUAL_REPORT = TemplateRole(
    name="annual_report",
    title="年度总结报告",
    purpose="本届创投大赛的年度总结：申报、资助、拨付、服务成效、社区与领域覆盖、评估等级、评审一致性、"
    "各阶段时间（附图表）",
    template="docs/annual_report.docx",
    keys=LazySamples(
        {
            "competition_name": COMPETITION,
            "year": 2025,
            "organiser": ORGANISER,
            "operator": OPERATOR,
            "applications_count": 23,
            "eligible_count": 19,
            "funded_count": 9,
            "completed_count": 8,
            "terminated_count": 1,
            "rectified_count": 2,
            "pool_fen": 6_000_000,
            "requested_fen": 12_500_000,
            "money_lines": [
                "立项资助60,000.00元，其中：已拨付57,900.00元，据实结算核减900.00元，项目终止不再拨付1,200.00元。",
                "已拨付57,900.00元，其中：用于项目（核定支出）57,000.00元，应退回900.00元。",
                "项目核定支出57,000.00元，均由资助资金支付。",
            ],
            "to_return_fen": 90_000,
            "returns": [
                {
                    "ref": "JT2025-011",
                    "title": "护苗成长——蔡塘社区四点半课堂",
                    "why": "终止追回",
                    "paid_fen": 300_000,
                    "spent_fen": 240_000,
                    "to_return_fen": 60_000,
                    "doc_number": "江头社工〔2025〕14号",
                },
                {
                    "ref": "JT2025-004",
                    "title": "邻里守望——园山社区独居老人探访",
                    "why": "结余退回",
                    "paid_fen": 480_000,
                    "spent_fen": 450_000,
                    "to_return_fen": 30_000,
                    "doc_number": "江头社工〔2025〕27号",
                },
            ],
            "sessions_total": 162,
            "planned_sessions": 150,
            "participants_total": 4477,
            "planned_participants": 4335,
            "communities_covered": 9,
            "communities_total": 11,
            "by_pool": _BY_POOL,
            "by_category": _BY_CATEGORY,
            "by_community": _BY_COMMUNITY,
            "grades": [
                {"grade": "优秀", "passed": True, "count": 3},
                {"grade": "良好", "passed": True, "count": 3},
                {"grade": "合格", "passed": True, "count": 2},
                {"grade": "不合格", "passed": False, "count": 0},
            ],
            "agreement": (
                "5位专家对全部19个申报逐一评分，专家评分一致性系数（组内相关系数）为0.7124（最大为1，越接近1，"
                "不同专家给同一项目的分数越接近；0.75以上为良好，0.90以上为优秀），专家之间评分一致性一般。"
            ),
            "timeline": [
                {"stage": "call_open", "label": "征集中", "date": date(2025, 1, 6)},
                {"stage": "screening", "label": "资格审查", "date": date(2025, 3, 3)},
                {"stage": "review", "label": "专家评审", "date": date(2025, 3, 5)},
                {"stage": "evaluation", "label": "结项评估", "date": date(2025, 10, 16)},
            ],
            "highlights": [
                "立项项目覆盖9个社区（共11个），涉及一老、一小、公益服务3个公益领域；",
                "开展活动162场（计划150场），服务4477人次（计划4335人次，完成103%）；",
            ],
            "problems": [
                "2个项目评估未达标，经限期整改；",
                "江华、忠仑社区本年度没有立项项目，需加强动员和培育；",
            ],
            "issue_date": date(2025, 11, 10),
        },
        chart_communities=_chart("communities"),
        chart_categories=_chart("categories"),
        chart_delivery=_chart("delivery"),
        chart_grades=_chart("grades"),
    ),
)

GRANT_ROLES = (
    GRANT_AGREEMENT,
    PAYMENT_NOTICE,
    SUPERVISION_RECORD,
    MIDTERM_OPINION,
    RECTIFICATION_NOTICE,
    TERMINATION_NOTICE,
    FINAL_EVALUATION_REPORT,
    REFUND_NOTICE,
    ANNUAL_REPORT,
)
