"""The Content page and the token holders in headless Chromium on the demo database, as
tests/test_browser.py serves it: the galleries load real pictures, broken or hostile image values
become placeholders (never a javascript: URL anywhere in the page), and the holders' charts draw.
Screenshots go to test-artifacts/."""

# The shared fixtures are imported by name, so pytest finds them; tests then take them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_browser import (  # noqa: F401 — fixtures, shared with the main browser tests
    _screenshot,
    accounts,
    browser,
    demo_data_dir,
    page,
    server,
    viewer_context,
)

pytestmark = pytest.mark.browser

# Every attribute of every element, searched for a script URL (in any letter case, after spaces).
_SCRIPT_URLS_JS = """() => {
    const found = [];
    for (const element of document.querySelectorAll('*')) {
        for (const attribute of element.attributes) {
            const value = attribute.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
            if (value.includes('javascript:') || value.includes('vbscript:')) {
                found.push(element.tagName + ' ' + attribute.name + '=' + attribute.value.slice(0, 80));
            }
        }
    }
    return found;
}"""
_LOADED_PICTURES_JS = """(selector) => [...document.querySelectorAll(selector)]
    .filter((img) => img.complete && img.naturalWidth > 0).length"""


def _settled(page) -> None:
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)


def _open_tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    panel = page.get_by_role("tabpanel", name=name)
    panel.locator(".lillo-picture").first.wait_for(timeout=60_000)
    # Pictures load lazily: wait until the first ones have arrived.
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.lillo-picture img')]"
        ".filter((img) => img.complete && img.naturalWidth > 0).length >= n",
        arg=6,
        timeout=60_000,
    )
    return panel


def test_galleries_show_real_pictures_and_refuse_bad_urls(server, page):
    page.goto(f"{server}/content?range=all")
    page.get_by_role("heading", name="Content").wait_for(timeout=120_000)
    _settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    # Posts: the chart draws bars; the newest posts' bad image values are refused, not loaded.
    page.locator('[data-testid="stPlotlyChart"] g.point').first.wait_for(timeout=60_000)

    panel = _open_tab(page, "Illustrations")
    pictures = panel.locator(".lillo-picture")
    assert pictures.count() == 24  # one page of the gallery
    loaded = page.evaluate(_LOADED_PICTURES_JS, '[role="tabpanel"] .lillo-picture img')
    assert loaded >= 12
    refused = [text.strip() for text in panel.locator(".lillo-refused").all_inner_texts()]
    # Among the demo's 40 illustrations are an empty, a relative, a javascript: and a 100 KB URL.
    assert refused, "the demo's bad image values should be on the first page"
    assert "javascript: URLs are never shown" in refused  # as text: the reason, never the URL
    assert page.evaluate(_SCRIPT_URLS_JS) == []
    _screenshot(page, "content-gallery")

    # Open one with a picture: the full picture, its prompt and caption, every column of the row.
    picture = page.locator('.lillo-picture img[src^="data:"]')
    with_picture = panel.locator('[data-testid="stColumn"]', has=picture)
    with_picture.first.get_by_role("button", name="Open").click()
    dialog = page.locator('[data-testid="stDialog"]')
    dialog.get_by_text("Prompt").wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stDialog\"] .lillo-picture img')]"
        ".some((img) => img.complete && img.naturalWidth > 0)",
        timeout=30_000,
    )
    assert "Every column of the row" in dialog.inner_text()
    _screenshot(page, "content-gallery-open")
    page.keyboard.press("Escape")

    panel = _open_tab(page, "Gerta poses")
    assert page.evaluate(_LOADED_PICTURES_JS, '[role="tabpanel"] .lillo-picture img') >= 12
    assert page.evaluate(_SCRIPT_URLS_JS) == []
    _screenshot(page, "content-poses")


def test_a_picture_that_fails_to_load_shows_the_placeholder(server, page):
    """The demo's 404 URL passes the allow-list, fails in the browser, and leaves the placeholder
    drawn behind it: the broken <img> paints nothing of its own."""
    page.goto(f"{server}/content?range=all")
    page.get_by_role("heading", name="Content").wait_for(timeout=120_000)
    _settled(page)
    page.get_by_role("tab", name="Posts").click()
    page.locator(".lillo-picture").first.wait_for(timeout=60_000)
    # Read the newest post in full: its image is the demo's 404.
    broken = page.locator('.lillo-picture img[src="https://httpbin.org/status/404"]').first
    broken.wait_for(state="attached", timeout=30_000)
    page.wait_for_function(
        "() => { const img = document.querySelector('.lillo-picture img[src=\"https://httpbin.org/status/404\"]');"
        " return img && img.complete; }",
        timeout=60_000,
    )
    assert broken.evaluate("(img) => img.naturalWidth") == 0
    content = broken.evaluate("(img) => getComputedStyle(img, '::before').content")
    assert content not in ("none", "normal")  # the placeholder covers the broken image
    assert page.evaluate(_SCRIPT_URLS_JS) == []
    _screenshot(page, "content-posts")


def test_people_shows_token_holders(server, page):
    page.goto(f"{server}/people?range=all")
    page.get_by_role("heading", name="Token holders").wait_for(timeout=120_000)
    _settled(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.nth(1).locator("g.point").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Token holders" in main and "Unusable balances" in main
    assert charts.nth(0).locator("g.point").count() >= 5  # balance bands, the unusable ones too
    assert charts.nth(1).locator("g.point").count() >= 2
    _screenshot(page, "people-token-holders")
    with page.expect_download() as download:
        page.locator(".st-key-csv-token_holders").get_by_text("Download CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    holders = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert holders and all(h["first_name"].startswith("Person ") for h in holders)  # a viewer's pseudonyms
    assert all(not h["wallet_address"] or "…" in h["wallet_address"] for h in holders)
    statuses = {h["balance_status"] for h in holders}
    assert {"ok", "not a number", "empty", "too large"} <= statuses
