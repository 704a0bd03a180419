"""Opens the edge's /docs in headless Chromium as a person would: the page
lists the routes of all four services, "Authorize" takes a bearer token,
and "Try it out" of GET /api/me shows 200, read from the page itself.

Usage: docs.py URL TOKEN SCREENSHOT  (exit 0 when everything held)
Driven by edge/tests/http/docs_browser.rs with Debian's chromium.
"""

import os
import sys

from playwright.sync_api import expect, sync_playwright

# Without these, Chromium reaches for Google's hosts, which this machine's
# closed network refuses, many at a time.
QUIET = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(url: str, token: str, screenshot: str) -> None:
    chromium = os.environ.get("KURSI_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=QUIET)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.set_default_timeout(30_000)
        try:
            check(page, url, token)
        except Exception:
            page.screenshot(path=screenshot, full_page=False)
            op = page.locator("#operations-AuthService-AuthService_GetMe")
            if op.count():
                print(op.inner_text()[:3000], file=sys.stderr)
            raise
        page.screenshot(path=screenshot, full_page=False)
        browser.close()
    print(f"/docs: 4 services listed, GET /api/me answered 200 on the page; screenshot {screenshot}")


def check(page, url: str, token: str) -> None:
    page.goto(url)

    # Every service's operations are listed, tagged by service.
    for service in ["AuthService", "ReservationService", "CatalogService", "OrderService"]:
        expect(page.locator(f"#operations-tag-{service}")).to_be_visible()

    # Authorize with the bearer token.
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()

    # Try GET /api/me and read the answer's status from the page.
    me = page.locator("#operations-AuthService-AuthService_GetMe")
    me.locator(".opblock-summary").click()
    # /docs opens with "Try it out" on; a Swagger UI without it shows the button.
    try_out = me.locator("button.try-out__btn")
    if try_out.inner_text().strip() == "Try it out":
        try_out.click()
    me.locator("button.execute").click()
    status = me.locator(".live-responses-table tr.response .response-col_status").first
    expect(status).to_have_text("200", timeout=30_000)
    body = me.locator(".live-responses-table .microlight").first.inner_text()
    if '"user_id"' not in body:
        raise SystemExit(f"the page showed no user in GET /api/me's answer: {body[:300]}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
