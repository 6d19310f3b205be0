"""The official layout (GB/T 9704-2012, where it fits) for authoring templates with python-docx.

Used only by ``build_templates.py``. A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
22 lines × 28 characters (a 579-twip line grid, characters condensed 0.25 pt); body 仿宋_GB2312
三号 (16 pt); title 方正小标宋简体 二号 (22 pt); level-1 headings 黑体, level-2 楷体_GB2312;
page number "— 1 —" in 宋体 四号 (14 pt), odd pages right and even pages left, one character in
from the edge. Every run, style and the docDefaults carry
``w:eastAsia`` and ``<w:lang w:eastAsia="zh-CN"/>`` (python-docx's ``font.name`` sets only the Latin
fonts, and Word then shows a Latin fallback for Chinese).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import docx
from columns import LANDSCAPE_MM, PORTRAIT_MM
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from gbt9704_tables import TablesMixin, keeps_condition
from wordml import (
    BODY,
    FANGSONG,
    FIXED_TIME,
    HEITI,
    KAITI,
    PAGE_NUMBER,
    SONGTI,
    TABLE,
    TITLE,
    TITLE_FONT,
    Segment,
    child,
    keep_with_next,
    set_fonts,
    set_lang,
    twips,
)

__all__ = ["BODY", "FANGSONG", "HEITI", "KAITI", "TABLE", "TITLE_FONT", "OfficialDocument", "Segment"]


def _row_text(row: OxmlElement) -> str:
    return "".join(t.text or "" for t in row.iter(qn("w:t"))).strip()


class OfficialDocument(TablesMixin):
    """A python-docx document set up in the official layout, with helpers for its parts."""

    def __init__(self, title: str, purpose: str, *, landscape: bool = False) -> None:
        self.doc = docx.Document()
        self._styles()
        self._page(landscape)
        self.text_width_mm = LANDSCAPE_MM if landscape else PORTRAIT_MM
        self._footers()
        self._drop_extra_parts()
        props = self.doc.core_properties
        props.title, props.subject, props.comments = title, "grantflow 文书模板", purpose
        props.author = props.last_modified_by = "grantflow"
        props.created = props.modified = FIXED_TIME
        props.revision = 1
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._settings()
        self._tables: list[tuple[Table, list[float]]] = []

    # ---- set-up ------------------------------------------------------------------------------
    def _styles(self) -> None:
        styles = self.doc.styles.element
        defaults = styles.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        set_fonts(rpr, FANGSONG)
        child(rpr, "w:sz").set(qn("w:val"), str(BODY * 2))
        child(rpr, "w:szCs").set(qn("w:val"), str(BODY * 2))
        # 28 characters of 16 pt need 448 pt, the line has 442: condense each by 0.25 pt.
        child(rpr, "w:spacing").set(qn("w:val"), "-5")
        set_lang(rpr)
        spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
        spacing.set(qn("w:after"), "0")
        spacing.set(qn("w:line"), "240")
        special = {"Title": TITLE_FONT, "Heading1": HEITI, "Heading2": KAITI}
        for style in styles.findall(qn("w:style")):
            style_id = style.get(qn("w:styleId"))
            rpr = child(style, "w:rPr")  # before a table style's tblPr, as the schema wants
            set_fonts(rpr, special.get(style_id.removesuffix("Char"), FANGSONG))
            set_lang(rpr)
            for colour in rpr.findall(qn("w:color")):
                rpr.remove(colour)
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(BODY)
        normal.paragraph_format.alignment = 3  # justify
        for name, size in (("Title", TITLE), ("Heading 1", BODY), ("Heading 2", BODY)):
            style = self.doc.styles[name]
            style.font.size, style.font.bold, style.font.italic = Pt(size), False, False
            fmt = style.paragraph_format
            fmt.space_before = fmt.space_after = Pt(0)
            fmt.line_spacing = 1.0
            ppr = style.element.get_or_add_pPr()
            for border in ppr.findall(qn("w:pBdr")):
                ppr.remove(border)
        title = self.doc.styles["Title"]
        title.paragraph_format.alignment = 1  # centre
        # off the character grid (a 22 pt character would take two 15.8 pt cells), on a 28.95 pt line
        child(title.element.get_or_add_pPr(), "w:snapToGrid").set(qn("w:val"), "0")
        title.paragraph_format.line_spacing = Pt(29)

    def _settings(self) -> None:
        """A justified line ending in a line break is not stretched across the page (Word's
        ``doNotExpandShiftReturn``; LibreOffice reads it too), and the theme's East Asian language is
        Chinese, not Japanese."""
        settings = self.doc.settings.element
        compat = settings.find(qn("w:compat"))
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))  # first in CT_Compat's order
        settings.find(qn("w:themeFontLang")).set(qn("w:eastAsia"), "zh-CN")

    def _page(self, landscape: bool) -> None:
        section = self.doc.sections[0]
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
            section.top_margin, section.bottom_margin = Mm(28), Mm(26)
            section.left_margin, section.right_margin = Mm(37), Mm(35)
        else:
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.top_margin, section.bottom_margin = Mm(37), Mm(35)
            section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(22 if not landscape else 14)
        grid = section._sectPr.find(qn("w:docGrid"))
        if landscape:
            grid.set(qn("w:type"), "lines")
            grid.set(qn("w:linePitch"), "400")
            return
        # 22 lines: a line grid of 579 twips (225 mm / 22). 28 characters: the 0.25 pt condensing in the
        # docDefaults (28 × 15.75 pt fits the 442 pt line). Not a character grid ("linesAndChars"):
        # LibreOffice snaps each 16 pt glyph to two 15.8 pt cells of it and spreads the lines.
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(twips(297 - 37 - 35) // 22))
        grid.attrib.pop(qn("w:charSpace"), None)

    def _footers(self) -> None:
        section = self.doc.sections[0]
        for footer, align, side in ((section.footer, 2, "w:right"), (section.even_page_footer, 0, "w:left")):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.alignment = align
            ind = child(paragraph._p.get_or_add_pPr(), "w:ind")
            ind.set(qn(side), str(PAGE_NUMBER * 20))  # one character in from the edge
            child(paragraph._p.get_or_add_pPr(), "w:snapToGrid").set(qn("w:val"), "0")
            self.run(paragraph, "— ", font=SONGTI, size=PAGE_NUMBER)
            self._field(paragraph, "PAGE", "1")
            self.run(paragraph, " —", font=SONGTI, size=PAGE_NUMBER)

    def _field(self, paragraph: Paragraph, instruction: str, shown: str) -> None:
        for kind in ("begin", "instr", "separate", "text", "end"):
            run = self.run(paragraph, "", font=SONGTI, size=PAGE_NUMBER)
            if kind == "instr":
                code = OxmlElement("w:instrText")
                code.set(qn("xml:space"), "preserve")
                code.text = f" {instruction} "
                run._r.append(code)
            elif kind == "text":
                run.text = shown
            else:
                char = OxmlElement("w:fldChar")
                char.set(qn("w:fldCharType"), kind)
                run._r.append(char)

    def _drop_extra_parts(self) -> None:
        """No thumbnail of an empty page, no Word 2010 duplicate of the styles."""
        package = self.doc.part.package
        for rid, rel in list(package.rels.items()):
            if rel.reltype.endswith("/thumbnail"):
                package.rels.pop(rid)
        for rid, rel in list(self.doc.part.rels.items()):
            if rel.reltype.endswith("/stylesWithEffects"):
                self.doc.part.rels.pop(rid)

    # ---- text --------------------------------------------------------------------------------
    @staticmethod
    def run(
        paragraph: Paragraph,
        text: str,
        *,
        font: str = FANGSONG,
        size: float = BODY,
        bold: bool = False,
        underline: bool = False,
        colour: str | None = None,
    ) -> docx.text.run.Run:
        run = paragraph.add_run(text)
        rpr = run._r.get_or_add_rPr()
        set_fonts(rpr, font)
        run.font.size = Pt(size)
        run.font.bold = bold
        if underline:
            run.font.underline = True
        if colour:
            child(rpr, "w:color").set(qn("w:val"), colour)
        set_lang(rpr)
        return run

    def paragraph(
        self,
        *segments: Segment,
        indent: bool = True,
        align: int | None = None,
        font: str = FANGSONG,
        size: float = BODY,
        style: str | None = None,
        right_chars: int = 0,
        left_chars: int = 0,
        container: object = None,
    ) -> Paragraph:
        parent = container if container is not None else self.doc
        paragraph = parent.add_paragraph(style=style)
        ppr = paragraph._p.get_or_add_pPr()
        if indent:
            ind = child(ppr, "w:ind")
            ind.set(qn("w:firstLineChars"), "200")
            ind.set(qn("w:firstLine"), str(int(size * 40)))
        if right_chars:
            ind = child(ppr, "w:ind")
            ind.set(qn("w:rightChars"), str(right_chars * 100))
            ind.set(qn("w:right"), str(int(right_chars * size * 20)))
        if left_chars:
            ind = child(ppr, "w:ind")
            ind.set(qn("w:leftChars"), str(left_chars * 100))
            ind.set(qn("w:left"), str(int(left_chars * size * 20)))
        if align is not None:
            paragraph.alignment = align
        for segment in segments:
            text, options = (segment, {}) if isinstance(segment, str) else segment
            self.run(paragraph, text, **{"font": font, "size": size, **options})  # type: ignore[arg-type]
        return paragraph

    def title(self, *lines: str) -> None:
        for line in lines:
            self.paragraph(line, indent=False, font=TITLE_FONT, size=TITLE, style="Title")
        self.blank()

    def doc_number(self, key: str = "doc_number") -> None:
        """发文字号, centred above the title; the line is left out when the value is empty."""
        self.tag("{%p if " + key + " %}")
        self.paragraph("{{ " + key + " }}", indent=False, align=1)
        self.blank()
        self.tag("{%p endif %}")

    def attachment(self, name: str) -> None:
        """附件说明 (GB/T 9704 7.3.6): 附件：name, two characters in, lines after the first aligned
        after 附件：."""
        paragraph = self.paragraph(f"附件：{name}", indent=False, left_chars=5)
        ind = child(paragraph._p.get_or_add_pPr(), "w:ind")
        ind.set(qn("w:hangingChars"), "300")
        ind.set(qn("w:hanging"), str(3 * BODY * 20))

    def heading(self, text: str, level: int = 1) -> None:
        """一、 in 黑体 (level 1), （一） in 楷体 (level 2), kept on the page of what follows."""
        font = HEITI if level == 1 else KAITI
        keep_with_next(self.paragraph(text, font=font, style=f"Heading {level}")._p.get_or_add_pPr())

    def body(self, *segments: Segment) -> Paragraph:
        return self.paragraph(*segments)

    def short(self, *segments: Segment) -> Paragraph:
        """A short line of facts (联系人及电话, 公示期, 异议受理地址): indented like the body but
        left-aligned, so a line that wraps before an unbreakable phone number or date is not
        stretched across the page by justification."""
        return self.paragraph(*segments, align=0)

    def line(self, *segments: Segment) -> Paragraph:
        """A paragraph without first-line indent (主送机关, tag lines)."""
        return self.paragraph(*segments, indent=False)

    def numbered(self, items: str) -> None:
        """Each item of the list ``items`` its own paragraph: 1. …, 2. …"""
        self.tag("{%p for item in " + items + " %}")
        self.body("{{ loop.index }}. {{ item }}")
        self.tag("{%p endfor %}")

    def tag(self, jinja: str) -> None:
        """A paragraph holding only a ``{%p … %}`` tag: it disappears when rendered."""
        self.paragraph(jinja, indent=False)

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.paragraph("", indent=False)

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def signature(self, signer: str, date: str) -> None:
        """落款: the signer and the date, right-aligned, four characters in from the right, on the page
        of the body's last paragraph."""
        with self.closing():
            self.blank()
            self.paragraph(signer, indent=False, align=2, right_chars=4)
            self.paragraph(date, indent=False, align=2, right_chars=4)

    @contextmanager
    def closing(self, *, with_body: bool = True) -> Iterator[None]:
        """A closing block (落款, signature, seal and date lines) written inside ``with``: kept on one page
        with the last paragraph (or table rows) of the body before it, so that no page holds only the
        signature or the date. Every element but the block's last keeps with the next; table rows in it
        do not split.

        ``with_body=False`` for a block that is more than a signature (a table of names to sign beside):
        it keeps together but not with the body — LibreOffice 7.4 pushes the last line of a chain that
        long (a paragraph, a label, a table, a line) onto a page of its own, with room left (measured
        on the 评分汇总表); or when the body ends in a loop whose last item the template keeps with
        the block itself (the 督导记录表's evidence)."""
        body = self.doc.element.body
        start = len(body) - 1  # before the sectPr, which stays last
        yield
        block = [element for element in body[start:] if element.tag != qn("w:sectPr")]
        before = self._last_content(list(body[:start])) if with_body else []
        for element in [*before, *block[:-1]]:
            self._keep(element, whole=element in block)
        if block and block[-1].tag == qn("w:p"):
            child(block[-1].get_or_add_pPr(), "w:keepLines")

    @staticmethod
    def _last_content(elements: Sequence[OxmlElement]) -> list[OxmlElement]:
        """The body's last paragraph or table, and the empty or ``{%p …%}`` paragraphs after it."""
        kept: list[OxmlElement] = []
        for element in reversed(elements):
            kept.append(element)
            if element.tag == qn("w:tbl"):
                break
            text = "".join(t.text or "" for t in element.iter(qn("w:t"))).strip()
            if text and not text.startswith("{%"):
                break
        return kept

    @staticmethod
    def _keep(element: OxmlElement, *, whole: bool) -> None:
        """Keep a paragraph with the next; a table's last row (every row, when ``whole``) likewise.

        A paragraph of the block is kept whole; the body's last paragraph may be long (longer than a
        page), so only its last lines go with the block (widow control), not all of it."""
        if element.tag == qn("w:p"):
            ppr = element.get_or_add_pPr()
            if whole:
                keep_with_next(ppr)
            else:
                child(ppr, "w:keepNext")
                child(ppr, "w:widowControl")
            return
        rows = element.findall(qn("w:tr"))
        tags = [index for index, row in enumerate(rows) if _row_text(row).startswith("{%tr")]
        after_loop = rows[tags[-1] + 1 :] if tags else rows  # the rows printed once, after any loop
        for row in [r for r in rows if _row_text(r)[:4] != "{%tr"] if whole else after_loop[-2:]:
            child(row.get_or_add_trPr(), "w:cantSplit")
            for paragraph in row.iter(qn("w:p")):
                keep_with_next(paragraph.get_or_add_pPr())
        if tags and len(after_loop) < 2:  # the loop's last rows keep with the block too: never one
            for index in tags:  # row left behind, nor the block alone
                text = next(rows[index].iter(qn("w:t")))
                if (text.text or "").startswith("{%tr if loop."):
                    text.text = "{%tr if " + keeps_condition(len(after_loop), closing=True) + " %}"

    # ---- saving ------------------------------------------------------------------------------
    def _last_spacer(self) -> None:
        """A document ending in a table ends in the empty paragraph Word needs after it: make it 1 pt
        high, so that a page filled by the table does not push it onto a page of its own."""
        body = self.doc.element.body
        last = body[-2] if len(body) > 1 else None
        if last is None or last.tag != qn("w:p") or last.getprevious() is None:
            return
        if last.getprevious().tag != qn("w:tbl") or "".join(t.text or "" for t in last.iter(qn("w:t"))):
            return
        for run in last.findall(qn("w:r")):
            last.remove(run)
        ppr = last.get_or_add_pPr()
        spacing = child(ppr, "w:spacing")
        spacing.set(qn("w:line"), "20")
        spacing.set(qn("w:lineRule"), "exact")
        for tag in ("w:sz", "w:szCs"):
            child(child(ppr, "w:rPr"), tag).set(qn("w:val"), "2")

    def save(self, path: Path) -> None:
        """Save with fixed zip times, so that the same script gives the same bytes."""
        for table, widths_mm in self._tables:
            self.cell_widths(table, widths_mm)
        self._last_spacer()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        output = io.BytesIO()
        with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(output, "w") as target:
            for info in source.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                fixed.compress_type = zipfile.ZIP_DEFLATED
                fixed.external_attr = 0o644 << 16
                target.writestr(fixed, source.read(info), compresslevel=9)
        path.write_bytes(output.getvalue())
