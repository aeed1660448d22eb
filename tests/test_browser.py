"""The real thing: `streamlit run serve.py` on the embedded demo database (no DATABASE_URL, as on a
fresh machine), opened in headless Chromium through Playwright, signed in with the demo's accounts.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.app_server import CHROMIUM, CHROMIUM_FLAGS, running_app
from dashboard.auth import ensure_demo_accounts

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser-data")


@pytest.fixture(scope="module")
def accounts(demo_data_dir) -> dict[str, dict[str, str]]:
    """The demo's accounts, as `make run` prints them (made here first so the test knows them)."""
    return ensure_demo_accounts(demo_data_dir)


@pytest.fixture(scope="module")
def server(demo_data_dir, accounts):
    """The app as `make run` serves it, on the embedded database with a small demo data set."""
    env = {
        "DASHBOARD_DATA_DIR": str(demo_data_dir),
        "DASHBOARD_DEMO_SCALE": "20000",
        # The demo's own accounts, not the test session's.
        "DASHBOARD_ACCOUNTS_FILE": "",
    }
    with running_app(env) as (base_url, _process):
        yield base_url
    # Stopped with SIGTERM, the app stopped the embedded database it had started.
    assert not (demo_data_dir / "pg" / "postmaster.pid").exists()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def _sign_in(page, server: str, account: dict[str, str], path: str = "/") -> None:
    page.goto(f"{server}{path}")
    page.get_by_label("Username", exact=True).fill(account["username"])
    page.get_by_label("Password", exact=True).fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebar"]').get_by_text(account["username"]).first.wait_for(timeout=120_000)
    # The page sets the sign-in cookie just after it renders.
    page.wait_for_function("() => document.cookie.includes('lillo_dash_session=')", timeout=30_000)


@pytest.fixture(scope="module")
def viewer_context(browser, server, accounts):
    """A browser signed in once as the demo viewer: its pages open signed in through the cookie."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    first = context.new_page()
    _sign_in(first, server, accounts["viewer"])
    first.close()
    yield context
    context.close()


def _kept_on_failure(page, request):
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        _screenshot(page, f"FAILED-{request.node.name}")


@pytest.fixture
def page(viewer_context, request):
    page = viewer_context.new_page()
    yield from _kept_on_failure(page, request)
    page.close()


@pytest.fixture
def fresh_page(browser, request):
    """A page in a new browser (no cookie): signed out."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    yield from _kept_on_failure(page, request)
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
    # The tiles are drawn one after another: wait for each before reading them.
    for label in ("Messages", "Active chats", "Active users", "Commands run", "p95 command duration"):
        page.locator('[data-testid="stMetricLabel"]', has_text=label).first.wait_for(timeout=60_000)
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


def test_viewer_opens_a_transcript_and_exports_it(server, page, browser):
    page.goto(f"{server}/conversations?range=all")
    page.get_by_role("heading", name="Conversations").wait_for(timeout=120_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    page.locator('[data-testid="stPlotlyChart"] .main-svg').nth(1).wait_for(timeout=60_000)
    _screenshot(page, "conversations")
    # Table cells are drawn on a canvas: the busiest chat's id comes from the table's CSV.
    with page.expect_download() as download:
        page.locator(".st-key-csv-chat_list").get_by_text("Download CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    chats = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    chat_id = chats[0]["chat_id"]
    page.get_by_label("Chat id").fill(chat_id)
    page.get_by_role("button", name="Open chat").click()
    page.locator('[data-testid="stChatMessage"]').first.wait_for(timeout=60_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    assert f"chat={chat_id}" in page.url
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert f"Chat {chat_id}" in main and "Person " in main  # a viewer sees pseudonyms
    assert page.locator('[data-testid="stException"]').count() == 0
    _screenshot(page, "conversation")
    with page.expect_download() as transcript_download:
        page.get_by_text("Download CSV").first.click()
    exported = Path(transcript_download.value.path()).read_text(encoding="utf-8-sig")
    assert exported.startswith("# Lillo Dashboard export of chat_transcript")
    rows = list(csv.DictReader(io.StringIO("\n".join(exported.split("\n")[3:]))))
    assert rows and all(r["role"] == "assistant" or r["user_first_name"].startswith("Person ") for r in rows)
    # The link is the viewer's own: another browser, not signed in, gets a refusal and no rows.
    link = page.locator(".st-key-csv-chat_transcript a").first.get_attribute("href")
    stranger = browser.new_context()
    try:
        answer = stranger.new_page().goto(f"{server}{link}")
        assert answer.status == 403
        assert "Sign in" in answer.text() and "chat_transcript" not in answer.text()
    finally:
        stranger.close()


def test_viewer_searches_opens_the_hit_in_its_chat_and_exports_it(server, page):
    page.goto(f"{server}/conversations")
    page.get_by_role("heading", name="Conversations").wait_for(timeout=120_000)
    page.get_by_label("Search messages").fill("price")
    page.get_by_label("Search messages").press("Enter")
    page.get_by_role("button", name="Open in its chat").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    assert "q=price" in page.url
    _screenshot(page, "search")
    page.get_by_role("button", name="Open in its chat").first.click()
    page.locator('[data-testid="stChatMessage"]').first.wait_for(timeout=60_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    assert "chat=" in page.url and "before=" in page.url
    # The hit is the newest message of the page: the last one shown.
    assert "price" in page.locator('[data-testid="stChatMessage"]').last.inner_text().lower()
    with page.expect_download() as download:
        page.locator(".st-key-csv-chat_transcript").get_by_text("Download CSV").first.click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO("\n".join(exported.split("\n")[3:]))))
    assert rows and {"message_id", "content", "sent_at"} <= set(rows[0])


def _sign_in_form_only(page) -> None:
    page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    for element in ("stMetric", "stDataFrame", "stPlotlyChart", "stException"):
        assert page.locator(f'[data-testid="{element}"]').count() == 0, element


@pytest.mark.parametrize("path", ["/", "/overview?range=all", "/settings", "/audit"])
def test_signed_out_no_page_shows_any_data(server, fresh_page, path):
    fresh_page.goto(f"{server}{path}")
    _sign_in_form_only(fresh_page)
    assert "Sign in to see the dashboard." in fresh_page.locator("body").inner_text()
    if path == "/":
        _screenshot(fresh_page, "sign-in")


def test_wrong_password_is_refused(server, fresh_page, accounts):
    _bad = {"username": accounts["viewer"]["username"], "password": "wrong-password"}
    fresh_page.goto(server)
    fresh_page.get_by_label("Username", exact=True).fill(_bad["username"])
    fresh_page.get_by_label("Password", exact=True).fill(_bad["password"])
    fresh_page.get_by_role("button", name="Sign in").click()
    fresh_page.get_by_text("Wrong username or password.").wait_for(timeout=60_000)
    _sign_in_form_only(fresh_page)


def test_viewer_never_reaches_settings_or_audit(server, page):
    page.goto(server)
    _wait_for_overview(page, with_charts=False)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Agent settings" not in sidebar and "Audit log" not in sidebar
    for path in ("/settings", "/audit"):
        page.goto(f"{server}{path}")
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        page.wait_for_timeout(1_000)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "Agent settings" not in main and "Audit log" not in main
        assert page.locator('[data-testid="stException"]').count() == 0


def test_sign_in_survives_reload_and_new_tabs_and_sign_out_ends_it_everywhere(server, browser, accounts):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        first = context.new_page()
        _sign_in(first, server, accounts["viewer"])
        first.reload()
        _wait_for_overview(first, with_charts=False)
        second = context.new_page()
        second.goto(server)
        _wait_for_overview(second, with_charts=False)
        second.get_by_role("button", name="Sign out").click()
        _sign_in_form_only(second)
        # The first tab is signed out at its next rerun, and a reload does not bring it back.
        first.locator('[data-testid="stButtonGroup"]').get_by_text("Week", exact=True).click()
        _sign_in_form_only(first)
        first.reload()
        _sign_in_form_only(first)
    finally:
        context.close()


def test_admin_changes_a_capability_and_sees_it_in_agents_and_the_audit_log(server, browser, accounts):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, server, accounts["admin"])
        page.locator('[data-testid="stSidebar"]').get_by_text("Agent settings").click()
        page.get_by_role("heading", name="Agent settings").wait_for(timeout=60_000)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        form = page.locator('[data-testid="stForm"]')
        toggle = form.locator('[data-testid="stCheckbox"]').nth(1)  # the first capability
        capability = toggle.inner_text().strip()
        was_on = toggle.locator("input").is_checked()
        toggle.click()
        page.get_by_role("button", name="Review changes").click()
        dialog = page.locator('[data-testid="stDialog"]')
        dialog.get_by_text("Before").first.wait_for(timeout=60_000)
        assert "capabilities" in dialog.inner_text()
        _screenshot(page, "settings-confirm")
        dialog.get_by_role("button", name="Confirm and save").click()
        dialog.get_by_text("Say why").wait_for(timeout=30_000)  # a reason is required
        dialog.get_by_label("Reason (goes into the audit log)").fill("browser test: flip a capability")
        dialog.get_by_role("button", name="Confirm and save").click()
        page.get_by_text("Saved").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        assert page.locator('[data-testid="stForm"] [data-testid="stCheckbox"]').nth(1).locator(
            "input"
        ).is_checked() == (not was_on)
        _screenshot(page, "settings")
        page.locator('[data-testid="stSidebar"]').get_by_text("Audit log").click()
        page.get_by_role("heading", name="Audit log").wait_for(timeout=60_000)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        page.get_by_text("Download CSV").first.wait_for(timeout=30_000)
        _screenshot(page, "audit")
        # Table cells are drawn on a canvas: read the entry back through the CSV export.
        with page.expect_download() as download:
            page.get_by_text("Download CSV").first.click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.startswith("# Lillo Dashboard export of audit_log")
        rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
        entry = next(r for r in rows if r["reason"] == "browser test: flip a capability")
        assert (entry["actor"], entry["action"], entry["table_name"]) == ("admin", "update", "agents")
        assert json.loads(entry["after"])["capabilities"][capability] is (not was_on)
        assert download.value.suggested_filename.startswith("lillo_audit_log_range-")
    finally:
        context.close()


@pytest.fixture
def viewer_page(browser, server, accounts, request):
    """A viewer signed in afresh: an earlier test's sign-out ends every sign-in of the account."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _sign_in(page, server, accounts["viewer"])
    yield from _kept_on_failure(page, request)
    context.close()


def _settled(page) -> None:
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)


def _csv_rows(page, key: str) -> list[dict[str, str]]:
    """The rows of the CSV behind the link with widget key `key`, downloaded as a person would."""
    with page.expect_download() as download:
        page.locator(f".st-key-{key}").get_by_text("Download CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def test_viewer_lists_people_and_opens_a_person(server, viewer_page):
    viewer_page.goto(f"{server}/people")
    viewer_page.get_by_role("heading", name="People").wait_for(timeout=120_000)
    viewer_page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    _screenshot(viewer_page, "people")
    people = _csv_rows(viewer_page, "csv-people")
    assert people and all(p["user_first_name"].startswith("Person ") for p in people)  # pseudonyms
    assert all(not p["wallet_address"] or "…" in p["wallet_address"] for p in people)  # masked
    person = people[0]["user_id"]
    viewer_page.goto(f"{server}/people?person={person}&range=all")
    viewer_page.get_by_role("heading", name="Their chats").wait_for(timeout=60_000)
    viewer_page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    assert viewer_page.locator('[data-testid="stException"]').count() == 0
    assert "Person " in viewer_page.locator('[data-testid="stMain"]').inner_text()
    _screenshot(viewer_page, "person")
    chats = _csv_rows(viewer_page, "csv-chat_list")
    assert chats and int(chats[0]["n_messages"]) > 0


def test_viewer_opens_an_agent(server, viewer_page):
    viewer_page.goto(f"{server}/agents?range=all")
    viewer_page.get_by_role("heading", name="Agents").first.wait_for(timeout=120_000)
    viewer_page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    _screenshot(viewer_page, "agents")
    agents = _csv_rows(viewer_page, "csv-agent_usage")
    busiest = max(agents, key=lambda a: int(a["n_user_messages"]) + int(a["n_assistant_messages"]))
    viewer_page.goto(f"{server}/agents?id={busiest['agent_id']}&range=all")
    viewer_page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    assert viewer_page.locator('[data-testid="stException"]').count() == 0
    assert busiest["agent_name"] in viewer_page.locator('[data-testid="stMain"]').inner_text()
    _screenshot(viewer_page, "agent")


def test_viewer_opens_a_command_and_follows_an_error_signature_to_its_transcript(server, viewer_page):
    viewer_page.goto(f"{server}/commands?range=all")
    viewer_page.get_by_role("heading", name="Commands").first.wait_for(timeout=120_000)
    viewer_page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    _screenshot(viewer_page, "commands")
    viewer_page.goto(f"{server}/commands?command=img&range=all")
    viewer_page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    assert viewer_page.locator('[data-testid="stException"]').count() == 0
    _screenshot(viewer_page, "command")
    signatures = _csv_rows(viewer_page, "csv-error_signatures")
    assert signatures
    chat_id = json.loads(signatures[0]["example_chat_ids"])[0]
    sent_ms = json.loads(signatures[0]["example_sent_ms"])[0]
    from dashboard.command_page import transcript_link

    viewer_page.goto(f"{server}{transcript_link(chat_id, sent_ms)}")
    viewer_page.locator('[data-testid="stChatMessage"]').first.wait_for(timeout=60_000)
    _settled(viewer_page)
    main = viewer_page.locator('[data-testid="stMain"]').inner_text()
    assert f"Chat {chat_id}" in main and "⚙ /img" in main  # the failed command, inline at its time
    _screenshot(viewer_page, "command-failure-transcript")


def test_clicking_a_bar_opens_the_chats_of_that_agent_and_period(server, viewer_page):
    viewer_page.goto(f"{server}/?range=90d&bucket=month")
    _wait_for_overview(viewer_page)
    # The messages chart by its key, not by position: a click meant for the first chart on the page
    # once opened the commands page, which only the commands chart beside it links to.
    bars = viewer_page.locator(".st-key-drill-messages_per_bucket g.point path")
    bars.first.wait_for(timeout=60_000)
    heights = [box["height"] if (box := bar.bounding_box()) else 0 for bar in bars.all()]
    # The tallest bar: a sliver of a few pixels is easy to miss.
    bars.nth(heights.index(max(heights))).click(force=True)
    viewer_page.wait_for_url("**/conversations?*", timeout=60_000)
    _settled(viewer_page)
    opened = parse_qs(urlparse(viewer_page.url).query)
    assert opened["range"] == ["custom"] and opened["bucket"] == ["day"]
    assert len(opened["agent"]) == 1  # the clicked bar's agent
    first, last = date.fromisoformat(opened["from"][0]), date.fromisoformat(opened["to"][0])
    assert first.day == 1 and (last + timedelta(days=1)).day == 1  # one whole month
    viewer_page.get_by_role("heading", name="Chats", exact=True).wait_for(timeout=60_000)
    assert viewer_page.locator('[data-testid="stException"]').count() == 0
    chats = _csv_rows(viewer_page, "csv-chat_list")
    assert chats and all(int(c["n_messages"]) > 0 for c in chats)
    _screenshot(viewer_page, "drill-down-chats")


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`. A rerun that lands while the list is open
    redraws the box and closes the list: then it is opened again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        _settled(page)
        box.click()
        try:
            wanted.wait_for(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    wanted.click()
    _settled(page)


def _confirm_model_change(page, reason: str) -> list[dict[str, str]]:
    """Read the preview's CSV, give the reason, confirm; the preview's rows."""
    page.get_by_role("heading", name="Preview").wait_for(timeout=60_000)
    _settled(page)
    with page.expect_download() as download:
        page.locator(".st-key-csv-model_preview").get_by_text("Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    preview = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    page.get_by_label("Reason (goes into the audit log)").fill(reason)
    page.get_by_role("button", name="Confirm and change").click()
    page.get_by_text("each has its row in the audit log").wait_for(timeout=60_000)
    _settled(page)
    return preview


def test_admin_moves_private_gemini_chats_to_grok_and_back(server, browser, accounts):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, server, accounts["admin"])
        page.goto(f"{server}/model-tuning?range=all")
        page.get_by_role("heading", name="Model tuning").wait_for(timeout=120_000)
        _settled(page)
        page.locator('[data-testid="stButtonGroup"]').get_by_text("Private", exact=True).click()
        _settled(page)
        _choose(page, "Running on", "GEMINI")
        _choose(page, "New model", "GROK")
        page.get_by_role("button", name="Preview the change").click()
        moved = _confirm_model_change(page, "browser test: GEMINI cannot call tools")
        assert moved and {(r["model_before"], r["model_after"]) for r in moved} == {("GEMINI", "GROK")}
        _screenshot(page, "model-tuning")
        page.get_by_role("button", name="Undo the last change").click()
        back = _confirm_model_change(page, "browser test: back to GEMINI")
        assert {(r["agent_id"], r["chat_id"]) for r in back} == {(r["agent_id"], r["chat_id"]) for r in moved}
        assert {(r["model_before"], r["model_after"]) for r in back} == {("GROK", "GEMINI")}
        page.goto(f"{server}/audit")
        page.get_by_role("heading", name="Audit log").wait_for(timeout=60_000)
        _settled(page)
        audit = _csv_rows(page, "csv-audit_log")
        changes = [
            r for r in audit if r["table_name"] == "model_preferences" and "browser test" in r["reason"]
        ]
        assert len(changes) == 2 * len(moved)
        assert {json.loads(r["after"])["model_type"] for r in changes} == {"GROK", "GEMINI"}
        page.goto(f"{server}/models?range=all")
        page.get_by_role("heading", name="History").wait_for(timeout=60_000)
        _settled(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        _screenshot(page, "models")
    finally:
        context.close()


# --- Whole journeys ------------------------------------------------------------------------------------


def test_viewer_journey_from_sign_in_to_an_exported_transcript(server, browser, accounts):
    """Sign in → overview → search → the hit's transcript → its CSV, parsed → no way into settings."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _sign_in(page, server, accounts["viewer"])
        _wait_for_overview(page)
        page.locator('[data-testid="stSidebar"]').get_by_text("Conversations").click()
        page.get_by_label("Search messages").fill("price")
        page.get_by_label("Search messages").press("Enter")
        page.get_by_role("button", name="Open in its chat").first.click(timeout=60_000)
        page.locator('[data-testid="stChatMessage"]').first.wait_for(timeout=60_000)
        _settled(page)
        rows = _csv_rows(page, "csv-chat_transcript")
        assert rows and any("price" in r["content"].lower() for r in rows)
        assert all(r["role"] == "assistant" or r["user_first_name"].startswith("Person ") for r in rows)
        _screenshot(page, "journey-viewer-transcript")
        for path in ("/settings", "/model-tuning", "/audit"):
            page.goto(f"{server}{path}")
            _settled(page)
            page.wait_for_timeout(500)
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert not any(title in main for title in ("Agent settings", "Model tuning", "Audit log"))
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_admin_journey_capability_then_a_chats_model_and_back(server, browser, accounts):
    """Sign in → flip a capability → confirm → the agents table and the audit log show it → set one
    chat's model → revert it → the audit log has both."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, server, accounts["admin"])
        page.locator('[data-testid="stSidebar"]').get_by_text("Agent settings").click()
        page.get_by_role("heading", name="Agent settings").wait_for(timeout=60_000)
        _settled(page)
        page.wait_for_url("**edit=*", timeout=30_000)
        agent_id = parse_qs(urlparse(page.url).query)["edit"][0]  # the agent being edited
        toggle = page.locator('[data-testid="stForm"] [data-testid="stCheckbox"]').nth(1)
        capability, was_on = toggle.inner_text().strip(), toggle.locator("input").is_checked()
        toggle.click()
        page.get_by_role("button", name="Review changes").click()
        dialog = page.locator('[data-testid="stDialog"]')
        dialog.get_by_label("Reason (goes into the audit log)").fill("journey: flip a capability")
        dialog.get_by_role("button", name="Confirm and save").click()
        page.get_by_text("Saved").first.wait_for(timeout=60_000)
        _settled(page)

        page.goto(f"{server}/agents?range=all")
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        _settled(page)
        agent = next(a for a in _csv_rows(page, "csv-agent_usage") if a["agent_id"] == agent_id)
        enabled = {c.strip() for c in agent["capabilities"].split(",") if c.strip()}
        assert (capability in enabled) is (not was_on)

        page.goto(f"{server}/model-tuning?range=all")
        page.get_by_role("heading", name="Model tuning").wait_for(timeout=120_000)
        _settled(page)
        target = next(t for t in _csv_rows(page, "csv-model_targets") if int(t["chat_id"]) > 0)
        page.locator('[data-testid="stButtonGroup"]').get_by_text("One chat", exact=True).click()
        _settled(page)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Agent").first.click()
        page.get_by_role("option").filter(has_text=f"({target['agent_id']})").click()
        page.get_by_label("Chat id").fill(target["chat_id"])
        page.get_by_label("Chat id").press("Enter")
        _settled(page)
        new_model = next(m for m in ("DEEPSEEK", "GROK") if m != target["model_type"])
        _choose(page, "New model", new_model)
        page.get_by_role("button", name="Preview the change").click()
        moved = _confirm_model_change(page, "journey: try another model")
        assert [(r["chat_id"], r["model_after"]) for r in moved] == [(target["chat_id"], new_model)]
        page.get_by_role("button", name="Undo the last change").click()
        back = _confirm_model_change(page, "journey: back again")
        assert [(r["chat_id"], r["model_before"]) for r in back] == [(target["chat_id"], new_model)]

        page.goto(f"{server}/audit")
        page.get_by_role("heading", name="Audit log").wait_for(timeout=60_000)
        _settled(page)
        audit = _csv_rows(page, "csv-audit_log")
        reasons = sorted(r["reason"] for r in audit if r["reason"].startswith("journey:"))
        assert reasons == ["journey: back again", "journey: flip a capability", "journey: try another model"]
        _screenshot(page, "journey-admin-audit")
    finally:
        context.close()


def test_every_page_renders_without_an_exception_and_is_screenshotted(server, browser, accounts):
    from dashboard.bench import navigation_pages

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, server, accounts["admin"])
        for nav in navigation_pages():
            page.goto(f"{server}{nav.path}?range=all")
            page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=120_000)
            _settled(page)
            page.wait_for_timeout(500)
            assert page.locator('[data-testid="stException"]').count() == 0, nav.path
            _screenshot(page, f"page-{nav.path.strip('/') or 'overview'}")
    finally:
        context.close()
