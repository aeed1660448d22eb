"""The real thing: `streamlit run app.py` on the embedded demo database (no DATABASE_URL, as on a
fresh machine), opened in headless Chromium through Playwright. Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard.app_server import running_app

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as `make run` serves it, on the embedded database with a small demo data set."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    env = {"DASHBOARD_DATA_DIR": str(data_dir), "DASHBOARD_DEMO_SCALE": "20000"}
    with running_app(env) as (base_url, _process):
        yield base_url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        _screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def _screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport to fit."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || document.body.scrollHeight"
    )
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 6000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    return path


def _wait_for_overview(page, *, with_charts: bool = True) -> None:
    page.get_by_text("Overview", exact=True).first.wait_for(timeout=120_000)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
    if with_charts:
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    # Let the script run finish: the app marks its state on the root element.
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)


def test_overview_shows_kpis_and_charts(server, page):
    page.goto(f"{server}/?range=90d")
    _wait_for_overview(page)
    tiles = page.locator('[data-testid="stMetric"]')
    labels = [
        tiles.nth(i).locator('[data-testid="stMetricLabel"]').inner_text() for i in range(tiles.count())
    ]
    assert {"Messages", "Active chats", "Active users", "Commands run", "p95 command duration"} <= set(labels)
    messages = tiles.nth(labels.index("Messages")).locator('[data-testid="stMetricValue"]').inner_text()
    assert int(messages.replace(",", "")) > 0
    # Bars are drawn as g.point elements: an empty chart has none.
    assert page.locator('[data-testid="stPlotlyChart"] g.point').count() > 0
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2
    _screenshot(page, "overview")


def test_filters_live_in_the_url(server, page):
    page.goto(f"{server}/?range=7d&bucket=hour&tz=Asia/Tokyo")
    _wait_for_overview(page)
    main = page.locator('[data-testid="stMain"]')
    assert "(Asia/Tokyo), by hour" in main.inner_text()
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Day", exact=True).click()
    page.wait_for_url("**bucket=day**", timeout=30_000)
    page.get_by_text("(Asia/Tokyo), by day").wait_for(timeout=30_000)
    assert "range=7d" in page.url and "tz=Asia%2FTokyo" in page.url
    # The copied link reopens the same view in a new tab.
    again = page.context.new_page()
    again.goto(page.url)
    again.get_by_text("(Asia/Tokyo), by day").wait_for(timeout=60_000)


def test_bad_url_input_gives_notices_not_tracebacks(server, page):
    page.goto(f"{server}/?range=custom&from=2026-13-45&to=2026-02-01&agent=nobody")
    _wait_for_overview(page, with_charts=False)
    body = page.locator("body").inner_text()
    assert "is not a date" in body
    assert "Unknown agent 'nobody'" in body
    assert page.locator('[data-testid="stException"]').count() == 0
    _screenshot(page, "overview-bad-url")
