"""WordprocessingML helpers and the sizes and fonts of the official layout (for the template builders)."""

from __future__ import annotations

from datetime import datetime

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

FANGSONG, TITLE_FONT, HEITI, KAITI, SONGTI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体"
BODY, TITLE, PAGE_NUMBER, TABLE = 16, 22, 14, 12
TWIPS_PER_MM = 1440 / 25.4
FIXED_TIME = datetime(2025, 1, 1)  # core properties and zip entries: the output is deterministic
Segment = str | tuple[str, dict[str, object]]


def twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


def set_fonts(rpr: OxmlElement, font: str) -> None:
    """Explicit fonts for every script (theme fonts would win over them, so they go)."""
    fonts = child(rpr, "w:rFonts")
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), font)


def set_lang(rpr: OxmlElement) -> None:
    lang = child(rpr, "w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


# The order the schema wants for the children we add (Word refuses some files with another order).
_ORDER = {
    "w:pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers "
    "pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN "
    "bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "w:style": "name aliases basedOn next link autoRedefine hidden uiPriority semiHidden unhideWhenUsed "
    "qFormat locked personal personalCompose personalReply rsid pPr rPr tblPr trPr tcPr tblStylePr",
    "w:rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
    "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "w:tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign "
    "hideMark",
    "w:trPr": "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader "
    "tblCellSpacing jc hidden",
}


def keep_with_next(ppr: OxmlElement) -> None:
    """Keep the paragraph on the page of the next one, and all its lines together."""
    child(ppr, "w:keepNext")
    child(ppr, "w:keepLines")


def child(parent: OxmlElement, tag: str) -> OxmlElement:
    """The child ``tag`` of ``parent``, added in the schema's order when missing."""
    element = parent.find(qn(tag))
    if element is not None:
        return element
    element = OxmlElement(tag)
    local = parent.tag.split("}")[1]
    order = _ORDER.get(f"w:{local}", "").split()
    name = tag.split(":")[1]
    if name in order:
        later = {qn(f"w:{n}") for n in order[order.index(name) + 1 :]}
        for index, existing in enumerate(parent):
            if existing.tag in later:
                parent.insert(index, element)
                return element
    parent.append(element)
    return element
