"""Debian's Chromium, headless, driven by Playwright (no browser download: /usr/bin/chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}

# Pages arrive in seconds, not milliseconds, when the machine's cores are shared (a full suite beside
# other work): an expectation waits up to 15 s for what it expects before it fails.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


DESKTOP = {"width": 1280, "height": 800}
MIN_TARGET = 44  # px: every control, link and summary a finger may tap (a radio or checkbox: its label)
MIN_TEXT = 16  # px: every text on the page, a control's own text included

# Measured in the page with getBoundingClientRect and computed styles. A thing not on the screen
# (display:none, zero size, moved off to the left like the honeypot and the Enter button, or in a
# closed <details>) is not measured; everything else is.
_MEASURE = """
() => {
  const problems = [];
  const page = document.documentElement;
  const shown = (el, rect) => {
    if (rect.width === 0 || rect.height === 0 || rect.right <= 0 || rect.bottom <= 0) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && !el.closest('[aria-hidden=true]');
  };
  const classes = el => typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes(el) +
    ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const targets = 'a[href], button, input, select, textarea, summary, [tabindex]';
  for (const el of document.querySelectorAll(targets)) {
    if (el.type === 'hidden') continue;
    let target = el;
    if ((el.type === 'radio' || el.type === 'checkbox') && el.closest('label')) target = el.closest('label');
    const rect = target.getBoundingClientRect();
    if (!shown(target, rect)) continue;
    if (rect.width < 43.5 || rect.height < 43.5)
      problems.push(`target ${name(target)} ${rect.width.toFixed(1)}×${rect.height.toFixed(1)}`);
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName) && size < 15.5)
      problems.push(`control text ${name(el)} ${size}px`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('script, style, option')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rect = range.getBoundingClientRect();
    if (!shown(el, rect)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 15.5) problems.push(`text ${name(el)} ${size}px`);
  }
  for (const el of document.querySelectorAll('td, th')) {  // a label written by CSS (a stacked table)
    const before = getComputedStyle(el, '::before');
    if (before.content && before.content !== 'none' && before.content !== 'normal' && before.content !== '""'
        && shown(el, el.getBoundingClientRect()) && parseFloat(before.fontSize) < 15.5)
      problems.push(`label text ${name(el)} ${before.fontSize}`);
  }
  if (page.scrollWidth > window.innerWidth) problems.push(`the page scrolls sideways: ${page.scrollWidth}px`);
  for (const el of document.querySelectorAll('body *')) {
    if (el.scrollWidth <= el.clientWidth + 1 || !shown(el, el.getBoundingClientRect())) continue;
    const overflow = getComputedStyle(el).overflowX;
    if (overflow !== 'auto' && overflow !== 'scroll') continue;
    const hint = el.previousElementSibling;
    const says = el.dataset.scrolls === 'true' && hint && hint.classList.contains('scroll-hint')
      && shown(hint, hint.getBoundingClientRect());
    if (!says) problems.push(`scrolls sideways without saying so: ${name(el)}`);
  }
  return problems;
}
"""


def ergonomic_problems(page: Page) -> list[str]:
    """What on the page breaks the phone rules (MIN_TARGET, MIN_TEXT, no sideways scroll except a
    table that says it scrolls); [] when none."""
    return list(page.evaluate(_MEASURE))
