"""Word documents. ``engine/`` is the compile-once .docx engine (it knows nothing of
competitions and imports nothing from models but the kernel's errors, money and settings);
``registry`` is the document roles (``DOCUMENTS``, keys and samples in ``roles_*`` and
``application_form``), ``render_document`` / ``write_document``; ``tables`` is the
``GeneratedDocument`` table (the registry's record of every file, importable without the engine)
and the 文号 registry's tables; ``numbering`` gives each numbered paper its 文号, once.
Uses the kernel and competition.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("registry", "tables", "numbering", "application_form", "roles_selection", "roles_grants")
