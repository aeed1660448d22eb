"""Every view in sql/views run on the embedded PostgreSQL over the hand-made fixture, compared with
answers computed independently in pandas from each row's true moment (never from the view's SQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.live_schema import introspect
from dashboard.views import run_view
from tests import fixture_data as fx

START = fx.ANCHOR - timedelta(days=7)
PREVIOUS_START = fx.ANCHOR - timedelta(days=14)
NAMES = {fx.ALPHA: "Alpha", fx.BETA: "Beta", fx.GAMMA: "Gamma"}


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def params(**overrides) -> dict:
    base = {
        "start_ms": _ms(START),
        "end_ms": _ms(fx.ANCHOR),
        "previous_start_ms": _ms(PREVIOUS_START),
        "agent_ids": [],
        "tz": "UTC",
        "bucket": "day",
        "limit": 10,
    }
    return base | overrides


def view(reader, name: str, **overrides) -> pd.DataFrame:
    return run_view(reader, introspect(reader), name, params(**overrides))


def in_range(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    return frame[(frame["at"] >= start) & (frame["at"] < end)]


def message_kpis_expected(frame: pd.DataFrame) -> dict:
    return {
        "n_messages": len(frame),
        "n_active_chats": frame["chat_id"].nunique(),
        "n_active_users": frame.loc[frame["role"] == "user", "user_id"].nunique(),
        "n_active_agents": frame["agent_id"].nunique(),
    }


@pytest.mark.parametrize("agent_ids", [[], [fx.ALPHA], [fx.BETA, fx.GHOST]])
def test_message_kpis_match_independent_counts(reader, agent_ids):
    messages = fx.messages()
    if agent_ids:
        messages = messages[messages["agent_id"].isin(agent_ids)]
    got = view(reader, "message_kpis", agent_ids=agent_ids).set_index("period")
    for period, (start, end) in {"current": (START, fx.ANCHOR), "previous": (PREVIOUS_START, START)}.items():
        expected = message_kpis_expected(in_range(messages, start, end))
        if expected["n_messages"] == 0:
            assert period not in got.index
            continue
        assert {k: int(got.loc[period, k]) for k in expected} == expected, period


def test_message_kpis_known_values(reader):
    """A hand count, so a bug shared by pandas and the fixture still shows: 14 messages in the
    current week (the row exactly at the end bound excluded), 3 chats, 5 people, 3 agents."""
    got = view(reader, "message_kpis").set_index("period")
    assert got.loc["current", "n_messages"] == 14
    assert got.loc["current", "n_active_chats"] == 3
    assert got.loc["current", "n_active_users"] == 5
    assert got.loc["current", "n_active_agents"] == 3
    assert got.loc["previous", "n_messages"] == 4


def test_all_time_has_no_previous_period(reader):
    got = view(reader, "message_kpis", start_ms=0, previous_start_ms=0, end_ms=_ms(fx.ANCHOR) + 1)
    assert list(got["period"]) == ["current"]
    assert got.loc[0, "n_messages"] == len(fx.messages())


@pytest.mark.parametrize("agent_ids", [[], [fx.ALPHA], [fx.BETA]])
def test_command_kpis_match_independent_figures(reader, agent_ids):
    commands = fx.commands()
    if agent_ids:
        commands = commands[commands["agent_id"].isin(agent_ids)]
    got = view(reader, "command_kpis", agent_ids=agent_ids).set_index("period")
    for period, (start, end) in {"current": (START, fx.ANCHOR), "previous": (PREVIOUS_START, START)}.items():
        rows = in_range(commands, start, end)
        if rows.empty:
            assert period not in got.index
            continue
        assert got.loc[period, "n_commands"] == len(rows)
        assert got.loc[period, "n_failures"] == (~rows["success"]).sum()
        assert got.loc[period, "success_rate"] == pytest.approx(rows["success"].mean())
        # percentile_cont is linear interpolation between closest ranks, numpy's default method.
        assert got.loc[period, "p95_duration_ms"] == pytest.approx(
            np.percentile(rows["duration"].clip(0), 95)
        )


def test_command_kpis_known_values(reader):
    got = view(reader, "command_kpis").set_index("period")
    assert got.loc["current", "n_commands"] == 7
    assert got.loc["current", "n_failures"] == 2
    assert got.loc["previous", "n_commands"] == 2


def local_bucket(moments: pd.Series, tz: str, bucket: str) -> pd.Series:
    local = pd.to_datetime(moments, utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    if bucket == "week":
        return local.dt.to_period("W-SUN").dt.start_time
    if bucket == "month":
        return local.dt.to_period("M").dt.start_time
    return local.dt.floor({"hour": "h", "day": "D"}[bucket])


@pytest.mark.parametrize(
    ("tz", "bucket"), [("UTC", "day"), ("Asia/Tokyo", "day"), ("America/New_York", "hour"), ("UTC", "week")]
)
def test_messages_per_bucket_matches_pandas(reader, tz, bucket):
    messages = in_range(fx.messages(), START, fx.ANCHOR).copy()
    messages["bucket_start"] = local_bucket(messages["at"], tz, bucket)
    messages["agent_name"] = messages["agent_id"].map(NAMES).fillna(messages["agent_id"])
    expected = (
        messages.groupby(["bucket_start", "agent_name"])
        .agg(
            n_messages=("role", "size"),
            n_user_messages=("role", lambda r: (r == "user").sum()),
            n_assistant_messages=("role", lambda r: (r == "assistant").sum()),
        )
        .reset_index()
    )
    got = view(reader, "messages_per_bucket", tz=tz, bucket=bucket)
    got = got.sort_values(["bucket_start", "agent_name"]).reset_index(drop=True)
    got["bucket_start"] = pd.to_datetime(got["bucket_start"]).astype("datetime64[ns]")
    expected["bucket_start"] = expected["bucket_start"].astype("datetime64[ns]")
    columns = ["bucket_start", "agent_name", "n_messages", "n_user_messages", "n_assistant_messages"]
    pd.testing.assert_frame_equal(got[columns], expected[columns], check_dtype=False)


def test_messages_per_bucket_names_unregistered_agents_by_id(reader):
    got = view(reader, "messages_per_bucket")
    assert fx.GHOST in set(got["agent_name"])
    assert set(got["agent_name"]) == {"Alpha", "Beta", fx.GHOST}


def test_commands_belong_to_the_last_speaker_in_their_chat():
    by_command = fx.commands().set_index(["command", "chat_id"])["agent_id"]
    assert by_command[("ticker", fx.GROUP_CHAT)].tolist() == [fx.ALPHA, fx.ALPHA]
    assert by_command[("dex", fx.GROUP_CHAT)] == fx.BETA
    assert by_command[("settings", fx.GROUP_CHAT)] == fx.GHOST
    assert by_command[("msg", fx.GROUP_CHAT)] == fx.GHOST


@pytest.mark.parametrize(("tz", "agent_ids"), [("UTC", []), ("Asia/Tokyo", []), ("UTC", [fx.BETA, fx.GHOST])])
def test_commands_per_bucket_matches_pandas(reader, tz, agent_ids):
    commands = in_range(fx.commands(), START, fx.ANCHOR).copy()
    if agent_ids:
        commands = commands[commands["agent_id"].isin(agent_ids)]
    commands["bucket_start"] = local_bucket(commands["at"], tz, "day")
    expected = (
        commands.groupby("bucket_start")
        .agg(n_commands=("success", "size"), n_failures=("success", lambda s: (~s).sum()))
        .reset_index()
    )
    got = view(reader, "commands_per_bucket", tz=tz, agent_ids=agent_ids)
    assert list(pd.to_datetime(got["bucket_start"])) == list(expected["bucket_start"])
    assert list(got["n_commands"]) == list(expected["n_commands"])
    assert list(got["n_failures"]) == list(expected["n_failures"])


def test_top_chats_match_pandas(reader):
    messages = in_range(fx.messages(), START, fx.ANCHOR)
    per_chat = messages.groupby("chat_id").agg(n_messages=("role", "size"), last_at=("at", "max"))
    everyone = fx.messages()
    per_chat["n_people"] = everyone[everyone["role"] == "user"].groupby("chat_id")["user_id"].nunique()
    per_chat = per_chat.reset_index().sort_values(["n_messages", "chat_id"], ascending=[False, True])
    got = view(reader, "top_chats", limit=2)
    assert list(got["chat_id"]) == list(per_chat["chat_id"][:2])
    assert list(got["n_messages"]) == list(per_chat["n_messages"][:2])
    assert list(got["n_people"]) == list(per_chat["n_people"][:2])
    group = got.set_index("chat_id").loc[fx.GROUP_CHAT]
    assert group["chat_kind"] == "group"
    assert group["agent_names"] == f"Alpha, Beta, {fx.GHOST}"
    expected_last = per_chat.set_index("chat_id").loc[fx.GROUP_CHAT, "last_at"].tz_convert(None)
    assert pd.Timestamp(group["last_active_at"]) == expected_last.floor("ms")


def test_top_chats_last_active_in_chosen_time_zone(reader):
    got = view(reader, "top_chats", tz="Asia/Tokyo").set_index("chat_id")
    private = in_range(fx.messages(), START, fx.ANCHOR)
    last = private.loc[private["chat_id"] == fx.PRIVATE_CHAT, "at"].max()
    assert pd.Timestamp(got.loc[fx.PRIVATE_CHAT, "last_active_at"]) == pd.Timestamp(last).tz_convert(
        "Asia/Tokyo"
    ).tz_localize(None).floor("ms")
    assert got.loc[fx.PRIVATE_CHAT, "chat_kind"] == "private"


def test_agent_activity_lists_every_agent(reader):
    messages = fx.messages()
    current = in_range(messages, START, fx.ANCHOR)
    got = view(reader, "agent_activity").set_index("agent_id")
    assert set(got.index) == {fx.ALPHA, fx.BETA, fx.GAMMA, fx.GHOST}
    for agent_id in got.index:
        rows = current[current["agent_id"] == agent_id]
        assert got.loc[agent_id, "n_messages"] == len(rows), agent_id
        assert got.loc[agent_id, "n_chats"] == rows["chat_id"].nunique(), agent_id
        ever = messages.loc[messages["agent_id"] == agent_id, "at"]
        if ever.empty:
            assert pd.isna(got.loc[agent_id, "last_active_at"])
        else:
            assert pd.Timestamp(got.loc[agent_id, "last_active_at"]) == ever.max().tz_convert(None).floor(
                "ms"
            )
    assert got.loc[fx.GHOST, "agent_name"] == fx.GHOST
    assert pd.isna(got.loc[fx.GHOST, "is_active"])
    assert not got.loc[fx.BETA, "is_active"]


def test_agent_activity_respects_agent_filter(reader):
    got = view(reader, "agent_activity", agent_ids=[fx.BETA])
    assert list(got["agent_id"]) == [fx.BETA]


def test_agent_directory_lists_registered_then_unregistered(reader):
    got = view(reader, "agent_directory")
    assert list(got["agent_id"]) == [fx.ALPHA, fx.BETA, fx.GAMMA, fx.GHOST]
    assert list(got["is_registered"]) == [True, True, True, False]
    assert "secure_config" not in got.columns


# --- Views over the dashboard's install: agent settings and the audit log -------------------------


@pytest.fixture
def installed(installed_fixture_db):
    """An admin connection to the installed fixture whose changes are rolled back afterwards."""
    from dashboard.db import admin_engine

    engine = admin_engine(installed_fixture_db)
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()
    engine.dispose()


def installed_view(conn, name: str, **values) -> pd.DataFrame:
    return run_view(conn, introspect(conn), name, values)


def test_agent_settings_match_the_agents_rows_and_last_messages(installed):
    got = installed_view(installed, "agent_settings", tz="UTC").set_index("agent_id")
    messages = fx.messages()
    last_ms = messages.groupby("agent_id")["stored_ms"].max()
    assert sorted(got.index) == sorted(a["id"] for a in fx.AGENTS)
    for agent in fx.AGENTS:
        row = got.loc[agent["id"]]
        assert row["name"] == agent["name"] and row["is_active"] == agent["is_active"]
        assert row["credentials_set"] == bool(agent["secure_config"])
        assert row["capabilities"] == {}
        expected = last_ms.get(agent["id"])
        if expected is None:
            assert pd.isna(row["last_active_at"])
        else:
            assert row["last_active_at"] == pd.Timestamp(int(expected), unit="ms")
    assert "secure_config" not in got.columns


def test_agent_settings_last_activity_counts_messages_above_the_watermark(installed):
    later = fx.ANCHOR + timedelta(hours=3, milliseconds=250)
    installed.execute(
        sa.text(
            "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
            " timestamp, agent_id) values (99001, 5, 5, 'late', 'user', 'hi', :ts, :agent)"
        ),
        {"ts": _ms(later), "agent": fx.GAMMA},
    )
    got = installed_view(installed, "agent_settings", tz="Asia/Tokyo").set_index("agent_id")
    assert got.loc[fx.GAMMA, "last_active_at"] == pd.Timestamp(
        later.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    )


AUDIT_ROWS = [
    # actor, table, action, hours before the anchor, reason
    ("ada", "agents", "update", 30, "rename"),
    ("ada", "model_preferences", "update", 20, "move to GROK"),
    ("bob", "agents", "update", 10, "switch off"),
    ("bob", "agents", "update", 2, "back on"),
    ("ada", "agents", "view", 200, "old"),
]


def _add_audit_rows(conn) -> None:
    for i, (actor, table, action, hours, reason) in enumerate(AUDIT_ROWS):
        conn.execute(
            sa.text(
                "insert into lillo_dash.audit_log (at, actor, actor_role, action, table_name, row_key,"
                " before, after, reason) values (:at, :actor, 'admin', :action, :table, cast(:key as jsonb),"
                " cast(:before as jsonb), cast(:after as jsonb), :reason)"
            ),
            {
                "at": fx.ANCHOR - timedelta(hours=hours),
                "actor": actor,
                "action": action,
                "table": table,
                "key": f'{{"n": {i}}}',
                "before": '{"name": "<b>old</b>"}',
                "after": '{"name": "new"}',
                "reason": reason,
            },
        )


@pytest.mark.parametrize(("actor", "table_name"), [("", ""), ("ada", ""), ("", "agents"), ("bob", "agents")])
def test_audit_log_filters_by_range_actor_and_table(installed, actor, table_name):
    _add_audit_rows(installed)
    start, end = fx.ANCHOR - timedelta(days=7), fx.ANCHOR
    got = installed_view(
        installed,
        "audit_log",
        start_ms=_ms(start),
        end_ms=_ms(end),
        tz="UTC",
        actor=actor,
        table_name=table_name,
        limit=100,
    )
    expected = [
        reason
        for a, t, _, hours, reason in sorted(AUDIT_ROWS, key=lambda r: r[3])
        if hours <= 7 * 24 and (not actor or a == actor) and (not table_name or t == table_name)
    ]
    assert got["reason"].tolist() == expected
    assert got["at"].is_monotonic_decreasing
    if expected:
        assert json.loads(got["before"].iloc[0]) == {"name": "<b>old</b>"}


def test_audit_log_limit_keeps_the_newest(installed):
    _add_audit_rows(installed)
    got = installed_view(
        installed, "audit_log", start_ms=0, end_ms=_ms(fx.ANCHOR), tz="UTC", actor="", table_name="", limit=2
    )
    assert got["reason"].tolist() == ["back on", "switch off"]


def test_audit_facets_count_entries_per_actor_and_table(installed):
    _add_audit_rows(installed)
    got = installed_view(installed, "audit_facets")
    expected = pd.Series([(a, t) for a, t, *_ in AUDIT_ROWS]).value_counts()
    assert {(r.actor, r.table_name): r.n_entries for r in got.itertuples()} == {
        key: count for key, count in expected.items()
    }


# --- One chat: transcript, its agents and its commands --------------------------------------------

MAX = 2**63 - 1


@pytest.fixture
def scratch(fixture_db):
    """An admin connection to the fixture whose changes are rolled back afterwards."""
    from dashboard.db import admin_engine

    engine = admin_engine(fixture_db)
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()
    engine.dispose()


def transcript(conn, chat_id, *, limit=50, before=(MAX, MAX), agent_ids=(), tz="UTC") -> pd.DataFrame:
    return run_view(
        conn,
        introspect(conn),
        "chat_transcript",
        {
            "chat_id": chat_id,
            "agent_ids": list(agent_ids),
            "before_ms": before[0],
            "before_id": before[1],
            "limit": limit,
            "tz": tz,
        },
    )


def expected_transcript(chat_id, agent_ids=()) -> pd.DataFrame:
    frame = fx.messages()
    frame = frame[frame["chat_id"] == chat_id]
    if agent_ids:
        frame = frame[frame["agent_id"].isin(agent_ids)]
    return frame.sort_values(["stored_ms", "id"], ascending=False)


@pytest.mark.parametrize("chat_id", [fx.PRIVATE_CHAT, fx.GROUP_CHAT, fx.OTHER_PRIVATE_CHAT])
def test_transcript_lists_the_chat_newest_first_across_epoch_units(reader, chat_id):
    got = transcript(reader, chat_id)
    expected = expected_transcript(chat_id)
    assert got["message_id"].tolist() == expected["message_id"].tolist()
    assert got["sent_ms"].tolist() == expected["stored_ms"].tolist()
    assert got["user_first_name"].tolist() == expected["user_first_name"].tolist()
    assert got["content"].tolist() == expected["content"].tolist()
    assert [list(a) for a in got["agent_ids"]] == [[a] for a in expected["agent_id"]]


def test_transcript_pages_cover_every_message_once(reader):
    expected = expected_transcript(fx.GROUP_CHAT)["message_id"].tolist()
    seen, before = [], (MAX, MAX)
    while True:
        page = transcript(reader, fx.GROUP_CHAT, limit=3, before=before)
        if page.empty:
            break
        seen += page["message_id"].tolist()
        oldest = page.iloc[-1]
        before = (int(oldest["sent_ms"]), int(oldest["message_row_id"]))
    assert seen == expected


def test_transcript_agent_filter(reader):
    got = transcript(reader, fx.GROUP_CHAT, agent_ids=[fx.BETA, fx.GHOST])
    expected = expected_transcript(fx.GROUP_CHAT, [fx.BETA, fx.GHOST])
    assert got["message_id"].tolist() == expected["message_id"].tolist()


def test_transcript_quotes_replies_and_says_when_the_replied_message_is_missing(scratch):
    scratch.execute(
        sa.text(
            "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
            " timestamp, reply_to_message_id, agent_id) values"
            " (90, :chat, 502, 'Борис', 'user', 'answer to a lost one', :ts, 777, :agent)"
        ),
        {"chat": fx.GROUP_CHAT, "ts": _ms(fx.ANCHOR) - 1000, "agent": fx.ALPHA},
    )
    got = transcript(scratch, fx.GROUP_CHAT).set_index("message_id")
    assert got.loc[90, "reply_missing"] and pd.isna(got.loc[90, "reply_content"])
    assert got.loc[11, "reply_author"] == "Борис" and got.loc[11, "reply_content"] == "message 10"
    assert not got.loc[11, "reply_missing"]
    assert not got.loc[10, "reply_missing"]  # no reply at all


def test_transcript_shows_a_message_stored_by_several_agents_once(scratch):
    # The same Telegram message, seen by two agents of a group, is stored once per agent.
    scratch.execute(
        sa.text(
            "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
            " timestamp, agent_id) select message_id, chat_id, user_id, user_first_name, role, content,"
            " timestamp, :agent from chat_messages where chat_id = :chat and message_id = 10"
        ),
        {"agent": fx.BETA, "chat": fx.GROUP_CHAT},
    )
    got = transcript(scratch, fx.GROUP_CHAT)
    assert got["message_id"].tolist().count(10) == 1
    assert sorted(got.set_index("message_id").loc[10, "agent_ids"]) == sorted([fx.ALPHA, fx.BETA])
    assert len(got) == len(expected_transcript(fx.GROUP_CHAT))


def test_transcript_of_an_unknown_chat_is_empty(reader):
    assert transcript(reader, 424242).empty


def test_chat_agents_match_independent_counts(reader):
    got = view(reader, "chat_agents", chat_id=fx.GROUP_CHAT).set_index("agent_id")
    frame = fx.messages()
    frame = frame[frame["chat_id"] == fx.GROUP_CHAT]
    counts = frame.groupby("agent_id").size()
    assert got["n_messages"].to_dict() == counts.to_dict()
    assert got.loc[fx.GHOST, "agent_name"] == fx.GHOST  # no agents row: the raw id
    assert got.loc[fx.ALPHA, "agent_name"] == "Alpha"
    last = frame.groupby("agent_id")["stored_ms"].max()
    assert got.loc[fx.BETA, "last_at"] == pd.Timestamp(int(last[fx.BETA]), unit="ms")
    assert set(got["chat_first_at"]) == {pd.Timestamp(int(frame["stored_ms"].min()), unit="ms")}


def test_chat_commands_match_independent_rows(reader):
    start, end = fx.ANCHOR - timedelta(days=7), fx.ANCHOR
    got = view(reader, "chat_commands", chat_id=fx.GROUP_CHAT, from_ms=_ms(start), to_ms=_ms(end))
    commands = fx.commands()
    expected = commands[
        (commands["chat_id"] == fx.GROUP_CHAT)
        & (commands["stored_ms"] >= _ms(start))
        & (commands["stored_ms"] <= _ms(end))
    ].sort_values("stored_ms", ascending=False)
    assert got["command"].tolist() == [c.lstrip("/").lower() for c in expected["command"]]
    assert got["duration_ms"].tolist() == [max(d, 0) for d in expected["duration"]]
    assert got["success"].tolist() == expected["success"].tolist()


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("agent_ids", [[], [fx.BETA]])
def test_activity_heatmap_matches_independent_counts(reader, tz, agent_ids):
    got = view(reader, "activity_heatmap", tz=tz, agent_ids=agent_ids)
    messages = in_range(fx.messages(), START, fx.ANCHOR)
    if agent_ids:
        messages = messages[messages["agent_id"].isin(agent_ids)]
    local = pd.to_datetime(messages["stored_ms"], unit="ms", utc=True).dt.tz_convert(tz)
    expected = (
        messages.assign(weekday=local.dt.day_of_week + 1, hour_of_day=local.dt.hour)
        .groupby(["weekday", "hour_of_day"])
        .agg(n_messages=("role", "size"), n_user_messages=("role", lambda r: int((r == "user").sum())))
        .reset_index()
    )
    assert got[["weekday", "hour_of_day", "n_messages", "n_user_messages"]].astype(int).values.tolist() == (
        expected.astype(int).values.tolist()
    )


# --- Search -------------------------------------------------------------------------------------------


def search(conn, text, *, scan_rows=1_000_000, limit=50, agent_ids=()) -> pd.DataFrame:
    from dashboard.search import search_pattern

    pattern, _ = search_pattern(text)
    return run_view(
        conn,
        introspect(conn),
        "message_search",
        {
            "pattern": pattern,
            "scan_rows": scan_rows,
            "limit": limit,
            "agent_ids": list(agent_ids),
            "tz": "UTC",
        },
    )


@pytest.mark.parametrize("text", ["message 1", "MESSAGE 2", "ssage 3"])
def test_search_finds_substrings_case_insensitively_newest_first(reader, text):
    got = search(reader, text)
    messages = fx.messages()
    expected = messages[messages["content"].str.lower().str.contains(text.lower(), regex=False)]
    assert got["message_row_id"].tolist() == sorted(expected["id"], reverse=True)


def test_search_treats_like_characters_literally(scratch):
    rows = ["100% sure", "100x sure", "a_b", "axb", "back\\slash", "backslash", "quote 'it' \"now\""]
    for i, content in enumerate(rows):
        scratch.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id) values (:mid, 77, 1, 'x', 'user', :content, :ts, :agent)"
            ),
            {"mid": 900 + i, "content": content, "ts": _ms(fx.ANCHOR) - i, "agent": fx.ALPHA},
        )
    for text, expected in [
        ("100%", ["100% sure"]),
        ("a_b", ["a_b"]),
        ("back\\slash", ["back\\slash"]),
        ("'it' \"now\"", ["quote 'it' \"now\""]),
    ]:
        assert search(scratch, text)["content"].tolist() == expected, text


def test_search_scan_is_bounded_to_the_newest_rows_and_filters_agents(reader):
    messages = fx.messages()
    newest_three = sorted(messages["id"], reverse=True)[:3]
    got = search(reader, "message", scan_rows=3)
    assert got["message_row_id"].tolist() == newest_three
    only_beta = search(reader, "message", agent_ids=[fx.BETA])
    assert set(only_beta["agent_id"]) == {fx.BETA}
    assert len(only_beta) == int((messages["agent_id"] == fx.BETA).sum())
    assert (
        search(reader, "message", limit=2)["message_row_id"].tolist()
        == sorted(messages["id"], reverse=True)[:2]
    )


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("price", [("price", True)]),
        ("Привет мир, e-ma", [("привет мир", False), ("e ma", True), ("мир e-ma", True)]),
        ("e-ma", [("e ma", True), ("e-ma", True)]),
        ("?!", []),
    ],
)
def test_search_words_are_the_index_entries_a_hit_must_hold(installed, text, entries):
    """By hand: 'e-ma' is a hyphenated word (the whole, then its parts 'e' and 'ma'); it and 'ma'
    end the text, so they may continue, and no pair starts with one; a word in a pair is left out."""
    got = installed_view(installed, "search_words", search_text=text)
    assert list(got.itertuples(index=False, name=None)) == entries


@pytest.mark.parametrize(
    ("text", "words_query"), [("message 1", "'message' & 'message 1':*"), ("sage 1", "'sage'")]
)
def test_indexed_search_finds_the_text_where_it_starts_a_word(installed, text, words_query):
    from dashboard.search import search_pattern

    pattern, _ = search_pattern(text)
    got = installed_view(
        installed,
        "message_search_indexed",
        words_query=words_query,
        pattern=pattern,
        limit=50,
        agent_ids=[],
        tz="UTC",
    )
    messages = fx.messages()
    starts_a_word = messages["content"].str.lower().str.contains(r"(?<![^\W_])" + text, regex=True)
    assert got["message_row_id"].tolist() == sorted(messages.loc[starts_a_word, "id"], reverse=True)
    assert text != "sage 1" or got.empty


def test_reply_latency_known_values(reader):
    """By hand from the fixture: Alpha 36 s, 36 s and 6 min; Beta 72 s and 12 min (its group user
    message before a system notice is answered by none); ghost-bot 3 min. Pandas comparisons, the
    rollup variant and harder histories are in tests/test_reply_latency.py."""
    got = view(reader, "reply_latency").set_index("agent_id")
    assert got.index.tolist() == [fx.ALPHA, fx.BETA, fx.GHOST]
    assert got["agent_name"].tolist() == ["Alpha", "Beta", fx.GHOST]
    assert got["n_replies"].tolist() == [3, 2, 1]
    assert got["median_ms"].tolist() == pytest.approx([36_000, 396_000, 180_000])
    assert got["p90_ms"].tolist() == pytest.approx([36_000 + 0.8 * 324_000, 72_000 + 0.9 * 648_000, 180_000])
