"""Templates from the call to the funding decision (keys: ``models/document_roles_selection.py``)."""

from __future__ import annotations

from columns import AMOUNT, CODE, SERIAL, TEXT, label, number, text
from gbt9704 import OfficialDocument

SIGNED_BY_ORGANISER = ("{{ organiser }}", "{{ issue_date|cn_date }}")

SIGNED_BY_OPERATOR = ("{{ operator }}", "{{ issue_date|cn_date }}")


def call_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("{{ competition_name|title_lines(after='项目征集公告') }}")
    d.body(
        "为培育社区社会组织和志愿服务力量，回应辖区居民需求，{{ organiser }}决定举办{{ competition_name }}，"
        "由{{ operator }}具体承办。现将有关事项公告如下："
    )
    d.heading("一、资助资金")
    d.body(
        "本届大赛资助资金总额{{ pool_fen|yuan }}元，单个项目资助{{ per_project_min_fen|yuan }}元至"
        "{{ per_project_cap_fen|yuan }}元。申报主体分组评审、分组资助："
    )
    d.tag("{%p for pool in pools %}")
    d.body("{{ loop.index }}. {{ pool.name }}：{{ pool.amount_fen|yuan }}元；")
    d.tag("{%p endfor %}")
    d.heading("二、资助方向")
    d.body("项目服务对象须在{{ communities|join('、') }}{{ communities|length }}个社区内，围绕以下领域设计：")
    d.tag("{%p for category in categories %}")
    d.body("{{ loop.index }}. {{ category.name }}：{{ category.description }}。")
    d.tag("{%p endfor %}")
    d.heading("三、申报条件")
    d.tag("{%p for rule in eligibility %}")
    d.body("{{ loop.index }}. {{ rule }}")
    d.tag("{%p endfor %}")
    d.heading("四、项目执行期")
    d.body("项目执行期为{{ service_period_start|cn_date }}至{{ service_period_end|cn_date }}。")
    d.heading("五、评审标准")
    d.body("评审满分{{ rubric_total }}分，由评审专家按下列标准独立评分：")
    d.table(
        [SERIAL, label(5), TEXT, number(3)],
        ["序号", "评分项目", "评分要点", "分值"],
        loop="criterion in criteria",
        loop_row=[
            "{{ loop.index }}",
            "{{ criterion.name }}",
            "{{ criterion.description }}",
            "{{ criterion.max_points }}",
        ],
        aligns=[1, 1, 0, 1],
    )
    d.heading("六、时间安排")
    d.table(
        [text(), text()],
        ["环节", "时间"],
        loop="step in schedule",
        loop_row=["{{ step.step }}", "{{ step.when }}"],
    )
    d.heading("七、资金拨付")
    d.body("资助资金按资助协议分期拨付：")
    d.tag("{%p for tranche in tranches %}")
    d.body("{{ tranche.label }}：资助金额的{{ tranche.percent }}%，{{ tranche.gate }}拨付；")
    d.tag("{%p endfor %}")
    d.heading("八、申报方式")
    d.body(
        "请于{{ applications_close|cn_datetime }}前，将加盖公章的申报书电子版发送至{{ submit_email }}；"
        "纸质材料一式三份送至{{ address }}。逾期不予受理。"
    )
    d.heading("九、联系方式")
    d.short("联系人及电话：{{ contact|nobreak }}。")
    with d.closing():
        d.blank()
        d.attachment("{{ competition_name }}项目申报书")
        d.signature(*SIGNED_BY_ORGANISER)


def receipt(d: OfficialDocument) -> None:
    d.title("受理回执")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位申报{{ competition_name }}的项目材料已于{{ submitted_at|cn_datetime }}通过{{ channel }}收到，"
        "经初步核对，予以受理。受理信息如下："
    )
    d.pairs(
        [
            ("受理编号", "{{ application_ref }}"),
            ("项目名称", "{{ project_title }}"),
            ("申报单位", "{{ organisation_name }}"),
            ("联系人", "{{ contact_name }}"),
            ("项目类别", "{{ category }}"),
            ("服务社区", "{{ communities|join('、') }}"),
            ("申请金额（元）", "{{ amount_fen|yuan }}"),
        ]
    )
    d.body("资格审查结果将于{{ screening_by|cn_date }}前通知。查询或补正材料时，请注明受理编号。")
    d.short("联系人及电话：{{ contact|nobreak }}。")
    d.signature(*SIGNED_BY_OPERATOR)


def eligibility_sheet(d: OfficialDocument) -> None:
    d.title("资格审查表")
    d.paragraph("{{ competition_name }}", indent=False, align=1)
    d.blank()
    d.pairs(
        [
            ("受理编号", "{{ application_ref }}"),
            ("项目名称", "{{ project_title }}"),
            ("申报单位", "{{ organisation_name }}"),
            ("单位性质", "{{ org_kind }}"),
            ("登记或备案证号", "{{ registration_number }}"),
            ("申请金额（元）", "{{ amount_fen|yuan }}"),
            ("服务社区", "{{ communities|join('、') }}"),
        ]
    )
    d.table(
        # the rules' names are up to 8 characters (一个单位一个项目); a note may hold an 18-character
        # credit code in brackets, which needs the wider free column (49 mm) to stay on one line
        [SERIAL, label(8), text(1.0), label(4), text(1.2)],
        ["序号", "审查事项", "审查要求", "审查结果", "备注"],
        loop="check in checks",
        loop_row=[
            "{{ loop.index }}",
            "{{ check.rule }}",
            "{{ check.requirement }}",
            "{{ check.result }}",
            "{{ check.note }}",
        ],
        aligns=[1, 1, 0, 1, 0],
        size=10.5,
    )
    d.pairs(
        [
            ("审查结论", "{{ '☑' if passed else '☐' }}通过　　{{ '☐' if passed else '☑' }}不通过"),
            ("审查意见", "{{ conclusion }}"),
            ("审查人（签字）", "{{ reviewer }}"),
            ("审查日期", "{{ review_date|cn_date }}"),
        ]
    )


def expert_score_sheet(d: OfficialDocument) -> None:
    d.title("专家评分表")
    d.paragraph("{{ competition_name }}", indent=False, align=1)
    d.blank()
    d.line("评审专家：{{ expert_name }}　　工作单位：{{ expert_organisation }}")
    d.heading("一、评分标准（满分{{ rubric_total }}分）")
    d.table(
        [32, 102, 22],
        ["评分项目", "评分要点", "分值"],
        loop="criterion in criteria",
        loop_row=["{{ criterion.name }}", "{{ criterion.description }}", "{{ criterion.max_points }}"],
        aligns=[1, 0, 1],
    )
    d.heading("二、项目评分")
    d.tag("{%p for application in applications %}")
    d.heading("（{{ loop.index|cn_number }}）{{ application.ref }}　{{ application.title }}", level=2)
    # two criteria a row: an application's block is half as tall, three or four to a page
    table = d.table(
        [TEXT, number(4), number(6), TEXT, number(4), number(6)],
        ["评分项目", "分值", "得分", "评分项目", "分值", "得分"],
        title="申报单位：{{ application.organisation }}",
        loop="pair in application.scores|batch(2, None)",
        loop_row=[
            "{{ pair[0].criterion }}",
            "{{ pair[0].max_points }}",
            "{{ pair[0].points }}",
            "{{ pair[1].criterion if pair[1] else '' }}",
            "{{ pair[1].max_points if pair[1] else '' }}",
            "{{ pair[1].points if pair[1] else '' }}",
        ],
        size=10.5,
    )
    total = d.row(table, ["合计", "{{ rubric_total }}", "{{ application.total }}", "", "", ""], size=10.5)
    d.merge(total[3:])
    comment = d.merge(d.row(table, ["", "", "", "", "", ""], size=10.5))
    d.cell_text(comment, "评审意见：{{ application.comment }}", size=10.5)
    d.unsplit(table)  # an application's scores on one page, under their heading
    d.tag("{%p endfor %}")
    d.body("本人承诺：与上述项目及申报单位无利益关系，独立、公正评审，对评审内容保密。")
    d.signature("评审专家（签字）：　　　　　　", "{{ signed_date|cn_date }}")


def score_summary(d: OfficialDocument) -> None:
    d.title("评分汇总表（排名表）")
    d.paragraph("{{ competition_name }}", indent=False, align=1)
    d.body("计分方法：{{ aggregation }}。“去掉的分数”一栏列出按规则去掉的分数。")
    d.tag("{%p for pool in pools %}")
    d.heading("{{ pool.name }}")
    d.table(
        [SERIAL, CODE, text(1.3), text(1.1), text(1.6), label(5.5), number(6), label(4)],
        ["排名", "受理编号", "项目名称", "申报单位", "专家评分", "去掉的分数", "最终得分", "备注"],
        loop="row in pool.rows",
        size=10.5,
        aligns=[1, 1, 0, 0, 1, 1, 1, 1],
        loop_row=[
            "{{ row.rank }}",
            "{{ row.ref }}",
            "{{ row.title }}",
            "{{ row.organisation }}",
            "{{ row.scores }}",
            "{{ row.dropped }}",
            "{{ row.aggregate }}",
            "{{ row.flag }}",
        ],
    )
    d.tag("{%p endfor %}")
    d.body("评分一致性：{{ agreement }}")
    with d.closing(with_body=False):  # printed names, and room beside each to sign by hand
        d.line("评审专家签字：")
        d.table(
            [40, 70, 45],
            ["评审专家", "签字", "日期"],
            loop="name in experts",
            loop_row=["{{ name }}", "", ""],
            row_height_mm=11,
        )
        d.line("制表人：{{ prepared_by }}　　　　制表日期：{{ issue_date|cn_date }}")


def funding_publicity(d: OfficialDocument) -> None:
    d.title("{{ competition_name|title_lines(before='关于', after='拟资助项目的公示') }}")
    d.body(
        "经资格审查、专家评审，{{ competition_name }}拟资助项目{{ project_count }}个，资助金额合计"
        "{{ total_fen|yuan }}元，现予以公示："
    )
    d.table(
        [SERIAL, CODE, text(1.2), TEXT, label(4), AMOUNT],
        ["序号", "受理编号", "项目名称", "申报单位", "领域", "资助金额（元）"],
        loop="project in projects",
        aligns=[1, 1, 0, 0, 1, 2],
        size=10.5,
        loop_row=[
            "{{ project.seq }}",
            "{{ project.ref }}",
            "{{ project.title }}",
            "{{ project.organisation }}",
            "{{ project.category }}",
            "{{ project.amount_fen|yuan }}",
        ],
        rows=[["", "", "合计", "", "", "{{ total_fen|yuan }}"]],
    )
    d.short("公示期：{{ publicity_start|cn_date }}至{{ publicity_end|cn_datetime }}（北京时间）。")
    d.body("本届评审专家：{{ judges|join('、') }}。")
    d.body(
        "公示期间，对公示项目有异议的，可以书面形式实名向{{ organiser }}反映，并提供必要的证明材料。"
        "匿名、逾期或无具体事实的异议不予受理。"
    )
    d.short("异议受理地址：{{ objection_address }}。")
    d.short("联系人及电话：{{ objection_contact|nobreak }}。")
    d.signature(*SIGNED_BY_ORGANISER)


def award_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("立项通知书")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位申报的《{{ project_title }}》（受理编号{{ application_ref }}）经资格审查、专家评审"
        "（得分{{ score }}分）和公示，列入{{ competition_name }}资助项目，资助金额{{ amount_fen|yuan }}元"
        "（{{ amount_fen|yuan_capitals }}）。资助资金分期拨付："
    )
    d.table(
        [label(4), number(4), AMOUNT, TEXT],
        ["期次", "比例", "金额（元）", "拨付条件"],
        loop="tranche in tranches",
        loop_row=[
            "{{ tranche.label }}",
            "{{ tranche.percent }}%",
            "{{ tranche.amount_fen|yuan }}",
            "{{ tranche.gate }}",
        ],
        aligns=[1, 1, 2, 0],
    )
    d.body(
        "请于{{ agreements_by|cn_date }}前与我们联系签订《资助协议书》，逾期未签订的视为放弃资助。"
        "联系人及电话：{{ contact|nobreak }}。"
    )
    d.body("项目实施期间，请按申报书和资助协议开展服务，专款专用，按时提交中期和结项材料，接受督导和评估。")
    d.signature(*SIGNED_BY_ORGANISER)


def rejection_notice(d: OfficialDocument) -> None:
    d.title("未入选通知")
    d.line("{{ organisation_name }}：")
    d.body(
        "感谢你单位参与{{ competition_name }}。你单位申报的《{{ project_title }}》（受理编号"
        "{{ application_ref }}）经专家评审，最终得分{{ score }}分，未能入选本届资助项目。"
    )
    d.body("{{ reason }}")
    d.tag("{%p if comments %}")
    d.body("专家意见（匿名）：")
    d.numbered("comments")
    d.tag("{%p endif %}")
    d.body(
        "希望你单位继续关注社区需求，完善项目设计，积极参加今后的公益创投。如对评审结果有疑问，请在收到"
        "本通知之日起5个工作日内与我们联系。联系人及电话：{{ contact|nobreak }}。"
    )
    d.signature(*SIGNED_BY_ORGANISER)


BUILDERS = {
    "call_notice": call_notice,
    "receipt": receipt,
    "eligibility_sheet": eligibility_sheet,
    "expert_score_sheet": expert_score_sheet,
    "score_summary": score_summary,
    "funding_publicity": funding_publicity,
    "award_notice": award_notice,
    "rejection_notice": rejection_notice,
}
LANDSCAPE = {"score_summary"}
