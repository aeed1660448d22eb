"""Hostile input: whatever a link, a typed value or a stored row holds, the dashboard answers with
a page and, where it refused something, a notice — never a traceback or a database error.

Property tests (hypothesis) run the pure parsers of URL query parameters over garbage dates, huge
and negative numbers, SQL metacharacters, NUL bytes, 100,000-character strings and unknown ids;
message search runs the same over the embedded PostgreSQL. Then every page runs in AppTest with a
fixed set of hostile query parameters, on a database that also holds hostile rows (`add_hostile_rows`,
which tests/test_browser_hostile.py shows in a real browser)."""

from __future__ import annotations

import re
import time
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard import agent_usage, chat_list, command_page, search, transcript, ui, views
from dashboard.config import ConfigError, validate_timezone
from dashboard.db import reader_engine
from dashboard.filters import BUCKETS, FILTER_KEYS, MAX_HOUR_BUCKET_RANGE, PRESET_LABELS, parse_filters
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
MAX_BIGINT = 2**63 - 1
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

# --- Hostile values --------------------------------------------------------------------------------

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
MD_LINK = "[click](javascript:window.__pwned=1)"
BIDI = "\u202eevil\u202c txet desrever"
ZWJ = "ze\u200dro\u200b wi\u2060dth \u200c👩\u200d💻"


class _Long(str):
    """A long string that a failing example prints by its length, not its 100,000 characters."""

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"


HUGE = _Long("x" * 100_000)
# A 1 MB message of many different words (the search index holds each), ending in a marker.
BIG = _Long("".join(f"word{i} " for i in range(200_000))[: 1_000_000 - 4] + " END")
NASTY = [
    "'; drop table chat_messages; --",
    "1 OR 1=1",
    '" or ""="',
    "\x00",
    "a\x00b",
    "\x1b[31m",
    HUGE,
    "-1",
    "0",
    "-0",
    "+1",
    "1e308",
    "nan",
    "inf",
    "99999999999999999999999",
    "-9223372036854775809",
    "9223372036854775807",
    "9223372036854775808",
    "٣",  # an Arabic-Indic digit: a decimal digit to Python, but not ASCII
    SCRIPT,
    IMG,
    MD_LINK,
    BIDI,
    ZWJ,
    "%",
    "%%",
    "_",
    "\\",
    "'",
    "2026-13-45",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "1969-12-31",
    "20260101",
    "2026-01-01T99:99",
    " ",
    "\t\n",
    "Europe",
    "localtime",
    "posixrules",
    "posix/Europe/Berlin",
    "right/UTC",
    "../../etc/passwd",
    "/etc/localtime",
    "UTC\x00",
    "Asia/Tokyo",
    "custom",
    "all",
    "hour",
    fx.ALPHA,
    "424242",
]
# Characters a URL can carry (no lone surrogates: query strings arrive as UTF-8).
_CHARACTERS = st.characters(exclude_categories=("Cs",))
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(_CHARACTERS, max_size=40),
    st.text("0123456789+-. eE", max_size=30),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(_CHARACTERS, max_size=10)),
)
# A query parameter from the URL: one value, or several (`?agent=a&agent=b`).
url_value = st.one_of(hostile_text, st.lists(hostile_text, max_size=4))
PURE = settings(max_examples=400, deadline=None, database=None)

# Digits to str.isdigit but not numbers to int(): a page number of them is refused, not a crash.
_NOT_DECIMAL_DIGITS = "²³¹①⑳"


# --- Global filters --------------------------------------------------------------------------------

# Time zones PostgreSQL knows by the same name (Python's list also holds `localtime`).
PG_ZONES = zoneinfo.available_timezones() - {"localtime"}
KNOWN_AGENTS = {fx.ALPHA, fx.BETA, fx.GHOST}


@PURE
@given(st.dictionaries(st.sampled_from(FILTER_KEYS), url_value, max_size=len(FILTER_KEYS)))
def test_any_filter_query_gives_usable_filters(query):
    filters = parse_filters(query, known_agent_ids=KNOWN_AGENTS, now=NOW)
    assert filters.preset in PRESET_LABELS and filters.bucket in BUCKETS
    assert filters.tz in PG_ZONES
    assert filters.start < filters.end
    assert -(2**63) < filters.previous_start_ms <= filters.start_ms < filters.end_ms < MAX_BIGINT
    assert not (filters.bucket == "hour" and filters.end - filters.start > MAX_HOUR_BUCKET_RANGE)
    assert set(filters.agent_ids) <= KNOWN_AGENTS
    filters.describe(), filters.export_parts(), filters.view_params()
    # What the page writes back to the URL reopens the same view, with nothing to correct.
    again = parse_filters(filters.to_query(), known_agent_ids=KNOWN_AGENTS, now=NOW)
    assert again == filters and again.notices == ()
    # Whatever was given and not used is said.
    # (A parameter given twice is read from its first value, as Streamlit's `get` does.)
    first = {key: _first(value) for key, value in query.items() if _first(value)}
    refused = (
        first.get("tz", filters.tz) != filters.tz
        or first.get("range", filters.preset) != filters.preset
        or first.get("bucket", filters.bucket) != filters.bucket
        or any(a not in KNOWN_AGENTS for a in _values(query.get("agent")))
    )
    if refused:
        assert filters.notices


def _first(value: str | list[str]) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _values(value: str | list[str] | None) -> list[str]:
    """The non-empty values of a query parameter, as the filters read them."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if v]


@PURE
@given(st.dictionaries(st.sampled_from(FILTER_KEYS), url_value, max_size=len(FILTER_KEYS)))
def test_agent_ids_are_safe_for_the_database_even_without_the_agent_list(query):
    filters = parse_filters(query, known_agent_ids=None, now=NOW)
    assert all("\x00" not in a and len(a) <= 255 for a in filters.agent_ids)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"tz": "a" * 100_000}, "Unknown time zone"),
        ({"tz": "Europe"}, "Unknown time zone"),
        ({"tz": "localtime"}, "Unknown time zone"),
        ({"range": "custom", "from": "9999-12-31"}, "dates the dashboard shows"),
        ({"range": "custom", "to": "0001-01-01"}, "dates the dashboard shows"),
        ({"range": "custom", "from": "0001-01-01", "to": "9999-12-31"}, "dates the dashboard shows"),
        ({"agent": ["ok", "a\x00b"]}, "Unknown agent"),
    ],
)
def test_filter_values_that_once_raised_give_notices(query, shown):
    filters = parse_filters(query, known_agent_ids=None if "agent" in query else set(), now=NOW)
    assert any(shown in notice for notice in filters.notices), filters.notices


# --- Page parameters -------------------------------------------------------------------------------


@PURE
@given(hostile_text)
def test_chat_ids_fit_bigint_or_are_refused_with_a_reason(text):
    chat_id, problem = transcript.parse_chat_id(text)
    if chat_id is None:
        assert (problem is None) == (not text.strip())
    else:
        assert problem is None and -(2**63) <= chat_id <= MAX_BIGINT


@PURE
@given(hostile_text)
def test_cursors_fit_bigint_or_are_ignored(text):
    cursor = transcript.parse_cursor(text)
    if cursor is not None:
        assert all(0 <= value <= MAX_BIGINT for value in cursor.view_params().values())


@PURE
@given(st.dictionaries(st.sampled_from(chat_list.QUERY_KEYS), hostile_text))
def test_chat_list_choices_are_usable_or_refused_with_a_notice(query):
    chosen, notices = chat_list.parse_query(query)
    assert chosen.kind in chat_list.KINDS and chosen.sort in chat_list.SORTS
    assert 1 <= chosen.min_messages <= chat_list.MAX_MIN_MESSAGES
    assert chosen.participant is None or 0 <= chosen.participant <= MAX_BIGINT
    assert 1 <= chosen.page <= ui.MAX_PAGE
    parsed_back, again = chat_list.parse_query(chosen.to_query())
    assert parsed_back == chosen and not again
    used = chosen._query_values()
    if any(not _same(used[key], value) for key, value in query.items() if value.strip()):
        assert notices


def _same(used: str, given: str) -> bool:
    """Whether the value used is the one given, a number in any spelling ('+1', '01', ' 1')."""
    if used == given:
        return True
    try:
        return int(given) == int(used)
    except ValueError:
        return False


@PURE
@given(hostile_text)
def test_page_numbers_are_in_range_or_refused(text):
    page, problem = ui.parse_page(text)
    assert 1 <= page <= ui.MAX_PAGE
    assert problem is None or page == 1


@pytest.mark.parametrize("text", list(_NOT_DECIMAL_DIGITS[:2]))
def test_page_numbers_that_are_digits_but_not_decimal(text):
    page, problem = ui.parse_page(text)
    assert page == 1 and problem


@PURE
@given(hostile_text)
def test_agent_ids_from_the_url_are_safe_to_bind(text):
    agent_id, problem = agent_usage.parse_agent_id(text)
    if agent_id is not None:
        assert problem is None and "\x00" not in agent_id and agent_id == agent_id.strip()
        assert len(agent_id) <= agent_usage.MAX_AGENT_ID_LENGTH
    else:
        assert (problem is None) == (not text.strip())


@PURE
@given(hostile_text)
def test_command_names_from_the_url_are_safe_to_bind(text):
    name, problem = command_page.parse_command(text)
    if name is not None:
        assert problem is None and name.isprintable() and len(name) <= command_page.MAX_COMMAND_CHARS
        command_page.command_link(name)
    else:
        assert (problem is None) == (not text.strip())


# --- Search ----------------------------------------------------------------------------------------


@PURE
@given(hostile_text, st.text(_CHARACTERS, max_size=300))
def test_search_text_patterns_and_snippets(text, content):
    cleaned = search.search_text(text)
    assert "\x00" not in cleaned and len(cleaned) <= search.MAX_QUERY
    pattern, _note = search.search_pattern(text)
    if pattern is not None:
        assert "\x00" not in pattern
    before, match, after = search.snippet(content, cleaned)
    assert match.casefold() == cleaned.casefold() or not match
    assert len(before) + len(match) + len(after) <= len(content) + 2 + len(cleaned)


def add_hostile_rows(engine: sa.Engine) -> None:
    """Messages, names, commands, posts and user data holding markup, script, links, bidirectional
    controls, zero-width characters and a 1 MB message; recent, so every range shows them."""
    now_ms = int(time.time() * 1000)
    texts = [SCRIPT, IMG, MD_LINK, BIDI, ZWJ, f"{SCRIPT}{IMG}{MD_LINK} **bold** # heading", BIG]
    messages = [
        {
            "message_id": i + 1,
            "chat_id": HOSTILE_CHAT,
            "user_id": HOSTILE_USER if i % 2 == 0 else 9666,
            "user_first_name": IMG if i % 2 == 0 else SCRIPT,
            "username": MD_LINK if i % 2 == 0 else None,
            "role": "user" if i % 2 == 0 else "assistant",
            "content": text,
            "timestamp": now_ms - (len(texts) - i) * 60_000,
            "reply_to_message_id": i if i % 2 == 1 else None,
            "agent_id": HOSTILE_AGENT,
        }
        for i, text in enumerate(texts)
    ]
    # Another chat, of an agent whose name is a link: charts label their series with agent names.
    messages += [message | {"chat_id": HOSTILE_CHAT + 1, "agent_id": LINK_AGENT} for message in messages[:2]]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into agents (id, name, type, is_active, capabilities)"
                " values (cast(:id as uuid), :name, 'telegram', true, cast(:caps as jsonb))"
            ),
            [
                {
                    "id": HOSTILE_AGENT,
                    "name": f"{SCRIPT}{BIDI}",
                    "caps": '{"<img src=x onerror=alert(1)>": true}',
                },
                {"id": LINK_AGENT, "name": LINK_NAME, "caps": "{}"},
            ],
        )
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, username, role,"
                " content, timestamp, reply_to_message_id, agent_id) values (:message_id, :chat_id, :user_id,"
                " :user_first_name, :username, :role, :content, :timestamp, :reply_to_message_id, :agent_id)"
            ),
            messages,
        )
        conn.execute(
            sa.text(
                "insert into command_metrics (command, user_id, chat_id, duration, success, error, timestamp)"
                " values (:command, :user_id, :chat_id, :duration, false, :error, :timestamp)"
            ),
            [
                {
                    "command": command,
                    "user_id": HOSTILE_USER,
                    "chat_id": HOSTILE_CHAT,
                    "duration": 1200,
                    "error": f"{MD_LINK} {IMG} {BIDI}",
                    "timestamp": now_ms - 30_000,
                }
                for command in ("<img src=x onerror=alert(1)>", "img\u202e", "%_\\'")
            ],
        )
        conn.execute(
            sa.text(
                "insert into user_data (wallet_address, telegram_id, username, first_name, token_balance)"
                " values (:wallet, :telegram_id, :username, :first_name, :balance)"
            ),
            {
                "wallet": f"0x{SCRIPT}",
                "telegram_id": HOSTILE_USER,
                "username": MD_LINK,
                "first_name": IMG,
                "balance": "NaN<script>",
            },
        )
        conn.execute(
            sa.text("insert into posts (type, content, timestamp) values ('tweet', :content, :ts)"),
            [{"content": text, "ts": now_ms} for text in texts],
        )
        conn.execute(
            sa.text("insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, :m)"),
            {"a": HOSTILE_AGENT, "c": 4242, "m": "GROK"},
        )


HOSTILE_CHAT = 4_242_420
HOSTILE_USER = 6_660_666
HOSTILE_AGENT = "66666666-6666-6666-6666-666666666666"
LINK_AGENT = "77777777-7777-7777-7777-777777777777"
LINK_NAME = '<a href="https://evil.example/">phish</a> <b>bold</b>'


@pytest.fixture(scope="module")
def hostile_url(new_database) -> str:
    return prepared(new_database("hostile"), seed=add_hostile_rows)


@pytest.fixture(scope="module")
def finder(hostile_url):
    engine = reader_engine(hostile_url, statement_timeout_ms=10_000)
    with engine.connect() as conn:
        schema = introspect(conn)
    assert schema.search_index_ready
    fetch = lambda name, **params: views.fetch_uncached(engine, schema, name, params).frame  # noqa: E731
    yield fetch
    engine.dispose()


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(hostile_text, st.sampled_from(["word12345", "WORD1 word2", "👩\u200d💻", "evil"])),
    indexed=st.booleans(),
)
def test_search_never_fails_in_the_database(finder, text, indexed):
    found = search.find_messages(text, index_ready=indexed, agent_ids=[], tz="UTC", fetch=finder)
    if found.hits is not None:
        assert len(found.hits) <= search.SEARCH_LIMIT


# --- Pages -----------------------------------------------------------------------------------------

PAGES = {
    "overview": ("app_pages/overview.py", "viewer"),
    "conversations": ("app_pages/conversations.py", "viewer"),
    "people": ("app_pages/people.py", "viewer"),
    "commands": ("app_pages/commands.py", "viewer"),
    "agents": ("app_pages/agents.py", "viewer"),
    "models": ("app_pages/models.py", "viewer"),
    "settings": ("app_pages/settings.py", "admin"),
    "model_tuning": ("app_pages/model_tuning.py", "admin"),
    "audit": ("app_pages/audit.py", "admin"),
}


@pytest.fixture
def open_page(monkeypatch, hostile_url):
    monkeypatch.setenv("DATABASE_URL", hostile_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(name: str, query: dict) -> AppTest:
        path, role = PAGES[name]
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), role)
        at.run()
        at.switch_page(path)
        at.query_params.update(query)
        return at.run()

    return open_page


def shown(at: AppTest) -> dict[str, list[str]]:
    return {
        "exception": [str(e.value) for e in at.exception],
        "error": [str(e.value) for e in at.error],
        "warning": [str(w.value) for w in at.warning],
        "info": [str(i.value) for i in at.info],
        "caption": [str(c.value) for c in at.caption],
    }


GLOBAL_QUERIES = {
    "garbage": {
        "range": "custom",
        "from": "2026-13-45",
        "to": "'; drop table chat_messages; --",
        "bucket": SCRIPT,
        "tz": HUGE,
        "agent": ["a\x00b", MD_LINK, "nobody"],
    },
    "huge": {"range": HUGE, "bucket": "hour", "tz": "localtime", "agent": "1 OR 1=1"},
    "far dates": {
        "range": "custom",
        "from": "0001-01-01",
        "to": "9999-12-31",
        "bucket": "day",
        "tz": "Europe",
    },
    "late": {"range": "custom", "from": "9999-12-31", "tz": "Asia/Tokyo", "bucket": "hour"},
}
GLOBAL_NOTICES = {
    "garbage": "Unknown time zone",
    "huge": "Unknown range",
    "far dates": "outside the dates the dashboard shows",
    "late": "Hourly buckets are limited",
}


# (page, query parameters, a notice that must be shown — None where nothing is refused)
PAGE_CASES = [
    ("conversations", {"chat": "'; drop table chat_messages; --"}, "is not a chat id"),
    ("conversations", {"chat": "a\x00b"}, "is not a chat id"),
    ("conversations", {"chat": HUGE}, "is not a chat id"),
    ("conversations", {"chat": "-9223372036854775809"}, "too large"),
    ("conversations", {"chat": "424242"}, "There is no chat 424242"),
    ("conversations", {"chat": str(HOSTILE_CHAT)}, None),
    ("conversations", {"chat": str(HOSTILE_CHAT), "before": "garbage"}, "showing the newest messages"),
    ("conversations", {"chat": str(HOSTILE_CHAT), "before": "99999999999999999999-1"}, "the newest"),
    ("conversations", {"chat": str(HOSTILE_CHAT), "before": BIDI}, "u202eevil"),
    ("conversations", {"chat": BIDI}, "u202eevil"),
    ("conversations", {"kind": ZWJ}, "u200d"),
    ("conversations", {"chat": str(HOSTILE_CHAT), "before": "0-0"}, "No messages"),
    ("conversations", {"chat": str(HOSTILE_CHAT), "agent": "a\x00b"}, "Unknown agent"),
    ("conversations", {"q": HUGE}, "Only the first 200 characters"),
    ("conversations", {"q": "%%%"}, "Type some letters or digits"),
    ("conversations", {"q": "\x00"}, None),
    ("conversations", {"q": SCRIPT}, None),
    ("conversations", {"q": "'; drop table chat_messages; --"}, None),
    ("conversations", {"q": BIDI + ZWJ}, None),
    ("conversations", {"kind": SCRIPT}, "Unknown chat kind"),
    ("conversations", {"sort": HUGE}, "Unknown order"),
    ("conversations", {"min": "-1"}, "not a usable minimum size"),
    ("conversations", {"min": "1e308"}, "not a usable minimum size"),
    ("conversations", {"who": "a\x00b"}, "not a Telegram user id"),
    ("conversations", {"who": "9223372036854775808"}, "not a Telegram user id"),
    ("conversations", {"page": "-1"}, "not a page number"),
    ("conversations", {"page": HUGE}, "not a page number"),
    ("conversations", {"page": "4001"}, "not a page number"),
    ("people", {"person": HUGE}, "not a Telegram user id"),
    ("people", {"person": "-1"}, "not a Telegram user id"),
    ("people", {"person": "a\x00b"}, "not a Telegram user id"),
    ("people", {"person": "424242"}, "Nobody with Telegram id 424242"),
    ("people", {"person": str(HOSTILE_USER)}, None),
    ("people", {"page": HUGE}, "not a page number"),
    ("people", {"person": str(HOSTILE_USER), "kind": SCRIPT, "page": "0"}, "Unknown chat kind"),
    ("commands", {"command": HUGE}, "at most"),
    ("commands", {"command": "\x00"}, "control characters"),
    ("commands", {"command": "/"}, "alone is not a command"),
    ("commands", {"command": SCRIPT}, "was ever run here"),
    ("commands", {"command": "'; drop table command_metrics; --"}, "was ever run here"),
    ("commands", {"command": "%_\\'"}, None),
    ("commands", {"command": "<img src=x onerror=alert(1)>"}, None),
    ("agents", {"id": HUGE}, "is not an agent id"),
    ("agents", {"id": "a\x00b"}, "is not an agent id"),
    ("agents", {"id": "nobody"}, None),
    ("agents", {"id": SCRIPT}, None),
    ("agents", {"id": HOSTILE_AGENT}, None),
    ("settings", {"edit": HUGE}, "does not exist"),
    ("settings", {"edit": "\x00"}, "does not exist"),
    ("settings", {"edit": HOSTILE_AGENT}, None),
]


# What only a database error or a crash puts on a page.
FAILURE_WORDS = ("database said", "could not be loaded", "psycopg.", "Traceback", "Error:", "syntax error")
# What hostile text looks like when it reached Markdown unescaped.
LIVE_MARKUP = ("<script", "<img", "](javascript", "onerror=")


def _unescaped(markdown: str) -> str:
    """The Markdown without its backslash-escaped characters, which render as themselves."""
    return re.sub(r"\\.", "", markdown, flags=re.DOTALL)


def assert_page_held(at: AppTest, notice: str | None) -> None:
    seen = shown(at)
    assert not seen["exception"], seen["exception"]
    assert not seen["error"], seen["error"]
    problems = seen["warning"] + seen["info"] + seen["caption"]
    assert not [p for p in problems if any(word in p for word in FAILURE_WORDS)], problems
    markdown = problems + [str(m.value) for m in at.markdown] + [str(t.value) for t in at.title]
    assert not [m for m in markdown if any(markup in _unescaped(m) for markup in LIVE_MARKUP)], markdown
    # A notice quotes what was refused with its control characters escaped: a bidirectional
    # override cannot turn the rest of the sentence around.
    assert not [n for n in seen["warning"] + seen["info"] if "\u202e" in n or "\x00" in n]
    if notice is not None:
        plain = [p.replace("\\", "") for p in seen["warning"] + seen["info"]]
        assert any(notice in p for p in plain), plain


@pytest.mark.parametrize("query_name", list(GLOBAL_QUERIES))
@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_filters_on_every_page(open_page, page, query_name):
    at = open_page(page, GLOBAL_QUERIES[query_name])
    assert_page_held(at, GLOBAL_NOTICES[query_name])


@pytest.mark.parametrize(("page", "query", "notice"), PAGE_CASES)
def test_hostile_page_parameters(open_page, page, query, notice):
    at = open_page(page, {"range": "all"} | query)
    assert_page_held(at, notice)


def test_hostile_rows_are_shown_as_plain_text(open_page):
    at = open_page("conversations", {"chat": str(HOSTILE_CHAT)})
    assert_page_held(at, None)
    texts = [str(t.value) for t in at.text]
    for hostile in (SCRIPT, IMG, MD_LINK, BIDI, ZWJ):
        assert any(hostile in text for text in texts), hostile
    # The 1 MB message: its start, and a note that the export holds the rest.
    assert BIG[:10_000] in texts and BIG not in texts
    assert any(f"{len(BIG) - 10_000:,} more characters" in str(c.value) for c in at.caption)


def test_search_finds_hostile_text_and_quotes_it_escaped(open_page):
    at = open_page("conversations", {"q": "window.__pwned", "range": "all"})
    assert_page_held(at, None)
    assert any("window" in str(m.value) for m in at.markdown)


@pytest.mark.parametrize("zone", ["Europe", "localtime", "../../etc/passwd", "x" * 100_000, "UTC\x00"])
def test_a_configured_time_zone_postgresql_cannot_use_is_refused_clearly(zone):
    with pytest.raises(ConfigError, match="is not a known time zone"):
        validate_timezone(zone)
    assert validate_timezone("Europe/Berlin") == "Europe/Berlin"
