"""Templates from the agreement to the year's report (keys: ``models/document_roles_grants.py``)."""

from __future__ import annotations

from columns import AMOUNT, TEXT, label, number, text
from gbt9704 import HEITI, OfficialDocument

SIGNED_BY_OPERATOR = ("{{ operator }}", "{{ issue_date|cn_date }}")


def _indicators(d: OfficialDocument) -> None:
    d.table(
        [label(10), label(6), label(6), number(4)],
        ["指标", "计划", "实际完成", "完成率"],
        loop="indicator in indicators",
        loop_row=[
            "{{ indicator.name }}",
            "{{ indicator.planned }}",
            "{{ indicator.actual }}",
            "{{ indicator.rate }}",
        ],
    )


def grant_agreement(d: OfficialDocument) -> None:
    d.paragraph("协议编号：{{ agreement_number }}", indent=False, align=2)
    d.blank()
    d.title("{{ competition_name|title_lines(after='资助协议书') }}")
    for pair in (
        ("甲方（资助方）：", "{{ organiser }}"),
        ("地址：", "{{ organiser_address }}"),
        ("乙方（受资助方）：", "{{ organisation_name }}"),
        ("统一社会信用代码或登记证号：", "{{ registration_number }}"),
        ("法定代表人或负责人：", "{{ legal_representative }}"),
        ("地址：", "{{ org_address }}"),
        ("联系人：", "{{ contact_name }}　　联系电话：{{ contact_phone }}"),
    ):
        d.line((pair[0], {"font": HEITI}), pair[1])
    d.blank()
    d.body(
        "为规范{{ competition_name }}资助资金的使用和管理，保障项目顺利实施，甲乙双方经协商一致，订立本协议。"
        "项目的日常管理、督导和评估由{{ operator }}具体负责。"
    )
    d.heading("第一条　项目内容")
    d.body(
        "乙方实施《{{ project_title }}》（受理编号{{ application_ref }}），"
        "执行期为{{ period_start|cn_date }}至{{ period_end|cn_date }}。"
        "乙方按申报书开展服务，{{ plan_commitment }}。"
    )
    d.heading("第二条　资助金额")
    d.body("甲方资助乙方人民币{{ amount_fen|yuan }}元（大写：{{ amount_fen|yuan_capitals }}）。")
    d.heading("第三条　拨付方式")
    d.body(
        "资助资金分期拨付至乙方账户（户名：{{ organisation_name }}；开户银行：{{ bank_name }}；"
        "账号：{{ bank_account }}）："
    )
    d.table(
        [label(4), number(4), AMOUNT, text(1.1), TEXT],
        ["期次", "比例", "金额（元）", "金额（大写）", "拨付条件"],
        loop="tranche in tranches",
        aligns=[1, 1, 2, 0, 0],
        loop_row=[
            "{{ tranche.label }}",
            "{{ tranche.percent }}%",
            "{{ tranche.amount_fen|yuan }}",
            "{{ tranche.amount_fen|yuan_capitals }}",
            "{{ tranche.gate }}",
        ],
    )
    d.body(
        "各期金额按资助总额乘以该期比例计算，四舍五入到分；最后一期为资助总额减去此前各期之和，"
        "各期合计与资助总额一致。拨付条件满足后，甲方在{{ payment_days }}个工作日内拨付。"
    )
    d.heading("第四条　资金使用")
    d.body("资助资金专款专用，按下列预算使用；单个科目调整超过10%的，须事先书面报甲方同意：")
    d.table(
        [label(6), TEXT, AMOUNT],
        ["科目", "用途", "金额（元）"],
        loop="line in budget_lines",
        aligns=[1, 0, 2],
        loop_row=["{{ line.item }}", "{{ line.purpose }}", "{{ line.amount_fen|yuan }}"],
        rows=[["合计", "", "{{ amount_fen|yuan }}"]],
    )
    d.heading("第五条　甲方的权利和义务")
    d.body("1. 按本协议约定拨付资助资金；")
    d.body("2. 组织督导和评估，对项目实施和资金使用进行监督，对乙方提供专业支持。")
    d.heading("第六条　乙方的权利和义务")
    d.body("1. 按申报书和本协议实施项目，如实记录活动台账（签到表、照片、活动记录）；")
    d.body("2. 按时提交中期和结项材料，接受督导、评估和审计；")
    d.body("3. 不得将资助资金用于与项目无关的支出，不得转包项目。")
    d.heading("第七条　违约责任")
    d.body(
        "中期评估或结项评估不合格的，甲方暂缓拨付后续资金并通知乙方限期整改；逾期不整改、整改后仍不合格，"
        "或者弄虚作假、挪用资金的，甲方有权终止本协议并追回已拨付资金。"
    )
    d.heading("第八条　其他")
    d.body("本协议一式三份，甲乙双方各执一份，{{ operator }}存档一份，自双方签字盖章之日起生效。")
    with d.closing():
        d.blank()
        d.unbordered(
            [62, 94],
            [
                ["甲方（盖章）：", "乙方（盖章）："],
                ["代表人（签字）：", "法定代表人或负责人（签字）："],
                ["", ""],
            ],
        )
        d.line("签订日期：{{ sign_date|cn_date or '　　　　年　　月　　日' }}")


def payment_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("拨款通知")
    d.line("{{ finance_office }}：")
    d.body(
        "根据{{ competition_name }}资助协议（编号{{ agreement_number }}），{{ gate_result }}，符合"
        "{{ tranche_label }}的拨付条件。"
        "{% if reduced_fen %}按据实结算，{{ tranche_label }}计划{{ planned_fen|yuan }}元（资助金额的"
        "{{ tranche_percent }}%），核减{{ reduced_fen|yuan }}元，请向{{ organisation_name }}拨付"
        "{% else %}请按资助金额的{{ tranche_percent }}%向{{ organisation_name }}拨付{% endif %}"
        "《{{ project_title }}》资助资金："
    )
    d.pairs(
        [
            ("收款单位", "{{ organisation_name }}"),
            # one row for the account: the agreement's own words when no bank is recorded (the page
            # keeps the notice, 专此通知 and the signature on one page)
            (
                "收款账户",
                "{{ bank_name }}"
                "{% if bank_account != bank_name %}，账号{{ bank_account|nobreak }}{% endif %}",
            ),
            ("本次拨付（小写）", "{{ amount_fen|yuan }}元"),
            ("本次拨付（大写）", "{{ amount_fen|yuan_capitals }}"),
            ("资助总额", "{{ grant_fen|yuan }}元"),
            ("此前已拨付", "{{ paid_before_fen|yuan }}元"),
            ("本次拨付后累计", "{{ (paid_before_fen + amount_fen)|yuan }}元"),
        ]
    )
    with d.closing():  # 专此通知 (the closing phrase) goes with the signature, never alone with it
        d.body("专此通知。")
        d.signature("{{ organiser }}", "{{ issue_date|cn_date }}")
        d.line("经办人：　　　　　　审核人：　　　　　　分管领导：")


def supervision_record(d: OfficialDocument) -> None:
    d.title("督导记录表")
    d.paragraph("{{ competition_name }}", indent=False, align=1)
    d.blank()
    d.pairs(
        [
            ("项目名称", "{{ project_title }}"),
            ("受理编号", "{{ application_ref }}"),
            ("执行单位", "{{ organisation_name }}"),
            ("督导人员", "{{ supervisor_name }}"),
            ("督导日期", "{{ visit_date|cn_date }}"),
            ("督导方式", "{{ visit_method }}"),
            ("督导地点", "{{ location }}"),
            ("评估节点", "{{ checkpoint_name }}"),
            ("参与人员", "{{ participants }}"),
        ]
    )
    d.table(
        [label(4), label(6), label(6), text(1.3), TEXT],
        ["指标", "计划", "实际完成", "佐证材料", "备注"],
        loop="indicator in indicators",
        loop_row=[
            "{{ indicator.name }}",
            "{{ indicator.planned }}",
            "{{ indicator.actual }}",
            "{{ indicator.evidence }}",
            "{{ indicator.note }}",
        ],
    )
    d.pairs(
        [
            ("服务对象反馈", "{{ beneficiary_feedback }}"),
            ("发现的问题", "{{ findings }}"),
            ("督导建议", "{{ suggestions }}"),
            ("督导评分", "{{ score }}分"),
            ("结论", "{{ '☑' if passed else '☐' }}合格　　{{ '☐' if passed else '☑' }}不合格"),
        ]
    )
    d.heading("佐证材料")
    # the signature lines keep with the last item (or with 无), never with a page of their own; the
    # line naming a picture stays on the page of the picture under it
    d.tag("{%p if not evidence %}")
    d.body("（无）").paragraph_format.keep_with_next = True
    d.tag("{%p endif %}")
    d.tag("{%p for item in evidence %}")
    d.body("{{ loop.index }}. {{ item.kind }}：{{ item.name }}").paragraph_format.keep_with_next = True
    d.tag("{%p if item.image and loop.last %}")
    d.paragraph("{{ item.image }}", indent=False, align=1).paragraph_format.keep_with_next = True
    d.tag("{%p elif item.image %}")
    d.paragraph("{{ item.image }}", indent=False, align=1)
    d.tag("{%p endif %}")
    d.tag("{%p endfor %}")
    with d.closing(with_body=False):
        d.blank()
        d.line("督导人员（签字）：　　　　　　　　项目负责人（签字）：")


def midterm_opinion(d: OfficialDocument) -> None:
    d.title("{{ checkpoint_name }}意见")
    d.line("{{ organisation_name }}：")
    d.body(
        "根据{{ competition_name }}资助协议，{{ operator }}于{{ evaluation_date|cn_date }}组织督导人员"
        "（{{ supervisor_names|join('、') }}）对你单位实施的《{{ project_title }}》（受理编号"
        "{{ application_ref }}）进行了{{ checkpoint_name }}。"
        "评估得分{{ score }}分（合格线{{ pass_score }}分），"
        "评估结果为{{ '合格' if passed else '不合格' }}。"
    )
    d.heading("一、指标完成情况")
    _indicators(d)
    d.heading("二、经费使用情况")
    d.body("资助金额{{ granted_fen|yuan }}元，截至评估日已使用{{ spent_fen|yuan }}元。")
    d.heading("三、评估意见")
    d.body("{{ opinion }}")
    d.heading("四、拨付意见")
    d.body("{{ next_tranche }}")
    d.signature(*SIGNED_BY_OPERATOR)


def rectification_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("整改通知")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位实施的{{ competition_name }}资助项目《{{ project_title }}》（受理编号{{ application_ref }}）"
        "在{{ checkpoint_name }}中得分{{ score }}分，低于合格线{{ pass_score }}分。根据资助协议，现通知你单位"
        "限期整改。"
    )
    d.heading("一、存在的问题")
    d.numbered("problems")
    d.heading("二、整改要求")
    d.numbered("requirements")
    d.heading("三、整改期限")
    d.body("请于{{ deadline|cn_date }}前完成整改，并向{{ operator }}提交整改报告及佐证材料。")
    d.heading("四、资金拨付")
    d.body(
        "整改期间暂缓拨付{{ withheld_label }}{{ withheld_fen|yuan }}元（{{ withheld_fen|yuan_capitals }}），"
        "整改经复评合格后拨付。逾期未整改或整改后仍不合格的，将终止资助协议并追回已拨付资金。"
    )
    d.short("联系人及电话：{{ contact|nobreak }}。")
    d.signature(*SIGNED_BY_OPERATOR)


def termination_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("终止通知")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位实施的{{ competition_name }}资助项目《{{ project_title }}》（受理编号{{ application_ref }}，"
        "资助协议编号{{ agreement_number }}），{{ grounds }}。根据资助协议第七条，{{ organiser }}决定自"
        "{{ terminated_on|cn_date }}起终止该项目的资助协议。终止理由：{{ reason }}。"
    )
    d.heading("一、资金结算")
    d.pairs(
        [
            ("资助总额", "{{ grant_fen|yuan }}元"),
            ("已拨付", "{{ released_fen|yuan }}元"),
            ("督导核定支出", "{{ accepted_spend_fen|yuan }}元"),
            ("应退回（小写）", "{{ clawback_fen|yuan }}元"),
            ("应退回（大写）", "{{ clawback_fen|yuan_capitals }}"),
            ("不再拨付", "{{ cancelled_fen|yuan }}元"),
        ]
    )
    d.body(
        "应退回金额为已拨付资金减去督导核定支出。"
        "{% if clawback_fen %}请于收到本通知之日起{{ return_days }}日内将{{ clawback_fen|yuan }}元退回"
        "{{ return_to }}。{% else %}已拨付资金已全部用于项目，无需退回。{% endif %}"
        "尚未拨付的{{ cancelled_fen|yuan }}元不再拨付。"
    )
    d.heading("二、其他事项")
    d.body("请妥善保管项目台账和票据，配合后续审计。如有异议，请于收到本通知之日起5个工作日内书面提出。")
    d.short("联系人及电话：{{ contact|nobreak }}。")
    d.signature("{{ organiser }}", "{{ issue_date|cn_date }}")


def refund_notice(d: OfficialDocument) -> None:
    d.doc_number()
    d.title("结余资金退回通知")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位实施的{{ competition_name }}资助项目《{{ project_title }}》（受理编号{{ application_ref }}，"
        "资助协议编号{{ agreement_number }}）已完成结项评估：{{ evaluation }}。{{ settlement }}"
    )
    d.pairs(
        [
            ("资助金额", "{{ granted_fen|yuan }}元"),
            ("已拨付", "{{ paid_fen|yuan }}元"),
            ("督导核定支出", "{{ spent_fen|yuan }}元"),
            ("应退回（小写）", "{{ to_return_fen|yuan }}元"),
            ("应退回（大写）", "{{ to_return_fen|yuan_capitals }}"),
        ]
    )
    d.body(
        "应退回金额为已拨付资金减去督导核定支出。请于收到本通知之日起{{ return_days }}日内将"
        "{{ to_return_fen|yuan }}元退回{{ return_to }}，并将退款凭证送{{ organiser }}备案。"
    )
    d.short("联系人及电话：{{ contact|nobreak }}。")
    d.signature("{{ organiser }}", "{{ issue_date|cn_date }}")


def final_evaluation_report(d: OfficialDocument) -> None:
    d.title("结项评估报告")
    d.paragraph("{{ competition_name }}", indent=False, align=1)
    d.blank()
    d.heading("一、项目基本情况")
    d.pairs(
        [
            ("项目名称", "{{ project_title }}"),
            ("受理编号", "{{ application_ref }}"),
            ("执行单位", "{{ organisation_name }}"),
            ("服务领域", "{{ category }}"),
            ("服务社区", "{{ communities|join('、') }}"),
            ("执行期", "{{ period_start|cn_date }}至{{ period_end|cn_date }}"),
            ("评估人员", "{{ evaluators|join('、') }}"),
            ("评估日期", "{{ evaluation_date|cn_date }}"),
        ]
    )
    d.heading("二、评估结果")
    d.body(
        "{% if round > 1 %}整改后复评（第{{ round }}轮），{% endif %}"
        "结项评估得分{{ final_score }}分，等级为“{{ grade }}”，{{ '评估合格' if passed else '评估不合格' }}。"
    )
    d.heading("三、指标完成情况（计划与实际）")
    _indicators(d)
    d.heading("四、经费使用与结算")
    d.body(
        "资助金额{{ granted_fen|yuan }}元，已拨付{{ paid_fen|yuan }}元，督导核定支出{{ spent_fen|yuan }}元。"
        "{{ settlement }}"
    )
    d.table(
        [60, 48, 48],
        ["预算科目", "预算金额（元）", "填报支出（元）"],
        loop="line in spending",
        aligns=[0, 2, 2],
        loop_row=["{{ line.item }}", "{{ line.budget_fen|yuan }}", "{{ line.spent_fen|yuan }}"],
        rows=[
            [
                "合计",
                "{{ spending|sum(attribute='budget_fen')|yuan }}",
                "{{ spending|sum(attribute='spent_fen')|yuan }}",
            ]
        ],
    )
    d.heading("五、主要成效")
    d.body("{{ achievements }}")
    d.heading("六、督导意见与存在不足")
    d.body("{{ shortcomings }}")
    d.heading("七、评估结论")
    d.body("{{ conclusion }}")
    d.signature(*SIGNED_BY_OPERATOR)


def _figure(d: OfficialDocument, chart: str, caption: str) -> None:
    """A chart and its caption below it, on one page."""
    figure = d.paragraph("{{ " + chart + " }}", indent=False, align=1)
    figure.paragraph_format.keep_with_next = True
    d.paragraph(caption, indent=False, align=1)


def annual_report(d: OfficialDocument) -> None:
    d.title("{{ competition_name|title_lines(after='年度总结报告') }}")
    d.body(
        "{{ year }}年，在{{ organiser }}的指导下，{{ operator }}承办{{ competition_name }}。现将本届大赛"
        "情况报告如下。"
    )
    d.heading("一、总体情况")
    d.body(
        "本届大赛共受理申报{{ applications_count }}个，通过资格审查{{ eligible_count }}个，经专家评审和公示"
        "立项资助{{ funded_count }}个；已结项{{ completed_count }}个，终止{{ terminated_count }}个，"
        "经整改{{ rectified_count }}个。"
    )
    d.body("资助资金池{{ pool_fen|yuan }}元，申请金额合计{{ requested_fen|yuan }}元。")
    d.tag("{%p for line in money_lines %}")
    d.body("{{ line }}")
    d.tag("{%p endfor %}")
    d.tag("{%p if returns %}")
    d.body("应退回资金{{ to_return_fen|yuan }}元，逐项如下：")
    d.tag("{%p for row in returns %}")
    d.body(
        "{{ loop.index }}. {{ row.ref }}《{{ row.title }}》：已拨付{{ row.paid_fen|yuan }}元，督导核定支出"
        "{{ row.spent_fen|yuan }}元，应退回{{ row.to_return_fen|yuan }}元（{{ row.why }}"
        "{% if row.doc_number %}，{{ row.doc_number }}{% endif %}）{{ '。' if loop.last else '；' }}"
    )
    d.tag("{%p endfor %}")
    d.tag("{%p else %}")
    d.body("本年度无应退回资金。")
    d.tag("{%p endif %}")
    d.body(
        "各项目共开展活动{{ sessions_total }}场（计划{{ planned_sessions }}场），"
        "服务{{ participants_total }}人次（计划{{ planned_participants }}人次），"
        "覆盖{{ communities_covered }}个社区（共{{ communities_total }}个）。"
    )
    d.table(
        [44, 22, 22, 22, 38, 38],
        ["组别", "申报", "通过审查", "立项", "申请金额（元）", "资助金额（元）"],
        loop="row in by_pool",
        aligns=[0, 1, 1, 1, 2, 2],
        loop_row=[
            "{{ row.name }}",
            "{{ row.received }}",
            "{{ row.eligible }}",
            "{{ row.funded }}",
            "{{ row.requested_fen|yuan }}",
            "{{ row.granted_fen|yuan }}",
        ],
    )
    d.heading("二、服务领域")
    d.table(
        [26, 18, 18, 34, 22, 24, 24],
        ["领域", "申报", "立项", "资助金额（元）", "活动场次", "计划人次", "实际人次"],
        loop="row in by_category",
        aligns=[0, 1, 1, 2, 1, 1, 1],
        loop_row=[
            "{{ row.name }}",
            "{{ row.received }}",
            "{{ row.funded }}",
            "{{ row.granted_fen|yuan }}",
            "{{ row.sessions }}",
            "{{ row.planned_person_times }}",
            "{{ row.person_times }}",
        ],
    )
    _figure(d, "chart_categories", "图1  资助金额按服务领域构成")
    _figure(d, "chart_delivery", "图2  各服务领域计划与实际服务人次")
    d.heading("三、社区覆盖")
    d.table(
        [28, 20, 20, 36, 26, 30],
        ["社区", "申报", "立项", "资助金额（元）", "活动场次", "服务人次"],
        loop="row in by_community",
        aligns=[0, 1, 1, 2, 1, 1],
        loop_row=[
            "{{ row.name }}",
            "{{ row.received }}",
            "{{ row.funded }}",
            "{{ row.granted_fen|yuan }}",
            "{{ row.sessions }}",
            "{{ row.person_times }}",
        ],
    )
    _figure(d, "chart_communities", "图3  各社区立项资助金额")
    d.heading("四、结项评估")
    d.table(
        [label(3), number(3)],
        ["等级", "项目数"],
        loop="row in grades",
        loop_row=["{{ row.grade }}", "{{ row.count }}"],
    )
    _figure(d, "chart_grades", "图4  结项评估等级分布")
    d.heading("五、评审一致性")
    d.body("{{ agreement }}")
    d.heading("六、工作进程")
    d.table(
        [78, 78],
        ["阶段", "开始日期"],
        loop="row in timeline",
        loop_row=["{{ row.label }}", "{{ row.date|cn_date }}"],
    )
    d.heading("七、主要成效")
    d.numbered("highlights")
    d.heading("八、存在的问题")
    d.numbered("problems")
    d.signature(*SIGNED_BY_OPERATOR)


BUILDERS = {
    "grant_agreement": grant_agreement,
    "payment_notice": payment_notice,
    "supervision_record": supervision_record,
    "midterm_opinion": midterm_opinion,
    "rectification_notice": rectification_notice,
    "termination_notice": termination_notice,
    "final_evaluation_report": final_evaluation_report,
    "refund_notice": refund_notice,
    "annual_report": annual_report,
}
