"""Word documents, compiled once and rendered many times.

A template is a .docx holding Jinja tags (``{{ name }}``, ``{%tr for row in rows %}`` …). Loading it
(``load_docx``, cached by the sha256 of the file) reads the package once, repairs tags that Word split
over several runs and compiles the Jinja source of ``word/document.xml`` — and of the headers, footers
and ``docProps/core.xml`` where they hold tags (``models/docx_source.py``). Every other part is written
once into a pre-built zip. Rendering (``CompiledDocx.render``) runs only the compiled templates and
appends their output to a copy of that zip: no parsing, no recompiling per document.

Values are data, never code: autoescape is on, characters XML 1.0 forbids are stripped
(``clean_text``), template syntax inside a value is printed as it is, the templates run in Jinja's
``SandboxedEnvironment`` and a missing key raises ``TemplateError`` naming the key and the template.
A line break in a value becomes ``<w:br/>``, a tab ``<w:tab/>``. An ``InlineImage`` (PNG bytes and a
width) printed alone in a paragraph of ``word/document.xml`` becomes a picture: a media part, a
relationship and a ``<w:drawing>``.

Filters (``models/cn_format.py``): ``cn_date`` (2025年3月1日), ``cn_datetime`` (2025年2月28日17:00),
``yuan`` (fen → 12,000.00; the template writes 元 after it, never ¥ before), ``yuan_capitals``
(fen → 人民币壹万贰仟元整), ``title_lines`` (a title broken between phrases, ``titles.py``).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import markupsafe
from jinja2 import Template, meta
from jinja2.exceptions import SecurityError, TemplateRuntimeError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from models.documents.engine.cn_format import FILTERS
from models.documents.engine.source import jinja_source, plain_source
from models.documents.engine.templating import TemplateError, clean_text, explain_undefined, sandbox
from models.documents.engine.zipfile import Entry, PrebuiltZip

_WORD_PART = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
_CORE = "docProps/core.xml"
_DOCUMENT_RELS = "word/_rels/document.xml.rels"
_CONTENT_TYPES = "[Content_Types].xml"
# the C escaper behind markupsafe.escape (markupsafe ≥ 2.1)
_escape_inner: Callable[[str], str] = markupsafe._escape_inner  # type: ignore[attr-defined]
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
_EMU_PER_MM = 36000
_CACHE_SIZE = 64


# ---- values ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class InlineImage:
    """A picture (a chart) to print with ``{{ key }}``: PNG bytes, printed ``width_mm`` wide."""

    png: bytes
    width_mm: float
    description: str = ""

    def __post_init__(self) -> None:
        if self.png[:8] != b"\x89PNG\r\n\x1a\n" or self.png[12:16] != b"IHDR":
            raise TemplateError("图片须为PNG格式 / an InlineImage must hold PNG bytes")
        if not 0 < self.width_mm <= 500:
            raise TemplateError(f"图片宽度不合理 / image width {self.width_mm} mm is out of range")

    @property
    def pixels(self) -> tuple[int, int]:
        width, height = struct.unpack(">II", self.png[16:24])
        return width, height


class _Media:
    """The pictures printed while one document renders."""

    def __init__(self) -> None:
        self.images: list[tuple[str, str, InlineImage]] = []  # (relationship id, part name, image)
        self._seen: dict[int, tuple[str, int]] = {}  # id(image) -> (relationship id, number)
        self._drawings = 0  # every drawing needs its own docPr id, even of the same picture

    def markup(self, image: InlineImage) -> Markup:
        if id(image) not in self._seen:
            number = len(self.images) + 1
            rid = f"rIdGrantflowImage{number}"
            self.images.append((rid, f"word/media/grantflow-image{number}.png", image))
            self._seen[id(image)] = (rid, number)
        rid, number = self._seen[id(image)]
        self._drawings += 1
        width_px, height_px = image.pixels
        cx = round(image.width_mm * _EMU_PER_MM)
        cy = round(cx * height_px / max(width_px, 1))
        description = escape(clean_text(image.description))
        return Markup(
            '</w:t></w:r><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0" '
            'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{4000 + self._drawings}" name="图片 {number}" '
            f'descr="{description}"/><wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"/></wp:cNvGraphicFramePr>'
            '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:nvPicPr><pic:cNvPr id="{number}" name="grantflow-image{number}.png"/><pic:cNvPicPr/>'
            '</pic:nvPicPr><pic:blipFill><a:blip r:embed="' + rid + '" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
            '<a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
            "</pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
            '<w:r><w:t xml:space="preserve">'
        )


_MEDIA: ContextVar[_Media | None] = ContextVar("grantflow_docx_media", default=None)


def _markup(text: str) -> Markup:
    """Mark text as escaped already (``str.__new__`` skips Markup's slower Python constructor)."""
    return str.__new__(Markup, text)


def _text_of(value: Any) -> str:
    """A printed value as escaped XML text (already-escaped Markup, from ``join``, is only cleaned)."""
    if isinstance(value, Markup):
        return clean_text(str.__str__(value))
    return str.__str__(escape(clean_text(value if isinstance(value, str) else str(value))))


def _word_value(value: Any) -> Any:
    """How ``{{ value }}`` prints inside a ``<w:t>``: cleaned, escaped, line breaks as <w:br/>.

    The common cases are fast: a text without control characters (``isprintable``: no character XML
    forbids, no line break, no tab) and a number are returned as they are, and autoescape escapes them.
    """
    kind = type(value)
    if kind is str and value.isprintable():
        return value
    if kind is int or kind is Decimal:  # digits, sign and point only
        return str(value)
    if value is None:
        return ""
    if isinstance(value, InlineImage):
        media = _MEDIA.get()
        if media is None:  # pragma: no cover - render() always sets it
            raise TemplateError("图片只能在渲染文档时输出 / an image prints only while a document renders")
        return media.markup(value)
    text = _text_of(value)
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", _BREAK)
    if "\t" in text:
        text = text.replace("\t", _TAB)
    return _markup(text)


def _plain_value(value: Any) -> Any:
    """How ``{{ value }}`` prints in document properties: cleaned, escaped, on one line."""
    if value is None:
        return ""
    if isinstance(value, InlineImage):
        value = value.description
    return _markup(" ".join(_text_of(value).split()))


def _escape(value: Any) -> Markup:
    """``markupsafe.escape`` for the compiled templates: the same result, without Markup's Python
    constructor in the common case (a plain str from ``_word_value``) — a third of rendering time."""
    if type(value) is str:
        return str.__new__(Markup, _escape_inner(value))
    if type(value) is Markup:
        return value
    return escape(value)


class WordSandbox(SandboxedEnvironment):
    """Jinja's sandbox, looking up a dict's keys before its attributes.

    Table rows are dicts: ``row.title`` would otherwise try ``getattr`` first and raise and catch an
    AttributeError for every cell. A key is data, so this gives nothing the sandbox did not allow
    (``row["title"]``); attributes of every other object still go through the sandbox's checks.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _environment(finalize: Callable[[Any], Any]) -> SandboxedEnvironment:
    """``templating.sandbox`` (autoescape, StrictUndefined …) as a WordSandbox, with our filters."""
    env = sandbox(autoescape=True)
    word_env = WordSandbox(**{name: getattr(env, name) for name in _ENVIRONMENT_OPTIONS})
    word_env.finalize = finalize
    word_env.filters.update(FILTERS)
    return word_env


_ENVIRONMENT_OPTIONS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "undefined",
    "autoescape",
)


WORD_ENV = _environment(_word_value)
PLAIN_ENV = _environment(_plain_value)


# ---- the compiled template ---------------------------------------------------------------------


class CompiledDocx:
    """One .docx template, read and compiled once; ``render(context)`` gives a document's bytes."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        self.sha256 = hashlib.sha256(data).hexdigest()
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                parts = {info.filename: package.read(info) for info in package.infolist()}
        except zipfile.BadZipFile as exc:
            raise TemplateError(f"模板不是有效的docx / template {name} is not a .docx: {exc}") from None
        if "word/document.xml" not in parts:
            raise TemplateError(f"模板缺少正文 / template {name} has no word/document.xml")
        self.sources: dict[str, str] = {}
        self._templates: dict[str, Template] = {}
        for part, xml in parts.items():
            if _WORD_PART.match(part):
                source, env = jinja_source(xml), WORD_ENV
            elif part == _CORE:
                source, env = plain_source(xml), PLAIN_ENV
            else:
                continue
            if source is not None:
                self.sources[part] = source
                self._templates[part] = self._compile(env, source, part)
        parts[_CONTENT_TYPES] = _with_png_type(parts[_CONTENT_TYPES])
        self._media_names = {p for p in parts if p.startswith("word/media/")}
        self._relationships = parts.get(_DOCUMENT_RELS)
        unchanged = [p for p in parts if p not in self._templates and p != _DOCUMENT_RELS]
        self._prebuilt = PrebuiltZip((p, parts[p], _deflate(p)) for p in unchanged)

    def _compile(self, env: SandboxedEnvironment, source: str, part: str) -> Template:
        try:
            template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                f"模板语法错误 / template {self.name} ({part}), line {exc.lineno}: {exc.message}"
            ) from None
        # autoescape stays on: the generated code calls ``escape`` on every value; give it ours
        template.root_render_func.__globals__["escape"] = _escape
        return template

    def used_keys(self) -> set[str]:
        """Every top-level name the template parts use."""
        used: set[str] = set()
        for part, source in self.sources.items():
            env = PLAIN_ENV if part == _CORE else WORD_ENV
            used |= meta.find_undeclared_variables(env.parse(source))
        return used

    def render_xml(self, context: Mapping[str, Any]) -> tuple[dict[str, str], _Media]:
        """The rendered text of each templated part (and the pictures it printed)."""
        media = _Media()
        token = _MEDIA.set(media)
        part = ""
        try:
            rendered = {}
            for part, template in self._templates.items():
                rendered[part] = template.render(context)
        except UndefinedError as exc:
            raise explain_undefined(exc, f"{self.name} ({part})") from None
        except SecurityError as exc:
            raise TemplateError(f"模板越权访问 / template {self.name} ({part}): {exc}") from None
        except TemplateError as exc:  # a filter refused a value
            raise TemplateError(f"{exc} — {self.name} ({part})") from None
        except (TemplateRuntimeError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateError(
                f"模板渲染失败 / template {self.name} ({part}): {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            _MEDIA.reset(token)
        return rendered, media

    def render(self, context: Mapping[str, Any]) -> bytes:
        """A finished .docx for one context."""
        rendered, media = self.render_xml(context)
        return self.package(rendered, media)

    def package(self, rendered: Mapping[str, str], media: _Media | None = None) -> bytes:
        """Append rendered parts (and pictures) to the pre-built zip of the unchanged parts."""
        entries: list[Entry] = [(part, xml.encode("utf-8"), True) for part, xml in rendered.items()]
        relationships = self._relationships
        if media is not None and media.images:
            relationships = self._add_pictures(entries, media)
        if relationships is not None:
            entries.append((_DOCUMENT_RELS, relationships, True))
        return self._prebuilt.build(entries)

    def _add_pictures(self, entries: list[Entry], media: _Media) -> bytes:
        relations = []
        for rid, part, image in media.images:
            if part in self._media_names:
                raise TemplateError(f"模板已有同名图片 / template {self.name} already holds {part}")
            entries.append((part, image.png, False))
            relations.append(
                f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/officeDocument/'
                f'2006/relationships/image" Target="{part.removeprefix("word/")}"/>'
            )
        text = (self._relationships or b"").decode("utf-8")
        if "</Relationships>" not in text:
            text = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                '"http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
            )
        return text.replace("</Relationships>", "".join(relations) + "</Relationships>").encode("utf-8")


def _deflate(part: str) -> bool:
    """Pictures and other media are compressed already."""
    return not part.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf"))


def _with_png_type(content_types: bytes) -> bytes:
    text = content_types.decode("utf-8")
    if 'Extension="png"' in text:
        return content_types
    default = '<Default Extension="png" ContentType="image/png"/>'
    return text.replace("</Types>", default + "</Types>", 1).encode("utf-8")


# ---- loading, cached by the file's hash --------------------------------------------------------

_compiled: dict[str, CompiledDocx] = {}  # sha256 of the file -> compiled template
_seen_files: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)


def compile_docx(data: bytes, name: str = "<bytes>") -> CompiledDocx:
    """The compiled template for these bytes (compiled once per distinct content)."""
    digest = hashlib.sha256(data).hexdigest()
    compiled = _compiled.get(digest)
    if compiled is None:
        compiled = CompiledDocx(data, name)
        if len(_compiled) >= _CACHE_SIZE:
            _compiled.pop(next(iter(_compiled)))
        _compiled[digest] = compiled
    return compiled


def load_docx(path: Path | str) -> CompiledDocx:
    """The compiled template of a .docx file; re-read only when the file changes."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise TemplateError(f"模板文件不存在 / template file not found: {path}") from None
    known = _seen_files.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        compiled = _compiled.get(known[2])
        if compiled is not None:
            return compiled
    data = path.read_bytes()
    compiled = compile_docx(data, name=path.name)
    _seen_files[path] = (stat.st_mtime_ns, stat.st_size, compiled.sha256)
    return compiled


def render_docx(path: Path | str, context: Mapping[str, Any]) -> bytes:
    return load_docx(path).render(context)
