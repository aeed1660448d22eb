"""The chat list, the people list and the chat-size distribution against answers computed with
pandas from the raw rows: both variants (raw SQL, rollups), on the demo generator's data, right
after a refresh and with new rows above the watermark (counted live)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import views
from dashboard.db import admin_engine
from dashboard.live_schema import introspect
from tests.databases import prepared

HOUR_MS = 3_600_000
BOUNDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]


def _add_fresh_rows(engine: sa.Engine) -> None:
    """Rows after the refresh: a new chat, a new person, late rows for old chats (one in seconds)."""
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "select chat_id, user_id, agent_id, timestamp from chat_messages "
                "where role = 'user' order by id desc limit 3"
            )
        ).all()
        latest = max(views.epoch_to_ms(r.timestamp) for r in rows)
        fresh = [
            (rows[0].chat_id, rows[0].user_id, "user", rows[0].agent_id, latest - 1_000),
            (rows[0].chat_id, 0, "assistant", rows[0].agent_id, latest - 500),
            (rows[1].chat_id, 777_000_001, "user", rows[1].agent_id, (latest - 40 * HOUR_MS) // 1000),
            (-555_000_001, 777_000_002, "user", rows[2].agent_id, latest - 2 * HOUR_MS),
            (-555_000_001, 0, "assistant", rows[2].agent_id, latest - 2 * HOUR_MS + 900),
        ]
        for i, (chat, user, role, agent, at) in enumerate(fresh):
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, username,"
                    " role, content, timestamp, agent_id)"
                    " values (:mid, :chat, :user, :name, :username, :role, 'fresh', :at, :agent)"
                ),
                {
                    "mid": 900_000_000 + i,
                    "chat": chat,
                    "user": user,
                    "name": f"Fresh {i}",
                    "username": f"fresh_{i}",
                    "role": role,
                    "at": at,
                    "agent": agent,
                },
            )


@pytest.fixture(scope="module", params=["refreshed", "with_new_rows"])
def lists_db(request, new_database):
    url = prepared(new_database(f"lists_{request.param}"), demo=True)
    engine = admin_engine(url)
    if request.param == "with_new_rows":
        _add_fresh_rows(engine)
    with engine.connect() as conn:
        schema = introspect(conn)
    raw = pd.read_sql(
        "select m.id, m.chat_id, m.user_id, m.user_first_name, m.username, m.role, m.agent_id, m.timestamp,"
        " coalesce(a.name, m.agent_id) as agent_name"
        " from chat_messages as m left join agents as a on a.id::text = m.agent_id",
        engine,
    )
    wallets = pd.read_sql("select telegram_id, wallet_address from user_data", engine)
    raw["sent_ms"] = np.where(
        raw["timestamp"] > views.MS_THRESHOLD, raw["timestamp"], raw["timestamp"] * 1000
    )
    yield engine, schema, raw, wallets
    engine.dispose()


def _run(engine, schema, name: str, params: dict, rollup: bool) -> pd.DataFrame:
    return views.fetch_uncached(engine, schema, name, params, rollup=rollup).frame


def _local(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms")  # naive UTC, as the views give it for tz 'UTC'


# --- chat_list ----------------------------------------------------------------------------------


def expected_chat_list(raw: pd.DataFrame, p: dict) -> pd.DataFrame:
    chosen = raw if not p["agent_ids"] else raw[raw["agent_id"].isin(p["agent_ids"])]
    in_range = chosen[(chosen["sent_ms"] >= p["start_ms"]) & (chosen["sent_ms"] < p["end_ms"])]
    scoped = in_range
    if p["kind"] == "private":
        scoped = scoped[scoped["chat_id"] > 0]
    elif p["kind"] == "group":
        scoped = scoped[scoped["chat_id"] < 0]
    if p["participant"] is not None:
        theirs = chosen[(chosen["role"] == "user") & (chosen["user_id"] == p["participant"])]["chat_id"]
        scoped = scoped[scoped["chat_id"].isin(set(theirs))]
    rows = []
    for chat_id, said in scoped.groupby("chat_id"):
        if len(said) < p["min_messages"]:
            continue
        people = chosen[(chosen["chat_id"] == chat_id) & (chosen["role"] == "user")]["user_id"].nunique()
        rows.append(
            {
                "chat_id": chat_id,
                "chat_kind": "group" if chat_id < 0 else "private",
                "agent_names": ", ".join(sorted(set(said["agent_name"]))),
                "n_people": people,
                "n_user_messages": int((said["role"] == "user").sum()),
                "n_assistant_messages": int((said["role"] != "user").sum()),
                "n_messages": len(said),
                "share": len(said) / len(in_range),
                "first_active_at": _local(said["sent_ms"].min()),
                "last_active_at": _local(said["sent_ms"].max()),
                "last_ms": said["sent_ms"].max(),
            }
        )
    frame = pd.DataFrame(rows, columns=[*CHAT_COLUMNS, "last_ms"])
    key = "last_ms" if p["sort"] == "recent" else "n_messages"
    frame = frame.sort_values([key, "chat_id"], ascending=[False, True])
    return frame.iloc[p["offset"] : p["offset"] + p["limit"]].reset_index(drop=True)


CHAT_COLUMNS = {
    "chat_id": None,
    "chat_kind": None,
    "agent_names": None,
    "n_people": None,
    "n_user_messages": None,
    "n_assistant_messages": None,
    "n_messages": None,
    "share": None,
    "first_active_at": None,
    "last_active_at": None,
}


def _sorted_names(text) -> str:
    return ", ".join(sorted((text or "").split(", "))) if text else ""


def assert_same_chats(found: pd.DataFrame, expected: pd.DataFrame, label: str) -> None:
    found = found.assign(agent_names=[_sorted_names(t) for t in found["agent_names"]])
    assert found["chat_id"].tolist() == expected["chat_id"].tolist(), label
    for column in CHAT_COLUMNS:
        if column == "share":
            assert np.allclose(found[column].astype(float), expected[column].astype(float)), label
        elif column.endswith("_at"):
            assert (pd.to_datetime(found[column]) == pd.to_datetime(expected[column])).all(), (label, column)
        else:
            assert found[column].tolist() == expected[column].tolist(), (label, column)


def _ranges(raw: pd.DataFrame) -> dict[str, tuple[int, int]]:
    last = int(raw["sent_ms"].max()) // HOUR_MS * HOUR_MS + HOUR_MS
    first = int(raw["sent_ms"].min()) // HOUR_MS * HOUR_MS
    # A range with partial days at both ends, so daily and hourly rollup rows both answer it.
    middle_start = first + (last - first) // 3 // HOUR_MS * HOUR_MS + 5 * HOUR_MS
    return {
        "all": (first, last),
        "last 7 days": (last - 7 * 24 * HOUR_MS, last),
        "partial days": (middle_start, middle_start + 9 * 24 * HOUR_MS + 7 * HOUR_MS),
    }


def _agent_sets(raw: pd.DataFrame) -> list[list[str]]:
    busiest = raw["agent_id"].value_counts().index.tolist()
    return [[], [busiest[0]], busiest[1:3]]


def test_chat_list_matches_pandas(lists_db):
    engine, schema, raw, _ = lists_db
    busy_person = int(raw[raw["role"] == "user"]["user_id"].value_counts().index[1])
    combos = itertools.product(
        _ranges(raw).items(),
        _agent_sets(raw),
        ["all", "private", "group"],
        [1, 20],
        [None, busy_person],
        ["messages", "recent"],
    )
    checked = 0
    for (range_name, (start, end)), agents, kind, minimum, participant, sort in combos:
        params = {
            "start_ms": start,
            "end_ms": end,
            "tz": "UTC",
            "agent_ids": agents,
            "kind": kind,
            "min_messages": minimum,
            "participant": participant,
            "sort": sort,
            "limit": 12,
            "offset": 0,
        }
        expected = expected_chat_list(raw, params)
        for rollup in (False, True):
            label = f"{range_name} {agents} {kind} min={minimum} who={participant} {sort} rollup={rollup}"
            assert_same_chats(_run(engine, schema, "chat_list", params, rollup), expected, label)
            checked += 1
    assert checked == 3 * 3 * 3 * 2 * 2 * 2 * 2


@pytest.mark.parametrize("sort", ["messages", "recent"])
def test_chat_list_pages_follow_each_other(lists_db, sort):
    engine, schema, raw, _ = lists_db
    start, end = _ranges(raw)["all"]
    params = {
        "start_ms": start,
        "end_ms": end,
        "tz": "UTC",
        "agent_ids": [],
        "kind": "all",
        "min_messages": 1,
        "participant": None,
        "sort": sort,
        "limit": 40,
        "offset": 0,
    }
    whole = expected_chat_list(raw, params)
    for rollup in (False, True):
        pages = [
            _run(engine, schema, "chat_list", params | {"limit": 10, "offset": offset}, rollup)
            for offset in (0, 10, 20, 30)
        ]
        assert pd.concat(pages)["chat_id"].tolist() == whole["chat_id"].tolist()
    beyond = params | {"offset": 10**6}
    assert _run(engine, schema, "chat_list", beyond, True).empty


# --- people -------------------------------------------------------------------------------------


def expected_people(raw: pd.DataFrame, wallets: pd.DataFrame, p: dict) -> pd.DataFrame:
    said = raw[raw["role"] == "user"]
    if p["agent_ids"]:
        said = said[said["agent_id"].isin(p["agent_ids"])]
    if p["person"] is not None:
        said = said[said["user_id"] == p["person"]]
    wallet_of = dict(zip(wallets["telegram_id"], wallets["wallet_address"], strict=True))
    rows = []
    for user_id, theirs in said.groupby("user_id"):
        latest = theirs.sort_values(["sent_ms", "id"]).iloc[-1]
        rows.append(
            {
                "user_id": user_id,
                "user_first_name": latest["user_first_name"],
                "username": latest["username"],
                "n_messages": len(theirs),
                "n_chats": theirs["chat_id"].nunique(),
                "agent_names": ", ".join(sorted(set(theirs["agent_name"]))),
                "first_seen_at": _local(theirs["sent_ms"].min()),
                "last_seen_at": _local(theirs["sent_ms"].max()),
                "wallet_address": wallet_of.get(user_id),
                "last_ms": theirs["sent_ms"].max(),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    key = "last_ms" if p["sort"] == "recent" else "n_messages"
    frame = frame.sort_values([key, "user_id"], ascending=[False, True])
    return frame.iloc[p["offset"] : p["offset"] + p["limit"]].reset_index(drop=True)


def _none_if_missing(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def test_people_match_pandas(lists_db):
    engine, schema, raw, wallets = lists_db
    somebody = int(raw[raw["role"] == "user"]["user_id"].value_counts().index[3])
    checked = 0
    for agents, sort, (limit, offset), person in itertools.product(
        _agent_sets(raw), ["messages", "recent"], [(15, 0), (15, 15), (5, 400)], [None, somebody]
    ):
        params = {
            "agent_ids": agents,
            "sort": sort,
            "limit": limit,
            "offset": offset,
            "person": person,
            "tz": "UTC",
        }
        expected = expected_people(raw, wallets, params)
        for rollup in (False, True):
            found = _run(engine, schema, "people", params, rollup)
            label = f"{agents} {sort} {limit}/{offset} person={person} rollup={rollup}"
            assert len(found) == len(expected), label
            if expected.empty:
                continue
            assert found["user_id"].tolist() == expected["user_id"].tolist(), label
            for column in ("n_messages", "n_chats", "user_first_name", "username", "wallet_address"):
                assert _none_if_missing(found[column]) == _none_if_missing(expected[column]), (label, column)
            assert [_sorted_names(t) for t in found["agent_names"]] == expected["agent_names"].tolist(), label
            for column in ("first_seen_at", "last_seen_at"):
                assert (pd.to_datetime(found[column]) == expected[column]).all(), (label, column)
            checked += 1
    assert checked >= 40


def test_an_unknown_person_has_no_row(lists_db):
    engine, schema, _, _ = lists_db
    params = {"agent_ids": [], "sort": "messages", "limit": 1, "offset": 0, "person": 1, "tz": "UTC"}
    for rollup in (False, True):
        assert _run(engine, schema, "people", params, rollup).empty


# --- chat_size_distribution ----------------------------------------------------------------------


def test_chat_sizes_match_pandas(lists_db):
    engine, schema, raw, _ = lists_db
    for agents in _agent_sets(raw):
        chosen = raw if not agents else raw[raw["agent_id"].isin(agents)]
        sizes = chosen.groupby("chat_id").size()
        positions = np.searchsorted(BOUNDS, sizes.to_numpy(), side="right") - 1
        largest = int(positions.max())
        expected_chats = [int((positions == i).sum()) for i in range(largest + 1)]
        expected_messages = [int(sizes.to_numpy()[positions == i].sum()) for i in range(largest + 1)]
        for rollup in (False, True):
            found = _run(engine, schema, "chat_size_distribution", {"agent_ids": agents}, rollup)
            assert found["size_from"].tolist() == BOUNDS[: largest + 1]
            assert found["n_chats"].tolist() == expected_chats, (agents, rollup)
            assert found["n_messages"].tolist() == expected_messages, (agents, rollup)
            assert found["size_label"].tolist()[:3] == ["1", "2–4", "5–9"]


def test_lists_on_an_empty_database(new_database):
    url = prepared(new_database("lists_empty"), seed=_empty_tables)
    engine = admin_engine(url)
    with engine.connect() as conn:
        schema = introspect(conn)
    now = int(datetime.now(UTC).timestamp() * 1000) // HOUR_MS * HOUR_MS
    chat_params = {
        "start_ms": now - HOUR_MS * 24,
        "end_ms": now,
        "tz": "UTC",
        "agent_ids": [],
        "kind": "all",
        "min_messages": 1,
        "participant": None,
        "sort": "recent",
        "limit": 5,
        "offset": 0,
    }
    people_params = {
        "agent_ids": [],
        "sort": "messages",
        "limit": 5,
        "offset": 0,
        "person": None,
        "tz": "UTC",
    }
    try:
        for rollup in (False, True):
            assert _run(engine, schema, "chat_list", chat_params, rollup).empty
            assert _run(engine, schema, "people", people_params, rollup).empty
            assert _run(engine, schema, "chat_size_distribution", {"agent_ids": []}, rollup).empty
    finally:
        engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("truncate chat_messages, command_metrics restart identity")
