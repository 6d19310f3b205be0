import os
from pathlib import Path

from playwright.sync_api import expect

from portal.serving import serve_in_background
from tests.portal.admin.console_world import PASSWORDS, SLUG

OUT = Path("/tmp/cp/shots")


def test_shots(console, browser):
    OUT.mkdir(parents=True, exist_ok=True)
    pages = os.environ.get(
        "PAGES", "outbox,outbox/release,documents,people,people/experts/1,people/supervisors/1,year,letters/1"
    ).split(",")
    with serve_in_background(console.app) as base:
        for width in (1280, 768):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
            page = context.new_page()
            messages = []
            page.on("console", lambda m: messages.append(m.text))
            page.goto(f"{base}/admin/login")
            page.fill("#name", "lin")
            page.fill("#password", PASSWORDS["lin"])
            page.click("#login")
            expect(page.locator("#main")).to_be_visible()
            for path in pages:
                page.goto(f"{base}/admin/c/{SLUG}/{path}")
                page.wait_for_timeout(300)
                name = path.replace("/", "_").replace("?", "_")
                page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)
                sw = page.evaluate("document.documentElement.scrollWidth")
                print(path, width, sw)
            print(messages)
            context.close()
