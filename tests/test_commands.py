"""The Commands page's views against answers computed with pandas from the raw rows (raw and rollup
variants), the error-signature normaliser on hostile text, the command named in the URL, and the
page itself in AppTest."""

from __future__ import annotations

import math
from datetime import UTC, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import command_page, rollups, views
from dashboard.db import admin_engine
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
T0 = fx.ANCHOR - timedelta(days=2) + timedelta(hours=2)
LONG_ERROR = "x" * 10_240
HOSTILE_ERROR = "Symbol 'ABC' not found for chat -1001234567890 [<b>x</b>](javascript:alert(1))"
# (command, user, chat, duration ms, success, error, at, unit): retries, zero and negative
# durations, a NULL and a 10 KB error, hostile text, mixed case and both epoch units.
EXTRA_COMMANDS = [
    (
        "/IMG",
        777,
        fx.GROUP_CHAT,
        1200,
        False,
        "Timeout after 5609ms waiting for https://x.io/j/8c611eff",
        T0,
        "ms",
    ),
    ("img", 777, fx.GROUP_CHAT, 900, True, None, T0 + timedelta(minutes=5), "s"),
    ("img", 777, fx.GROUP_CHAT, -5, False, None, T0 + timedelta(minutes=60), "ms"),
    ("img", 777, fx.PRIVATE_CHAT, 0, False, LONG_ERROR, T0 + timedelta(minutes=71), "ms"),
    (
        "img",
        777,
        fx.PRIVATE_CHAT,
        0,
        False,
        "Timeout after 30000ms waiting for https://x.io/j/d2",
        T0 + timedelta(minutes=73),
        "s",
    ),
    ("/Ticker", 778, fx.GROUP_CHAT, 150, False, HOSTILE_ERROR, T0 + timedelta(minutes=10), "ms"),
    ("ticker", 778, fx.GROUP_CHAT, 160, True, None, T0 + timedelta(minutes=20), "ms"),
]
# Each error text's signature, worked out by hand from the rules in dashboard/error_signature.py.
SIGNATURES = {
    "upstream 503 from https://img.example/gen?id=8f3a": "upstream <n> from <url>",
    "ECONNRESET fetching token 0x9f8e": "ECONNRESET fetching token <hex>",
    "Token not found: XYZ": "Token not found: XYZ",
    "Timeout after 5609ms waiting for https://x.io/j/8c611eff": "Timeout after <n>ms waiting for <url>",
    "Timeout after 30000ms waiting for https://x.io/j/d2": "Timeout after <n>ms waiting for <url>",
    None: "",
    LONG_ERROR: "x" * 300,
    HOSTILE_ERROR: "Symbol <v> not found for chat <id> [<b>x</b>](javascript:alert(<n>))",
}


def _epoch(at, unit: str) -> int:
    return int(at.timestamp() * 1000) if unit == "ms" else int(at.timestamp())


def insert_commands(engine: sa.Engine, rows: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into command_metrics (command, user_id, chat_id, duration, success, error, timestamp)"
                " values (:command, :user_id, :chat_id, :duration, :success, :error, :timestamp)"
            ),
            [
                dict(
                    command=c,
                    user_id=u,
                    chat_id=ch,
                    duration=d,
                    success=s,
                    error=e,
                    timestamp=_epoch(at, unit),
                )
                for c, u, ch, d, s, e, at, unit in rows
            ],
        )


def add_commands(engine: sa.Engine) -> None:
    insert_commands(engine, EXTRA_COMMANDS)


def all_commands() -> pd.DataFrame:
    """Every command row the test database holds, with its true moment, agent and name."""
    extra = pd.DataFrame(
        EXTRA_COMMANDS,
        columns=["command", "user_id", "chat_id", "duration", "success", "error", "at", "unit"],
    )
    rows = pd.concat([fx.commands()[extra.columns], extra], ignore_index=True)
    rows["id"] = range(1, len(rows) + 1)
    rows["ms"] = [
        int(at.timestamp() * 1000) if unit == "ms" else int(at.timestamp()) * 1000
        for at, unit in zip(rows["at"], rows["unit"], strict=True)
    ]
    rows["agent_id"] = [
        fx._last_speaker(chat, ms) for chat, ms in zip(rows["chat_id"], rows["ms"], strict=True)
    ]
    rows["name"] = rows["command"].str.lower().str.lstrip("/")
    rows["error"] = pd.Series([e if isinstance(e, str) else None for e in rows["error"]], dtype=object)
    return rows


@pytest.fixture(scope="module")
def commands_url(new_database) -> str:
    return prepared(new_database("commands"), seed=add_commands)


@pytest.fixture(scope="module")
def engine(commands_url):
    built = admin_engine(commands_url)
    yield built
    built.dispose()


END = fx.ANCHOR + timedelta(hours=5)
RANGES = {
    "week": (END - timedelta(days=7), END),
    "all time": (None, END),
}


def params(range_name: str, **overrides) -> dict:
    start, end = RANGES[range_name]
    base = {
        "start_ms": 0 if start is None else int(start.timestamp() * 1000),
        "end_ms": int(end.timestamp() * 1000),
        "agent_ids": [],
        "tz": "UTC",
        "bucket": "day",
        "command": "",
        "limit": 5,
    }
    return base | overrides


def in_range(rows: pd.DataFrame, p: dict) -> pd.DataFrame:
    chosen = rows[(rows["ms"] >= p["start_ms"]) & (rows["ms"] < p["end_ms"])]
    if p["command"]:
        chosen = chosen[chosen["name"] == p["command"]]
    if p["agent_ids"]:
        chosen = chosen[chosen["agent_id"].isin(p["agent_ids"])]
    return chosen


def run(engine, name: str, p: dict, rollup: bool) -> pd.DataFrame:
    with engine.connect() as conn:
        return views.run_view(conn, introspect(conn), name, p, rollup=rollup)


CASES = [
    (range_name, agent_ids, command)
    for range_name in RANGES
    for agent_ids in ([], [fx.ALPHA, fx.GHOST])
    for command in ("", "img")
]
VARIANTS = [False, True]


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_stats(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids)
    rows = in_range(all_commands(), p | {"command": ""})
    got = run(engine, "command_stats", p, rollup).set_index("command")
    assert sorted(got.index) == sorted(rows["name"].unique())
    tolerance = 0.01 if rollup else 1e-9
    for name, calls in rows.groupby("name"):
        row = got.loc[name]
        assert row["n_calls"] == len(calls)
        assert row["n_failures"] == (~calls["success"]).sum()
        assert row["success_rate"] == pytest.approx(calls["success"].mean())
        durations = calls["duration"].clip(lower=0)
        for q in (50, 95, 99):
            assert row[f"p{q}_duration_ms"] == pytest.approx(
                np.percentile(durations, q), rel=tolerance, abs=1e-9
            )


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_trend(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command)
    rows = in_range(all_commands(), p)
    day = pd.to_datetime(rows["ms"], unit="ms").dt.floor("D")
    expected = (
        rows.assign(bucket_start=day, failed=~rows["success"])
        .groupby(["bucket_start", "name"])
        .agg(n_calls=("id", "size"), n_failures=("failed", "sum"))
        .reset_index()
    )
    got = run(engine, "command_trend", p, rollup)
    assert [pd.Timestamp(t) for t in got["bucket_start"]] == list(expected["bucket_start"])
    assert list(got["command"]) == list(expected["name"])
    assert list(got["n_calls"]) == list(expected["n_calls"])
    assert list(got["n_failures"]) == list(expected["n_failures"])


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_agents(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command)
    rows = in_range(all_commands(), p)
    expected = {
        (name, agent): (len(calls), int((~calls["success"]).sum()), calls["success"].mean())
        for (name, agent), calls in rows.groupby(["name", "agent_id"])
    }
    got = run(engine, "command_agents", p, rollup)
    found = {(r.command, r.agent_id): (r.n_calls, r.n_failures, r.success_rate) for r in got.itertuples()}
    assert found.keys() == expected.keys()
    for key, (calls, failures, rate) in expected.items():
        assert found[key][:2] == (calls, failures)
        assert found[key][2] == pytest.approx(rate)


def duration_bucket(duration: int) -> int:
    return 0 if duration <= 0 else math.floor(math.log(duration) / math.log(1.02)) + 1


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_durations(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command)
    rows = in_range(all_commands(), p)
    expected = rows["duration"].map(duration_bucket).value_counts().sort_index()
    got = run(engine, "command_durations", p, rollup)
    assert list(got["bucket"]) == list(expected.index)
    assert list(got["n_calls"]) == list(expected)
    for bucket, low, high in zip(got["bucket"], got["from_ms"], got["to_ms"], strict=True):
        assert (low, high) == ((0, 0) if bucket == 0 else pytest.approx((1.02 ** (bucket - 1), 1.02**bucket)))
    # Zero and negative durations are counted, in bucket 0.
    assert expected.get(0, 0) == ((rows["duration"] <= 0).sum())


@pytest.mark.parametrize("rollup", VARIANTS)
def test_command_names(engine, rollup):
    rows = all_commands()
    got = run(engine, "command_names", {}, rollup)
    assert dict(zip(got["command"], got["n_calls"], strict=True)) == rows["name"].value_counts().to_dict()


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_slowest_calls(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command, limit=4)
    rows = in_range(all_commands(), p).sort_values(["duration", "id"], ascending=False).head(4)
    got = run(engine, "command_slowest_calls", p, rollup)
    assert list(got["command_row_id"]) == list(rows["id"])
    assert list(got["duration_ms"]) == list(rows["duration"])
    assert list(got["sent_ms"]) == list(rows["ms"])
    assert list(got["agent_id"]) == list(rows["agent_id"])
    assert [e if isinstance(e, str) else None for e in got["error"]] == [
        None if e is None else e[:300] for e in rows["error"]
    ]


def test_command_calls_hold_every_command_with_its_agent(engine):
    """lillo_dash.command_calls, which the slowest calls of chosen agents read: one row per command
    with the agent that last wrote in its chat at or before it, its moment, name and duration."""
    rows = all_commands()
    with engine.connect() as conn:
        stored = pd.read_sql(
            sa.text("select * from lillo_dash.command_calls order by command_id"), conn
        ).set_index("command_id")
    assert list(stored.index) == list(rows["id"])
    assert list(stored["agent_id"]) == [a or "" for a in rows["agent_id"]]
    assert list(stored["sent_ms"]) == list(rows["ms"])
    assert list(stored["command"]) == list(rows["name"])
    assert list(stored["duration"]) == list(rows["duration"])


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_error_signatures(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command)
    failed = in_range(all_commands(), p)
    failed = failed[~failed["success"]].assign(signature=lambda f: [SIGNATURES[e] for e in f["error"]])
    got = run(engine, "error_signatures", p, rollup).set_index("signature")
    assert sorted(got.index) == sorted(failed["signature"].unique())
    for signature, rows in failed.groupby("signature"):
        row = got.loc[signature]
        newest = rows.sort_values(["ms", "id"], ascending=False)
        assert row["n_failures"] == len(rows)
        assert row["first_seen_at"] == pd.Timestamp(rows["ms"].min(), unit="ms", tz=UTC)
        assert row["last_seen_at"] == pd.Timestamp(rows["ms"].max(), unit="ms", tz=UTC)
        assert row["commands"] == ", ".join(sorted(rows["name"].unique()))
        assert row["agent_ids"] == ", ".join(sorted(rows["agent_id"].unique()))
        assert row["n_chats"] == rows["chat_id"].nunique()
        assert row["n_people"] == rows["user_id"].nunique()
        assert list(row["example_chat_ids"]) == list(newest["chat_id"].head(3))
        assert list(row["example_sent_ms"]) == list(newest["ms"].head(3))
        error = newest["error"].iloc[0]
        shown = row["example_error"] if isinstance(row["example_error"], str) else None
        assert shown == (None if error is None else error[:300])


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize(("range_name", "agent_ids", "command"), CASES)
def test_command_retry_funnel(engine, rollup, range_name, agent_ids, command):
    p = params(range_name, agent_ids=agent_ids, command=command)
    every = all_commands()
    failures = in_range(every, p)
    failures = failures[~failures["success"]]
    expected = {}
    for failure in failures.itertuples():
        later = every[
            (every["user_id"] == failure.user_id)
            & (every["name"] == failure.name)
            & ((every["ms"] > failure.ms) | ((every["ms"] == failure.ms) & (every["id"] > failure.id)))
        ].sort_values(["ms", "id"])
        retried = not later.empty and later["ms"].iloc[0] - failure.ms <= 600_000
        counts = expected.setdefault(failure.name, [0, 0, 0])
        counts[0] += 1
        counts[1] += retried
        counts[2] += retried and bool(later["success"].iloc[0])
    got = run(engine, "command_retry_funnel", p, rollup)
    found = {r.command: [r.n_failures, r.n_retried, r.n_retry_succeeded] for r in got.itertuples()}
    assert found == expected


@pytest.mark.parametrize("rollup", VARIANTS)
def test_retry_funnel_counts_the_hand_made_retries(engine, rollup):
    got = run(engine, "command_retry_funnel", params("week"), rollup).set_index("command")
    # img: the fixture's failure (never retried) and 4 added ones; retried in time: the first added
    # (succeeded) and the 10 KB one (failed again); the NULL one's next try came 11 minutes later.
    assert got.loc["img"].tolist() == [5, 2, 1]
    # ticker: one failure, retried exactly 10 minutes later, successfully.
    assert got.loc["ticker"].tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        ("HTTP 429 from https://api.coingecko.com/api/v3/simple/price?ids=token-7008", "HTTP <n> from <url>"),
        (
            "Content policy violation (request 977c108f): prompt rejected",
            "Content policy violation (request <id>): prompt rejected",
        ),
        (
            "Permission denied: user 1096882753 is not an admin of chat -490090139",
            "Permission denied: user <id> is not an admin of chat <id>",
        ),
        ("Invalid mode 'market9993': expected market|trending", "Invalid mode <v>: expected market|trending"),
        ('Unknown model "gpt-9": expected OPENAI', "Unknown model <v>: expected OPENAI"),
        ("Token not found: 0xfccb4f13ad86b507ecec25b93675034f86a7f1c6", "Token not found: <hex>"),
        ("agent 123e4567-e89b-12d3-a456-426614174000 failed", "agent <uuid> failed"),
        ("Symbol not found: XYZ123", "Symbol not found: <id>"),
        (
            "OpenAI API error 500 (request id req_1f2a) after 120ms",
            "OpenAI API error <n> (request id <id>) after <n>ms",
        ),
        ("100% of 3.5s", "<n>% of <n>s"),
        ("first line 42\n    at handler (/app/x.js:1:2)", "first line <n>"),
        ("  many   spaces\tand tabs 7 ", " many spaces and tabs <n> "),
        ("Ошибка 42 для «чата»", "Ошибка <n> для «чата»"),
        ("'; drop table command_metrics; --", "'; drop table command_metrics; --"),
        (
            "<script>alert(1)</script> **bold** [x](javascript:y)",
            "<script>alert(<n>)</script> **bold** [x](javascript:y)",
        ),
        ("e" * 10_000, "e" * 300),
        ("", ""),
        (None, ""),
    ],
)
def test_error_signature_normaliser(reader, text, signature):
    statement = sa.text(
        views.expand_macros("select error_signature(t.error) from (select cast(:text as text) as error) as t")
    )
    assert reader.execute(statement, {"text": text}).scalar_one() == signature


@pytest.mark.parametrize(
    ("text", "command", "problem"),
    [
        ("img", "img", None),
        (" /IMG ", "img", None),
        ("//settings", "settings", None),
        (None, None, None),
        ("", None, None),
        ("/", None, "not a command"),
        ("a" * 51, None, "at most 50"),
        ("img\x00", None, "control characters"),
        ("x'; drop table command_metrics; --", "x'; drop table command_metrics; --", None),
    ],
)
def test_command_from_the_url(text, command, problem):
    found, why = command_page.parse_command(text)
    assert found == command
    assert (why is None) if problem is None else (problem in why)


def test_links():
    assert command_page.command_link("a&b c") == "/commands?command=a%26b+c"
    assert command_page.transcript_link(-1001234567890, 1700000000000) == (
        "/conversations?chat=-1001234567890&before=1700000000000-9223372036854775806"
    )
    from dashboard import transcript

    cursor = transcript.parse_cursor("1700000000000-9223372036854775806")
    assert cursor is not None and cursor.view_params()["before_ms"] == 1700000000000


@pytest.fixture
def commands_page(monkeypatch, commands_url):
    monkeypatch.setenv("DATABASE_URL", commands_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(**query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), "viewer")
        at.run()
        at.switch_page("app_pages/commands.py")
        at.query_params.update({"range": "all"} | query)
        return at.run()

    return open_page


def test_page_lists_commands_with_links_and_signature_examples(commands_page):
    at = commands_page()
    assert not at.exception
    assert at.title[0].value == "Commands"
    tables = [frame.value for frame in at.dataframe]
    stats = next(t for t in tables if "p99_duration_ms" in t.columns)
    assert set(stats["link"]) == {command_page.command_link(n) for n in all_commands()["name"].unique()}
    examples = next(t for t in tables if "failed_at" in t.columns)
    assert command_page.transcript_link(fx.GROUP_CHAT, int(T0.timestamp() * 1000)) in set(examples["link"])
    signatures = next(t for t in tables if "n_people" in t.columns)
    assert "(no error text)" in set(signatures["signature"])
    assert all(len(text) <= 300 for text in signatures["example_error"].dropna())


def test_command_page_shows_histogram_and_errors(commands_page):
    at = commands_page(command="/IMG")
    assert not at.exception
    assert at.title[0].value == "/img"
    tables = [frame.value for frame in at.dataframe]
    slowest = next(t for t in tables if "duration_ms" in t.columns)
    assert set(slowest["link"]) == {command_page.command_link("img")}
    assert len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("nosuch", "No command “/nosuch” was ever run"),
        ("x'; drop table command_metrics; --", "was ever run"),
        ("img\x00", "control characters"),
        ("/", "not a command"),
        ("[a](javascript:x)", "was ever run"),
    ],
)
def test_bad_commands_in_the_url_give_notices(commands_page, command, shown):
    at = commands_page(command=command)
    assert not at.exception
    notices = " ".join(str(n.value).replace("\\", "") for n in [*at.info, *at.warning])
    assert shown in notices


LATE_COMMANDS = [
    # Before the stored retry of the first added failure (5 minutes later): it becomes the retry.
    (
        "img",
        777,
        fx.GROUP_CHAT,
        700,
        False,
        "Timeout after 1ms waiting for https://x.io/j/1",
        T0 + timedelta(minutes=2),
        "s",
    ),
    # A retry for the fixture's failure that had none.
    (
        "/img",
        501,
        fx.PRIVATE_CHAT,
        800,
        True,
        None,
        fx.ANCHOR - timedelta(days=1) + timedelta(hours=10, minutes=9),
        "ms",
    ),
]


@pytest.mark.parametrize("name", ["command_retry_funnel", "error_signatures"])
def test_failure_rollup_follows_late_rows_live_and_after_refresh(new_database, name):
    engine = admin_engine(prepared(new_database("commands_late"), seed=add_commands))
    try:
        insert_commands(engine, LATE_COMMANDS)
        for _ in ("live", "refreshed"):
            for range_name in RANGES:
                p = params(range_name)
                raw, rolled = run(engine, name, p, False), run(engine, name, p, True)
                pd.testing.assert_frame_equal(raw, rolled)
            rollups.refresh(engine)
        funnel = run(engine, "command_retry_funnel", params("week"), True).set_index("command")
        # img: 6 failures now; the late failure is the first one's retry (failed) and is retried
        # itself, successfully; the fixture's failure now has a successful retry.
        assert funnel.loc["img"].tolist() == [6, 4, 2]
    finally:
        engine.dispose()


# --- The demo generator's random data -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_engine(new_database):
    built = admin_engine(prepared(new_database("commands_demo"), demo=True))
    yield built
    built.dispose()


def demo_commands(engine) -> pd.DataFrame:
    """The demo's command rows with moment (ms), name and agent (the last speaker in the chat at or
    before the command, ties by row id), computed here from the raw tables."""
    with engine.connect() as conn:
        calls = pd.read_sql(sa.text("select * from command_metrics"), conn)
        said = pd.read_sql(sa.text("select id, chat_id, agent_id, timestamp from chat_messages"), conn)
    calls["ms"] = calls["timestamp"].map(views.epoch_to_ms).astype("int64")
    calls["name"] = calls["command"].str.lower().str.lstrip("/")
    said["ms"] = said["timestamp"].map(views.epoch_to_ms).astype("int64")
    attributed = pd.merge_asof(
        calls.sort_values("ms"),
        said.sort_values(["ms", "id"])[["chat_id", "ms", "agent_id"]],
        on="ms",
        by="chat_id",
        direction="backward",
    )
    attributed["agent_id"] = attributed["agent_id"].fillna("")
    return attributed.sort_values("id").reset_index(drop=True)


def demo_params(calls: pd.DataFrame, days: int | None) -> dict:
    end = (int(calls["ms"].max()) // 3_600_000 + 1) * 3_600_000
    return params("week", start_ms=0 if days is None else end - days * 86_400_000, end_ms=end)


@pytest.mark.parametrize("rollup", VARIANTS)
@pytest.mark.parametrize("days", [30, None])
def test_demo_command_views(demo_engine, rollup, days):
    calls = demo_commands(demo_engine)
    p = demo_params(calls, days)
    rows = in_range(calls, p)
    assert len(rows) > 50 and (~rows["success"]).sum() > 0

    stats = run(demo_engine, "command_stats", p, rollup).set_index("command")
    counted = rows.groupby("name").agg(n=("id", "size"), failed=("success", lambda s: int((~s).sum())))
    assert stats["n_calls"].to_dict() == counted["n"].to_dict()
    assert stats["n_failures"].to_dict() == counted["failed"].to_dict()
    for name, group in rows.groupby("name"):
        expected = np.percentile(group["duration"].clip(lower=0), 95)
        assert stats.loc[name, "p95_duration_ms"] == pytest.approx(expected, rel=0.01 if rollup else 1e-9)

    agents = run(demo_engine, "command_agents", p, rollup)
    by_agent = rows.groupby(["name", "agent_id"]).size().to_dict()
    assert (
        dict(zip(zip(agents["command"], agents["agent_id"], strict=True), agents["n_calls"], strict=True))
        == by_agent
    )

    signatures = run(demo_engine, "error_signatures", p, rollup)
    failed = rows[~rows["success"]]
    assert signatures["n_failures"].sum() == len(failed)
    assert signatures["n_failures"].is_monotonic_decreasing

    funnel = run(demo_engine, "command_retry_funnel", p, rollup).set_index("command")
    ordered = calls.sort_values(["user_id", "name", "ms", "id"])
    same = ordered.groupby(["user_id", "name"])
    ordered["next_ms"], ordered["next_success"] = same["ms"].shift(-1), same["success"].shift(-1)
    failures = ordered[ordered["id"].isin(failed["id"])]
    retried = failures["next_ms"].notna() & (failures["next_ms"] - failures["ms"] <= 600_000)
    expected = (
        failures.assign(retried=retried, succeeded=retried & (failures["next_success"] == True))  # noqa: E712
        .groupby("name")
        .agg(n_failures=("id", "size"), n_retried=("retried", "sum"), n_retry_succeeded=("succeeded", "sum"))
    )
    assert funnel.astype(int).to_dict() == expected.astype(int).to_dict()

    slowest = run(demo_engine, "command_slowest_calls", p | {"limit": 20}, False)
    top = rows.sort_values(["duration", "id"], ascending=False).head(20)
    assert list(slowest["command_row_id"]) == list(top["id"])


def test_slowest_calls_of_an_agent_in_busy_hours(new_database):
    """More than 20,000 calls in an agent's hours: the rollup walks the duration index (past another
    agent's slower calls) instead of reading the hours by time; both give the raw view's rows."""
    engine = admin_engine(prepared(new_database("commands_busy_hour"), seed=add_commands))
    at = fx.ANCHOR - timedelta(days=2)
    moment = int(at.timestamp() * 1000)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                    " timestamp, agent_id) values (1, 7001, 9001, 'Test', 'assistant', 'hi', :t, :alpha),"
                    " (2, 7002, 9002, 'Test', 'assistant', 'hi', :t, :beta)"
                ),
                {"t": moment, "alpha": fx.ALPHA, "beta": fx.BETA},
            )
            # 20,001 calls after Alpha's message in its chat, 100,001 to 120,001 ms; five slower
            # ones after Beta's in the same hour.
            conn.execute(
                sa.text(
                    "insert into command_metrics"
                    " (command, user_id, chat_id, duration, success, error, timestamp)"
                    " select 'img', 501, 7001, 100000 + i, true, null, :t + 1 + i % 1000"
                    " from generate_series(1, 20001) as i"
                    " union all"
                    " select 'img', 502, 7002, 500000 + i, true, null, :t + 1 from generate_series(1, 5) as i"
                ),
                {"t": moment},
            )
        rollups.refresh(engine)
        p = params("week", agent_ids=[fx.ALPHA], limit=4)
        for rollup in VARIANTS:
            got = run(engine, "command_slowest_calls", p, rollup)
            assert list(got["duration_ms"]) == [120001, 120000, 119999, 119998], rollup
            assert set(got["agent_id"]) == {fx.ALPHA}
        beta = params("week", agent_ids=[fx.BETA], limit=4)
        assert run(engine, "command_slowest_calls", beta, True).equals(
            run(engine, "command_slowest_calls", beta, False)
        )
    finally:
        engine.dispose()
