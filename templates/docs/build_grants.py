"""Templates from the agreement to the year's report (keys: ``models/document_roles_grants.py``)."""

from __future__ import annotations

from gbt9704 import HEITI, OfficialDocument

SIGNED_BY_OPERATOR = ("{{ operator }}", "{{ issue_date|cn_date }}")


def _indicators(d: OfficialDocument) -> None:
    d.table(
        [46, 40, 40, 30],
        ["指标", "计划", "实际完成", "完成率"],
        loop="indicator in indicators",
        loop_row=[
            "{{ indicator.name }}",
            "{{ indicator.planned }}",
            "{{ indicator.actual }}",
            "{{ indicator.rate }}",
        ],
    )


def _numbered(d: OfficialDocument, items: str) -> None:
    d.tag("{%p for item in " + items + " %}")
    d.body("{{ loop.index }}. {{ item }}")
    d.tag("{%p endfor %}")


def grant_agreement(d: OfficialDocument) -> None:
    d.paragraph("协议编号：{{ agreement_number }}", indent=False, align=2)
    d.blank()
    d.title("{{ competition_name }}", "资助协议书")
    for text in (
        ("甲方（资助方）：", "{{ organiser }}"),
        ("地址：", "{{ organiser_address }}"),
        ("乙方（受资助方）：", "{{ organisation_name }}"),
        ("统一社会信用代码或登记证号：", "{{ registration_number }}"),
        ("法定代表人或负责人：", "{{ legal_representative }}"),
        ("地址：", "{{ org_address }}"),
        ("联系人：", "{{ contact_name }}　　联系电话：{{ contact_phone }}"),
    ):
        d.line((text[0], {"font": HEITI}), text[1])
    d.blank()
    d.body(
        "为规范{{ competition_name }}资助资金的使用和管理，保障项目顺利实施，甲乙双方经协商一致，订立本协议。"
        "项目的日常管理、督导和评估由{{ operator }}具体负责。"
    )
    d.heading("第一条　项目内容")
    d.body(
        "乙方实施《{{ project_title }}》（受理编号{{ application_ref }}），"
        "执行期为{{ period_start|cn_date }}至{{ period_end|cn_date }}。"
        "乙方按申报书开展服务，活动不少于{{ planned_sessions }}场，"
        "服务不少于{{ planned_participants }}人次。"
    )
    d.heading("第二条　资助金额")
    d.body("甲方资助乙方人民币{{ amount_fen|yuan }}元（大写：{{ amount_fen|yuan_capitals }}）。")
    d.heading("第三条　拨付方式")
    d.body(
        "资助资金分期拨付至乙方账户（户名：{{ organisation_name }}；开户银行：{{ bank_name }}；"
        "账号：{{ bank_account }}）："
    )
    d.table(
        [22, 14, 26, 50, 44],
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
    d.heading("第四条　资金使用")
    d.body("资助资金专款专用，按下列预算使用；单个科目调整超过10%的，须事先书面报甲方同意：")
    d.table(
        [40, 80, 36],
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
    d.blank()
    d.unbordered(
        [78, 78],
        [
            ["甲方（盖章）：", "乙方（盖章）："],
            ["代表人（签字）：", "法定代表人或负责人（签字）："],
            ["", ""],
        ],
    )
    d.line("签订日期：{{ sign_date|cn_date or '　　　　年　　月　　日' }}")


def payment_notice(d: OfficialDocument) -> None:
    d.paragraph("{{ doc_number }}", indent=False, align=1)
    d.blank()
    d.title("拨款通知")
    d.line("{{ finance_office }}：")
    d.body(
        "根据{{ competition_name }}资助协议（编号{{ agreement_number }}），{{ gate_result }}，符合"
        "{{ tranche_label }}的拨付条件。请按资助金额的{{ tranche_percent }}%向{{ organisation_name }}"
        "拨付《{{ project_title }}》资助资金："
    )
    d.pairs(
        [
            ("收款单位", "{{ organisation_name }}"),
            ("开户银行", "{{ bank_name }}"),
            ("账号", "{{ bank_account }}"),
            ("本次拨付（小写）", "¥{{ amount_fen|yuan }}元"),
            ("本次拨付（大写）", "{{ amount_fen|yuan_capitals }}"),
            ("资助总额", "{{ grant_fen|yuan }}元"),
            ("此前已拨付", "{{ paid_before_fen|yuan }}元"),
            ("本次拨付后累计", "{{ (paid_before_fen + amount_fen)|yuan }}元"),
        ]
    )
    d.body("专此通知。")
    d.signature("{{ organiser }}", "{{ issue_date|cn_date }}")
    d.blank()
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
        [30, 30, 30, 38, 28],
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
    d.tag("{%p for item in evidence %}")
    d.body("{{ loop.index }}. {{ item.kind }}：{{ item.name }}")
    d.tag("{%p if item.image %}")
    d.paragraph("{{ item.image }}", indent=False, align=1)
    d.tag("{%p endif %}")
    d.tag("{%p endfor %}")
    d.tag("{%p if not evidence %}")
    d.body("（无 / none）")
    d.tag("{%p endif %}")
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
    d.paragraph("{{ doc_number }}", indent=False, align=1)
    d.blank()
    d.title("整改通知")
    d.line("{{ organisation_name }}：")
    d.body(
        "你单位实施的{{ competition_name }}资助项目《{{ project_title }}》（受理编号{{ application_ref }}）"
        "在{{ checkpoint_name }}中得分{{ score }}分，低于合格线{{ pass_score }}分。根据资助协议，现通知你单位"
        "限期整改。"
    )
    d.heading("一、存在的问题")
    _numbered(d, "problems")
    d.heading("二、整改要求")
    _numbered(d, "requirements")
    d.heading("三、整改期限")
    d.body("请于{{ deadline|cn_date }}前完成整改，并向{{ operator }}提交整改报告及佐证材料。")
    d.heading("四、资金拨付")
    d.body(
        "整改期间暂缓拨付{{ withheld_label }}{{ withheld_fen|yuan }}元（{{ withheld_fen|yuan_capitals }}），"
        "整改经复评合格后拨付。逾期未整改或整改后仍不合格的，将终止资助协议并追回已拨付资金。"
    )
    d.body("联系人及电话：{{ contact }}。")
    d.signature(*SIGNED_BY_OPERATOR)


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
        "结项评估得分{{ final_score }}分，等级为“{{ grade }}”，{{ '评估合格' if passed else '评估不合格' }}。"
    )
    d.heading("三、指标完成情况")
    _indicators(d)
    d.heading("四、经费使用情况")
    d.body("资助金额{{ granted_fen|yuan }}元，已拨付{{ paid_fen|yuan }}元，实际使用{{ spent_fen|yuan }}元。")
    d.heading("五、主要成效")
    d.body("{{ achievements }}")
    d.heading("六、存在不足")
    d.body("{{ shortcomings }}")
    d.heading("七、评估结论")
    d.body("{{ conclusion }}")
    d.signature(*SIGNED_BY_OPERATOR)


def annual_report(d: OfficialDocument) -> None:
    d.title("{{ competition_name }}", "年度总结报告")
    d.body(
        "{{ year }}年，在{{ organiser }}的指导下，{{ operator }}承办{{ competition_name }}。现将本届大赛"
        "情况报告如下。"
    )
    d.heading("一、总体情况")
    d.body(
        "本届大赛共受理申报{{ applications_count }}个，通过资格审查{{ eligible_count }}个，经专家评审和公示"
        "立项资助{{ funded_count }}个，已结项{{ completed_count }}个。"
        "资助资金池{{ pool_fen|yuan }}元，立项资助{{ granted_fen|yuan }}元，已拨付{{ paid_fen|yuan }}元。"
    )
    d.body(
        "各项目共开展活动{{ sessions_total }}场，服务{{ participants_total }}人次，"
        "覆盖{{ communities_covered }}个社区（共{{ communities_total }}个）。"
    )
    d.heading("二、服务领域")
    d.table(
        [30, 24, 40, 30, 32],
        ["领域", "项目数", "资助金额（元）", "活动场次", "服务人次"],
        loop="row in by_category",
        aligns=[1, 1, 2, 1, 1],
        loop_row=[
            "{{ row.name }}",
            "{{ row.projects }}",
            "{{ row.amount_fen|yuan }}",
            "{{ row.sessions }}",
            "{{ row.participants }}",
        ],
    )
    d.paragraph("{{ chart_categories }}", indent=False, align=1)
    d.heading("三、社区覆盖")
    d.table(
        [40, 36, 40, 40],
        ["社区", "项目数", "活动场次", "服务人次"],
        loop="row in by_community",
        loop_row=["{{ row.name }}", "{{ row.projects }}", "{{ row.sessions }}", "{{ row.participants }}"],
    )
    d.paragraph("{{ chart_communities }}", indent=False, align=1)
    d.heading("四、结项评估")
    d.table(
        [78, 78], ["等级", "项目数"], loop="row in grades", loop_row=["{{ row.grade }}", "{{ row.count }}"]
    )
    d.heading("五、主要成效")
    _numbered(d, "highlights")
    d.heading("六、存在的问题")
    _numbered(d, "problems")
    d.heading("七、下一步工作")
    _numbered(d, "next_steps")
    d.signature(*SIGNED_BY_OPERATOR)


BUILDERS = {
    "grant_agreement": grant_agreement,
    "payment_notice": payment_notice,
    "supervision_record": supervision_record,
    "midterm_opinion": midterm_opinion,
    "rectification_notice": rectification_notice,
    "final_evaluation_report": final_evaluation_report,
    "annual_report": annual_report,
}
