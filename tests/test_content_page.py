"""The Content page and the People page's token holders in AppTest, on the installed fixture with
the hand-made content rows of tests/content_data.py: charts and lists, the galleries with their
refused images, a picture opened in full, text kept plain, pages and bad page numbers, pseudonyms
for viewers, and a database without the content tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.db import admin_engine
from tests import content_data as cd
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
# A range that holds every hand-made row: from 50 days before the fixture's anchor to just after it.
RANGE = {
    "range": "custom",
    "from": (fx.ANCHOR - timedelta(days=50)).date().isoformat(),
    "to": fx.ANCHOR.date().isoformat(),
}


@pytest.fixture(scope="module")
def content_url(new_database) -> str:
    return prepared(new_database("content_page"), seed=cd.seed)


@pytest.fixture(scope="module")
def bare_url(new_database) -> str:
    """Lillo's messages, but no posts, illustrations, gerta_poses or user_data tables."""
    url = prepared(new_database("content_bare"), install=False)
    engine = admin_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("drop table posts, illustrations, gerta_poses, user_data")
    engine.dispose()
    return url


def _opener(monkeypatch, url: str):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(page: str, role: str = "viewer", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90), role)
        at.query_params.update(RANGE | query)
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        return at.run()

    return open_page


@pytest.fixture
def open_page(monkeypatch, content_url):
    return _opener(monkeypatch, content_url)


def _htmls(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def _shown_text(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_posts_chart_list_and_one_post_in_full(open_page):
    at = open_page("content")
    assert not at.exception
    assert [t.value for t in at.title] == ["Content"]
    assert [t.label for t in at.tabs] == ["Posts", "Illustrations", "Gerta poses"]
    posts = at.dataframe[0].value
    # Newest first; the post 10 days back is in this range; the one at the end bound too (the
    # custom range runs to the end of its last day).
    assert posts["content"].tolist() == [
        "at the end bound",
        "second\nline",
        "gm <b>all</b> [x](javascript:alert(1))",
        "news",
        "old",
    ]
    assert posts["image"].tolist()[3] == "https://img.example/a.png"
    assert posts["image"].iloc[[0, 1, 2, 4]].isna().all()
    assert posts["image_note"].tolist()[:3] == [
        "URL too long (98 KB; at most 2 KB)",
        "no image (empty URL)",
        "javascript: URLs are never shown",
    ]
    assert posts["tweet"].tolist()[2] == "https://x.com/i/web/status/1800000000000000001"
    # The post read in full is the newest by default; its text is plain text, not Markdown.
    at = at.selectbox(key="posts-read").set_value(1).run()  # post ids follow content_data.POSTS
    assert "gm <b>all</b> [x](javascript:alert(1))" in _shown_text(at)
    assert "https://x.com/i/web/status/1800000000000000001" in [b.proto.url for b in at.get("link_button")]
    assert cd.script_urls(_htmls(at)) == []


def test_the_illustration_gallery_refuses_bad_urls_and_opens_a_picture(open_page):
    at = open_page("content")
    markup = _htmls(at)
    # Three illustrations in the range: a PNG, a javascript: URL and a URL that will 404.
    assert markup.count(f'<img src="{cd.PNG}"') >= 2  # the illustration and the "waving" pose
    assert '<img src="https://img.example/404.png"' in markup
    assert "javascript: URLs are never shown" in markup
    assert "relative URL: no site to load it from" in markup  # the "thinking" pose
    assert cd.script_urls(markup) == []
    opened = next(b for b in at.button if b.key == "illustration_gallery-open-1")
    at = opened.click().run()
    assert not at.exception
    shown = _shown_text(at)
    assert "Illustration #1" in shown and "a cat" in shown and "Cat" in shown
    at = next(b for b in at.button if b.key == "illustration_gallery-open-4").click().run()
    assert "<b>boo</b>" in _shown_text(at)  # a caption stays text


def test_counts_per_agent_and_bucket(open_page):
    at = open_page("content")
    illustrations = next(d.value for d in at.dataframe if "n_items" in d.value.columns)
    # The illustration 20 days back is in this range as well: Alpha drew two.
    assert dict(zip(illustrations["agent_name"], illustrations["n_items"], strict=True)) == {
        "Alpha": 2,
        "Beta": 1,
        "ghost-bot": 1,
    }
    # Poses belong to no agent: a chart of when they were added, no table per agent.
    assert len([d for d in at.dataframe if "n_items" in d.value.columns]) == 1
    assert "Poses belong to no agent: the agent filter does not apply to them." in [
        c.value for c in at.caption
    ]


def test_gallery_pages_and_a_bad_page_number(open_page):
    at = open_page("content", illustrations_page="2")
    assert not at.exception
    assert "No illustrations on this page." in [c.value for c in at.caption]
    at = open_page("content", posts_page="-3")
    assert any("is not a page number" in i.value.replace("\\", "") for i in at.info)
    assert len(at.dataframe[0].value) == 5  # page 1


def test_a_database_without_the_content_tables_gets_notices(monkeypatch, bare_url):
    open_page = _opener(monkeypatch, bare_url)
    at = open_page("content")
    assert not at.exception
    notices = [i.value for i in at.info]
    for table in ("posts", "illustrations", "gerta_poses"):
        assert any(f"no table {table}" in n for n in notices), table
    at = open_page("people")
    assert not at.exception
    assert any("no table user_data" in i.value for i in at.info)


def test_people_page_shows_token_holders_pseudonymised_for_viewers(open_page):
    at = open_page("people")
    assert not at.exception
    assert "Token holders" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Token holders"] == "15" and metrics["Also chat"] == "6 (40%)"
    assert metrics["Unusable balances"] == "9" and metrics["Verified in 30 days"] == "7"
    assert any("1 user_data row link a wallet" in c.value for c in at.caption)
    holders = at.dataframe[-1].value
    assert holders["token_balance"].tolist()[:3] == ["123456789012345678901234567890", "1500.5", " 42 "]
    names = set(holders["first_name"]) | set(holders["wallet_address"].dropna())
    assert not names & {"Ana", "Борис", "<b>Eve</b>", cd.EVM}
    assert "0xAbCd…EF01" in set(holders["wallet_address"])
    assert {"1e400", "12,5", "abc", ""} <= set(holders["token_balance"].dropna())


def test_an_admin_sees_real_wallets_and_orders_by_verification(open_page):
    at = open_page("people", role="admin")
    at = next(t for t in at.toggle if t.label == "Pseudonymise people").set_value(False).run()
    holders = at.dataframe[-1].value
    assert cd.EVM in set(holders["wallet_address"]) and "Ana" in set(holders["first_name"])
    at = at.button_group(key="holders-sort").set_value("verified").run()
    by_verification = at.dataframe[-1].value["token_balance"].tolist()
    assert by_verification[:3] == ["1500.5", "NaN", "123456789012345678901234567890"]
