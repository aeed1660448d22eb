"""The Conversations page: URL parsing, pseudonyms, the audit row of a transcript view, and the
page itself in AppTest on an installed database, hostile text included."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import auth, privacy, store, transcript, views
from dashboard.db import admin_engine, writer_engine
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script> [click](javascript:alert(2)) **bold** \u202eevil\u200d"


@pytest.mark.parametrize(
    ("text", "chat_id", "problem"),
    [
        ("123", 123, None),
        (" -1001234567890 ", -1001234567890, None),
        (None, None, None),
        ("", None, None),
        ("abc", None, "is not a chat id"),
        ("12.5", None, "is not a chat id"),
        ("1e9", None, "is not a chat id"),
        ("9223372036854775808", None, "too large"),
        ("-9223372036854775809", None, "too large"),
        ("1" * 31, None, "is not a chat id"),
        ("1\x002", None, "is not a chat id"),
        ("'; drop table chat_messages; --", None, "is not a chat id"),
    ],
)
def test_chat_ids_from_the_url(text, chat_id, problem):
    found, why = transcript.parse_chat_id(text)
    assert found == chat_id
    assert (why is None) if problem is None else (problem in why)


@pytest.mark.parametrize(
    ("text", "cursor"),
    [
        ("1700000000000-42", transcript.Cursor(1700000000000, 42)),
        ("garbage", None),
        ("-1-2", None),
        ("99999999999999999999-1", None),
        (None, None),
    ],
)
def test_cursors_from_the_url(text, cursor):
    assert transcript.parse_cursor(text) == cursor


def test_commands_are_placed_among_messages_by_time():
    messages = pd.DataFrame({"sent_ms": [3000, 1000], "message_row_id": [2, 1]})
    commands = pd.DataFrame({"sent_ms": [2000, 3000], "command_row_id": [7, 8]})
    order = [(kind, row["sent_ms"]) for kind, row in transcript.interleaved(messages, commands)]
    assert order == [("message", 1000), ("command", 2000), ("message", 3000), ("command", 3000)]


def test_pseudonyms_are_stable_keyed_and_leave_assistants_alone():
    key, other = privacy.deployment_key(b"one"), privacy.deployment_key(b"two")
    assert privacy.pseudonym(key, 501) == privacy.pseudonym(key, 501)
    assert privacy.pseudonym(key, 501) != privacy.pseudonym(key, 502)
    assert privacy.pseudonym(key, 501) != privacy.pseudonym(other, 501)
    person = {"role": "user", "user_id": 501, "user_first_name": "Ana", "username": "ana"}
    hidden = privacy.pseudonymise_row(key, person)
    assert hidden["user_first_name"].startswith("Person ") and "Ana" not in str(hidden)
    assert hidden["username"].startswith("person_")
    bot = {"role": "assistant", "user_id": 9001, "user_first_name": "Alpha", "username": None}
    assert privacy.pseudonymise_row(key, bot) == bot
    reply = {
        "role": "assistant",
        "user_id": 9001,
        "reply_author": "Ana",
        "reply_user_id": 501,
        "reply_role": "user",
    }
    assert privacy.pseudonymise_row(key, reply)["reply_author"] == privacy.pseudonym(key, 501)
    assert privacy.mask_wallet("0x1234567890abcdef") == "0x1234…cdef"


@pytest.fixture(scope="module")
def installed_url(new_database) -> str:
    return prepared(new_database("conversations"), seed=_add_hostile_message)


def _add_hostile_message(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, username, role,"
                " content, timestamp, agent_id) values (95, :chat, 666, :name, 'mallory', 'user', :content,"
                " :ts, :agent)"
            ),
            {
                "chat": fx.GROUP_CHAT,
                "name": "<img src=x onerror=alert(3)>",
                "content": HOSTILE,
                "ts": int((fx.ANCHOR.timestamp() - 60) * 1000),
                "agent": fx.ALPHA,
            },
        )


def audit_views(url: str) -> list[tuple]:
    engine = admin_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select actor, actor_role, row_key from lillo_dash.audit_log"
                " where action = 'view' order by id"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_record_view_writes_one_audit_row_for_any_signed_in_role(installed_url, dashboard_data_dir):
    import os

    config = auth.load_auth_config({}, os.environ, dashboard_data_dir, embedded=False)
    engine = writer_engine(installed_url, statement_timeout_ms=5_000)
    before = len(audit_views(installed_url))
    store.record_view(
        engine, config, auth.User("vic", "viewer", time.time()), "chat_messages", {"chat_id": 5}
    )
    assert audit_views(installed_url)[before:] == [("vic", "viewer", {"chat_id": 5})]
    with pytest.raises(store.NotAllowed):
        store.record_view(engine, config, None, "chat_messages", {"chat_id": 5})
    engine.dispose()


@pytest.fixture
def conversations(monkeypatch, installed_url):
    monkeypatch.setenv("DATABASE_URL", installed_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(role: str = "viewer", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), role)
        at.run()
        at.switch_page("app_pages/conversations.py")
        at.query_params.update(query)
        return at.run()

    return open_page


def page_text(at: AppTest) -> str:
    return "\n".join(str(t.value) for t in at.text)


def test_without_a_chat_the_chats_list_links_to_their_transcripts(conversations):
    at = conversations(range="all")
    assert not at.exception
    # people's and agents' messages, the hour-of-week heatmap, chat sizes
    assert len(at.get("plotly_chart")) >= 3
    chats = at.dataframe[0].value
    assert chats["link"].tolist()[0] == f"/conversations?chat={fx.GROUP_CHAT}"  # the most messages
    assert set(chats["chat_kind"]) == {"group", "private"}


@pytest.mark.parametrize(
    ("query", "chats"),
    [
        ({"kind": "private"}, {fx.PRIVATE_CHAT, fx.OTHER_PRIVATE_CHAT}),
        ({"kind": "group"}, {fx.GROUP_CHAT}),
        ({"who": "505"}, {fx.OTHER_PRIVATE_CHAT}),
        ({"min": "4"}, {fx.GROUP_CHAT, fx.PRIVATE_CHAT}),
    ],
)
def test_chats_list_filters_from_the_url(conversations, query, chats):
    at = conversations(range="all", **query)
    assert not at.exception
    links = at.dataframe[0].value["link"].tolist()
    assert {int(link.split("=")[1]) for link in links} == chats


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"kind": "secret"}, "Unknown chat kind"),
        ({"sort": "'; drop table x"}, "Unknown order"),
        ({"min": "-5"}, "not a usable minimum size"),
        ({"min": "1" * 40}, "not a usable minimum size"),
        ({"who": "bob"}, "not a Telegram user id"),
        ({"page": "0"}, "not a page number"),
        ({"page": "99999999999999999999999"}, "not a page number"),
    ],
)
def test_bad_chat_list_choices_in_the_url_give_notices(conversations, query, shown):
    at = conversations(range="all", **query)
    assert not at.exception
    notices = [i.value for i in at.info] + [w.value for w in at.warning]
    assert any(shown in n for n in notices), notices
    assert at.dataframe[0].value["link"].tolist()  # the list is still shown, with defaults


@pytest.mark.parametrize(
    ("chat", "shown"),
    [
        ("not-a-number", "is not a chat id"),
        ("99999999999999999999", "too large"),
        ("424242", "There is no chat 424242"),
    ],
)
def test_bad_chat_ids_give_a_notice_not_a_traceback(conversations, chat, shown):
    at = conversations(chat=chat)
    assert not at.exception
    notices = [w.value for w in at.warning] + [i.value for i in at.info]
    assert any(shown in n for n in notices), notices


def test_viewer_reads_a_pseudonymised_transcript_and_the_view_is_audited(conversations, installed_url):
    before = len(audit_views(installed_url))
    at = conversations("viewer", chat=str(fx.GROUP_CHAT))
    assert not at.exception
    text = page_text(at)
    assert "message 10" in text and "message 11" in text
    assert "Борис" not in text and "さくら" not in text and "mallory" not in text
    assert "Person " in text
    assert "Alpha" in text  # assistants keep their names
    assert HOSTILE in text  # shown as text, exactly as stored
    assert "⚙ /ticker" in text and "⚙ /dex" in text and "ECONNRESET" in text
    toggle = next(t for t in at.toggle if t.label == "Pseudonymise people")
    assert toggle.disabled
    assert audit_views(installed_url)[before:] == [("vic", "viewer", {"chat_id": fx.GROUP_CHAT})]
    # Hostile text never reaches a Markdown or HTML element.
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in str(value) or "onerror" in str(value) for value in rendered)


def test_admin_can_show_real_names(conversations):
    at = conversations("admin", chat=str(fx.GROUP_CHAT))
    toggle = next(t for t in at.toggle if t.label == "Pseudonymise people")
    assert not toggle.disabled
    at = toggle.set_value(False).run()
    assert "Борис" in page_text(at)


def test_older_messages_page_back(conversations, monkeypatch):
    monkeypatch.setattr(transcript, "PAGE_SIZE", 3)
    at = conversations("viewer", chat=str(fx.GROUP_CHAT))
    first = page_text(at)
    assert "message 95" not in first or HOSTILE in first
    at = next(b for b in at.button if b.label == "Older messages").click().run()
    assert not at.exception
    assert at.query_params.get("before")
    assert page_text(at) != first


def test_search_on_the_page_shows_escaped_snippets_and_opens_the_chat(conversations):
    at = conversations("viewer", q="javascript:alert")
    assert not at.exception
    snippets = [m.value for m in at.markdown if "javascript" in m.value]
    assert len(snippets) == 1
    assert "\\<script\\>" in snippets[0] and "<script>" not in snippets[0] and "](" not in snippets[0]
    assert "Борис" not in "\n".join(str(t.value) for t in at.text)  # pseudonyms in results too
    at = next(b for b in at.button if b.label == "Open in its chat").click().run()
    assert not at.exception
    assert at.query_params.get("chat") == [str(fx.GROUP_CHAT)] or at.query_params.get("chat") == str(
        fx.GROUP_CHAT
    )
    assert HOSTILE in page_text(at)


@pytest.mark.parametrize("q", ["%%%", "x" * 10_000, "\x00", "'; drop table chat_messages; --"])
def test_odd_searches_give_notices_not_tracebacks(conversations, q):
    at = conversations("viewer", q=q)
    assert not at.exception
