"""The retention cohort drill-down (agent_cohort_people): hand-made rows with answers written out by
hand, both variants, before and after new rows arrive above the rollups' watermarks; and on demo
data, one row per person of every cohort agent_retention counts, against pandas over the raw rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import rollups, views
from dashboard.db import admin_engine
from dashboard.live_schema import introspect
from tests.databases import prepared

AGENT = "cohort-bot"
OTHER_AGENT = "other-bot"
# Mondays, 00:00 UTC: the week before the cohort, the cohort, and the weeks after it.
EARLIER = "2026-01-26"
COHORT = "2026-02-02"
COLUMNS = [
    "user_id",
    "user_first_name",
    "username",
    "first_message_at",
    "last_message_at",
    "n_messages",
    "n_weeks_active",
    "came_back",
]
EVERYONE = {"limit": 1_000, "offset": 0}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _s(text: str) -> int:
    return int(_at(text).timestamp())


def _ms(text: str) -> int:
    return _s(text) * 1000


# (chat, message_id, user, first name, username, role, agent, stored timestamp: seconds or ms)
HAND_ROWS = [
    # 701 first writes the Sunday 23:59 before the cohort's Monday: the earlier cohort, though he
    # writes again in the cohort week.
    (7001, 1, 701, "Sunny", "sunny", "user", AGENT, _ms("2026-02-01 23:59:00")),
    (7001, 2, 701, "Sunny", "sunny", "user", AGENT, _s("2026-02-03 08:00:00")),
    # 702: the cohort's first second (in seconds), again that week, and two weeks later with a new
    # name; the agent's replies to him (one in a week he never wrote in) do not count.
    (7002, 1, 702, "Mon", "mon", "user", AGENT, _s("2026-02-02 00:00:00")),
    (7002, 2, 702, "Mon", "mon", "user", AGENT, _ms("2026-02-04 10:00:00")),
    (7002, 3, 702, "Mona", "mona2", "user", AGENT, _ms("2026-02-16 12:00:00")),
    (7002, 4, 702, "Bot", None, "assistant", AGENT, _ms("2026-02-16 12:00:01")),
    (7002, 5, 702, "Bot", None, "assistant", AGENT, _ms("2026-03-02 09:00:00")),
    # 703: once, the cohort week's last second.
    (7003, 1, 703, "Dusk", None, "user", AGENT, _s("2026-02-08 23:59:59")),
    # 704 only ever appears on the agent's own messages.
    (7004, 1, 704, "Echo", "echo", "assistant", AGENT, _ms("2026-02-03 10:00:00")),
    # 705 wrote only to another agent, in the cohort week.
    (7005, 1, 705, "Elsewhere", None, "user", OTHER_AGENT, _ms("2026-02-03 10:00:00")),
    # 706 wrote to the other agent a week earlier; to this one first in the cohort week, twice, in
    # two chats.
    (7005, 2, 706, "Two", "two", "user", OTHER_AGENT, _ms("2026-01-27 10:00:00")),
    (7006, 1, 706, "Two", "two", "user", AGENT, _ms("2026-02-05 10:00:00")),
    (-7006, 1, 706, "Two", "two_b", "user", AGENT, _s("2026-02-06 10:00:00")),
    # 707: twice in the cohort week, once on the next Monday's first millisecond.
    (7007, 1, 707, "Seven", None, "user", AGENT, _ms("2026-02-03 10:00:00")),
    (7007, 2, 707, "Seven", None, "user", AGENT, _ms("2026-02-05 10:00:00")),
    (7007, 3, 707, "Sev", "sev", "user", AGENT, _ms("2026-02-09 00:00:00")),
]

# The cohort, by hand: most messages first, ties by user id.
COHORT_ROWS = [
    (702, "Mona", "mona2", "2026-02-02 00:00:00", "2026-02-16 12:00:00", 3, 2, True),
    (707, "Sev", "sev", "2026-02-03 10:00:00", "2026-02-09 00:00:00", 3, 2, True),
    (706, "Two", "two_b", "2026-02-05 10:00:00", "2026-02-06 10:00:00", 2, 1, False),
    (703, "Dusk", None, "2026-02-08 23:59:59", "2026-02-08 23:59:59", 1, 1, False),
]
EARLIER_ROWS = [(701, "Sunny", "sunny", "2026-02-01 23:59:00", "2026-02-03 08:00:00", 2, 2, True)]

# Rows that arrive after the refresh, above the watermarks.
NEW_ROWS = [
    # A newcomer in the cohort week, in milliseconds.
    (7008, 1, 708, "Newt", "newt", "user", AGENT, _ms("2026-02-07 18:00:00")),
    # 703's late-stored earlier message: he moves to the earlier cohort.
    (7003, 2, 703, "Dusk", "dusk", "user", AGENT, _s("2026-01-30 12:00:00")),
    # 706 comes back two weeks later.
    (7006, 2, 706, "Two", "two", "user", AGENT, _ms("2026-02-20 10:00:00")),
    # 702's newest message, with yet another name.
    (7002, 6, 702, "Mo", None, "user", AGENT, _s("2026-03-03 07:00:00")),
]
COHORT_ROWS_AFTER = [
    (702, "Mo", None, "2026-02-02 00:00:00", "2026-03-03 07:00:00", 4, 3, True),
    (706, "Two", "two", "2026-02-05 10:00:00", "2026-02-20 10:00:00", 3, 2, True),
    (707, "Sev", "sev", "2026-02-03 10:00:00", "2026-02-09 00:00:00", 3, 2, True),
    (708, "Newt", "newt", "2026-02-07 18:00:00", "2026-02-07 18:00:00", 1, 1, False),
]
EARLIER_ROWS_AFTER = [
    (701, "Sunny", "sunny", "2026-02-01 23:59:00", "2026-02-03 08:00:00", 2, 2, True),
    # Still named as on his latest message, which has no username.
    (703, "Dusk", None, "2026-01-30 12:00:00", "2026-02-08 23:59:59", 2, 2, True),
]


_INSERTED = ("chat_id", "message_id", "user_id", "first", "username", "role", "agent_id", "timestamp")


def _insert(engine: sa.Engine, rows: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (chat_id, message_id, user_id, user_first_name, username, role,"
                " content, timestamp, agent_id) values (:chat_id, :message_id, :user_id, :first, :username,"
                " :role, 'x', :timestamp, :agent_id)"
            ),
            [dict(zip(_INSERTED, row, strict=True)) for row in rows],
        )


def _run(engine: sa.Engine, name: str, params: dict, *, rollup: bool) -> pd.DataFrame:
    with engine.connect() as conn:
        return views.run_view(conn, introspect(conn), name, params, rollup=rollup)


def people(engine: sa.Engine, agent_id: str, cohort_week: str, *, rollup: bool, **page) -> list[tuple]:
    """The view's rows as plain tuples, moments as UTC 'YYYY-MM-DD HH:MM:SS' text."""
    params = {"agent_id": agent_id, "cohort_week": cohort_week} | (page or EVERYONE)
    frame = _run(engine, "agent_cohort_people", params, rollup=rollup)
    assert frame.columns.tolist() == COLUMNS
    return [
        (
            int(row.user_id),
            row.user_first_name,
            None if pd.isna(row.username) else row.username,
            pd.Timestamp(row.first_message_at).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S"),
            pd.Timestamp(row.last_message_at).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S"),
            int(row.n_messages),
            int(row.n_weeks_active),
            bool(row.came_back),
        )
        for row in frame.itertuples()
    ]


def both_variants(engine: sa.Engine, agent_id: str, cohort_week: str, **page) -> list[tuple]:
    raw = people(engine, agent_id, cohort_week, rollup=False, **page)
    assert people(engine, agent_id, cohort_week, rollup=True, **page) == raw, "rollup differs from raw"
    return raw


def cohort_sizes(engine: sa.Engine, agent_id: str, *, rollup: bool) -> dict[str, int]:
    """{cohort Monday: cohort_size} from agent_retention, over all time."""
    params = {"agent_id": agent_id, "start_ms": 0, "end_ms": 4_000_000_000_000}
    frame = _run(engine, "agent_retention", params, rollup=rollup)
    first = frame[frame["week_number"] == 0]
    weeks = first["cohort_week"].map(lambda w: pd.Timestamp(w).strftime("%Y-%m-%d"))
    return dict(zip(weeks, first["cohort_size"].astype(int), strict=True))


# --- Hand-made rows -------------------------------------------------------------------------------


def _seed(engine: sa.Engine) -> None:
    _insert(engine, HAND_ROWS)


@pytest.fixture(scope="module")
def hand_engine(new_database):
    engine = admin_engine(prepared(new_database("cohort_people"), seed=_seed))
    yield engine
    engine.dispose()


def test_the_cohort_by_hand(hand_engine):
    assert both_variants(hand_engine, AGENT, COHORT) == COHORT_ROWS
    assert both_variants(hand_engine, AGENT, EARLIER) == EARLIER_ROWS


def test_any_day_of_the_week_names_its_cohort(hand_engine):
    assert both_variants(hand_engine, AGENT, "2026-02-08") == COHORT_ROWS  # its Sunday
    assert both_variants(hand_engine, AGENT, "2026-02-01") == EARLIER_ROWS


def test_pages(hand_engine):
    assert both_variants(hand_engine, AGENT, COHORT, limit=2, offset=1) == COHORT_ROWS[1:3]
    assert both_variants(hand_engine, AGENT, COHORT, limit=2, offset=4) == []


def test_other_agents_and_empty_weeks(hand_engine):
    """705 and 706 are the other agent's people of their own weeks; a week nobody started in and
    an agent nobody wrote to have no people."""
    assert [row[0] for row in both_variants(hand_engine, OTHER_AGENT, EARLIER)] == [706]
    assert [row[0] for row in both_variants(hand_engine, OTHER_AGENT, COHORT)] == [705]
    assert both_variants(hand_engine, AGENT, "2026-02-09") == []
    assert both_variants(hand_engine, "no-such-agent", COHORT) == []


def test_as_many_people_as_retention_counts(hand_engine):
    for rollup in (False, True):
        assert cohort_sizes(hand_engine, AGENT, rollup=rollup) == {EARLIER: 1, COHORT: 4}


def test_new_rows_above_the_watermarks(new_database):
    engine = admin_engine(prepared(new_database("cohort_people_new"), seed=_seed))
    _insert(engine, NEW_ROWS)
    for refreshed in (False, True):
        where = "after the refresh" if refreshed else "before the refresh"
        assert both_variants(engine, AGENT, COHORT) == COHORT_ROWS_AFTER, where
        assert both_variants(engine, AGENT, EARLIER) == EARLIER_ROWS_AFTER, where
        assert cohort_sizes(engine, AGENT, rollup=True) == {EARLIER: 2, COHORT: 4}, where
        rollups.refresh(engine)
    engine.dispose()


def test_retention_rollup_not_built_yet(new_database):
    """Rollups that predate person_weeks: no watermark for it, every row is read live for the
    weeks while the totals come from person_totals."""
    engine = admin_engine(prepared(new_database("cohort_people_late"), seed=_seed))
    with engine.begin() as conn:
        conn.execute(sa.text("truncate lillo_dash.person_weeks, lillo_dash.retention_weekly"))
        conn.execute(sa.text("delete from lillo_dash.refresh_state where source = 'person_weeks'"))
    assert both_variants(engine, AGENT, COHORT) == COHORT_ROWS
    _insert(engine, NEW_ROWS)
    assert both_variants(engine, AGENT, COHORT) == COHORT_ROWS_AFTER
    engine.dispose()


# --- Demo data ----------------------------------------------------------------------------------------


def _week_start(ms: pd.Series) -> pd.Series:
    moments = pd.to_datetime(ms, unit="ms")
    mondays = moments.dt.normalize() - pd.to_timedelta(moments.dt.day_of_week, unit="D")
    return mondays.dt.strftime("%Y-%m-%d")


def expected_people(messages: pd.DataFrame, agent_id: str) -> pd.DataFrame:
    """Every person of every cohort of `agent_id`, in pandas over the raw rows."""
    said = messages[(messages["agent_id"] == agent_id) & (messages["role"] == "user")].copy()
    said["sent_ms"] = [views.epoch_to_ms(int(v)) for v in said["timestamp"]]
    said["week"] = _week_start(said["sent_ms"])
    said = said.sort_values(["sent_ms", "id"])
    # The name and username of the latest message, even when that username is null.
    latest = said.groupby("user_id").tail(1).set_index("user_id")[["user_first_name", "username"]]
    per_person = said.groupby("user_id").agg(
        first_ms=("sent_ms", "min"),
        last_ms=("sent_ms", "max"),
        n_messages=("id", "size"),
        n_weeks_active=("week", "nunique"),
        cohort_week=("week", "min"),
    )
    return per_person.join(latest).reset_index()


def _as_rows(expected: pd.DataFrame) -> list[tuple]:
    ordered = expected.sort_values(["n_messages", "user_id"], ascending=[False, True])
    return [
        (
            int(row.user_id),
            row.user_first_name,
            None if pd.isna(row.username) else row.username,
            pd.Timestamp(row.first_ms, unit="ms").strftime("%Y-%m-%d %H:%M:%S"),
            pd.Timestamp(row.last_ms, unit="ms").strftime("%Y-%m-%d %H:%M:%S"),
            int(row.n_messages),
            int(row.n_weeks_active),
            int(row.n_weeks_active) > 1,
        )
        for row in ordered.itertuples()
    ]


def _demo_messages(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "select id, user_id, user_first_name, username, role, agent_id, timestamp from chat_messages"
            ),
            conn,
        )


def _busiest_agents(messages: pd.DataFrame, n: int) -> list[str]:
    return messages["agent_id"].value_counts().index[:n].tolist()


def test_demo_cohorts_are_retentions_cohorts(demo_db):
    """Raw rows only: the number of people of a cohort is agent_retention's cohort_size, and they
    are the people pandas finds."""
    engine = admin_engine(demo_db)
    messages = _demo_messages(engine)
    for agent in _busiest_agents(messages, 2):
        sizes = cohort_sizes(engine, agent, rollup=False)
        expected = expected_people(messages, agent)
        assert len(sizes) >= 10, agent
        # The first cohorts (everyone is new), one in the middle, the latest (partial week).
        chosen = sorted(sizes)
        for week in [*chosen[:2], chosen[len(chosen) // 2], chosen[-1]]:
            got = people(engine, agent, week, rollup=False)
            assert len(got) == sizes[week], (agent, week)
            assert got == _as_rows(expected[expected["cohort_week"] == week]), (agent, week)
    engine.dispose()


@pytest.fixture(scope="module")
def demo_rollup_engine(new_database):
    engine = admin_engine(prepared(new_database("cohort_people_demo"), demo=True))
    yield engine
    engine.dispose()


def _assert_demo_variants_agree(engine: sa.Engine, agent: str) -> None:
    expected = expected_people(_demo_messages(engine), agent)
    sizes = cohort_sizes(engine, agent, rollup=True)
    for week in sorted(sizes):
        got = both_variants(engine, agent, week)
        assert len(got) == sizes[week], (agent, week)
        assert got == _as_rows(expected[expected["cohort_week"] == week]), (agent, week)
        assert both_variants(engine, agent, week, limit=5, offset=3) == got[3:8], (agent, week)


def test_demo_rollup_equals_raw_before_and_after_new_rows(demo_rollup_engine):
    engine = demo_rollup_engine
    messages = _demo_messages(engine)
    agent = _busiest_agents(messages, 1)[0]
    _assert_demo_variants_agree(engine, agent)
    # New rows above the watermark: a newcomer in the latest week, a known person of the first
    # cohort writing again now, and an earlier message (seconds) of a person of a later cohort.
    newest_ms = views.epoch_to_ms(int(messages["timestamp"].max()))
    expected = expected_people(messages, agent)
    first_week = expected["cohort_week"].min()
    veteran = int(expected.loc[expected["cohort_week"] == first_week, "user_id"].iloc[0])
    latecomer = expected[expected["cohort_week"] > first_week].iloc[0]
    week_before_s = int(latecomer.first_ms) // 1000 - 8 * 86_400
    _insert(
        engine,
        [
            (9_900_001, 1, 9_900_001, "Fresh", "fresh", "user", agent, newest_ms),
            (9_900_002, 1, veteran, "Back", "back", "user", agent, newest_ms - 1),
            (9_900_003, 1, int(latecomer.user_id), "Early", None, "user", agent, week_before_s),
        ],
    )
    _assert_demo_variants_agree(engine, agent)
    rollups.refresh(engine)
    _assert_demo_variants_agree(engine, agent)
