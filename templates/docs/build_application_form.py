"""申报书: the form's layout comes from ``models/application_form.py`` (the intake side parses it)."""

from __future__ import annotations

from columns import AMOUNT, PHONE, TEXT, label, number
from gbt9704 import HEITI, TABLE, OfficialDocument

from models.documents.application_form import (
    ACTIVITY_COLUMNS,
    BUDGET_COLUMNS,
    BUDGET_TOTAL_LABEL,
    CHECKED,
    ORGANISATION_HEADING,
    ORGANISATION_KINDS,
    ORGANISATION_LABELS,
    PLEDGE,
    PROJECT_HEADING,
    PROJECT_LABELS,
    SECTIONS,
    TEAM_COLUMNS,
    UNCHECKED,
)

_KINDS = "[" + ", ".join(f"'{kind}'" for kind in ORGANISATION_KINDS) + "]"
_BLANK_DATE = "　　　　年　　月　　日"
# A checkbox cell lays its options out itself: U+2060 WORD JOINER between the characters of each
# option (Word keeps "☐蔡塘" whole; LibreOffice ignores the joiner between Chinese characters), and a
# line break before an option that would not fit the rest of the line — so no printer breaks an
# option into "☐蔡 / 塘". The intake reader drops format characters (Unicode category Cf) before it
# matches an option.
WORD_JOINER = "\u2060"
# The value cell of a ``pairs`` row: 110 mm less the cell margins at 12 pt is 25 full-width
# characters; one is kept spare. An option takes its box, its name and the 　 after it.
LINE_CHARACTERS = 24


def _options(items: str, chosen: str) -> str:
    """A checkbox per option — ``☑`` when ``chosen`` holds for it — each kept whole on its line."""
    mark = "('" + CHECKED + "' if " + chosen + " else '" + UNCHECKED + "')"
    return (
        "{% set line = namespace(used=0) %}{% for name in " + items + " %}"
        "{% set width = name|length + 2 %}"
        "{% if line.used and line.used + width > " + str(LINE_CHARACTERS) + " %}"
        "{{ '\\n' }}{% set line.used = 0 %}{% endif %}"
        "{% set line.used = line.used + width %}"
        "{{ (" + mark + " ~ name)|join('" + WORD_JOINER + "') }}　{% endfor %}"
    )


_VALUES = {
    "申报单位": "{{ organisation_name }}",
    "单位性质": _options(_KINDS, "name == org_kind"),
    "统一社会信用代码或登记证号": "{{ registration_number }}",
    "成立时间": "{{ founded_on|cn_date }}",
    "年检结论/评估等级": "{{ rating }}",
    "法定代表人或负责人": "{{ legal_representative }}",
    "联系人": "{{ contact_name }}",
    "联系电话": "{{ contact_phone }}",
    "电子邮箱": "{{ contact_email }}",
    "单位地址": "{{ address }}",
    "项目名称": "{{ project_title }}",
    "项目类别": _options("categories", "name == category"),
    "服务社区": _options("communities", "name in served_communities"),
    "服务对象": "{{ target_group }}",
    "直接受益人数": "{{ beneficiaries }}",
    "项目周期": "{% if period_start %}{{ period_start|cn_date }}至{{ period_end|cn_date }}{% else %}"
    + _BLANK_DATE
    + "至"
    + _BLANK_DATE
    + "{% endif %}",
    "申请金额（元）": "{{ amount_fen|yuan }}",
    "自筹/配套金额（元）": "{{ self_funded_fen|yuan }}",
}
_TABLES = {
    ACTIVITY_COLUMNS: (
        "row in activities",
        ["{{ row.period }}", "{{ row.content }}", "{{ row.sessions }}", "{{ row.participants }}"],
        [label(9), TEXT, number(3), number(5)],
    ),
    TEAM_COLUMNS: (
        "row in team",
        ["{{ row.name }}", "{{ row.duty }}", "{{ row.contact }}"],
        [label(4), TEXT, PHONE],
    ),
    BUDGET_COLUMNS: (
        "row in budget_lines",
        [
            "{{ row.item }}",
            "{{ row.purpose }}",
            "{{ row.unit_price_fen|yuan }}",
            "{{ row.quantity }}",
            "{{ row.amount_fen|yuan }}",
        ],
        [label(6), TEXT, AMOUNT, number(4), AMOUNT],
    ),
}


def build(d: OfficialDocument) -> None:
    _cover(d)
    d.heading("一、" + ORGANISATION_HEADING)
    d.pairs([(name, _VALUES[name]) for name in ORGANISATION_LABELS])
    d.heading("二、" + PROJECT_HEADING)
    d.pairs([(name, _VALUES[name]) for name in PROJECT_LABELS])
    d.heading("三、项目内容")
    for name, spec in SECTIONS:
        if name == "预算明细":
            d.heading("四、项目预算")
        if name == "承诺书":
            d.heading("五、承诺与意见")
        if isinstance(spec, tuple):
            loop, cells, widths = _TABLES[spec]
            table = d.table(widths, spec, title=name, loop=loop, loop_row=cells, aligns=[1] * len(spec))
            if name == "预算明细":
                d.row(table, [BUDGET_TOTAL_LABEL, "", "", "", "{{ budget_total_fen|yuan }}"], font=HEITI)
        elif name == "承诺书":
            d.box(
                name,
                PLEDGE,
                "",
                "法定代表人或负责人（签字）：",
                "申报单位（盖章）：",
                "　　　　　　　　　　　　　　　　　　　　年　　月　　日",
                height_mm=40,
                whole=True,
            )
        elif name == "社区意见":
            table = d.box(name, "{{ community_opinion }}", height_mm=25)
            cells = d.row(table, [""], size=TABLE)
            d.cell_text(
                cells[0], "社区居委会（盖章）：", "　　　　　　　　　　　　　　　　　　　　年　　月　　日"
            )
            d.unsplit(table)
        else:
            d.box(name, "{{ " + spec + " }}", height_mm=35)


def _cover(d: OfficialDocument) -> None:
    d.blank(2)
    d.title("{{ competition_name|title_lines(after='项目申报书') }}")
    d.blank(2)
    blank = "　" * 16
    for caption, value in (
        ("项目名称：", "{{ project_title or '" + blank + "' }}"),
        ("申报单位：", "{{ organisation_name or '" + blank + "' }}"),
        ("申报日期：", "{{ application_date|cn_date or '" + _BLANK_DATE + "' }}"),
        ("受理编号：", "{{ application_ref or '（由主办方填写）' }}"),
    ):
        d.paragraph((caption, {"font": HEITI}), (value, {"underline": True}), indent=False, left_chars=3)
    d.blank(5)
    d.paragraph("{{ organiser }}　制", indent=False, align=1)
    d.page_break()
    d.paragraph("填表说明", indent=False, align=1, font=HEITI)
    d.blank()
    for index, text in enumerate(
        (
            "本申报书用于{{ competition_name }}。请如实、完整填写，不要改动表格结构和栏目名称"
            "（表格由系统自动读取）；栏目不够填写时可在表格内加行。",
            "单位性质、项目类别和服务社区，请把所选项前的“"
            + UNCHECKED
            + "”改为“"
            + CHECKED
            + "”（也可写“√”）。",
            "申请金额不超过{{ per_project_cap_fen|yuan }}元；预算明细的合计须等于申请金额。金额以元为单位，"
            "保留两位小数。",
            "请于{{ applications_close|cn_datetime }}前提交加盖公章的申报书，逾期不予受理。",
        ),
        start=1,
    ):
        d.body(f"{index}. {text}")
    d.page_break()
