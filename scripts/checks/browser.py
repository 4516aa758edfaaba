"""The console as its users meet it, in a real headless Chromium (Debian's, driven by Playwright).

Every demo account signs in through the login form, then opens its workbench and each page of its
menu, at 1280x800 and at 360x740 (a phone). A page fails on: an error status, a raw JSON body, a
console error or an uncaught script error, content wider than the viewport (the page scrolls
sideways instead of its tables), or an English sentence on a Chinese page. A screenshot of every
page is written to the artefact folder.

Arguments: base URL, the demo accounts file (user, password, role per line, tab-separated), the
admin's password, the artefact folder, and optionally the Chromium executable.
"""
import pathlib
import re
import sys
import time

from playwright.sync_api import sync_playwright

base, accounts_file, admin_pw, out = sys.argv[1:5]
chromium = sys.argv[5] if len(sys.argv) > 5 else "/usr/bin/chromium"
out = pathlib.Path(out)
out.mkdir(parents=True, exist_ok=True)

accounts = [("admin", admin_pw, "超级管理员")]
for line in open(accounts_file, encoding="utf-8").read().splitlines():
    cols = line.split("\t")
    if len(cols) >= 3:
        accounts.append((cols[0], cols[1], cols[2]))

SIZES = [(1280, 800), (360, 740)]
# Four or more English words in a row: a sentence a Chinese reader should not meet. Names the
# platform shows as they are (codes, table and column names, API paths) are in code elements.
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:,? [a-z]{2,}){3,}\b")
VISIBLE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('code, pre, script, style, textarea, [translate=no]').forEach(e => e.remove());
  return copy.innerText || '';
}"""
# Chromium's own notices about the page, not the page's errors.
NOISE = ("favicon.ico",)

failures = []
pages_seen = 0


def fail(user, path, width, why):
    failures.append(f"{user} {path} @{width}px: {why}")


def check(page, user, path, width, status, errors):
    if status >= 400:
        fail(user, path, width, f"status {status}")
    body = page.inner_text("body").strip()
    if body.startswith("{") and '"code"' in body:
        fail(user, path, width, "a raw JSON body")
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width + 1:
        fail(user, path, width, f"{wide}px wide in a {width}px viewport")
    for e in errors:
        if not any(n in e for n in NOISE):
            fail(user, path, width, f"console: {e[:200]}")
    if page.evaluate("document.documentElement.lang") == "zh-CN":
        for m in ENGLISH.finditer(page.evaluate(VISIBLE_TEXT)):
            fail(user, path, width, f"English on a Chinese page: {m.group(0)[:120]!r}")
            break


started = time.monotonic()
with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path=chromium,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    for user, pw, role in accounts:
        for width, height in SIZES:
            ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
            ctx.set_default_timeout(60_000)
            page = ctx.new_page()
            errors = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/login")
            page.fill("#username", user)
            page.fill("#password", pw)
            with page.expect_navigation():
                page.click("button[type=submit]")
            if "/login" in page.url:
                fail(user, "/login", width, f"cannot sign in as {role}")
                ctx.close()
                continue
            links = page.eval_on_selector_all(
                "nav.side a", "els => els.map(e => e.getAttribute('href'))"
            )
            # The workbench's first case (a task to act on, or an applicant's own case) too.
            cases = page.eval_on_selector_all(
                "main a[href^='/cases/']", "els => els.map(e => e.getAttribute('href'))"
            )
            paths = list(
                dict.fromkeys(["/home"] + [h for h in links if h and h.startswith("/")] + cases[:1])
            )
            if len(paths) < 2:
                fail(user, "/home", width, f"the menu of {role} is empty")
            for path in paths:
                errors.clear()
                resp = page.goto(base + path)
                page.wait_for_load_state("load")
                check(page, user, path, width, resp.status if resp else 0, list(errors))
                slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
                page.screenshot(path=str(out / f"{user}-{slug}-{width}.png"))
                pages_seen += 1
            ctx.close()
    browser.close()

print(
    f"{len(accounts)} accounts, {pages_seen} page views in {time.monotonic() - started:.0f} s; "
    f"screenshots in {out}"
)
if failures:
    print(f"{len(failures)} problems:")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("every page passed")
