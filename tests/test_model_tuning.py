"""Per-chat model preferences (dashboard.model_tuning through dashboard.store) on a real database
with the dashboard installed: the candidate list (view model_targets) against hand-counted
answers and pandas, both variants; previews and writes, one audit row per changed pair; and every
bad input refused with a clear message, leaving model_preferences and the audit log as they were."""

from __future__ import annotations

import itertools
import os
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import auth, model_tuning, store, views
from dashboard.db import admin_engine, reader_engine, writer_engine
from dashboard.filters import parse_filters
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.accounts import ACCOUNTS
from tests.databases import prepared

HOUR_MS = 3_600_000
BASIC_GROUP = -400_123_456  # an old-style group: its id fits an INTEGER column
DM_NO_ROW = 5005  # a private chat of Alpha's without a preference row
DM_ON_GROK = 6006  # a private chat of Beta's already on GROK
IDLE_CHAT = 3003  # a preference row and no messages at all
ORPHAN_CHAT = 4004  # a preference row of an agent without an agents row
START_MS = int((fx.ANCHOR - timedelta(days=7)).timestamp() * 1000)
END_MS = int(fx.ANCHOR.timestamp() * 1000)

# (agent, chat, model) rows added to the fixture; the fixture's supergroup cannot have one.
PREFERENCES = [
    (fx.ALPHA, fx.PRIVATE_CHAT, "GEMINI"),
    (fx.ALPHA, BASIC_GROUP, "GROK"),
    (fx.BETA, fx.OTHER_PRIVATE_CHAT, "OPENAI"),
    (fx.BETA, DM_ON_GROK, "GROK"),
    (fx.GAMMA, IDLE_CHAT, "DEEPSEEK"),
    (fx.GHOST, ORPHAN_CHAT, "GROK"),
]
# (agent, chat, hours before ANCHOR) messages added to the fixture, all in the week before it.
EXTRA_MESSAGES = [
    (fx.ALPHA, BASIC_GROUP, 38.0),
    (fx.ALPHA, BASIC_GROUP, 37.9),
    (fx.ALPHA, BASIC_GROUP, 37.8),
    (fx.ALPHA, DM_NO_ROW, 19.0),
    (fx.BETA, DM_ON_GROK, 18.0),
]


def _seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for i, (agent, chat, hours) in enumerate(EXTRA_MESSAGES):
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                    " timestamp, agent_id) values (:mid, :chat, 700, 'Pat', 'user', 'hi', :at, :agent)"
                ),
                {"mid": 800 + i, "chat": chat, "agent": agent, "at": END_MS - int(hours * HOUR_MS)},
            )
        conn.execute(
            sa.text("insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, :m)"),
            [{"a": a, "c": c, "m": m} for a, c, m in PREFERENCES],
        )


# The fixture's week before ANCHOR with the rows above, counted by hand: (agent, chat, messages,
# model the pair runs on, has a row), busiest first, ties by agent id then chat id.
WEEK = [
    (fx.ALPHA, fx.PRIVATE_CHAT, 4, "GEMINI", True),
    (fx.BETA, fx.GROUP_CHAT, 4, "OPENAI", False),
    (fx.ALPHA, BASIC_GROUP, 3, "GROK", True),
    (fx.ALPHA, fx.GROUP_CHAT, 2, "OPENAI", False),
    (fx.BETA, fx.OTHER_PRIVATE_CHAT, 2, "OPENAI", True),
    (fx.GHOST, fx.GROUP_CHAT, 2, "OPENAI", False),
    (fx.ALPHA, DM_NO_ROW, 1, "OPENAI", False),
    (fx.BETA, DM_ON_GROK, 1, "GROK", True),
    (fx.GAMMA, IDLE_CHAT, 0, "DEEPSEEK", True),
    (fx.GHOST, ORPHAN_CHAT, 0, "GROK", True),
]


def _week(*picked: int) -> list[tuple]:
    return [WEEK[i] for i in picked]


@pytest.fixture(scope="module")
def targets_url(new_database) -> str:
    return prepared(new_database("model_targets"), seed=_seed)


@pytest.fixture(scope="module")
def targets_reader(targets_url):
    engine = reader_engine(targets_url, statement_timeout_ms=10_000)
    with engine.connect() as conn:
        yield conn, introspect(conn)
    engine.dispose()


def targets(conn, schema, rollup: bool, **overrides) -> pd.DataFrame:
    params = {
        "agent_ids": [],
        "kind": "all",
        "min_messages": 1,
        "current_model": "all",
        "start_ms": START_MS,
        "end_ms": END_MS,
        "limit": 50,
    } | overrides
    return views.run_view(conn, schema, "model_targets", params, rollup=rollup)


def _short(frame: pd.DataFrame) -> list[tuple]:
    return [(r.agent_id, r.chat_id, r.n_messages, r.model_type, r.has_preference) for r in frame.itertuples()]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, _week(0, 1, 2, 3, 4, 5, 6, 7)),
        ({"min_messages": 0}, WEEK),
        ({"min_messages": 3}, _week(0, 1, 2)),
        ({"kind": "group"}, _week(1, 2, 3, 5)),
        ({"kind": "private", "min_messages": 0}, _week(0, 4, 6, 7, 8, 9)),
        ({"current_model": "default", "min_messages": 0}, _week(1, 3, 5, 6)),
        ({"current_model": "OPENAI", "min_messages": 0}, _week(1, 3, 4, 5, 6)),
        ({"current_model": "GROK", "min_messages": 0}, _week(2, 7, 9)),
        ({"current_model": "GEMINI"}, _week(0)),
        ({"agent_ids": [fx.BETA]}, _week(1, 4, 7)),
        ({"agent_ids": [fx.GAMMA, fx.GHOST], "min_messages": 0}, _week(5, 8, 9)),
        ({"limit": 2}, _week(0, 1)),
        ({"min_messages": 0, "limit": 9}, _week(0, 1, 2, 3, 4, 5, 6, 7, 8)),
        ({"current_model": "DEEPSEEK"}, []),
    ],
)
def test_model_targets_filters_match_hand_counts(targets_reader, overrides, expected):
    conn, schema = targets_reader
    for rollup in (False, True):
        assert _short(targets(conn, schema, rollup, **overrides)) == expected, rollup


def test_model_targets_columns(targets_reader):
    conn, schema = targets_reader
    for rollup in (False, True):
        frame = targets(conn, schema, rollup, min_messages=0)
        assert list(frame.columns) == [
            "agent_id",
            "agent_name",
            "chat_id",
            "chat_kind",
            "model_type",
            "has_preference",
            "updated_at",
            "n_messages",
            "last_active_ms",
        ]
        frame = frame.set_index(["agent_id", "chat_id"])
        alpha_dm = frame.loc[(fx.ALPHA, fx.PRIVATE_CHAT)]
        assert (alpha_dm["agent_name"], alpha_dm["chat_kind"]) == ("Alpha", "private")
        # Message 2, the latest of the week in that chat (message 50 lies exactly on the end bound).
        assert alpha_dm["last_active_ms"] == END_MS - 24 * HOUR_MS + int(9.01 * HOUR_MS)
        assert alpha_dm["updated_at"] is not pd.NaT and alpha_dm["updated_at"] is not None
        group = frame.loc[(fx.BETA, fx.GROUP_CHAT)]
        assert group["chat_kind"] == "group" and pd.isna(group["updated_at"])
        assert pd.isna(frame.loc[(fx.GHOST, fx.GROUP_CHAT), "agent_name"])
        idle = frame.loc[(fx.GAMMA, IDLE_CHAT)]
        assert idle["n_messages"] == 0 and pd.isna(idle["last_active_ms"])


def test_model_targets_over_all_time_count_every_message(targets_reader):
    conn, schema = targets_reader
    for rollup in (False, True):
        found = targets(conn, schema, rollup, start_ms=0, end_ms=END_MS + HOUR_MS, kind="group")
        # The week's counts plus the older messages 30, 31 (Alpha), 40 (Ghost); 50 is private.
        assert _short(found) == [
            (fx.ALPHA, fx.GROUP_CHAT, 4, "OPENAI", False),
            (fx.BETA, fx.GROUP_CHAT, 4, "OPENAI", False),
            (fx.ALPHA, BASIC_GROUP, 3, "GROK", True),
            (fx.GHOST, fx.GROUP_CHAT, 3, "OPENAI", False),
        ], rollup


def test_model_targets_rows_are_plain_columns_for_csv(targets_reader):
    from dashboard import export

    conn, schema = targets_reader
    frame = targets(conn, schema, True, min_messages=0)
    text = "".join(
        export.csv_chunks(
            list(frame.columns), frame.itertuples(index=False, name=None), comments=[], row_cap=1_000
        )
    )
    assert len(text.splitlines()) == 1 + len(frame)
    assert text.splitlines()[0].split(",") == list(frame.columns)


# --- model_targets at scale: both variants against pandas, on the demo generator's data ---------------


@pytest.fixture(scope="module")
def demo_targets(new_database):
    url = prepared(new_database("model_targets_demo"), demo=True)
    engine = admin_engine(url)
    with engine.begin() as conn:
        # Rows above the refresh watermark, counted live: a new pair, a new chat, an old pair.
        latest = conn.execute(sa.text("select max(id) from chat_messages")).scalar_one()
        row = conn.execute(
            sa.text("select chat_id, agent_id, timestamp from chat_messages where id = :id"), {"id": latest}
        ).one()
        at = views.epoch_to_ms(row.timestamp)
        for i, (chat, agent, moment) in enumerate(
            [(row.chat_id, row.agent_id, at - 1_000), (-555_000_001, row.agent_id, at - 2 * HOUR_MS)]
        ):
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                    " timestamp, agent_id) values (:mid, :chat, 1, 'Fresh', 'user', 'fresh', :at, :agent)"
                ),
                {"mid": 900_000_000 + i, "chat": chat, "agent": agent, "at": moment},
            )
    with engine.connect() as conn:
        schema = introspect(conn)
    raw = pd.read_sql("select chat_id, agent_id, timestamp from chat_messages", engine)
    raw["sent_ms"] = np.where(
        raw["timestamp"] > views.MS_THRESHOLD, raw["timestamp"], raw["timestamp"] * 1000
    )
    preferences = pd.read_sql("select agent_id, chat_id, model_type from model_preferences", engine)
    yield engine, schema, raw, preferences
    engine.dispose()


def expected_targets(raw: pd.DataFrame, preferences: pd.DataFrame, p: dict) -> list[tuple]:
    in_range = raw[(raw["sent_ms"] >= p["start_ms"]) & (raw["sent_ms"] < p["end_ms"])]
    counts = in_range.groupby(["agent_id", "chat_id"]).size().to_dict()
    stored = {(a, c): m for a, c, m in preferences.itertuples(index=False)}
    rows = []
    for agent_id, chat_id in set(counts) | set(stored):
        n = counts.get((agent_id, chat_id), 0)
        model = stored.get((agent_id, chat_id))
        if p["agent_ids"] and agent_id not in p["agent_ids"]:
            continue
        if n < p["min_messages"] or (p["kind"] == "private" and chat_id <= 0):
            continue
        if p["kind"] == "group" and chat_id >= 0:
            continue
        current = model or "OPENAI"
        if p["current_model"] == "default" and model is not None:
            continue
        if p["current_model"] not in ("all", "default") and current != p["current_model"]:
            continue
        rows.append((agent_id, int(chat_id), n, current, model is not None))
    rows.sort(key=lambda r: (-r[2], r[0].encode(), r[1]))
    return rows[: p["limit"]]


def test_model_targets_match_pandas_in_both_variants(demo_targets):
    engine, schema, raw, preferences = demo_targets
    last = int(raw["sent_ms"].max()) // HOUR_MS * HOUR_MS + HOUR_MS
    first = int(raw["sent_ms"].min()) // HOUR_MS * HOUR_MS
    middle = first + (last - first) // 3 // HOUR_MS * HOUR_MS + 5 * HOUR_MS
    ranges = {
        "all": (first, last),
        "last 7 days": (last - 7 * 24 * HOUR_MS, last),
        "partial days": (middle, middle + 9 * 24 * HOUR_MS + 7 * HOUR_MS),
        "one hour": (last - HOUR_MS, last),
    }
    busiest = raw["agent_id"].value_counts().index.tolist()
    combos = itertools.product(
        ranges.items(),
        [[], [busiest[0]], busiest[1:3]],
        ["all", "private", "group"],
        [0, 1, 20],
        ["all", "default", "OPENAI", "GROK"],
        [12, 100_000],
    )
    checked = 0
    with engine.connect() as conn:
        for (range_name, (start, end)), agents, kind, minimum, model, limit in combos:
            params = {
                "agent_ids": agents,
                "kind": kind,
                "min_messages": minimum,
                "current_model": model,
                "start_ms": start,
                "end_ms": end,
                "limit": limit,
            }
            expected = expected_targets(raw, preferences, params)
            for rollup in (False, True):
                found = views.run_view(conn, schema, "model_targets", params, rollup=rollup)
                label = f"{range_name} {agents} {kind} min={minimum} {model} limit={limit} rollup={rollup}"
                assert _short(found) == expected, label
                checked += 1
    assert checked == 4 * 3 * 3 * 3 * 4 * 2 * 2


# --- Writes ------------------------------------------------------------------------------------------


@pytest.fixture
def config(dashboard_data_dir) -> auth.AuthConfig:
    return auth.load_auth_config({}, os.environ, dashboard_data_dir, embedded=False)


def user(role: str) -> auth.User:
    return auth.User(ACCOUNTS[role]["username"], role, time.time())


class Tuned:
    """A database of the module's own, with its engines: the reader (previews) and the writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = admin_engine(url)
        self.reader = reader_engine(url, statement_timeout_ms=10_000)
        self.writer = writer_engine(url, statement_timeout_ms=10_000)

    def dispose(self) -> None:
        for engine in (self.admin, self.reader, self.writer):
            engine.dispose()

    def preferences(self) -> dict[tuple[str, int], tuple[str, object]]:
        with self.admin.connect() as conn:
            rows = conn.execute(
                sa.text("select agent_id, chat_id, model_type, updated_at from model_preferences")
            )
            return {(r.agent_id, r.chat_id): (r.model_type, r.updated_at) for r in rows}

    def models(self) -> dict[tuple[str, int], str]:
        return {key: model for key, (model, _) in self.preferences().items()}

    def audit_since(self, audit_id: int) -> list[dict]:
        with self.admin.connect() as conn:
            rows = conn.execute(
                sa.text("select * from lillo_dash.audit_log where id > :id order by id"), {"id": audit_id}
            )
            return [dict(r) for r in rows.mappings()]

    def last_audit_id(self) -> int:
        with self.admin.connect() as conn:
            return conn.execute(sa.text("select coalesce(max(id), 0) from lillo_dash.audit_log")).scalar_one()

    def snapshot(self) -> tuple:
        return self.preferences(), self.last_audit_id()

    def week(self, **overrides) -> pd.DataFrame:
        with self.reader.connect() as conn:
            return targets(conn, introspect(conn), True, **overrides)

    def preview(self, chosen, model) -> model_tuning.Preview:
        return model_tuning.preview(self.reader, chosen, model)


def _reset_preferences(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("delete from model_preferences"))
        conn.execute(
            sa.text("insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, :m)"),
            [{"a": a, "c": c, "m": m} for a, c, m in PREFERENCES],
        )


@pytest.fixture(scope="module")
def tuned_db(new_database):
    db = Tuned(prepared(new_database("model_tuning"), seed=_seed))
    yield db
    db.dispose()


@pytest.fixture
def tuned(tuned_db):
    """The database with the seeded preferences again (its audit log only grows)."""
    _reset_preferences(tuned_db.admin)
    return tuned_db


def refused(db: Tuned, error: type, message: str, attempt) -> None:
    """`attempt()` raises `error` with `message`, and nothing in the database changed."""
    before = db.snapshot()
    with pytest.raises(error, match=message):
        attempt()
    assert db.snapshot() == before


def pair(agent_id: str, chat_id: int, n_messages: int | None = None) -> dict:
    return {"agent_id": agent_id, "chat_id": chat_id, "n_messages": n_messages}


def test_set_one_pair_inserts_its_row_with_one_audit_row(tuned, config):
    audit_from = tuned.last_audit_id()
    planned = tuned.preview([pair(fx.ALPHA, DM_NO_ROW, 1)], "DEEPSEEK")
    assert planned.n_unchanged == 0
    [change] = planned.changes
    assert (change.table, change.action, dict(change.key)) == (
        "model_preferences",
        "upsert",
        {"agent_id": fx.ALPHA, "chat_id": DM_NO_ROW},
    )
    assert store.apply(tuned.writer, config, user("admin"), planned.changes, "try DeepSeek here") == 1
    assert tuned.models()[(fx.ALPHA, DM_NO_ROW)] == "DEEPSEEK"
    [audit] = tuned.audit_since(audit_from)
    assert (audit["actor"], audit["action"], audit["table_name"], audit["reason"]) == (
        "ada",
        "insert",
        "model_preferences",
        "try DeepSeek here",
    )
    assert audit["row_key"] == {"agent_id": fx.ALPHA, "chat_id": DM_NO_ROW}
    assert (audit["before"], audit["after"]) == ({"model_type": None}, {"model_type": "DEEPSEEK"})


def test_clear_one_pair_deletes_its_row_with_one_audit_row(tuned, config):
    audit_from = tuned.last_audit_id()
    planned = tuned.preview([pair(fx.GAMMA, IDLE_CHAT)], None)
    assert [c.action for c in planned.changes] == ["delete"]
    assert store.apply(tuned.writer, config, user("admin"), planned.changes, "back to the default") == 1
    assert (fx.GAMMA, IDLE_CHAT) not in tuned.models()
    [audit] = tuned.audit_since(audit_from)
    assert (audit["action"], audit["row_key"]) == ("delete", {"agent_id": fx.GAMMA, "chat_id": IDLE_CHAT})
    assert (audit["before"], audit["after"]) == ({"model_type": "DEEPSEEK"}, {"model_type": None})
    # Clearing it again changes nothing: the pair is already on the default.
    assert tuned.preview([pair(fx.GAMMA, IDLE_CHAT)], "default") == model_tuning.Preview((), 1)


def test_a_filtered_batch_moves_to_grok_and_back(tuned, config):
    chosen = tuned.week(agent_ids=[fx.ALPHA, fx.BETA, fx.GAMMA], kind="private", min_messages=0)
    original = {
        (r.agent_id, r.chat_id): r.model_type if r.has_preference else None for r in chosen.itertuples()
    }
    assert original == {
        (fx.ALPHA, fx.PRIVATE_CHAT): "GEMINI",
        (fx.BETA, fx.OTHER_PRIVATE_CHAT): "OPENAI",
        (fx.ALPHA, DM_NO_ROW): None,
        (fx.BETA, DM_ON_GROK): "GROK",
        (fx.GAMMA, IDLE_CHAT): "DEEPSEEK",
    }
    rows_before = tuned.models()
    audit_from = tuned.last_audit_id()

    to_grok = tuned.preview(chosen, "GROK")
    assert to_grok.n_unchanged == 1  # Beta's DM already on GROK
    frame = to_grok.frame()
    assert list(frame.columns) == ["agent_id", "chat_id", "model_before", "model_after", "n_messages"]
    assert sorted(frame.itertuples(index=False, name=None)) == sorted(
        (agent, chat, model or "default", "GROK", int(n))
        for (agent, chat), model, n in zip(original, original.values(), chosen["n_messages"], strict=True)
        if model != "GROK"
    )
    assert store.apply(tuned.writer, config, user("admin"), to_grok.changes, "GROK for all DMs") == 4
    after = tuned.models()
    assert all(after[key] == "GROK" for key in original)
    assert {k: v for k, v in after.items() if k not in original} == {
        k: v for k, v in rows_before.items() if k not in original
    }
    moved = tuned.audit_since(audit_from)
    assert len(moved) == 4
    assert {
        (a["row_key"]["agent_id"], a["row_key"]["chat_id"]): (a["action"], a["before"], a["after"])
        for a in moved
    } == {
        key: ("insert" if model is None else "update", {"model_type": model}, {"model_type": "GROK"})
        for key, model in original.items()
        if model != "GROK"
    }

    # Back: each pair to what it had, in one batch (the pair that had no row loses it again).
    audit_from = tuned.last_audit_id()
    back = [
        change
        for model in ("GEMINI", "OPENAI", "DEEPSEEK", None)
        for change in tuned.preview(
            [pair(a, c) for (a, c), m in original.items() if m == model], model
        ).changes
    ]
    assert store.apply(tuned.writer, config, user("admin"), back, "undo the GROK test") == 4
    assert tuned.models() == rows_before
    undone = tuned.audit_since(audit_from)
    assert {
        (a["row_key"]["agent_id"], a["row_key"]["chat_id"]): (a["action"], a["after"]) for a in undone
    } == {
        key: ("delete" if model is None else "update", {"model_type": model})
        for key, model in original.items()
        if model != "GROK"
    }


def test_an_unknown_model_is_refused(tuned, config):
    refused(
        tuned,
        store.InvalidInput,
        "Unknown model 'CLAUDE': choose one of OPENAI, GEMINI, GROK, DEEPSEEK",
        lambda: tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "CLAUDE"),
    )
    refused(
        tuned,
        store.InvalidInput,
        "Unknown model 'grok'",
        lambda: tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "grok"),
    )
    # A change made by hand is checked again when it is written.
    [change] = tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "GROK").changes
    forged = store.RowChange(change.table, change.key, change.before, {"model_type": "CLAUDE"}, "upsert")
    refused(
        tuned,
        store.InvalidInput,
        "Unknown model 'CLAUDE'",
        lambda: store.apply(tuned.writer, config, user("admin"), [forged], "forged"),
    )


def test_a_supergroup_id_that_does_not_fit_the_integer_column_is_refused(tuned, config):
    message = (
        r"Chat -1001234567890 cannot have a model preference in this database: model_preferences.chat_id "
        r"is INTEGER, which holds -2,147,483,648 to 2,147,483,647\. Telegram supergroup ids .* do not fit"
        r".* Nothing was written\."
    )
    refused(
        tuned, store.InvalidInput, message, lambda: tuned.preview([pair(fx.ALPHA, fx.GROUP_CHAT)], "GROK")
    )
    # Straight to apply: the same message, not a database error.
    forged = store.RowChange(
        "model_preferences",
        {"agent_id": fx.ALPHA, "chat_id": fx.GROUP_CHAT},
        {"model_type": None, "updated_at": None},
        {"model_type": "GROK"},
        "upsert",
    )
    refused(
        tuned,
        store.InvalidInput,
        message,
        lambda: store.apply(tuned.writer, config, user("admin"), [forged], "supergroup"),
    )
    # Just past INTEGER's ends, whichever side.
    for chat_id in (2**31, -(2**31) - 1):
        refused(
            tuned,
            store.InvalidInput,
            "is INTEGER",
            lambda c=chat_id: tuned.preview([pair(fx.ALPHA, c)], "GROK"),
        )


def test_the_chat_id_type_is_read_from_the_live_column(new_database, config):
    db = Tuned(prepared(new_database("model_tuning_bigint"), seed=_seed))
    try:
        with db.admin.begin() as conn:
            conn.execute(sa.text("alter table model_preferences alter column chat_id type bigint"))
        audit_from = db.last_audit_id()
        planned = db.preview([pair(fx.ALPHA, fx.GROUP_CHAT, 2)], "GEMINI")
        assert store.apply(db.writer, config, user("admin"), planned.changes, "supergroups fit now") == 1
        assert db.models()[(fx.ALPHA, fx.GROUP_CHAT)] == "GEMINI"
        [audit] = db.audit_since(audit_from)
        assert audit["row_key"] == {"agent_id": fx.ALPHA, "chat_id": fx.GROUP_CHAT}
    finally:
        db.dispose()


def test_an_unknown_agent_is_refused(tuned, config):
    ghost = "00000000-0000-0000-0000-00000000dead"
    refused(
        tuned,
        store.InvalidInput,
        f"There is no agent with id {ghost} \\(no agents row\\)",
        lambda: tuned.preview([pair(ghost, fx.PRIVATE_CHAT), pair(fx.ALPHA, fx.PRIVATE_CHAT)], "GROK"),
    )
    refused(
        tuned,
        store.InvalidInput,
        "There is no agent with id ghost-bot",
        lambda: tuned.preview([pair(fx.GHOST, ORPHAN_CHAT)], "GEMINI"),
    )
    forged = store.RowChange(
        "model_preferences",
        {"agent_id": ghost, "chat_id": DM_NO_ROW},
        {"model_type": None, "updated_at": None},
        {"model_type": "GROK"},
        "upsert",
    )
    refused(
        tuned,
        store.InvalidInput,
        "There is no agent with id",
        lambda: store.apply(tuned.writer, config, user("admin"), [forged], "ghost"),
    )


def test_an_orphaned_preference_can_still_be_cleared(tuned, config):
    planned = tuned.preview([pair(fx.GHOST, ORPHAN_CHAT)], None)
    assert [c.before["model_type"] for c in planned.changes] == ["GROK"]
    assert store.apply(tuned.writer, config, user("admin"), planned.changes, "agent is gone") == 1
    assert (fx.GHOST, ORPHAN_CHAT) not in tuned.models()


def test_a_stale_row_in_a_batch_writes_nothing_and_names_the_pairs(tuned, config):
    chosen = [
        pair(fx.ALPHA, fx.PRIVATE_CHAT),
        pair(fx.BETA, fx.OTHER_PRIVATE_CHAT),
        pair(fx.ALPHA, DM_NO_ROW),
        pair(fx.ALPHA, BASIC_GROUP),
    ]
    planned = tuned.preview(chosen, "DEEPSEEK")
    assert len(planned.changes) == 4
    # Someone else, between the preview and the confirmation: one row changed, one row appeared.
    with tuned.admin.begin() as conn:
        conn.execute(
            sa.text(
                "update model_preferences set model_type = 'GEMINI', updated_at = now()"
                " where agent_id = :a and chat_id = :c"
            ),
            {"a": fx.BETA, "c": fx.OTHER_PRIVATE_CHAT},
        )
        conn.execute(
            sa.text("insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, 'GROK')"),
            {"a": fx.ALPHA, "c": DM_NO_ROW},
        )
    message = (
        rf"Since the preview, these 2 pairs were changed by someone else: agent {fx.BETA} in chat "
        rf"{fx.OTHER_PRIVATE_CHAT} \(now GEMINI\), agent {fx.ALPHA} in chat {DM_NO_ROW} \(now GROK\)\. "
        r"Nothing was written"
    )
    refused(
        tuned,
        store.StaleEdit,
        message,
        lambda: store.apply(tuned.writer, config, user("admin"), planned.changes, "stale"),
    )
    # Same model, saved again since: its updated_at tells.
    again = tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "GROK")
    with tuned.admin.begin() as conn:
        conn.execute(
            sa.text("update model_preferences set updated_at = now() where agent_id = :a and chat_id = :c"),
            {"a": fx.ALPHA, "c": fx.PRIVATE_CHAT},
        )
    refused(
        tuned,
        store.StaleEdit,
        rf"this pair was changed by someone else: agent {fx.ALPHA} in chat "
        rf"{fx.PRIVATE_CHAT} \(now GEMINI\)",
        lambda: store.apply(tuned.writer, config, user("admin"), again.changes, "stale"),
    )


def test_a_viewer_is_refused(tuned, config):
    planned = tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "GROK")
    for actor in (user("viewer"), auth.User("vic", "admin", time.time()), None):
        refused(
            tuned,
            store.NotAllowed,
            "Only an admin",
            lambda a=actor: store.apply(tuned.writer, config, a, planned.changes, "viewer"),
        )


def test_an_empty_selection_is_refused(tuned, config):
    for nothing in ([], pd.DataFrame(columns=["agent_id", "chat_id", "n_messages"])):
        refused(
            tuned,
            store.InvalidInput,
            "Nothing selected: choose at least one chat",
            lambda n=nothing: tuned.preview(n, "GROK"),
        )
    refused(
        tuned,
        store.InvalidInput,
        "Nothing to change",
        lambda: store.apply(tuned.writer, config, user("admin"), [], "nothing"),
    )
    # Chosen pairs that are all on the model already leave nothing to write either.
    unchanged = tuned.preview([pair(fx.BETA, DM_ON_GROK)], "GROK")
    assert unchanged.changes == () and unchanged.n_unchanged == 1
    refused(
        tuned,
        store.InvalidInput,
        "Nothing to change",
        lambda: store.apply(tuned.writer, config, user("admin"), unchanged.changes, "nothing"),
    )


def test_a_chat_id_that_is_not_a_number_is_refused(tuned):
    for typed in ("12a", "--5", "", None, 1.5):
        refused(
            tuned,
            store.InvalidInput,
            "is not a Telegram chat id",
            lambda t=typed: tuned.preview([pair(fx.ALPHA, t)], "GROK"),
        )
    # Typed ids are fine as text; each pair counts once however often it is chosen.
    planned = tuned.preview([pair(fx.ALPHA, " 5005 "), pair(fx.ALPHA, 5005)], "GROK")
    assert [dict(c.key) for c in planned.changes] == [{"agent_id": fx.ALPHA, "chat_id": DM_NO_ROW}]


def test_a_batch_with_a_pair_twice_or_too_many_pairs_is_refused(tuned, config, monkeypatch):
    [change] = tuned.preview([pair(fx.ALPHA, fx.PRIVATE_CHAT)], "GROK").changes
    refused(
        tuned,
        store.InvalidInput,
        "A chat is in this batch twice",
        lambda: store.apply(tuned.writer, config, user("admin"), [change, change], "twice"),
    )
    monkeypatch.setattr(model_tuning, "MAX_PAIRS", 2)
    refused(
        tuned,
        store.InvalidInput,
        "3 chats are selected; at most 2 can be changed at once",
        lambda: tuned.preview([pair(fx.ALPHA, c) for c in (1, 2, 3)], "GROK"),
    )


def test_target_params_check_the_choices():
    filters = parse_filters({"range": "30d"}, known_agent_ids=None, now=fx.ANCHOR)
    params = model_tuning.target_params(
        filters, kind="group", min_messages=0, current_model="default", limit=20
    )
    assert set(views.load_view("model_targets").params) <= set(params)
    assert (params["kind"], params["current_model"], params["limit"]) == ("group", "default", 20)
    with pytest.raises(store.InvalidInput, match="Unknown chat kind"):
        model_tuning.target_params(filters, kind="channel")
    with pytest.raises(store.InvalidInput, match="Unknown current model"):
        model_tuning.target_params(filters, current_model="gpt-4o")
