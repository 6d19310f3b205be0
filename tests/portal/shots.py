"""Screenshots of the browser tests, to look at: into ``$GRANTFLOW_SHOTS`` when it is set, else
into the test's temporary folder (written either way, so a broken page cannot break the writing)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page


def shoot(page: Page, name: str, folder: Path, *, selector: str = "") -> Path:
    """A full-page PNG of ``page`` (or of the element ``selector``) named ``name``."""
    target = Path(os.environ.get("GRANTFLOW_SHOTS") or folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    return path
