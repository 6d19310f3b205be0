"""Turn the XML of a Word part into the source of a Jinja template (done once, when a template loads).

Word splits what a person typed into several runs (``{{ appli`` | ``cant_name }}``) whenever spell
checking, an edit or a formatting change touches it. ``jinja_source`` repairs that, then turns the
row and paragraph tags into plain Jinja:

- ``{{ name }}``, ``{% if x %}`` …: kept where they are, inside their ``<w:t>`` (whose
  ``xml:space="preserve"`` is set so that spaces in values survive);
- ``{%tr for row in rows %}`` … ``{%tr endfor %}``: the whole table row holding the tag becomes the
  tag, so the rows between repeat (as in docxtpl); likewise ``{%p …%}`` replaces its paragraph,
  ``{%tc …%}`` its cell and ``{%r …%}`` its run;
- inside tags, XML entities (``&lt;`` …) are unescaped and Word's typographic quotes (“ ” ‘ ’) become
  plain quotes.
"""

from __future__ import annotations

import html
import re

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_P, _W_T = f"{{{W}}}p", f"{{{W}}}t"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ANCESTOR = {kind: f"{{{W}}}{kind}" for kind in ("tr", "tc", "p", "r")}

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_STRUCTURAL = re.compile(r"\{%-?(tr|tc|p|r)\s+(.*?)\s*-?%\}", re.DOTALL)
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_PLACEHOLDER = re.compile(r"<\?grantflow-jinja (\d+)\?>")
_PARSER = etree.XMLParser(resolve_entities=False, remove_blank_text=False, huge_tree=True)


def has_tags(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def jinja_source(xml: bytes) -> str | None:
    """The Jinja source for one Word part, or None when the part holds no tags."""
    if b"{" not in xml:
        return None
    root = etree.fromstring(xml, _PARSER)
    for paragraph in root.iter(_W_P):
        _merge_split_tags(paragraph)
    tags = _replace_structural_tags(root)
    source = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True).decode("utf-8")
    source = _PLACEHOLDER.sub(lambda m: tags[int(m.group(1))], source)
    source = TAG.sub(lambda m: html.unescape(m.group(0)), source)
    return source if has_tags(source) else None


def plain_source(xml: bytes) -> str | None:
    """The Jinja source of a part without Word runs (docProps/core.xml), or None without tags."""
    text = xml.decode("utf-8")
    if not has_tags(text):
        return None
    return TAG.sub(lambda m: html.unescape(m.group(0)).translate(_QUOTES), text)


def _own_texts(paragraph: etree._Element) -> list[etree._Element]:
    """The <w:t> of this paragraph, not of paragraphs nested in it (text boxes)."""
    return [t for t in paragraph.iter(_W_T) if _nearest_paragraph(t) is paragraph]


def _nearest_paragraph(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != _W_P:
        parent = parent.getparent()
    return parent


def _merge_split_tags(paragraph: etree._Element) -> None:
    """Move every tag that spans several <w:t> into the first of them, whole."""
    texts = _own_texts(paragraph)
    if not texts:
        return
    pieces = [t.text or "" for t in texts]
    full = "".join(pieces)
    if "{" not in full:
        return
    starts, offset = [], 0
    for piece in pieces:
        starts.append(offset)
        offset += len(piece)

    def locate(position: int) -> int:
        index = 0
        while index + 1 < len(starts) and starts[index + 1] <= position:
            index += 1
        return index

    for match in reversed(list(TAG.finditer(full))):
        token = match.group(0).translate(_QUOTES)
        first, last = locate(match.start()), locate(match.end() - 1)
        begin, end = match.start() - starts[first], match.end() - starts[last]
        if first == last:
            pieces[first] = pieces[first][:begin] + token + pieces[first][end:]
        else:
            pieces[last] = pieces[last][end:]
            for middle in range(first + 1, last):
                pieces[middle] = ""
            pieces[first] = pieces[first][:begin] + token
        texts[first].set(_XML_SPACE, "preserve")
    for element, piece in zip(texts, pieces, strict=True):
        element.text = piece


def _replace_structural_tags(root: etree._Element) -> list[str]:
    """Replace each row/cell/paragraph/run holding a ``{%tr …%}``-style tag by a placeholder."""
    tags: list[str] = []
    for text in list(root.iter(_W_T)):
        found = _STRUCTURAL.search(text.text or "")
        if not found:
            continue
        kind, body = found.groups()
        element = text
        while element is not None and element.tag != _ANCESTOR[kind]:
            element = element.getparent()
        if element is None or element.getparent() is None:
            continue  # not inside such an element, or already replaced with an outer one
        placeholder = etree.ProcessingInstruction("grantflow-jinja", str(len(tags)))
        placeholder.tail = element.tail
        element.getparent().replace(element, placeholder)
        tags.append("{% " + body + " %}")
    return tags
