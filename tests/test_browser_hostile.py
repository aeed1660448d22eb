"""Hostile rows in a real browser: messages, names, commands and user data holding `<script>`,
`<img onerror>`, Markdown links, bidirectional controls, zero-width characters and a 1 MB message
(tests/test_hostile_input.py's `add_hostile_rows`) are shown as text. The app runs as `make run`
serves it, on a test database holding those rows; screenshots go to test-artifacts/hostile-*.png."""

from __future__ import annotations

import time

import pytest

from dashboard.app_server import running_app
from tests.accounts import ACCOUNTS
from tests.databases import prepared
from tests.test_browser import _screenshot, _settled, _sign_in, browser  # noqa: F401 (a fixture)
from tests.test_hostile_input import (
    BIDI,
    BIG,
    HOSTILE_AGENT,
    HOSTILE_CHAT,
    HOSTILE_USER,
    IMG,
    LINK_NAME,
    MD_LINK,
    SCRIPT,
    ZWJ,
    add_hostile_rows,
)

pytestmark = pytest.mark.browser

# Whether anything the data holds ran, or became markup the browser acts on.
_INJECTED = """() => ({
    pwned: typeof window.__pwned !== 'undefined',
    scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__pwned')).length,
    images: document.querySelectorAll('img[onerror], img[src="x"]').length,
    javascript_links: [...document.querySelectorAll('a[href], a')]
        .filter(a => (a.getAttribute('href') || a.getAttribute('xlink:href') || '')
            .trim().toLowerCase().startsWith('javascript:')).length,
    chart_links: [...document.querySelectorAll('.js-plotly-plot a')].map(a => a.outerHTML),
    data_links: [...document.querySelectorAll('a')]
        .filter(a => (a.getAttribute('href') || a.getAttribute('xlink:href') || '').includes('evil.example'))
        .map(a => a.outerHTML),
    page_width: document.documentElement.scrollWidth,
    main_width: document.querySelector('[data-testid="stMain"]')?.scrollWidth ?? 0,
    viewport: window.innerWidth,
})"""


@pytest.fixture(scope="module")
def server(new_database):
    url = prepared(new_database("hostile_browser"), seed=add_hostile_rows)
    with running_app({"DATABASE_URL": url}) as (base_url, _process):
        yield base_url


@pytest.fixture(scope="module")
def admin(browser, server):  # noqa: F811 (the imported fixture)
    """An admin's browser, so real names can be shown (a viewer sees pseudonyms)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _sign_in(page, server, ACCOUNTS["admin"])
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(admin, request):
    page = admin.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        _screenshot(page, f"FAILED-{request.node.name}")
    page.close()


def _open(page, url: str, ready: str) -> None:
    page.goto(url)
    page.locator(ready).first.wait_for(timeout=120_000)
    _settled(page)


def _toggle_pseudonyms(page, *, on: bool) -> None:
    """Turn "Pseudonymise people" on or off, as an admin may, and wait for the page to show it."""
    page.get_by_text("Pseudonymise people").click()
    page.wait_for_function(
        "on => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('Person ') === on",
        arg=on,
        timeout=60_000,
    )
    _settled(page)


def assert_inert(page) -> dict:
    found = page.evaluate(_INJECTED)
    assert not found["pwned"] and not page.dialogs, found
    assert found["scripts"] == 0 and found["images"] == 0, found
    assert found["javascript_links"] == 0, found
    assert page.locator('[data-testid="stException"]').count() == 0
    # The layout holds: nothing pushes the page sideways.
    assert found["page_width"] <= found["viewport"] and found["main_width"] <= found["viewport"], found
    return found


def test_transcript_shows_hostile_messages_and_names_as_text(server, page):
    _open(page, f"{server}/conversations?chat={HOSTILE_CHAT}", '[data-testid="stChatMessage"]')
    _toggle_pseudonyms(page, on=False)
    messages = page.locator('[data-testid="stChatMessage"]')
    assert messages.count() == 7
    text = page.locator('[data-testid="stMain"]').inner_text()
    for hostile in (SCRIPT, IMG, MD_LINK, BIDI.strip(), ZWJ.strip()):
        assert hostile in text, hostile
    assert "Person " not in text  # real names, so the hostile first names are on the page
    assert_inert(page)
    # The 1 MB message: its first 10,000 characters, wrapped within the page's width, and a note.
    big = page.locator('[data-testid="stText"]').filter(has_text="word199 word200").first
    box = big.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1440
    assert big.evaluate("e => e.textContent.length") == 10_000
    assert f"{len(BIG) - 10_000:,} more characters" in text
    # …and the page still answers: a rerun finishes promptly.
    started = time.monotonic()
    _toggle_pseudonyms(page, on=True)
    assert time.monotonic() - started < 30
    _screenshot(page, "hostile-transcript")


def test_chats_list_and_charts_hold_hostile_agent_names(server, page):
    _open(page, f"{server}/conversations?range=7d", '[data-testid="stDataFrame"]')
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    assert_inert(page)
    _screenshot(page, "hostile-chats")


def test_links_in_names_stay_text(server, page):
    _open(page, f"{server}/conversations?range=7d", '[data-testid="stPlotlyChart"] .main-svg')
    labels = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].map(e => e.textContent).join(' ')"
    )
    assert "phish" in labels  # the agent named with a link is in the reply latency chart
    links = page.evaluate(_INJECTED)["data_links"]
    _open(page, f"{server}/people?person={HOSTILE_USER}&range=all", '[data-testid="stDataFrame"]')
    links += page.evaluate(_INJECTED)["data_links"]  # the caption naming the agents they talk to
    assert links == []
    assert LINK_NAME in labels


def test_people_list_and_person_hold_hostile_names(server, page):
    _open(page, f"{server}/people", '[data-testid="stDataFrame"]')
    assert_inert(page)
    _screenshot(page, "hostile-people")
    _open(page, f"{server}/people?person={HOSTILE_USER}&range=all", '[data-testid="stDataFrame"]')
    _toggle_pseudonyms(page, on=False)
    assert_inert(page)
    assert IMG in page.locator('[data-testid="stMain"]').inner_text()
    _screenshot(page, "hostile-person")


def test_search_quotes_hostile_text_as_text(server, page):
    _open(page, f"{server}/conversations?q=window.__pwned&range=all", '[data-testid="stMarkdown"]')
    page.get_by_role("button", name="Open in its chat").first.wait_for(timeout=60_000)
    _settled(page)
    # The word index finds the two messages where "window" starts a word after punctuation.
    page.get_by_role("button", name="Open in its chat").nth(1).wait_for(timeout=60_000)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "<script>window." in main and "[click](javascript:" in main
    assert_inert(page)
    _screenshot(page, "hostile-search")


def test_agent_and_command_pages_hold_hostile_names(server, page):
    _open(page, f"{server}/agents?id={HOSTILE_AGENT}&range=all", '[data-testid="stHeading"]')
    found = assert_inert(page)
    assert found["chart_links"] == [], found
    assert SCRIPT in page.locator('[data-testid="stMain"]').inner_text()
    _screenshot(page, "hostile-agent")
    _open(page, f"{server}/commands?range=all", '[data-testid="stDataFrame"]')
    found = assert_inert(page)
    assert found["chart_links"] == [], found
    _screenshot(page, "hostile-commands")
