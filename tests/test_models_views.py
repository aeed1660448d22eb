"""The Models page's views (model_mix, model_comparison, model_misconfigurations, model_changes,
model_change_effect) on hand-made rows whose answers are written out by hand below; the rollup
variants against the raw ones before and after new rows, a preference change and a refresh."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import rollups, views
from dashboard.db import admin_engine
from dashboard.install import apply_lillo_schema, install_dashboard_objects
from dashboard.live_schema import introspect

ADA = "aaaaaaaa-0000-4000-8000-000000000001"
BO = "bbbbbbbb-0000-4000-8000-000000000002"
T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; the week before it is the range
START = T0 - timedelta(days=7)
DAY_MS = 86_400_000
OPENAI_CHAT, SHARED_CHAT, UNUSED_CHAT, OLD_CHAT, GROUP_CHAT, SILENT_CHAT = 101, 102, 103, 104, -4555, 108


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(days: float, hours: float = 0, seconds: float = 0) -> datetime:
    """`days` before T0, then `hours` and `seconds` later."""
    return T0 - timedelta(days=days) + timedelta(hours=hours, seconds=seconds)


# (chat, user, role, agent, moment, unit). Rows in seconds sit on whole seconds.
MESSAGES = [
    # Ada in a DM on the default model (no preference row): OPENAI.
    (OPENAI_CHAT, 501, "user", ADA, _at(20, 10), "s"),
    (OPENAI_CHAT, 9001, "assistant", ADA, _at(20, 10, 5), "s"),
    (OPENAI_CHAT, 501, "user", ADA, _at(2, 10), "ms"),
    (OPENAI_CHAT, 9001, "assistant", ADA, _at(2, 10, 2), "ms"),  # reply 2,000 ms
    (OPENAI_CHAT, 501, "user", ADA, _at(1, 10), "s"),
    (OPENAI_CHAT, 9001, "assistant", ADA, _at(1, 10, 3), "s"),  # reply 3,000 ms
    (OPENAI_CHAT, 501, "user", ADA, T0, "ms"),  # at the range's end: outside it
    # A group where Ada is set to GEMINI and Bo has no row (OPENAI by default).
    (SHARED_CHAT, 502, "user", ADA, _at(3, 12), "ms"),
    (SHARED_CHAT, 9001, "assistant", ADA, _at(3, 12, 1.5), "ms"),  # reply 1,500 ms
    (SHARED_CHAT, 502, "user", ADA, _at(3, 12, 300), "ms"),
    (SHARED_CHAT, 0, "system", ADA, _at(3, 12, 301), "ms"),  # neither answers nor interrupts
    (SHARED_CHAT, 9001, "assistant", ADA, _at(3, 12, 304.5), "ms"),  # reply 4,500 ms
    (SHARED_CHAT, 502, "user", ADA, _at(1, 9), "ms"),  # 502 came back 45 hours later; no reply
    (SHARED_CHAT, 505, "user", BO, _at(2, 14, -60), "ms"),
    (SHARED_CHAT, 9002, "assistant", BO, _at(2, 14, -50), "ms"),  # reply 10,000 ms
    # Bo in a DM set to OPENAI explicitly, quiet in the range.
    (OLD_CHAT, 506, "user", BO, _at(10, 8), "s"),
    (OLD_CHAT, 9002, "assistant", BO, _at(10, 8, 1), "s"),
    # Bo in a basic group set to DEEPSEEK.
    (GROUP_CHAT, 503, "user", BO, _at(10, 9), "ms"),
    (GROUP_CHAT, 504, "user", BO, START - timedelta(seconds=60), "ms"),
    (GROUP_CHAT, 9002, "assistant", BO, START + timedelta(seconds=30), "ms"),  # answers 504: 90,000 ms
    (GROUP_CHAT, 504, "user", BO, _at(1, 20), "s"),
    (GROUP_CHAT, 9002, "assistant", BO, _at(1, 20), "s"),  # same second, later row: 0 ms
    (GROUP_CHAT, 503, "user", BO, _at(-1, 9), "ms"),  # 503 wrote before and after the range only
]

# (command, user, chat, duration ms, success, moment, unit)
COMMANDS = [
    ("/img", 502, SHARED_CHAT, 8000, True, _at(3, 12, 60), "ms"),  # Ada wrote last: GEMINI
    ("img", 502, SHARED_CHAT, 9000, False, _at(3, 12, 360), "s"),  # Ada: GEMINI
    ("ticker", 502, SHARED_CHAT, 300, True, _at(1, 9, 30), "ms"),  # Ada: GEMINI
    ("settings", 502, SHARED_CHAT, 50, True, _at(1, 9, 60), "ms"),  # Ada: GEMINI, needs no tools
    ("/img", 505, SHARED_CHAT, 7000, True, _at(2, 15), "ms"),  # Bo wrote last: OPENAI
    ("dex", 504, GROUP_CHAT, 1200, False, _at(1, 20, 5), "s"),  # Bo: DEEPSEEK
    ("img", 501, OPENAI_CHAT, 6000, True, _at(2, 10, 5), "ms"),  # Ada: OPENAI
    ("img", 507, SILENT_CHAT, 4000, True, _at(1), "ms"),  # nobody ever wrote there: no pair
    ("gecko", 502, SHARED_CHAT, 100, True, T0 + timedelta(hours=1), "ms"),  # after the range
]

# (agent, chat, model, created, updated)
PREFERENCES = [
    (ADA, SHARED_CHAT, "GEMINI", _at(30), _at(2, 0, 2)),
    (ADA, UNUSED_CHAT, "GROK", _at(1), _at(1)),  # set for a chat Ada never wrote in
    (BO, OLD_CHAT, "OPENAI", _at(12), _at(12)),
    (BO, GROUP_CHAT, "DEEPSEEK", _at(15), _at(5)),
]

# (at, actor, action, table, row_key, before, after, reason)
AUDIT = [
    (
        _at(1),
        "ana",
        "insert",
        "model_preferences",
        (ADA, UNUSED_CHAT),
        {"model_type": None},
        {"model_type": "GROK"},
        "try grok",
    ),
    (
        _at(2),
        "bob",
        "update",
        "model_preferences",
        (ADA, SHARED_CHAT),
        {"model_type": "GROK"},
        {"model_type": "GEMINI"},
        "cheaper",
    ),
    (
        _at(6),
        "ana",
        "delete",
        "model_preferences",
        (BO, 106),
        {"model_type": "GROK"},
        {"model_type": None},
        "back",
    ),
    (
        _at(8),
        "bob",
        "update",
        "model_preferences",
        (BO, GROUP_CHAT),
        {"model_type": "GEMINI"},
        {"model_type": "GROK"},
        "tools",
    ),
    (_at(0.5), "ana", "view", "chat_messages", None, None, None, ""),
    (_at(0.5), "ana", "update", "agents", None, {"name": "A"}, {"name": "Ada"}, "rename"),
]


def _stamp(moment: datetime, unit: str) -> int:
    return _ms(moment) if unit == "ms" else int(moment.timestamp())


def insert_messages(engine: sa.Engine, rows: list[tuple], first_message_id: int = 1) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id) values (:message_id, :chat_id, :user_id, 'Test', :role, 'hi',"
                " :timestamp, :agent_id)"
            ),
            [
                {
                    "message_id": first_message_id + i,
                    "chat_id": c,
                    "user_id": u,
                    "role": r,
                    "agent_id": a,
                    "timestamp": _stamp(at, unit),
                }
                for i, (c, u, r, a, at, unit) in enumerate(rows)
            ],
        )


def insert_commands(engine: sa.Engine, rows: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into command_metrics (command, user_id, chat_id, duration, success, timestamp)"
                " values (:command, :user_id, :chat_id, :duration, :success, :timestamp)"
            ),
            [
                {
                    "command": k,
                    "user_id": u,
                    "chat_id": c,
                    "duration": d,
                    "success": ok,
                    "timestamp": _stamp(at, unit),
                }
                for k, u, c, d, ok, at, unit in rows
            ],
        )


def _seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("insert into agents (id, name, type) values (cast(:id as uuid), :name, 'telegram')"),
            [{"id": ADA, "name": "Ada"}, {"id": BO, "name": "Bo"}],
        )
        conn.execute(
            sa.text(
                "insert into model_preferences (agent_id, chat_id, model_type, created_at, updated_at)"
                " values (:a, :c, :m, :created, :updated)"
            ),
            [{"a": a, "c": c, "m": m, "created": cr, "updated": up} for a, c, m, cr, up in PREFERENCES],
        )
    insert_messages(engine, MESSAGES)
    insert_commands(engine, COMMANDS)


def _audit(engine: sa.Engine) -> None:
    def document(value):
        return None if value is None else json.dumps(value)

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into lillo_dash.audit_log"
                " (at, actor, actor_role, action, table_name, row_key, before, after, reason)"
                " values (:at, :actor, 'admin', :action, :table_name, cast(:row_key as jsonb),"
                " cast(:before as jsonb), cast(:after as jsonb), :reason)"
            ),
            [
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "table_name": table,
                    "row_key": json.dumps({"agent_id": key[0], "chat_id": key[1]} if key else {"id": 1}),
                    "before": document(before),
                    "after": document(after),
                    "reason": reason,
                }
                for at, actor, action, table, key, before, after, reason in AUDIT
            ],
        )


def build(url: str) -> sa.Engine:
    engine = admin_engine(url)
    apply_lillo_schema(engine)
    _seed(engine)
    install_dashboard_objects(engine)
    _audit(engine)
    rollups.refresh(engine)
    return engine


@pytest.fixture(scope="module")
def models_db(new_database):
    engine = build(new_database("models"))
    yield engine
    engine.dispose()


def run(engine: sa.Engine, name: str, *, rollup: bool = False, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        return views.run_view(conn, introspect(conn), name, params, rollup=rollup)


def week(**overrides) -> dict:
    return {"start_ms": _ms(START), "end_ms": _ms(T0), "agent_ids": []} | overrides


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[columns].itertuples(index=False)]


# --- model_mix ------------------------------------------------------------------------------------

MIX_COLUMNS = ["agent_id", "model_type", "n_chats", "n_default_chats", "n_active_chats", "n_messages"]


@pytest.mark.parametrize("rollup", [False, True])
def test_mix_counts_pairs_without_a_row_as_default_openai(models_db, rollup):
    got = run(models_db, "model_mix", rollup=rollup, **week())
    assert list(got.columns) == MIX_COLUMNS
    assert records(got, MIX_COLUMNS) == [
        # Ada's DM has no row (OPENAI by default); her GROK row is for a chat she never wrote in.
        (ADA, "GEMINI", 1, 0, 1, 6),
        (ADA, "OPENAI", 1, 1, 1, 4),
        # Bo: the shared group by default, his DM by choice (quiet in the range); the basic group.
        (BO, "OPENAI", 2, 1, 1, 2),
        (BO, "DEEPSEEK", 1, 0, 1, 3),
    ]


@pytest.mark.parametrize("rollup", [False, True])
def test_mix_of_one_agent_over_all_time(models_db, rollup):
    got = run(
        models_db,
        "model_mix",
        rollup=rollup,
        **week(start_ms=0, end_ms=_ms(T0 + timedelta(days=2)), agent_ids=[BO]),
    )
    assert records(got, MIX_COLUMNS) == [(BO, "OPENAI", 2, 1, 2, 4), (BO, "DEEPSEEK", 1, 0, 1, 6)]


# --- model_comparison -----------------------------------------------------------------------------

COMPARISON_COUNTS = [
    "model_type",
    "n_chats",
    "n_messages",
    "n_replies",
    "n_commands",
    "n_command_failures",
    "n_people",
    "n_new_people",
    "n_returned",
]
COMPARISON_FIGURES = [
    "messages_per_chat",
    "range_days",
    "messages_per_chat_per_day",
    "median_ms",
    "p90_ms",
    "command_success_rate",
    "command_p95_ms",
    "returning_share",
]
# Reply and command percentiles come from histograms in the rollup variant: within 1%.
# (OPENAI's chats and people are linear-counting estimates: exact at these sizes.)
ESTIMATED = {"median_ms", "p90_ms", "command_p95_ms"}


def test_comparison_by_hand(models_db):
    got = run(models_db, "model_comparison", **week())
    assert records(got, COMPARISON_COUNTS) == [
        # Ada's DM and Bo's share of the group: 4 + 2 messages; replies 2, 3 and 10 s; commands
        # /img after Bo's reply and img in Ada's DM; people 501 and 505, of whom 505 is new.
        ("OPENAI", 2, 6, 3, 2, 0, 2, 1, 0),
        # Ada in the group: replies 1.5 and 4.5 s; /img, img (failed), ticker, settings; 502 new
        # and back 45 hours later.
        ("GEMINI", 1, 6, 2, 4, 1, 1, 1, 1),
        ("GROK", 0, 0, 0, 0, 0, 0, 0, 0),
        # Bo's basic group: 90 s (answering a message from before the range) and 0 s; dex failed;
        # 504 wrote in the range, 503 only before and after it.
        ("DEEPSEEK", 1, 3, 2, 1, 1, 1, 0, 0),
    ]
    figures = got.set_index("model_type")[COMPARISON_FIGURES]
    expected = {
        "OPENAI": [3.0, 7.0, 3 / 7, 3000.0, 3000 + 0.8 * 7000, 1.0, 6000 + 0.95 * 1000, 0.0],
        "GEMINI": [6.0, 7.0, 6 / 7, 3000.0, 1500 + 0.9 * 3000, 0.75, 8000 + 0.85 * 1000, 1.0],
        "GROK": [None, 7.0, None, None, None, None, None, None],
        "DEEPSEEK": [3.0, 7.0, 3 / 7, 45_000.0, 81_000.0, 0.0, 1200.0, None],
    }
    for model, values in expected.items():
        row = [None if pd.isna(v) else v for v in figures.loc[model]]
        assert row == pytest.approx(values, nan_ok=True), model


def test_comparison_over_all_time_spans_the_data(models_db):
    got = run(models_db, "model_comparison", **week(start_ms=0, end_ms=_ms(T0 + timedelta(days=2))))
    # From Ada's first message (20 days before T0, 10:00) to 503's last (a day after T0, 09:00).
    days = (timedelta(days=21) - timedelta(hours=1)) / timedelta(days=1)
    assert got["range_days"].tolist() == pytest.approx([days] * 4)
    openai = got.set_index("model_type").loc["OPENAI"]
    # Ada's DM (7 messages with the one at T0), Bo's share of the group (2) and his old DM (2).
    assert (openai["n_chats"], openai["n_messages"]) == (3, 11)
    assert openai["messages_per_chat_per_day"] == pytest.approx(11 / 3 / days)


def test_comparison_of_one_agent(models_db):
    got = run(models_db, "model_comparison", **week(agent_ids=[ADA])).set_index("model_type")
    assert got["n_chats"].tolist() == [1, 1, 0, 0]
    assert got.loc["OPENAI", "n_commands"] == 1  # Bo's /img is not Ada's
    assert got.loc["OPENAI", "n_replies"] == 2


# --- model_misconfigurations ----------------------------------------------------------------------

MISCONFIG_COLUMNS = ["agent_id", "chat_id", "command", "n_calls", "n_failures", "last_ms"]


@pytest.mark.parametrize("rollup", [False, True])
def test_function_calling_commands_in_gemini_pairs(models_db, rollup):
    got = run(models_db, "model_misconfigurations", rollup=rollup, **week())
    assert list(got.columns) == MISCONFIG_COLUMNS
    assert records(got, MISCONFIG_COLUMNS) == [
        # '/img' and 'img' are one command; Bo's /img in the same chat is his (OPENAI), settings
        # needs no tools, gecko came after the range, dex ran in a DEEPSEEK chat.
        (ADA, SHARED_CHAT, "img", 2, 1, int(_at(3, 12, 360).timestamp()) * 1000),
        (ADA, SHARED_CHAT, "ticker", 1, 0, _ms(_at(1, 9, 30))),
    ]
    assert run(models_db, "model_misconfigurations", rollup=rollup, **week(agent_ids=[BO])).empty


# --- model_changes --------------------------------------------------------------------------------

CHANGE_COLUMNS = ["agent_id", "chat_id", "model_before", "model_after", "source", "actor", "reason"]


def test_changes_from_the_audit_log_and_updated_at(models_db):
    got = run(models_db, "model_changes", agent_ids=[], limit=10)
    assert list(got.columns) == ["agent_id", "chat_id", "changed_at", *CHANGE_COLUMNS[2:]]
    assert records(got, CHANGE_COLUMNS) == [
        (ADA, UNUSED_CHAT, "OPENAI", "GROK", "audit", "ana", "try grok"),  # an insert: from the default
        # The group's updated_at is 2 s after this audit row: one change, shown once.
        (ADA, SHARED_CHAT, "GROK", "GEMINI", "audit", "bob", "cheaper"),
        (BO, GROUP_CHAT, None, "DEEPSEEK", "updated_at", None, None),  # made outside the dashboard
        (BO, 106, "GROK", "OPENAI", "audit", "ana", "back"),  # a delete: back to the default
        (BO, GROUP_CHAT, "GEMINI", "GROK", "audit", "bob", "tools"),
    ]
    assert [pd.Timestamp(t) for t in got["changed_at"]] == [
        pd.Timestamp(t) for t in (_at(1), _at(2), _at(5), _at(6), _at(8))
    ]


def test_changes_of_one_agent_and_the_limit(models_db):
    assert run(models_db, "model_changes", agent_ids=[BO], limit=2)["chat_id"].tolist() == [GROUP_CHAT, 106]
    assert run(models_db, "model_changes", agent_ids=[], limit=1)["model_after"].tolist() == ["GROK"]


def test_changes_need_the_audit_log(new_database):
    """Without the dashboard's install there is no audit log: the page gets a notice, not a traceback."""
    engine = admin_engine(new_database("models_bare"))
    try:
        apply_lillo_schema(engine)
        with pytest.raises(views.MissingSchema, match=r"lillo_dash\.audit_log"):
            run(engine, "model_changes", agent_ids=[], limit=10)
    finally:
        engine.dispose()


# --- model_change_effect --------------------------------------------------------------------------

EFFECT_COUNTS = ["period", "n_messages", "n_replies", "n_commands", "n_command_failures", "n_people"]


def test_before_and_after_a_change(models_db):
    changed = _at(2)
    got = run(
        models_db,
        "model_change_effect",
        agent_id=ADA,
        chat_id=SHARED_CHAT,
        changed_at_ms=_ms(changed),
        window_days=2,
    )
    assert records(got, EFFECT_COUNTS) == [
        ("before", 5, 2, 2, 1, 1),  # the afternoon of day 3: two replies, /img and img (failed)
        ("after", 1, 0, 2, 0, 1),  # 502's return; ticker and settings (Bo's /img is not Ada's)
    ]
    before, after = got.to_dict("records")
    assert (before["period_start_ms"], before["period_end_ms"]) == (_ms(changed) - 2 * DAY_MS, _ms(changed))
    assert (after["period_start_ms"], after["period_end_ms"]) == (_ms(changed), _ms(changed) + 2 * DAY_MS)
    assert pd.Timestamp(after["period_start"]) == pd.Timestamp(changed)
    assert [
        before["n_days"],
        before["messages_per_day"],
        before["median_ms"],
        before["p90_ms"],
    ] == pytest.approx([2.0, 2.5, 3000.0, 4200.0])
    assert [before["command_success_rate"], before["command_p95_ms"]] == pytest.approx(
        [0.5, 8000 + 0.95 * 1000]
    )
    assert [
        after["messages_per_day"],
        after["command_success_rate"],
        after["command_p95_ms"],
    ] == pytest.approx([0.5, 1.0, 50 + 0.95 * 250])
    assert pd.isna(after["median_ms"])


def test_an_after_period_reaching_into_the_future_counts_its_past_days(models_db):
    changed = datetime.now(UTC) - timedelta(days=1)
    got = run(
        models_db,
        "model_change_effect",
        agent_id=ADA,
        chat_id=OPENAI_CHAT,
        changed_at_ms=_ms(changed),
        window_days=7,
    )
    assert got["n_days"].tolist() == pytest.approx([7.0, 1.0], abs=0.01)
    assert got["n_messages"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("agent", "chat", "before_from", "latency_ms"),
    [
        # 504 asked a minute before the period (ms rows); the reply inside it answers that question.
        (BO, GROUP_CHAT, START, 90_000),
        # 506 asked half a second before the period (rows in seconds); replied a second later.
        (BO, OLD_CHAT, _at(10, 8, 0.5), 1_000),
    ],
)
def test_a_reply_early_in_a_period_answers_the_question_before_it(
    models_db, agent, chat, before_from, latency_ms
):
    got = run(
        models_db,
        "model_change_effect",
        agent_id=agent,
        chat_id=chat,
        changed_at_ms=_ms(before_from + timedelta(days=1)),
        window_days=1,
    )
    before = got.to_dict("records")[0]
    assert (before["n_messages"], before["n_people"], before["n_replies"]) == (1, 0, 1)
    assert before["median_ms"] == pytest.approx(latency_ms)


# --- Rollup variants --------------------------------------------------------------------------------

RANGES = {
    # Ends before 503's last message: 503 spans the range and is looked up.
    "week": (START, T0),
    # Ends after every message.
    "open week": (START, T0 + timedelta(days=2)),
    "all time": (datetime(1970, 1, 1, tzinfo=UTC), T0 + timedelta(days=2)),
    # Hour pieces at both ends, no whole day.
    "off midnight": (_at(3, 5), _at(2, 5)),
}
AGENT_SETS = [[], [ADA], [BO, "no-such-agent"]]


def _floats(values: list) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def assert_variants_agree(engine: sa.Engine) -> None:
    for range_name, (start, end) in RANGES.items():
        for agent_ids in AGENT_SETS:
            params = {"start_ms": _ms(start), "end_ms": _ms(end), "agent_ids": agent_ids}
            for name in ("model_mix", "model_comparison", "model_misconfigurations"):
                raw = run(engine, name, **params)
                rolled = run(engine, name, rollup=True, **params)
                where = f"{name}, {range_name}, {agent_ids}"
                assert list(rolled.columns) == list(raw.columns), where
                for column in raw.columns:
                    got = rolled[column].tolist()
                    want = raw[column].tolist()
                    if pd.api.types.is_float_dtype(raw[column]) or column in ESTIMATED:
                        tolerance = 0.01 if column in ESTIMATED else 1e-9
                        assert _floats(got) == pytest.approx(_floats(want), rel=tolerance, nan_ok=True), (
                            f"{where}: {column}"
                        )
                    else:
                        assert got == want, f"{where}: {column}"


# (agent, chat, change, window days): whole hours and pieces at both ends, a reply answering a
# question before the periods, an after period reaching into the future.
EFFECT_CASES = [
    (ADA, SHARED_CHAT, _at(2), 2),
    (ADA, SHARED_CHAT, _at(3, 5, 0.25), 1.5),
    (BO, GROUP_CHAT, START + timedelta(days=1), 1),
    (BO, OLD_CHAT, _at(10, 8, 0.5) + timedelta(days=1), 1),
    (BO, OLD_CHAT, _at(1, 7, 0.5), 0.01),
    (ADA, OPENAI_CHAT, datetime.now(UTC) - timedelta(days=1), 7),
    (ADA, 109, _at(2, 8), 3),
]


def assert_change_effects_agree(engine: sa.Engine) -> None:
    for agent, chat, changed, window_days in EFFECT_CASES:
        params = {
            "agent_id": agent,
            "chat_id": chat,
            "changed_at_ms": _ms(changed),
            "window_days": window_days,
        }
        raw = run(engine, "model_change_effect", **params)
        rolled = run(engine, "model_change_effect", rollup=True, **params)
        where = f"model_change_effect, {chat}, {agent}, {changed}"
        assert list(rolled.columns) == list(raw.columns), where
        for column in raw.columns:
            if pd.api.types.is_float_dtype(raw[column]):
                assert _floats(rolled[column].tolist()) == pytest.approx(
                    _floats(raw[column].tolist()), rel=1e-9, abs=1e-6, nan_ok=True
                ), f"{where}: {column}"
            else:
                assert rolled[column].tolist() == raw[column].tolist(), f"{where}: {column}"


def test_rollup_variants_equal_the_raw_views(models_db):
    assert_variants_agree(models_db)
    assert_change_effects_agree(models_db)


def test_rollup_variants_with_new_rows_and_a_changed_preference(new_database):
    engine = build(new_database("models_new"))
    try:
        # New rows above the watermarks: a reply and a command in the GEMINI pair, a new GEMINI
        # pair with a command, a late user message in Ada's DM (seconds), 506 back in Bo's quiet DM,
        # and a command in Bo's group.
        insert_messages(
            engine,
            [
                (SHARED_CHAT, 502, "user", ADA, _at(1, 11), "ms"),
                (SHARED_CHAT, 9001, "assistant", ADA, _at(1, 11, 7), "ms"),
                (109, 508, "user", ADA, _at(2, 8), "ms"),
                (109, 9001, "assistant", ADA, _at(2, 8, 1), "ms"),
                (OPENAI_CHAT, 501, "user", ADA, _at(2, 10, 1), "s"),
                (OLD_CHAT, 506, "user", BO, _at(1, 7), "ms"),  # 506 is back, not new
            ],
            first_message_id=1000,
        )
        insert_commands(
            engine,
            [
                ("/ticker", 508, 109, 700, False, _at(2, 8, 2), "ms"),
                ("gecko", 502, SHARED_CHAT, 200, False, _at(1, 11, 10), "ms"),
                ("dex", 503, GROUP_CHAT, 90, True, _at(3), "ms"),
            ],
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into model_preferences (agent_id, chat_id, model_type) values (:a, 109, 'GEMINI')"
                ),
                {"a": ADA},
            )
        assert_variants_agree(engine)
        assert_change_effects_agree(engine)
        gemini = run(engine, "model_comparison", rollup=True, **week()).set_index("model_type").loc["GEMINI"]
        assert (gemini["n_chats"], gemini["n_messages"], gemini["n_replies"], gemini["n_commands"]) == (
            2,
            10,
            4,
            6,
        )
        misconfigured = run(engine, "model_misconfigurations", rollup=True, **week())
        assert records(misconfigured, ["chat_id", "command", "n_calls", "n_failures"]) == [
            (SHARED_CHAT, "img", 2, 1),
            (SHARED_CHAT, "gecko", 1, 1),  # above the rollup's watermark
            (109, "ticker", 1, 1),  # a pair set to GEMINI since the last refresh
            (SHARED_CHAT, "ticker", 1, 0),
        ]
        # A preference changed since the last refresh counts at once: Ada's DM moves to GROK.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, 'GROK')"
                ),
                {"a": ADA, "c": OPENAI_CHAT},
            )
        assert_variants_agree(engine)
        grok = run(engine, "model_comparison", rollup=True, **week()).set_index("model_type").loc["GROK"]
        assert (grok["n_chats"], grok["n_messages"], grok["n_commands"]) == (1, 5, 1)
        rollups.refresh(engine)
        assert_variants_agree(engine)
        assert_change_effects_agree(engine)
    finally:
        engine.dispose()


def filed_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        found = {}
        for name in ("model_pairs", "model_pair_activity", "model_pair_replies", "model_pair_commands"):
            table = sa.Table(name, sa.MetaData(), schema="lillo_dash", autoload_with=conn)
            key = list(table.columns)[:2]
            found[name] = conn.execute(sa.select(table).order_by(*key)).all()
        return found


def assert_activity_of_filed_pairs(engine: sa.Engine) -> None:
    """model_pair_activity holds chat_activity's rows of exactly the filed pairs."""
    with engine.connect() as conn:
        want = conn.execute(
            sa.text(
                "select a.grain, a.period_start, a.chat_id, a.agent_id, a.n_messages"
                " from lillo_dash.chat_activity as a inner join lillo_dash.model_pairs as f"
                " on f.chat_id = a.chat_id and f.agent_id = a.agent_id order by 1, 2, 3, 4"
            )
        ).all()
    got = filed_rows(engine)["model_pair_activity"]
    assert want and sorted(got) == want


def test_refresh_files_pairs_set_to_another_model_and_drops_those_set_back(new_database):
    engine = build(new_database("models_filing"))
    try:
        assert [tuple(r) for r in filed_rows(engine)["model_pairs"]] == [
            (GROUP_CHAT, BO, "DEEPSEEK"),
            (SHARED_CHAT, ADA, "GEMINI"),
        ]  # GROK's pair has no messages; OPENAI rows are not filed
        # Ada's group back to the default, Bo's share of it to GROK, a late reply in the group
        # (seconds) and a command after it.
        with engine.begin() as conn:
            conn.execute(
                sa.text("delete from model_preferences where agent_id = :a and chat_id = :c"),
                {"a": ADA, "c": SHARED_CHAT},
            )
            conn.execute(
                sa.text(
                    "insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, 'GROK')"
                ),
                {"a": BO, "c": SHARED_CHAT},
            )
        insert_messages(
            engine, [(GROUP_CHAT, 9002, "assistant", BO, _at(10, 9, 20), "s")], first_message_id=2000
        )
        insert_commands(engine, [("img", 503, GROUP_CHAT, 2500, True, _at(10, 9, 30), "ms")])
        assert_variants_agree(engine)
        rollups.refresh(engine)
        incremental = filed_rows(engine)
        assert [tuple(r) for r in incremental["model_pairs"]] == [
            (GROUP_CHAT, BO, "DEEPSEEK"),
            (SHARED_CHAT, BO, "GROK"),
        ]
        # Ada's group taken out of GEMINI's histograms, Bo's share put into GROK's, the late reply
        # and command counted: as a whole recount has them.
        histograms = {
            t: stored_histograms(engine, t) for t in ("model_reply_histogram", "model_command_histogram")
        }
        assert not [row for row in histograms["model_reply_histogram"] if row[3] == "GEMINI"]
        # 503's first message is answered 20 s later; Bo's 10 s reply in the shared group is filed.
        assert {(r.chat_id, r.latency_ms) for r in incremental["model_pair_replies"]} >= {
            (GROUP_CHAT, 20_000),
            (SHARED_CHAT, 10_000),
        }
        assert not [r for r in incremental["model_pair_commands"] if r.agent_id == ADA]
        assert_activity_of_filed_pairs(engine)
        assert_variants_agree(engine)
        rollups.refresh(engine, full=True)
        assert filed_rows(engine) == incremental
        assert {t: stored_histograms(engine, t) for t in histograms} == histograms
    finally:
        engine.dispose()


def model_pair_counts(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select agent_id, model_type, n_chats, n_default_chats from lillo_dash.model_pair_counts"
                " order by agent_id, model_type"
            )
        )
        return [tuple(row) for row in rows]


def add_to_counted_deepseek_pairs(engine: sa.Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update lillo_dash.model_pair_counts set n_chats = n_chats + :n"
                " where agent_id = :a and model_type = 'DEEPSEEK'"
            ),
            {"a": BO, "n": n},
        )


def mix_chats(engine: sa.Engine, agent_id: str, model_type: str) -> tuple[int, int]:
    mix = run(engine, "model_mix", rollup=True, **week()).set_index(["agent_id", "model_type"])
    return tuple(int(v) for v in mix.loc[(agent_id, model_type), ["n_chats", "n_default_chats"]])


def test_mix_reads_the_pairs_the_refresh_counted_while_preferences_are_unchanged(new_database):
    """The refresh counts every pair per agent and model (lillo_dash.model_pair_counts); the mix
    reads those counts while model_preferences is as the refresh saw it, and counts the pairs itself
    as soon as a row changes."""
    engine = build(new_database("models_counts"))
    try:
        # By hand: Ada's DM has no row and her group is GEMINI; Bo's share of the group has no row,
        # his DM is OPENAI by its row and his basic group DEEPSEEK.
        assert model_pair_counts(engine) == [
            (ADA, "GEMINI", 1, 0),
            (ADA, "OPENAI", 1, 1),
            (BO, "DEEPSEEK", 1, 0),
            (BO, "OPENAI", 2, 1),
        ]
        add_to_counted_deepseek_pairs(engine, 100)  # the mix shows what the counts say
        assert mix_chats(engine, BO, "DEEPSEEK") == (101, 0)
        add_to_counted_deepseek_pairs(engine, -100)
        # A pair first seen above the watermark, without a row: counted live, as OPENAI by default.
        insert_messages(engine, [(110, 510, "user", BO, _at(2, 9), "ms")], first_message_id=3000)
        assert mix_chats(engine, BO, "OPENAI") == (3, 2)
        assert_variants_agree(engine)
        # An OPENAI row for Ada's DM: no longer a default pair, at once; the stored counts are set aside.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, 'OPENAI')"
                ),
                {"a": ADA, "c": OPENAI_CHAT},
            )
        add_to_counted_deepseek_pairs(engine, 100)
        assert mix_chats(engine, BO, "DEEPSEEK") == (1, 0)
        assert mix_chats(engine, ADA, "OPENAI") == (1, 0)
        assert_variants_agree(engine)
        rollups.refresh(engine)
        assert model_pair_counts(engine) == [
            (ADA, "GEMINI", 1, 0),
            (ADA, "OPENAI", 1, 0),
            (BO, "DEEPSEEK", 1, 0),
            (BO, "OPENAI", 3, 2),
        ]
        assert_variants_agree(engine)
        # A refresh with nothing new leaves the counts as they are.
        add_to_counted_deepseek_pairs(engine, 100)
        rollups.refresh(engine)
        assert mix_chats(engine, BO, "DEEPSEEK") == (101, 0)
    finally:
        engine.dispose()


def test_a_database_without_commands_is_built_once(new_database):
    from dashboard import rollups_models

    engine = admin_engine(new_database("models_no_commands"))
    try:
        apply_lillo_schema(engine)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, 'GEMINI')"
                ),
                {"a": ADA, "c": OPENAI_CHAT},
            )
        insert_messages(engine, MESSAGES[:4])
        install_dashboard_objects(engine)
        rollups.refresh(engine)
        with engine.begin() as conn:
            assert rollups_models.refresh(conn) is False  # an empty command_metrics is not "not built yet"
        assert [tuple(r) for r in filed_rows(engine)["model_pairs"]] == [(OPENAI_CHAT, ADA, "GEMINI")]
        assert [r.latency_ms for r in filed_rows(engine)["model_pair_replies"]] == [5_000, 2_000]
    finally:
        engine.dispose()


def test_activity_of_filed_pairs_built_on_a_database_installed_before_it(new_database):
    """A database whose model rollups predate model_pair_activity (no watermark for it, an empty
    table): the next refresh builds the model rollups again, and until then the views count the
    filed pairs' messages live."""
    engine = build(new_database("models_late_activity"))
    try:
        assert_activity_of_filed_pairs(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("delete from lillo_dash.refresh_state where source = 'model_pair_activity'"))
            conn.execute(sa.text("truncate lillo_dash.model_pair_activity"))
        assert_variants_agree(engine)
        rollups.refresh(engine)
        assert_activity_of_filed_pairs(engine)
        assert_variants_agree(engine)
    finally:
        engine.dispose()


def test_people_whose_messages_span_the_range_by_their_hours(new_database):
    """People who wrote before and after a range with partial UTC days at both ends: one wrote on a
    whole day inside it, two on the partial days inside it, two on the same days outside the range,
    one not at all between. The rollup reads their hours, the raw view every message; with their
    hours gone the rollup reads the messages in the range."""
    chat = 110
    inside = {601: _at(4, 12), 602: _at(6, 10), 604: _at(1, 3)}
    outside = {603: _at(6, 2), 605: _at(1, 8), 606: _at(12)}
    params = {"start_ms": _ms(_at(6, 5)), "end_ms": _ms(_at(1, 5)), "agent_ids": [ADA]}
    engine = build(new_database("models_spanning"))
    try:
        before = run(engine, "model_comparison", **params).set_index("model_type").loc["OPENAI", "n_people"]
        rows = []
        for user, moment in {**inside, **outside}.items():
            rows += [(chat, user, "user", ADA, at, "ms") for at in (_at(20, 1), moment, _at(-2, 1))]
        insert_messages(engine, rows, first_message_id=3000)
        rollups.refresh(engine)
        raw = run(engine, "model_comparison", **params).set_index("model_type")
        assert raw.loc["OPENAI", "n_people"] == before + len(inside)
        rolled = run(engine, "model_comparison", rollup=True, **params).set_index("model_type")
        assert rolled["n_people"].tolist() == raw["n_people"].tolist()
        with engine.begin() as conn:
            conn.execute(sa.text("delete from lillo_dash.chat_people_hours where chat_id = :c"), {"c": chat})
        rolled = run(engine, "model_comparison", rollup=True, **params).set_index("model_type")
        assert rolled["n_people"].tolist() == raw["n_people"].tolist()
    finally:
        engine.dispose()


def people_per_model(engine: sa.Engine, *, rollup: bool) -> dict[str, tuple[int, int, int]]:
    got = run(engine, "model_comparison", rollup=rollup, **week()).set_index("model_type")
    return {
        m: tuple(int(v) for v in got.loc[m, ["n_people", "n_new_people", "n_returned"]]) for m in got.index
    }


def test_people_who_wrote_to_pairs_on_two_models(new_database):
    """Someone who wrote in the range to a pair on GEMINI and to one on OPENAI counts for both; one
    whose OPENAI messages lie before the range, or start before and end after it, for GEMINI or
    DEEPSEEK only. The rollup counts OPENAI's people as everyone less those, before and after rows
    above its watermark."""
    engine = build(new_database("models_two_models"))
    try:
        insert_messages(
            engine,
            [
                (SHARED_CHAT, 520, "user", ADA, _at(3, 8), "ms"),  # GEMINI
                (OPENAI_CHAT, 520, "user", ADA, _at(3, 9), "ms"),  # and OPENAI
                (OPENAI_CHAT, 521, "user", ADA, _at(9), "ms"),  # OPENAI before the range
                (SHARED_CHAT, 521, "user", ADA, _at(2, 8), "ms"),  # GEMINI in it
                (SHARED_CHAT, 522, "user", BO, _at(9), "s"),  # OPENAI before and after the range
                (SHARED_CHAT, 522, "user", BO, _at(-1), "s"),
                (GROUP_CHAT, 522, "user", BO, _at(4), "ms"),  # DEEPSEEK in it
            ],
            first_message_id=4000,
        )
        rollups.refresh(engine)
        # Before: OPENAI 501 and 505 (505 new), GEMINI 502 (new, back), DEEPSEEK 504.
        want = {
            "OPENAI": (3, 2, 0),  # + 520, new in Ada's DM
            "GEMINI": (3, 3, 1),  # + 520 and 521, both new in the group
            "GROK": (0, 0, 0),
            "DEEPSEEK": (2, 1, 0),  # + 522, new in the basic group
        }
        assert people_per_model(engine, rollup=False) == want
        assert people_per_model(engine, rollup=True) == want
        # Above the watermark: 521 writes to Ada's DM in the range, 523 to Ada in the group.
        insert_messages(
            engine,
            [
                (OPENAI_CHAT, 521, "user", ADA, _at(2, 9), "ms"),
                (SHARED_CHAT, 523, "user", ADA, _at(2, 10), "s"),
            ],
            first_message_id=5000,
        )
        want |= {"OPENAI": (4, 2, 0), "GEMINI": (4, 4, 1)}
        assert people_per_model(engine, rollup=False) == want
        assert people_per_model(engine, rollup=True) == want
        assert_variants_agree(engine)
    finally:
        engine.dispose()


def test_an_install_from_before_a_rollup_table_reads_the_raw_tables(new_database):
    """Rollups built by an older install that lacks a table a rollup variant reads: the page gets
    the raw variant's answer, not a notice that the table is missing."""
    engine = build(new_database("models_old_install"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table lillo_dash.chat_people_hours"))
        with engine.connect() as conn:
            schema = introspect(conn)
            assert views.pick_variant("model_comparison", schema, week()) is False
            assert views.pick_variant("model_mix", schema, week()) is True
            got = views.run_view(conn, schema, "model_comparison", week(), rollup=None)
        assert records(got, ["model_type", "n_people"]) == records(
            run(engine, "model_comparison", **week()), ["model_type", "n_people"]
        )
    finally:
        engine.dispose()


def test_an_install_from_before_the_pair_counts_refreshes_and_reads_the_raw_mix(new_database):
    """Model rollups built before lillo_dash.model_pair_counts existed (no table, no n_pairs): a
    refresh leaves them alone instead of failing, and the mix is read raw until install runs."""
    engine = build(new_database("models_before_counts"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table lillo_dash.model_pair_counts"))
            conn.execute(sa.text("alter table lillo_dash.model_pairs_state drop column n_pairs"))
        insert_messages(engine, [(110, 510, "user", BO, _at(2, 9), "ms")], first_message_id=3000)
        rollups.refresh(engine)
        with engine.connect() as conn:
            schema = introspect(conn)
            assert views.pick_variant("model_mix", schema, week()) is False
            got = views.run_view(conn, schema, "model_mix", week(), rollup=None)
        assert records(got, MIX_COLUMNS) == records(run(engine, "model_mix", **week()), MIX_COLUMNS)
        install_dashboard_objects(engine)
        rollups.refresh(engine)
        assert model_pair_counts(engine)[-1] == (BO, "OPENAI", 3, 2)
        assert_variants_agree(engine)
    finally:
        engine.dispose()


# --- The filed pairs' histograms per model ----------------------------------------------------------


def _bucket(ms: int) -> int:
    """Buckets 2% wide: b > 0 holds [1.02^(b-1), 1.02^b) ms, 0 holds zero and negative values."""
    return 0 if ms <= 0 else math.floor(math.log(ms) / math.log(1.02)) + 1


# The filed pairs' samples, worked out from MESSAGES and COMMANDS: (moment, agent, chat, value).
REPLY_SAMPLES = [
    (_at(3, 12, 1.5), ADA, SHARED_CHAT, 1_500),
    (_at(3, 12, 304.5), ADA, SHARED_CHAT, 4_500),
    (START + timedelta(seconds=30), BO, GROUP_CHAT, 90_000),
    (_at(1, 20), BO, GROUP_CHAT, 0),
]
# (moment, agent, chat, duration, success): the commands whose chat's last writer is a filed pair's.
COMMAND_SAMPLES = [
    (_at(3, 12, 60), ADA, SHARED_CHAT, 8_000, True),
    (_at(3, 12, 360), ADA, SHARED_CHAT, 9_000, False),
    (_at(1, 9, 30), ADA, SHARED_CHAT, 300, True),
    (_at(1, 9, 60), ADA, SHARED_CHAT, 50, True),
    (T0 + timedelta(hours=1), ADA, SHARED_CHAT, 100, True),
    (_at(1, 20, 5), BO, GROUP_CHAT, 1_200, False),
]


def expected_histograms(samples: list[tuple], models: dict[tuple, str], *, commands: bool) -> list[tuple]:
    """(grain, period start, agent or '*', model, bucket, count[, failures]) of `samples`, with the
    model of each (agent, chat) pair from `models`."""
    counts: dict[tuple, list[int]] = {}
    for moment, agent, chat, value, *success in samples:
        for grain in ("hour", "day"):
            start = moment.replace(minute=0, second=0, microsecond=0)
            if grain == "day":
                start = start.replace(hour=0)
            for level in (agent, "*"):
                key = (grain, start, level, models[(agent, chat)], _bucket(value))
                found = counts.setdefault(key, [0, 0])
                found[0] += 1
                found[1] += int(bool(success) and not success[0])
    return sorted((*key, n, failures) if commands else (*key, n) for key, (n, failures) in counts.items())


def stored_histograms(engine: sa.Engine, table: str) -> list[tuple]:
    values = "n_calls, n_failures" if table == "model_command_histogram" else "n_replies"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"select grain, period_start, agent_id, model_type, bucket, {values}"
                f" from lillo_dash.{table} order by 1, 2, 3, 4, 5"
            )
        ).all()
    return sorted(tuple(row) for row in rows)


def assert_histograms(engine: sa.Engine, replies: list[tuple], commands: list[tuple], models: dict) -> None:
    assert stored_histograms(engine, "model_reply_histogram") == expected_histograms(
        replies, models, commands=False
    )
    assert stored_histograms(engine, "model_command_histogram") == expected_histograms(
        commands, models, commands=True
    )


def test_histograms_per_model_follow_new_rows_and_preference_changes(new_database):
    engine = build(new_database("models_histograms"))
    models = {(ADA, SHARED_CHAT): "GEMINI", (BO, GROUP_CHAT): "DEEPSEEK"}
    try:
        assert_histograms(engine, REPLY_SAMPLES, COMMAND_SAMPLES, models)
        # A question and its answer slipped in three days back, between the GEMINI pair's turns
        # (their reply samples stay as they were), and a DEEPSEEK command after Bo's last turn.
        insert_messages(
            engine,
            [
                (SHARED_CHAT, 502, "user", ADA, _at(3, 12, 200), "ms"),
                (SHARED_CHAT, 9001, "assistant", ADA, _at(3, 12, 203), "ms"),
            ],
            first_message_id=4000,
        )
        insert_commands(engine, [("dex", 504, GROUP_CHAT, 700, True, _at(1, 20, 10), "ms")])
        # Above the watermarks the comparison adds them live to the stored histograms.
        assert_variants_agree(engine)
        assert_change_effects_agree(engine)
        gemini = run(engine, "model_comparison", rollup=True, **week()).set_index("model_type").loc["GEMINI"]
        assert gemini["n_replies"] == 3
        rollups.refresh(engine)
        replies = [*REPLY_SAMPLES, (_at(3, 12, 203), ADA, SHARED_CHAT, 3_000)]
        commands = [*COMMAND_SAMPLES, (_at(1, 20, 10), BO, GROUP_CHAT, 700, True)]
        assert_histograms(engine, replies, commands, models)
        assert_variants_agree(engine)
        # Ada's group moves from GEMINI to GROK: its samples move with it on the next refresh.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update model_preferences set model_type = 'GROK' where agent_id = :a and chat_id = :c"
                ),
                {"a": ADA, "c": SHARED_CHAT},
            )
        assert_variants_agree(engine)  # not refreshed yet: the pairs' own samples, by their new model
        rollups.refresh(engine)
        assert_histograms(engine, replies, commands, models | {(ADA, SHARED_CHAT): "GROK"})
        assert_variants_agree(engine)
    finally:
        engine.dispose()


def test_histograms_built_on_a_database_installed_before_them(new_database):
    """Model rollups built before the histograms existed: the comparison reads each pair's samples
    until install adds the tables, and the next refresh builds them whole."""
    engine = build(new_database("models_before_histograms"))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("drop table lillo_dash.model_reply_histogram, lillo_dash.model_command_histogram")
            )
            conn.execute(sa.text("delete from lillo_dash.refresh_state where source = 'model_histograms'"))
            conn.execute(sa.text("alter table lillo_dash.model_pairs drop column model_type"))
        rollups.refresh(engine)
        with engine.connect() as conn:
            assert views.pick_variant("model_comparison", introspect(conn), week()) is False
        install_dashboard_objects(engine)
        # Installed, not built yet: the stored samples answer.
        assert stored_histograms(engine, "model_reply_histogram") == []
        assert_variants_agree(engine)
        rollups.refresh(engine)
        assert_histograms(
            engine,
            REPLY_SAMPLES,
            COMMAND_SAMPLES,
            {(ADA, SHARED_CHAT): "GEMINI", (BO, GROUP_CHAT): "DEEPSEEK"},
        )
        assert_variants_agree(engine)
    finally:
        engine.dispose()
