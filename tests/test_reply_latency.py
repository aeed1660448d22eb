"""reply_latency: both variants against answers computed independently in pandas from the raw rows
(exact for the raw view, within the histograms' 1% for the rollup), before and after incremental
refreshes that bring late rows, second epochs and an agent that never replies."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import rollups, rollups_replies, views
from dashboard.db import admin_engine
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.databases import prepared

MUTE = "mute-bot"  # writes only user rows: never a reply
LATE_BOT = "late-bot"  # first appears after the rollups were built, in second epochs
BASE = fx.ANCHOR - timedelta(days=2) + timedelta(hours=10)
WEEK = (fx.ANCHOR - timedelta(days=7), fx.ANCHOR)
COLUMNS = ["agent_id", "agent_name", "n_replies", "median_ms", "p90_ms"]


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _at(seconds: float):
    return BASE + timedelta(seconds=seconds)


# (chat, message_id, role, agent, moment, unit): histories whose samples are worked out by hand in
# test_known_values. Rows in seconds sit on whole seconds, so the stored value is their moment.
EXTRA_MESSAGES = [
    (3003, 1, "user", fx.ALPHA, _at(0), "s"),
    (3003, 2, "user", fx.ALPHA, _at(5), "ms"),  # a second user message: the reply answers this one
    (3003, 3, "assistant", fx.ALPHA, _at(5.25), "ms"),  # 250 ms
    (3003, 4, "assistant", fx.ALPHA, _at(8), "ms"),  # after an assistant: no sample
    (3003, 5, "user", fx.ALPHA, _at(60.9), "ms"),
    (3003, 6, "assistant", fx.ALPHA, _at(60), "s"),  # stored in seconds: before message 5
    (3003, 7, "assistant", fx.ALPHA, _at(61), "s"),  # 100 ms after message 5
    (3003, 8, "user", fx.ALPHA, _at(120), "ms"),
    (3003, 9, "system", fx.ALPHA, _at(121), "ms"),  # skipped
    (3003, 10, "assistant", fx.ALPHA, _at(125), "ms"),  # 5,000 ms
    (3003, 11, "user", fx.ALPHA, _at(200), "ms"),
    (3003, 12, "assistant", fx.ALPHA, _at(200), "ms"),  # same moment, later id: 0 ms
    # One group, two agents' histories interleaved; the user message is stored once per agent.
    (-100777, 1, "user", fx.ALPHA, _at(1000), "ms"),
    (-100777, 1, "user", fx.BETA, _at(1000), "ms"),
    (-100777, 2, "assistant", fx.BETA, _at(1002), "ms"),  # Beta 2,000 ms
    (-100777, 3, "assistant", fx.ALPHA, _at(1003.5), "ms"),  # Alpha 3,500 ms
    # A reply 37 days later (more than 2^31 ms): counted at the reply's time, in the week.
    (3004, 1, "user", fx.GHOST, fx.ANCHOR - timedelta(days=40), "s"),
    (3004, 2, "assistant", fx.GHOST, fx.ANCHOR - timedelta(days=3), "ms"),
    # A reply exactly at the week's end: outside [start, end).
    (3006, 1, "user", fx.BETA, fx.ANCHOR - timedelta(minutes=1), "ms"),
    (3006, 2, "assistant", fx.BETA, fx.ANCHOR, "ms"),
    (3005, 1, "user", MUTE, _at(10), "ms"),
    (3005, 2, "user", MUTE, _at(20), "s"),
    (3007, 1, "user", fx.BETA, _at(500), "s"),  # answered only by a new row
]

# Rows that arrive after the rollups were built.
NEW_MESSAGES = [
    (3003, 13, "user", fx.ALPHA, _at(5.1), "ms"),  # late, between the pair 2 -> 3: now 150 ms
    (3003, 14, "assistant", fx.ALPHA, _at(122), "s"),  # late, between 8 and 10: 2,000 ms, 10 none
    (fx.PRIVATE_CHAT, 60, "assistant", fx.ALPHA, fx.ANCHOR + timedelta(seconds=2), "ms"),  # answers 50
    (4004, 1, "user", LATE_BOT, _at(300), "s"),
    (4004, 2, "assistant", LATE_BOT, _at(303), "s"),
    (4004, 3, "user", LATE_BOT, _at(400), "s"),
    (4004, 4, "assistant", LATE_BOT, _at(400), "s"),
    (3005, 3, "user", MUTE, _at(30), "ms"),
    (3007, 2, "assistant", fx.BETA, _at(507), "s"),  # 7,000 ms after an old row in seconds
]


def _stamp(moment, unit: str) -> int:
    return _ms(moment) if unit == "ms" else int(moment.timestamp())


def insert_messages(engine: sa.Engine, rows: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id) values (:message_id, :chat_id, 42, 'Test', :role, 'latency',"
                " :timestamp, :agent_id)"
            ),
            [
                {"chat_id": c, "message_id": m, "role": r, "agent_id": a, "timestamp": _stamp(at, unit)}
                for c, m, r, a, at, unit in rows
            ],
        )


def raw_messages(engine: sa.Engine) -> pd.DataFrame:
    """The rows as stored, with each timestamp in ms by the documented rule (seconds below 1e11)."""
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("select id, chat_id, agent_id, role, timestamp from chat_messages"), conn)
    frame["sent_ms"] = [views.epoch_to_ms(int(value)) for value in frame["timestamp"]]
    return frame


def agent_names(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("select id::text, name from agents")).all())


def reply_samples(messages: pd.DataFrame) -> pd.DataFrame:
    """Every reply (an assistant message right after a user message in its chat and agent's
    history) with its latency, computed in pandas."""
    turns = messages[messages["role"].isin(["user", "assistant"])]
    turns = turns.sort_values(["chat_id", "agent_id", "sent_ms", "id"]).copy()
    history = turns.groupby(["chat_id", "agent_id"], sort=False)
    turns["previous_role"] = history["role"].shift()
    turns["latency_ms"] = turns["sent_ms"] - history["sent_ms"].shift()
    return turns[(turns["role"] == "assistant") & (turns["previous_role"] == "user")]


def assert_samples_stored(engine: sa.Engine) -> None:
    """lillo_dash.reply_samples holds exactly the replies pandas finds in the rows."""
    want = reply_samples(raw_messages(engine))
    with engine.connect() as conn:
        got = conn.execute(
            sa.text(
                "select reply_id, chat_id, agent_id, sent_ms, latency_ms from lillo_dash.reply_samples"
                " order by reply_id"
            )
        ).all()
    assert got == sorted(
        zip(
            want["id"],
            want["chat_id"],
            want["agent_id"],
            want["sent_ms"],
            want["latency_ms"].astype(int),
            strict=True,
        )
    )


def expected_latency(
    messages: pd.DataFrame, names: dict, start_ms: int, end_ms: int, agent_ids=()
) -> pd.DataFrame:
    """The view's rows computed in pandas: percentiles by numpy's linear method (= percentile_cont)."""
    samples = reply_samples(messages)
    if agent_ids:
        samples = samples[samples["agent_id"].isin(agent_ids)]
    samples = samples[(samples["sent_ms"] >= start_ms) & (samples["sent_ms"] < end_ms)]
    rows = [
        {
            "agent_id": agent,
            "agent_name": names.get(agent, agent),
            "n_replies": len(latency),
            "median_ms": float(np.percentile(latency, 50)),
            "p90_ms": float(np.percentile(latency, 90)),
        }
        for agent, latency in samples.groupby("agent_id")["latency_ms"]
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = frame.assign(name_key=frame["agent_name"].str.lower(), n_key=-frame["n_replies"])
    return frame.loc[order.sort_values(["n_key", "name_key", "agent_id"]).index].reset_index(drop=True)


def run(engine: sa.Engine, *, rollup: bool, start, end, agent_ids=()) -> pd.DataFrame:
    params = {"start_ms": _ms(start), "end_ms": _ms(end), "agent_ids": list(agent_ids)}
    with engine.connect() as conn:
        return views.run_view(conn, introspect(conn), "reply_latency", params, rollup=rollup)


def assert_matches(got: pd.DataFrame, expected: pd.DataFrame, *, rel: float) -> None:
    assert list(got.columns) == COLUMNS
    assert got["agent_id"].tolist() == expected["agent_id"].tolist()
    assert got["agent_name"].tolist() == expected["agent_name"].tolist()
    assert got["n_replies"].tolist() == expected["n_replies"].tolist()
    for column in ("median_ms", "p90_ms"):
        # Latencies of 0 ms sit in bucket 0 and come back exactly; `abs` covers them.
        assert got[column].astype(float).tolist() == pytest.approx(
            expected[column].tolist(), rel=rel, abs=1e-9
        ), column


def assert_both_variants_match(engine: sa.Engine, ranges: dict, agent_sets: list) -> None:
    messages, names = raw_messages(engine), agent_names(engine)
    for name, (start, end) in ranges.items():
        for agent_ids in agent_sets:
            expected = expected_latency(messages, names, _ms(start), _ms(end), agent_ids)
            for rollup, rel in ((False, 1e-9), (True, 0.01)):
                try:
                    assert_matches(
                        run(engine, rollup=rollup, start=start, end=end, agent_ids=agent_ids),
                        expected,
                        rel=rel,
                    )
                except AssertionError as error:
                    variant = "rollup" if rollup else "raw"
                    raise AssertionError(f"{variant}, {name}, agents {agent_ids}: {error}") from error


def histogram_rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select grain, period_start, agent_id, bucket, n_replies"
                " from lillo_dash.reply_latency_histogram order by 1, 2, 3, 4"
            )
        ).all()


def assert_incremental_equals_rebuild(engine: sa.Engine) -> None:
    incremental = histogram_rows(engine)
    rollups.refresh(engine, full=True)
    assert histogram_rows(engine) == incremental
    assert not any(row.n_replies <= 0 for row in incremental)


# --- The hand-made rows -------------------------------------------------------------------------

FIXTURE_RANGES = {
    "week": WEEK,
    "all time": (pd.Timestamp(0, tz="UTC"), fx.ANCHOR + timedelta(hours=1)),
    # Hour pieces at both ends, no whole day.
    "one day off midnight": (BASE - timedelta(hours=5), BASE + timedelta(hours=19)),
}
FIXTURE_AGENT_SETS = [[], [fx.ALPHA], [MUTE, fx.GHOST, LATE_BOT]]


@pytest.fixture(scope="module")
def latency_db(new_database):
    engine = admin_engine(
        prepared(new_database("latency"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    yield engine
    engine.dispose()


def test_known_values(latency_db):
    """Worked out by hand from the rows above and the fixture's (see tests/fixture_data.py)."""
    got = run(latency_db, rollup=False, start=WEEK[0], end=WEEK[1]).set_index("agent_id")
    # Alpha: fixture 36 s, 36 s, 6 min; here 250, 100, 5,000, 0 and 3,500 ms.
    alpha = sorted([36_000, 36_000, 360_000, 250, 100, 5_000, 0, 3_500])
    # Beta: fixture 72 s and 12 min (its user message before a system notice has no reply); here 2 s.
    beta = sorted([72_000, 720_000, 2_000])
    ghost = sorted([180_000, 37 * 86_400_000])
    assert got.index.tolist() == [fx.ALPHA, fx.BETA, fx.GHOST]
    assert got["n_replies"].tolist() == [8, 3, 2]
    assert got.loc[fx.ALPHA, "median_ms"] == pytest.approx((alpha[3] + alpha[4]) / 2)  # 4,250
    assert got.loc[fx.ALPHA, "p90_ms"] == pytest.approx(alpha[6] + 0.3 * (alpha[7] - alpha[6]))
    assert got.loc[fx.BETA, "median_ms"] == pytest.approx(72_000)
    assert got.loc[fx.BETA, "p90_ms"] == pytest.approx(beta[1] + 0.8 * (beta[2] - beta[1]))
    assert got.loc[fx.GHOST, "median_ms"] == pytest.approx((ghost[0] + ghost[1]) / 2)
    assert got.loc[fx.GHOST, "agent_name"] == fx.GHOST
    assert MUTE not in got.index and fx.GAMMA not in got.index


def test_both_variants_match_pandas_on_hand_made_rows(latency_db):
    assert_both_variants_match(latency_db, FIXTURE_RANGES, FIXTURE_AGENT_SETS)


def test_late_rows_and_second_epochs_before_and_after_refresh(new_database):
    engine = admin_engine(
        prepared(new_database("latency_new"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    try:
        insert_messages(engine, NEW_MESSAGES)
        assert_both_variants_match(engine, FIXTURE_RANGES, FIXTURE_AGENT_SETS)  # live, above the watermark
        alpha = run(engine, rollup=True, start=WEEK[0], end=WEEK[1]).set_index("agent_id").loc[fx.ALPHA]
        # 250 became 150 and 5,000 became 2,000 ms, as many replies as before.
        assert alpha["n_replies"] == 8
        assert alpha["median_ms"] == pytest.approx((2_000 + 3_500) / 2, rel=0.01)
        rollups.refresh(engine)
        assert_both_variants_match(engine, FIXTURE_RANGES, FIXTURE_AGENT_SETS)  # from the histograms
        assert_samples_stored(engine)  # late rows split stored pairs: samples updated and dropped
        assert rollups.refresh(engine).messages_added == 0
        assert_incremental_equals_rebuild(engine)
        assert_samples_stored(engine)
    finally:
        engine.dispose()


def assert_all_agents_level_sums_the_agents(engine: sa.Engine) -> None:
    """The '*' rows are, per (grain, period, bucket), the agents' rows summed (pandas, not SQL)."""
    rows = pd.DataFrame(
        histogram_rows(engine), columns=["grain", "period_start", "agent_id", "bucket", "n_replies"]
    )
    agents = rows[rows["agent_id"] != "*"]
    want = agents.groupby(["grain", "period_start", "bucket"])["n_replies"].sum()
    got = rows[rows["agent_id"] == "*"].set_index(["grain", "period_start", "bucket"])["n_replies"]
    assert not agents.empty
    assert got.sort_index().to_dict() == want.sort_index().to_dict()


def test_all_agents_level_kept_by_build_and_refresh(new_database):
    engine = admin_engine(
        prepared(new_database("latency_level"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    try:
        assert_all_agents_level_sums_the_agents(engine)
        insert_messages(engine, NEW_MESSAGES)  # late rows move samples between buckets
        rollups.refresh(engine)
        assert_all_agents_level_sums_the_agents(engine)
    finally:
        engine.dispose()


def test_samples_built_for_histograms_kept_before_them(new_database):
    """Histograms built before reply_samples existed: the next refresh builds both again."""
    engine = admin_engine(
        prepared(new_database("latency_no_samples"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    try:
        before = histogram_rows(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("delete from lillo_dash.reply_samples"))
        rollups.refresh(engine)
        assert_samples_stored(engine)
        assert histogram_rows(engine) == before
    finally:
        engine.dispose()


def test_all_agents_level_added_to_a_table_built_without_it(new_database):
    """A histogram built before the '*' level existed gets it summed from the agents' rows on the
    next refresh, and keeps it with the new rows."""
    engine = admin_engine(
        prepared(new_database("latency_no_level"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("delete from lillo_dash.reply_latency_histogram where agent_id = '*'"))
        insert_messages(engine, NEW_MESSAGES)
        rollups.refresh(engine)
        assert_all_agents_level_sums_the_agents(engine)
        assert_both_variants_match(engine, FIXTURE_RANGES, FIXTURE_AGENT_SETS)
    finally:
        engine.dispose()


def test_rollup_is_built_when_installed_after_the_others(new_database):
    """A database whose rollups predate the histogram table: its own watermark is missing, so the
    view counts everything live until the next refresh builds the table."""
    engine = admin_engine(
        prepared(new_database("latency_late_install"), seed=lambda e: insert_messages(e, EXTRA_MESSAGES))
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("delete from lillo_dash.refresh_state where source = :s"),
                {"s": rollups_replies.REPLIES_SOURCE},
            )
            conn.execute(sa.text("truncate lillo_dash.reply_latency_histogram"))
        assert_both_variants_match(engine, {"week": WEEK}, [[]])
        report = rollups.refresh(engine)
        assert report.first_build and report.messages_added == 0
        assert histogram_rows(engine)
        assert_both_variants_match(engine, {"week": WEEK}, [[]])
    finally:
        engine.dispose()


# --- The demo data set --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_latency_db(new_database):
    engine = admin_engine(prepared(new_database("latency_demo"), demo=True))
    yield engine
    engine.dispose()


def demo_ranges(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        newest = conn.execute(sa.text("select max(timestamp) from chat_messages")).scalar_one()
    end = pd.Timestamp(views.epoch_to_ms(newest), unit="ms", tz="UTC").ceil("h") + pd.Timedelta(hours=1)
    return {
        "30 days": (end - pd.Timedelta(days=30), end),
        "all time": (pd.Timestamp(0, tz="UTC"), end),
        "13 hours": (end - pd.Timedelta(days=40, hours=13), end - pd.Timedelta(days=40)),
    }


def demo_agent_sets(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        busiest = conn.execute(
            sa.text("select agent_id from chat_messages group by 1 order by count(*) desc, 1 limit 2")
        ).scalars()
        return [[], list(busiest)]


def test_demo_data_both_variants_match_pandas(demo_latency_db):
    assert_both_variants_match(
        demo_latency_db, demo_ranges(demo_latency_db), demo_agent_sets(demo_latency_db)
    )


def test_demo_data_incremental_refresh(demo_latency_db):
    engine = demo_latency_db
    with engine.begin() as conn:
        # Copies of the newest 300 rows under new message ids (each lands right after its original),
        # and late user messages one second before 50 older replies, in the reply's epoch unit.
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id)"
                " select message_id + 1000000000, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id from chat_messages order by id desc limit 300"
            )
        )
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id)"
                " select message_id + 2000000000, chat_id, 42, 'Late', 'user', 'late', "
                " timestamp - case when timestamp > 100000000000 then 1000 else 1 end, agent_id"
                " from chat_messages where role = 'assistant' and id % 97 = 0 order by id limit 50"
            )
        )
    ranges, agent_sets = demo_ranges(engine), demo_agent_sets(engine)
    assert_both_variants_match(engine, ranges, agent_sets)
    rollups.refresh(engine)
    assert_both_variants_match(engine, ranges, agent_sets)
    assert_incremental_equals_rebuild(engine)
