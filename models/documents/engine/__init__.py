"""The compile-once .docx engine: a template is compiled once per file hash and only
``word/document.xml``, headers, footers and core properties are rendered into a pre-built zip.

``docx`` (compile and render), ``source`` (split-run repair and ``{%tr/p/tc/r %}`` tags),
``zipfile`` (a small zip writer over pre-built parts), ``templating`` (the template-role registry
and the Jinja sandbox shared with letters), ``cn_format`` (Chinese dates and amounts) and
``charts`` (PNG charts in Noto Sans CJK SC). It knows nothing of competitions: it imports only
the kernel's errors, money and settings, so it could be published as its own library.
"""
