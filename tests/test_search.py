"""Message search on the embedded PostgreSQL, with and without the word index, compared with what
Python finds in the same rows (casefolded substrings; for the index, only where the text starts a
word), and the page's notices for each way and for bad input."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from psycopg import sql as psql
from streamlit.testing.v1 import AppTest

from dashboard import search, views
from dashboard.db import admin_engine, reader_engine
from dashboard.install import install_dashboard_objects
from dashboard.live_schema import SEARCH_INDEX, introspect
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
NEWEST_ID = 2_200_000
# Message texts with ids placed so that each part of message_search_indexed (the newest 20,000
# ids walked back, then 180,000, 1,800,000 and the rest from the index) holds some of them.
TEXTS = [
    "What's the price of SOL today?",
    "PRICE ALERT: the price is up",
    "superprice deals, nothing about prices",
    "prices are falling",
    "Привет! Как дела?",
    "привет мир и всем привет",
    "Сколько стоит биткоин сегодня?",
    "100% sure it works",
    "100x sure",
    "a_b is not axb",
    "axb only",
    "back\\slash and backslash",
    "quote 'it' \"now\" please",
    "50% off_ today only",
    "hello world",
    "hello, world",
    "hello wonderful world",
    "say hello world again",
    "Good morning everyone! ☕",
    "good   morning  spaced out",
    "Grüße aus München",
    "RTL mixed: hello עברית world",
    "今日は晴れです、日本語のテスト",
    "send me an e-mail please",
    "write to user@example.com now",
    "it's fine, its fine",
    "I'm here",
    "x y z",
    "xylophone yard",
    "%%% just percent signs",
]
# Each text is stored at several of these ids plus its index (< 30), on both sides of each border.
IDS = [1_000, 150_000, 199_950, 200_050, 900_000, 1_999_950, 2_000_050, 2_100_000, 2_179_950, 2_180_050]
# Messages holding "bulk", every BULK_STEP ids back from the newest: the newest page of them
# reaches the oldest part.
BULK, BULK_STEP = 53, 41_000


def _rows() -> pd.DataFrame:
    """The searchable rows: each text at each of several ids, then the bulk messages."""
    rows = []
    for i, text in enumerate(TEXTS):
        for j, base in enumerate(IDS[i % 3 :: 3]):
            rows.append({"id": base + i, "content": text, "agent_id": fx.AGENTS[j % 2]["id"]})
    rows += [
        {"id": NEWEST_ID - 1 - BULK_STEP * k, "content": f"bulk order number {k}", "agent_id": fx.ALPHA}
        for k in range(BULK)
    ]
    rows.append({"id": NEWEST_ID, "content": "the newest message", "agent_id": fx.BETA})
    # Exactly on the borders between the parts: each must be found once.
    rows += [
        {"id": NEWEST_ID - back, "content": f"border case {back}", "agent_id": fx.BETA}
        for back in (20_000, 200_000, 2_000_000)
    ]
    frame = pd.DataFrame(rows)
    assert frame["id"].is_unique and frame["id"].min() > len(fx.messages())
    return frame


def _insert_rows(engine: sa.Engine) -> None:
    rows = _rows()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (id, message_id, chat_id, user_id, user_first_name, role,"
                " content, timestamp, agent_id) values (:id, :id, 4242, 7, 'Searcher', 'user', :content,"
                " 1700000000000 + :id, :agent_id)"
            ),
            rows.to_dict("records"),
        )
        conn.execute(sa.text("select setval('chat_messages_id_seq', :id)"), {"id": NEWEST_ID})


@pytest.fixture(scope="module")
def plain_url(new_database) -> str:
    return prepared(new_database("search_plain"), install=False, seed=_insert_rows)


@pytest.fixture(scope="module")
def indexed_url(new_database) -> str:
    return prepared(new_database("search_indexed"), refresh=False, seed=_insert_rows)


@pytest.fixture(scope="module")
def all_rows(plain_url) -> pd.DataFrame:
    """Every stored message as stored (the fixture's and the ones above), read back plainly."""
    engine = admin_engine(plain_url)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("select id, content, agent_id from chat_messages"), conn)
    engine.dispose()
    return frame


def _finder(url: str):
    """find_messages on `url` through the reader role, as the page runs it."""
    engine = reader_engine(url, statement_timeout_ms=10_000)
    with engine.connect() as conn:
        schema = introspect(conn)
    fetch = lambda name, **params: views.fetch_uncached(engine, schema, name, params).frame  # noqa: E731

    def find(text: str, agent_ids=()) -> search.SearchResult:
        return search.find_messages(
            text, index_ready=schema.search_index_ready, agent_ids=agent_ids, tz="UTC", fetch=fetch
        )

    yield find
    engine.dispose()


@pytest.fixture(scope="module")
def find_plain(plain_url):
    yield from _finder(plain_url)


@pytest.fixture(scope="module")
def find_indexed(indexed_url):
    yield from _finder(indexed_url)


# --- What Python finds ------------------------------------------------------------------------------


def _starts_a_word(content: str, query: str) -> bool:
    """`query` occurs in `content` (casefolded) where its first letter or digit is not preceded
    by another letter or digit."""
    text, wanted = content.casefold(), query.casefold()
    lead = next(i for i, ch in enumerate(wanted) if ch.isalnum())
    start = text.find(wanted)
    while start >= 0:
        first = start + lead
        if first == 0 or not text[first - 1].isalnum():
            return True
        start = text.find(wanted, start + 1)
    return False


def expected_ids(rows: pd.DataFrame, text: str, *, words: bool, scan_rows: int | None = None, agent_ids=()):
    """The ids the search should show, newest first: rows containing the searched text
    (casefolded; at the start of a word when `words`), among the newest `scan_rows` ids."""
    query = search.search_text(text)
    if scan_rows is not None:
        rows = rows[rows["id"] > rows["id"].max() - scan_rows]
    if agent_ids:
        rows = rows[rows["agent_id"].isin(agent_ids)]
    if words:
        hits = rows[[_starts_a_word(c, query) for c in rows["content"]]]
    else:
        hits = rows[[query.casefold() in c.casefold() for c in rows["content"]]]
    return sorted(hits["id"], reverse=True)[: search.SEARCH_LIMIT]


QUERIES = [
    "price",
    "PRICE",
    "the price",
    "prices",
    "Привет",
    "привет мир",
    "Сколько стоит",
    "100%",
    "a_b",
    "back\\slash",
    "'it' \"now\"",
    "50% off_",
    "hello world",
    "hello wor",
    "hello, world",
    "good morning",
    "Good   MORNING everyone",
    "grüße aus",
    "hello עברית",
    "e-mail",
    "e-ma",
    "it's",
    "I'm",
    "x y",
    "bulk",
    "bulk order number 1",
    "border case",
    "nowhere to be found",
]


def test_the_index_is_detected_only_where_it_was_installed(plain_url, indexed_url):
    for url, ready in [(plain_url, False), (indexed_url, True)]:
        engine = reader_engine(url, statement_timeout_ms=5_000)
        with engine.connect() as conn:
            assert introspect(conn).search_index_ready is ready
        engine.dispose()


@pytest.mark.parametrize("text", QUERIES)
def test_without_the_index_the_newest_messages_are_scanned(find_plain, all_rows, text):
    found = find_plain(text)
    assert not found.indexed
    assert any("python -m dashboard install" in n for n in found.notices)
    expected = expected_ids(all_rows, text, words=False, scan_rows=search.SEARCH_SCAN_ROWS)
    assert found.hits["message_row_id"].tolist() == expected


@pytest.mark.parametrize("text", QUERIES)
def test_with_the_index_all_messages_are_searched_from_the_start_of_a_word(find_indexed, all_rows, text):
    found = find_indexed(text)
    assert found.indexed and not found.notices
    assert found.hits["message_row_id"].tolist() == expected_ids(all_rows, text, words=True)


def test_the_index_finds_more_than_the_scan_and_not_inside_words(find_plain, find_indexed):
    hits = find_indexed("price").hits
    contents = set(hits["content"])
    assert "What's the price of SOL today?" in contents and "prices are falling" in contents
    assert "superprice deals, nothing about prices" in contents  # "prices" starts a word there
    assert int(hits["message_row_id"].min()) < NEWEST_ID - search.SEARCH_SCAN_ROWS
    scanned = find_plain("perprice").hits
    assert scanned["content"].tolist() and find_indexed("perprice").hits.empty


def test_a_page_of_hits_spans_the_parts_of_the_indexed_search_newest_first(find_indexed, all_rows):
    got = find_indexed("bulk").hits["message_row_id"].tolist()
    assert len(got) == search.SEARCH_LIMIT == len(set(got))
    assert got == sorted(got, reverse=True) == expected_ids(all_rows, "bulk", words=True)
    assert got[-1] < NEWEST_ID - 2_000_000  # reached the oldest part


@pytest.mark.parametrize("text", ["price", "hello world", "Привет"])
def test_the_agent_filter_applies_to_both_ways(find_plain, find_indexed, all_rows, text):
    agents = [fx.BETA]
    assert find_indexed(text, agents).hits["message_row_id"].tolist() == expected_ids(
        all_rows, text, words=True, agent_ids=agents
    )
    assert find_plain(text, agents).hits["message_row_id"].tolist() == expected_ids(
        all_rows, text, words=False, scan_rows=search.SEARCH_SCAN_ROWS, agent_ids=agents
    )


DEMO_QUERIES = [
    "price",
    "Привет",
    "сколько стоит",
    "مرحبا",
    "hello עברית",
    "good morning",
    "rate limit",
    "I'm",
    "GPT-4o",
    "km/h",
    "+3.1%",
    "**bold**",
    "/img a cat",
    "TOKEN1:",
    "api",
    "zzqx",
]


@pytest.fixture(scope="module")
def demo_finders(new_database):
    """find_messages on the demo data set without the index and with it (the same data,
    installed), and the demo's rows read back plainly."""
    # Its own uninstalled copy: other modules install the dashboard (and the index) into demo_db.
    plain_url = prepared(new_database("search_demo_plain"), demo=True, install=False)
    plain, indexed = (
        _finder(plain_url),
        _finder(prepared(new_database("search_demo"), demo=True, refresh=False)),
    )
    engine = admin_engine(plain_url)
    with engine.connect() as conn:
        rows = pd.read_sql(sa.text("select id, content, agent_id from chat_messages"), conn)
    engine.dispose()
    yield next(plain), next(indexed), rows
    plain.close()
    indexed.close()


@pytest.mark.parametrize("text", DEMO_QUERIES)
def test_the_demo_data_set_gives_what_python_finds(demo_finders, text):
    find_plain, find_indexed, rows = demo_finders
    scanned, indexed = find_plain(text), find_indexed(text)
    assert not scanned.indexed and indexed.indexed
    expected = expected_ids(rows, text, words=False, scan_rows=search.SEARCH_SCAN_ROWS)
    assert scanned.hits["message_row_id"].tolist() == expected
    assert indexed.hits["message_row_id"].tolist() == expected_ids(rows, text, words=True)
    assert bool(expected) is (text != "zzqx")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("日本語", "written without spaces"),
        ("晴れです", "written without spaces"),
        ("x", "two or more letters"),
    ],
)
def test_text_the_index_cannot_serve_is_scanned_with_a_notice(find_indexed, all_rows, text, why):
    found = find_indexed(text)
    assert not found.indexed
    assert any(why in notice for notice in found.notices), found.notices
    expected = expected_ids(all_rows, text, words=False, scan_rows=search.SEARCH_SCAN_ROWS)
    assert found.hits["message_row_id"].tolist() == expected and expected


def test_the_index_finds_an_address_whole_but_not_a_part_of_it(find_plain, find_indexed, all_rows):
    """A documented limit: the parser keeps an e-mail address as one word, so neither its domain
    nor a beginning cut inside it ("user@exam" parses as two words) is a word the index knows.
    The scan finds all three."""
    whole = find_indexed("user@example.com").hits["message_row_id"].tolist()
    assert whole and whole == expected_ids(all_rows, "user@example.com", words=True)
    for part in ("example.com", "user@exam"):
        assert find_indexed(part).hits.empty
        assert set(find_plain(part).hits["content"]) == {"write to user@example.com now"}


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("?!...", "punctuation alone"),
        ("%%%", "punctuation alone"),
        ("\x00", None),
        ("   ", None),
    ],
)
def test_nothing_to_search_for_gives_no_hits(find_plain, find_indexed, text, notice):
    for find in (find_plain, find_indexed):
        found = find(text)
        assert found.hits is None
        assert [notice in n for n in found.notices] == ([] if notice is None else [True])


@pytest.mark.parametrize("find", ["find_plain", "find_indexed"])
def test_long_and_nul_texts_are_searched_for_what_they_can_be(request, all_rows, find):
    finder = request.getfixturevalue(find)
    words = find == "find_indexed"
    scan_rows = None if words else search.SEARCH_SCAN_ROWS
    long = finder("hello " + "x" * 10_000)
    assert any("first 200 characters" in n for n in long.notices)
    assert long.hits.empty
    nul = finder("hel\x00lo wor\x00ld")
    expected = expected_ids(all_rows, "hello world", words=words, scan_rows=scan_rows)
    assert nul.hits["message_row_id"].tolist() == expected
    mixed = finder("Grüße aus")
    assert mixed.hits["content"].tolist() == ["Grüße aus München"] * len(mixed.hits) and len(mixed.hits)


# --- The parts, one by one --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern", "note"),
    [
        ("price", "%price%", None),
        ("  Привет   мир ", "%Привет мир%", None),
        ("100%_\\", "%100\\%\\_\\\\%", None),
        ("a\x00b", "%ab%", None),
        ("?!...", None, "punctuation alone"),
        ("   ", None, None),
        ("x" * 10_000, "%" + "x" * search.MAX_QUERY + "%", "first 200 characters"),
        ("日本語とEnglish", "%日本語とEnglish%", None),
    ],
)
def test_search_patterns(text, pattern, note):
    found, why = search.search_pattern(text)
    assert found == pattern
    assert (why is None) if note is None else (note in why)


def test_index_queries_quote_words_and_leave_out_short_beginnings():
    entries = pd.DataFrame(
        [("it's", False), ("a\\b", False), ("o", True), ("ab", True), ("ab cd", True)],
        columns=["entry", "may_continue"],
    )
    assert search.words_query(entries) == "'it''s' & 'a\\\\b' & 'ab':* & 'ab cd':*"
    assert search.words_query(entries.iloc[[2]]) is None
    assert search.words_query(entries.iloc[:0]) is None


def test_snippets_mark_a_match_that_starts_a_word():
    before, match, after = search.snippet("Hello World, hello world", "WORLD", width=3)
    assert (before, match, after) == ("…lo ", "World", ", h…")
    assert search.snippet("superprice then price", "price", width=5) == ("…then ", "price", "")
    assert search.snippet("only superprice", "price", width=4) == ("…uper", "price", "")
    assert search.snippet("no hit here", "zzz") == ("no hit here", "", "")


# --- Install ----------------------------------------------------------------------------------------


def test_install_replaces_an_index_an_interrupted_build_left_invalid(new_database):
    url = prepared(new_database("search_invalid"), install=False)
    engine = admin_engine(url)
    try:
        failing_build = f"create index concurrently {SEARCH_INDEX} on chat_messages (cast(content as int))"
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
            pytest.raises(sa.exc.DataError),
        ):
            conn.execute(sa.text(failing_build))  # fails part way and leaves its index, INVALID
        assert _index_state(engine) == (False, False)
        install_dashboard_objects(engine)
        assert _index_state(engine) == (True, True)
    finally:
        engine.dispose()


def _index_state(engine: sa.Engine) -> tuple[bool, bool]:
    """(the search index is valid and indexes message_words, introspection finds it ready)"""
    with engine.connect() as conn:
        valid, definition = conn.execute(
            sa.text(
                "select i.indisvalid, pg_get_indexdef(i.indexrelid) from pg_index as i"
                " where i.indexrelid = to_regclass(:name)"
            ),
            {"name": SEARCH_INDEX},
        ).one()
        return valid and "message_words(content)" in definition, introspect(conn).search_index_ready


def _with_role(conn: sa.Connection, statement: str, role: str) -> None:
    """`statement` with the role's name quoted as an identifier in its `{}`."""
    conn.connection.driver_connection.execute(psql.SQL(statement).format(psql.Identifier(role)))


def test_a_writer_with_no_rights_in_the_dashboard_schema_still_inserts_messages(new_database):
    """Lillo's own role computes the index entries of each message it writes: that must need
    nothing the dashboard's install did not give everyone."""
    url = prepared(new_database("search_writer"), refresh=False)
    engine = admin_engine(url)
    role = f"lillo_app_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        _with_role(conn, "create role {} nologin", role)
        _with_role(conn, "grant insert on chat_messages to {}", role)
        _with_role(conn, "grant usage on sequence chat_messages_id_seq to {}", role)
    try:
        with engine.begin() as conn:
            _with_role(conn, "set local role {}", role)
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                    " timestamp, agent_id) values (1, 1, 1, 'Lillo', 'user', 'written by lillo itself',"
                    " 1700000000, :agent)"
                ),
                {"agent": fx.ALPHA},
            )
    finally:
        with engine.begin() as conn:
            _with_role(conn, "drop owned by {}", role)
            _with_role(conn, "drop role {}", role)
        engine.dispose()
    finder = _finder(url)
    found = next(finder)("by lillo")
    finder.close()
    assert found.indexed and found.hits["content"].tolist() == ["written by lillo itself"]


# --- The page ---------------------------------------------------------------------------------------


@pytest.fixture
def search_page(monkeypatch):
    def open_page(url: str, q: str, role: str = "viewer") -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.delenv("DATABASE_READ_URL", raising=False)
        views.clear_cache()
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), role)
        at.run()
        at.switch_page("app_pages/conversations.py")
        at.query_params["q"] = q
        return at.run()

    return open_page


def _shown(at: AppTest) -> str:
    parts = [c.value for c in at.caption] + [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_the_page_says_which_way_answered(search_page, plain_url, indexed_url):
    at = search_page(indexed_url, "hello world")
    assert not at.exception
    assert "Searched all messages" in _shown(at) and "install" not in _shown(at)
    snippets = [m.value for m in at.markdown if "**" in m.value]
    assert snippets and all("**hello world**" in s.lower() for s in snippets)
    at = search_page(plain_url, "hello world")
    assert not at.exception
    shown = _shown(at)
    assert "Searched the newest 200,000 messages" in shown and "python -m dashboard install" in shown


@pytest.mark.parametrize(
    "q", ["?!...", "x" * 10_000, "\x00", "日本語", "x", "'; drop table chat_messages; --"]
)
def test_bad_searches_give_notices_not_tracebacks(search_page, indexed_url, q):
    at = search_page(indexed_url, q)
    assert not at.exception
    assert _shown(at)
