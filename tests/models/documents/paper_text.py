"""What an official paper says, read as its reader reads it: every paragraph of a .docx (body,
tables — nested ones too — headers and footers), and the Latin words in it that are neither codes,
e-mail addresses, URLs nor the names of uploaded files (official papers are Chinese)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
from docx.document import Document
from docx.table import Table

# What may be written in Latin letters in an official paper, precisely (each token whole: neither a
# Latin letter nor a digit touching it — Chinese characters may, as they do in 编号2025-005):
_ALONE, _END = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
ALLOWED = re.compile(
    "|".join(
        (
            r"https?://[0-9A-Za-z._~:/?#@!$&'*+,;=%-]+",  # a URL
            r"[0-9A-Za-z._%+-]+@[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+",  # an e-mail address
            _ALONE + r"(?:JT)?\d{4}-XY-\d{3}(?:-\d+)?" + _END,  # 协议编号 2025-XY-005, of a tranche …-2
            _ALONE + r"(?:JT)?\d{4}-\d{3}" + _END,  # 申报编号 2025-005 (JT2025-005 in the samples)
            _ALONE + r"[0-9A-HJ-NPQRTUWXY]{18}" + _END,  # 统一社会信用代码 (GB 32100: no I O S V Z)
            r"[^\s：:（）()]+\.(?:jpe?g|png|pdf)" + _END,  # an evidence file, by the name it was uploaded as
        )
    )
)
LATIN = re.compile(r"[A-Za-z]+")
ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")


def latin_words(text: str) -> list[str]:
    """The Latin words of ``text`` outside the allowed tokens."""
    return LATIN.findall(ALLOWED.sub(" ", text))


def _paragraphs(container: Document | Table) -> Iterator[str]:
    if isinstance(container, Table):
        for row in container.rows:
            for cell in row.cells:
                yield from (p.text for p in cell.paragraphs)
                for inner in cell.tables:
                    yield from _paragraphs(inner)
        return
    yield from (p.text for p in container.paragraphs)
    for table in container.tables:
        yield from _paragraphs(table)


def document_text(data: bytes) -> str:
    """Every paragraph of a .docx: body, tables (nested ones too), and every header and footer."""
    document = docx.Document(io.BytesIO(data))
    texts = list(_paragraphs(document))
    for section in document.sections:
        for part in (
            section.header,
            section.footer,
            section.even_page_header,
            section.even_page_footer,
            section.first_page_header,
            section.first_page_footer,
        ):
            texts += [p.text for p in part.paragraphs]
            for table in part.tables:
                texts += list(_paragraphs(table))
    return "\n".join(texts)
