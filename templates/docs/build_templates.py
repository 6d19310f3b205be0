"""Author the Word templates of templates/docs/ with python-docx, in the official layout (GB/T 9704).

Run from the project folder:

    .venv/bin/python templates/docs/build_templates.py            # every role
    .venv/bin/python templates/docs/build_templates.py receipt    # some roles

The .docx files it writes are the templates: they are committed, and an administrator may edit
them in Word afterwards (the engine repairs the runs Word splits). The output is byte-for-byte the
same on every run; ``tests/models/test_document_roles.py`` checks that the committed files match.
One builder per role (``build_*.py``); the keys each may use are declared in
``models/documents/registry.py`` (and its ``roles_*`` modules).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import build_application_form  # noqa: E402
import build_grants  # noqa: E402
import build_selection  # noqa: E402
from gbt9704 import OfficialDocument  # noqa: E402

from models.documents.registry import DOCUMENTS  # noqa: E402

BUILDERS: dict[str, Callable[[OfficialDocument], None]] = {
    "application_form": build_application_form.build,
    **build_selection.BUILDERS,
    **build_grants.BUILDERS,
}


def build(directory: Path = HERE, names: Iterable[str] = ()) -> list[Path]:
    """Write the template of every role (or of the roles named) into ``directory``."""
    wanted = set(names)
    unknown = wanted - set(BUILDERS)
    if unknown:
        raise SystemExit(f"no such document role: {', '.join(sorted(unknown))}")
    written = []
    for role in DOCUMENTS:
        if wanted and role.name not in wanted:
            continue
        document = OfficialDocument(
            role.title, role.purpose, landscape=role.name in build_selection.LANDSCAPE
        )
        if "project_title" in role.keys:
            document.doc.core_properties.subject = "{{ project_title }}"
        BUILDERS[role.name](document)
        path = directory / Path(role.template).name
        document.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build(names=sys.argv[1:]):
        print(path.relative_to(HERE.parent.parent))
