"""The Agents page's views (agent_usage, agent_model_mix, agent_retention) against pandas over the
raw rows — both variants, on the hand-made fixture and on demo data, before and after new rows
arrive and after a refresh — its helpers, and the page itself in AppTest with good and bad ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import agent_usage, rollups, views
from dashboard.db import admin_engine
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
WEEK_MS = 7 * 86_400_000
# Linear counting (the rollup's people and chats) is exact on the fixture's handful of ids and
# within 2% on the demo data.
ESTIMATED = {"n_people", "n_chats", "n_returning_people"}


def _ms(moment) -> int:
    return int(pd.Timestamp(moment).timestamp() * 1000)


def _seed(engine: sa.Engine) -> None:
    """Capabilities, and model preferences: one of Alpha's chats on GEMINI, one explicit OPENAI,
    and one for a chat Alpha never wrote in (not one of its chats, so not counted)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("update agents set capabilities = cast(:caps as jsonb) where id = cast(:id as uuid)"),
            [
                {"id": fx.ALPHA, "caps": '{"weather": true, "image_generation": true, "social": false}'},
                {"id": fx.BETA, "caps": '["not", "a", "map"]'},
            ],
        )
        conn.execute(
            sa.text("insert into model_preferences (agent_id, chat_id, model_type) values (:a, :c, :m)"),
            [
                {"a": fx.ALPHA, "c": fx.PRIVATE_CHAT, "m": "GEMINI"},
                {"a": fx.BETA, "c": fx.OTHER_PRIVATE_CHAT, "m": "OPENAI"},
                {"a": fx.ALPHA, "c": 777, "m": "GROK"},
            ],
        )


# --- Expected answers, in pandas over the stored rows ----------------------------------------------


def raw_rows(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        messages = pd.read_sql(
            sa.text("select id, chat_id, user_id, role, agent_id, timestamp from chat_messages"), conn
        )
        commands = pd.read_sql(sa.text("select id, chat_id, success, timestamp from command_metrics"), conn)
        agents = pd.read_sql(
            sa.text("select id::text as agent_id, name, is_active, capabilities from agents"), conn
        )
        prefs = pd.read_sql(sa.text("select agent_id, chat_id, model_type from model_preferences"), conn)
    for frame in (messages, commands):
        frame["sent_ms"] = [views.epoch_to_ms(int(v)) for v in frame["timestamp"]]
    return {"messages": messages, "commands": commands, "agents": agents, "prefs": prefs}


def _speaker(messages: pd.DataFrame, chat_id: int, at_ms: int) -> str:
    said = messages[(messages["chat_id"] == chat_id) & (messages["sent_ms"] <= at_ms)]
    if said.empty:
        return ""
    return said.sort_values(["sent_ms", "id"]).iloc[-1]["agent_id"]


def _capabilities(value) -> str | None:
    if not isinstance(value, dict):
        return None
    enabled = sorted(k for k, v in value.items() if v is True)
    return ", ".join(enabled) if enabled else None


def expected_usage(raw: dict, start_ms: int, end_ms: int, agent_ids=()) -> pd.DataFrame:
    m, c = raw["messages"], raw["commands"]
    in_range = m[(m["sent_ms"] >= start_ms) & (m["sent_ms"] < end_ms)]
    users = m[m["role"] == "user"]
    firsts = users.groupby(["agent_id", "user_id"])["sent_ms"].min().reset_index()
    cmds = c[(c["sent_ms"] >= start_ms) & (c["sent_ms"] < end_ms)].copy()
    cmds["agent_id"] = [
        _speaker(m, chat, at) for chat, at in zip(cmds["chat_id"], cmds["sent_ms"], strict=True)
    ]
    agents = raw["agents"].assign(capabilities=raw["agents"]["capabilities"].map(_capabilities))
    ghosts = sorted(set(m["agent_id"]) - set(agents["agent_id"]))
    everyone = pd.concat(
        [
            agents.rename(columns={"name": "agent_name"}),
            pd.DataFrame({"agent_id": ghosts, "agent_name": ghosts, "is_active": None, "capabilities": None}),
        ],
        ignore_index=True,
    )
    rows = []
    for _, agent in everyone.iterrows():
        a = agent["agent_id"]
        if agent_ids and a not in agent_ids:
            continue
        mine = in_range[in_range["agent_id"] == a]
        people = set(mine.loc[mine["role"] == "user", "user_id"])
        new = firsts[
            (firsts["agent_id"] == a) & (firsts["sent_ms"] >= start_ms) & (firsts["sent_ms"] < end_ms)
        ]
        my_cmds = cmds[cmds["agent_id"] == a]
        last = m.loc[m["agent_id"] == a, "sent_ms"].max()
        rows.append(
            {
                "agent_id": a,
                "agent_name": agent["agent_name"],
                "is_active": agent["is_active"],
                "capabilities": agent["capabilities"],
                "n_user_messages": int((mine["role"] == "user").sum()),
                "n_assistant_messages": int((mine["role"] == "assistant").sum()),
                "n_chats": mine["chat_id"].nunique(),
                "n_people": len(people),
                "n_new_people": len(new),
                "n_returning_people": max(len(people) - len(new), 0),
                "n_commands": len(my_cmds),
                "n_command_failures": int((~my_cmds["success"].astype(bool)).sum()),
                "command_success_rate": (my_cmds["success"].astype(bool).mean() if len(my_cmds) else None),
                "last_ms": None if pd.isna(last) else int(last),
            }
        )
    frame = pd.DataFrame(rows)
    frame["order"] = frame["n_user_messages"] + frame["n_assistant_messages"]
    frame["lower"] = frame["agent_name"].str.lower()
    return (
        frame.sort_values(["order", "lower", "agent_id"], ascending=[False, True, True])
        .drop(columns=["order", "lower"])
        .reset_index(drop=True)
    )


def expected_model_mix(raw: dict, agent_ids=()) -> pd.DataFrame:
    chats = raw["messages"][["agent_id", "chat_id"]].drop_duplicates()
    if agent_ids:
        chats = chats[chats["agent_id"].isin(agent_ids)]
    merged = chats.merge(raw["prefs"], on=["agent_id", "chat_id"], how="left")
    merged["model_type"] = merged["model_type"].fillna("OPENAI")
    mix = merged.groupby(["agent_id", "model_type"]).size().reset_index(name="n_chats")
    mix["neg"] = -mix["n_chats"]
    return mix.sort_values(["agent_id", "neg", "model_type"]).drop(columns="neg").reset_index(drop=True)


def _week_start(ms: pd.Series) -> pd.Series:
    moments = pd.to_datetime(ms, unit="ms")
    return moments.dt.normalize() - pd.to_timedelta(moments.dt.day_of_week, unit="D")


def expected_retention(raw: dict, agent_id: str, start_ms: int, end_ms: int) -> pd.DataFrame:
    m = raw["messages"]
    users = m[(m["agent_id"] == agent_id) & (m["role"] == "user")]
    weeks = pd.DataFrame(
        {"user_id": users["user_id"], "week": _week_start(users["sent_ms"])}
    ).drop_duplicates()
    weeks["cohort_week"] = weeks.groupby("user_id")["week"].transform("min")
    first_week = _week_start(pd.Series([start_ms])).iloc[0]
    end = pd.to_datetime(end_ms, unit="ms")
    weeks = weeks[(weeks["cohort_week"] >= first_week) & (weeks["cohort_week"] < end)]
    weeks["week_number"] = (weeks["week"] - weeks["cohort_week"]).dt.days // 7
    counts = weeks.groupby(["cohort_week", "week_number"]).size().reset_index(name="n_people")
    sizes = counts[counts["week_number"] == 0].set_index("cohort_week")["n_people"]
    counts["cohort_size"] = counts["cohort_week"].map(sizes)
    return counts.sort_values(["cohort_week", "week_number"]).reset_index(drop=True)


# --- Comparing ---------------------------------------------------------------------------------------


def run(engine: sa.Engine, name: str, params: dict, *, rollup: bool) -> pd.DataFrame:
    with engine.connect() as conn:
        schema = introspect(conn)
        return views.run_view(conn, schema, name, params, rollup=rollup)


def assert_usage(got: pd.DataFrame, expected: pd.DataFrame, *, rel: float) -> None:
    got = got.sort_values("agent_id").reset_index(drop=True)
    expected = expected.sort_values("agent_id").reset_index(drop=True)
    assert got["agent_id"].tolist() == expected["agent_id"].tolist()
    for column in expected.columns.drop(["agent_id", "last_ms"]):
        want, have = expected[column].tolist(), got[column].tolist()
        if column in ESTIMATED:
            assert have == pytest.approx(want, rel=rel, abs=2 if rel else 0), column
        elif column == "command_success_rate":
            assert [None if pd.isna(v) else round(v, 9) for v in have] == [
                None if v is None or pd.isna(v) else round(v, 9) for v in want
            ], column
        else:
            assert [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in have] == [
                None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in want
            ], column
    last = [None if pd.isna(v) else _ms(pd.Timestamp(v).tz_localize("UTC")) for v in got["last_active_at"]]
    assert last == [None if pd.isna(v) else int(v) for v in expected["last_ms"]]


def assert_all_views(engine: sa.Engine, ranges: dict, agent_sets: list, *, rel: float = 0.0) -> None:
    raw = raw_rows(engine)
    for rollup in (False, True):
        for label, (start, end) in ranges.items():
            for agent_ids in agent_sets:
                where = f"{'rollup' if rollup else 'raw'}, {label}, agents {agent_ids}"
                params = {
                    "start_ms": _ms(start),
                    "end_ms": _ms(end),
                    "tz": "UTC",
                    "agent_ids": list(agent_ids),
                }
                try:
                    assert_usage(
                        run(engine, "agent_usage", params, rollup=rollup),
                        expected_usage(raw, params["start_ms"], params["end_ms"], agent_ids),
                        rel=rel,
                    )
                    mix = run(engine, "agent_model_mix", {"agent_ids": list(agent_ids)}, rollup=rollup)
                    pd.testing.assert_frame_equal(mix, expected_model_mix(raw, agent_ids), check_dtype=False)
                    for agent in agent_ids or sorted(set(raw["messages"]["agent_id"]))[:3]:
                        got = run(engine, "agent_retention", params | {"agent_id": agent}, rollup=rollup)
                        want = expected_retention(raw, agent, params["start_ms"], params["end_ms"])
                        pd.testing.assert_frame_equal(got, want, check_dtype=False)
                except AssertionError as error:
                    raise AssertionError(f"{where}: {error}") from error


FIXTURE_RANGES = {
    "week to 05:00": (
        fx.ANCHOR - pd.Timedelta(days=7) + pd.Timedelta(hours=5),
        fx.ANCHOR + pd.Timedelta(hours=5),
    ),
    "all time": (pd.Timestamp(0, tz="UTC"), fx.ANCHOR + pd.Timedelta(days=1)),
    "13 hours": (fx.ANCHOR - pd.Timedelta(days=3, hours=13), fx.ANCHOR - pd.Timedelta(days=3)),
}
FIXTURE_AGENT_SETS = [[], [fx.ALPHA], [fx.BETA, fx.GHOST], [fx.GAMMA]]


@pytest.fixture(scope="module")
def agents_url(new_database) -> str:
    return prepared(new_database("agents_page"), seed=_seed)


def test_known_values(agents_url):
    engine = admin_engine(agents_url)
    params = {"start_ms": 0, "end_ms": _ms(fx.ANCHOR), "tz": "UTC", "agent_ids": []}
    usage = run(engine, "agent_usage", params, rollup=True).set_index("agent_id")
    alpha = usage.loc[fx.ALPHA]
    # Alpha before ANCHOR: Ana (501) 3 times, Борис (502) once, Omar (506) once; 5 replies.
    assert (alpha["n_user_messages"], alpha["n_assistant_messages"], alpha["n_people"]) == (5, 5, 3)
    assert alpha["capabilities"] == "image_generation, weather"
    assert pd.isna(usage.loc[fx.BETA, "capabilities"])
    gamma = usage.loc[fx.GAMMA]
    assert gamma["n_user_messages"] == gamma["n_people"] == gamma["n_commands"] == 0
    assert pd.isna(gamma["command_success_rate"]) and pd.isna(gamma["last_active_at"])
    mix = run(engine, "agent_model_mix", {"agent_ids": [fx.ALPHA]}, rollup=True)
    assert mix.values.tolist() == [[fx.ALPHA, "GEMINI", 1], [fx.ALPHA, "OPENAI", 1]]
    engine.dispose()


def test_views_match_pandas_on_the_fixture(agents_url):
    engine = admin_engine(agents_url)
    assert_all_views(engine, FIXTURE_RANGES, FIXTURE_AGENT_SETS)
    engine.dispose()


def _insert(engine: sa.Engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id) values (:message_id, :chat_id, :user_id, 'New', :role, 'x',"
                " :timestamp, :agent_id)"
            ),
            rows,
        )


def _table(engine: sa.Engine, name: str) -> list[tuple]:
    with engine.connect() as conn:
        table = sa.Table(name, sa.MetaData(), schema="lillo_dash", autoload_with=conn)
        return sorted(conn.execute(sa.select(table)).all())


def test_new_rows_before_and_after_refresh(new_database):
    engine = admin_engine(prepared(new_database("agents_new_rows"), seed=_seed))
    late = fx.ANCHOR - pd.Timedelta(days=30)
    _insert(
        engine,
        [
            # Ana writes to Alpha 30 days before her first message (in seconds): her cohort moves.
            {
                "message_id": 900,
                "chat_id": fx.PRIVATE_CHAT,
                "user_id": 501,
                "role": "user",
                "timestamp": int(late.timestamp()),
                "agent_id": fx.ALPHA,
            },
            # A new person in a new chat with Beta, and Gamma's first message ever (ms).
            {
                "message_id": 901,
                "chat_id": 3003,
                "user_id": 599,
                "role": "user",
                "timestamp": _ms(fx.ANCHOR - pd.Timedelta(hours=3)),
                "agent_id": fx.BETA,
            },
            {
                "message_id": 902,
                "chat_id": 3003,
                "user_id": 599,
                "role": "user",
                "timestamp": _ms(fx.ANCHOR - pd.Timedelta(hours=2)),
                "agent_id": fx.GAMMA,
            },
        ],
    )
    ranges = FIXTURE_RANGES | {"late month": (late - pd.Timedelta(days=1), fx.ANCHOR)}
    assert_all_views(engine, ranges, FIXTURE_AGENT_SETS)
    # A preference set since the last refresh (the new chat's Beta to GROK) counts at once.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into model_preferences (agent_id, chat_id, model_type) values (:a, 3003, 'GROK')"
            ),
            {"a": fx.BETA},
        )
    assert_all_views(engine, ranges, FIXTURE_AGENT_SETS)
    rollups.refresh(engine)
    assert_all_views(engine, ranges, FIXTURE_AGENT_SETS)
    incremental = [_table(engine, t) for t in ("person_weeks", "retention_weekly")]
    rollups.refresh(engine, full=True)
    assert [_table(engine, t) for t in ("person_weeks", "retention_weekly")] == incremental
    engine.dispose()


def test_retention_rollup_is_built_when_installed_after_the_others(new_database):
    """A database whose rollups predate person_weeks: no watermark for it yet. The view counts every
    row live until the next refresh builds the tables."""
    engine = admin_engine(prepared(new_database("agents_late_install"), seed=_seed))
    built = [_table(engine, t) for t in ("person_weeks", "retention_weekly")]
    with engine.begin() as conn:
        conn.execute(sa.text("truncate lillo_dash.person_weeks, lillo_dash.retention_weekly"))
        conn.execute(sa.text("delete from lillo_dash.refresh_state where source = 'person_weeks'"))
    assert_all_views(engine, FIXTURE_RANGES, [[fx.ALPHA]])
    rollups.refresh(engine)
    assert [_table(engine, t) for t in ("person_weeks", "retention_weekly")] == built
    engine.dispose()


@pytest.fixture(scope="module")
def demo_engine(new_database):
    engine = admin_engine(prepared(new_database("agents_demo"), demo=True))
    yield engine
    engine.dispose()


def test_demo_data_matches_pandas(demo_engine):
    with demo_engine.connect() as conn:
        newest = conn.execute(sa.text("select max(timestamp) from chat_messages")).scalar_one()
        busiest = list(
            conn.execute(
                sa.text("select agent_id from chat_messages group by 1 order by count(*) desc, 1 limit 2")
            ).scalars()
        )
    end = pd.Timestamp(views.epoch_to_ms(newest), unit="ms", tz="UTC").ceil("h") + pd.Timedelta(hours=1)
    ranges = {"30 days": (end - pd.Timedelta(days=30), end), "all time": (pd.Timestamp(0, tz="UTC"), end)}
    assert_all_views(demo_engine, ranges, [[], busiest[:1]], rel=0.02)


# --- Helpers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        (None, None),
        ("  ", None),
        (f" {fx.ALPHA} ", fx.ALPHA),
        ("x'; drop table agents; --", "x'; drop table agents; --"),
    ],
)
def test_parse_agent_id_accepts(text, wanted):
    assert agent_usage.parse_agent_id(text) == (wanted, None)


@pytest.mark.parametrize("text", ["a\x00b", "a\nb", "x" * 10_000])
def test_parse_agent_id_refuses(text):
    found, problem = agent_usage.parse_agent_id(text)
    assert found is None and "is not an agent id" in problem and "\x00" not in problem and len(problem) < 200


def test_retention_matrix_shares_and_future_weeks():
    week = pd.Timestamp("2026-01-05")
    rows = pd.DataFrame(
        {
            "cohort_week": [week, week, week, week + pd.Timedelta(days=7)],
            "week_number": [0, 1, 2, 0],
            "n_people": [4, 1, 2, 3],
            "cohort_size": [4, 4, 4, 3],
        }
    )
    matrix = agent_usage.retention_matrix(rows)
    assert matrix["cohort_size"].tolist() == [4, 3]
    assert matrix["week_1"].tolist() == [0.25, 0.0]
    # The second cohort's week 2 is after the latest week with data: unknown, not 0.
    assert matrix.loc[0, "week_2"] == 0.5 and pd.isna(matrix.loc[1, "week_2"])


def test_settings_changes_pick_this_agents_rows():
    audit = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-01-02", "2026-01-01", "2026-01-03", "2026-01-04"]),
            "action": ["update", "update", "view", "update"],
            "row_key": [
                f'{{"agent_id": "{fx.ALPHA}"}}',
                f'{{"agent_id": "{fx.ALPHA}", "chat_id": 1}}',
                f'{{"agent_id": "{fx.ALPHA}"}}',
                f'{{"agent_id": "{fx.BETA}"}}',
            ],
        }
    )
    changes = agent_usage.settings_changes(audit, fx.ALPHA)
    assert changes["at"].dt.day.tolist() == [1, 2]


# --- The page ------------------------------------------------------------------------------------------


@pytest.fixture
def agents_page(monkeypatch, agents_url):
    monkeypatch.setenv("DATABASE_URL", agents_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(role: str = "viewer", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), role)
        at.run()
        at.switch_page("app_pages/agents.py")
        at.query_params.update(query)
        return at.run()

    return open_page


def _shown(at: AppTest) -> str:
    tables = "\n".join(frame.value.to_csv() for frame in at.dataframe)
    texts = [t.value for t in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    return tables + "\n".join(str(t) for t in texts)


def test_list_of_agents(agents_page):
    at = agents_page("viewer", range="all")
    assert not at.exception
    table = at.dataframe[0].value
    assert f"/agents?id={fx.ALPHA}" in table["link"].tolist()
    assert {"Alpha", "Beta", "Gamma", fx.GHOST} <= set(table["agent_name"])
    assert table.set_index("agent_name").loc["Alpha", "n_gemini_chats"] == 1


def test_agent_page_hides_names_from_viewers(agents_page):
    at = agents_page("viewer", range="all", id=fx.ALPHA)
    assert not at.exception
    assert at.title[0].value == "Alpha"
    shown = _shown(at)
    assert "Ana" not in shown and "Person " in shown
    assert "Retention" in [s.value for s in at.subheader]


def test_agent_without_messages_shows_zeros(agents_page):
    at = agents_page("viewer", range="all", id=fx.GAMMA)
    assert not at.exception and at.title[0].value == "Gamma"
    assert [m.value for m in at.metric][:2] == ["0", "0"]


@pytest.mark.parametrize(
    "bad", ["no-such-agent", "x'; drop table agents; --", "%' or 1=1 --", "a\x00b", "z" * 10_000]
)
def test_bad_agent_ids_give_a_notice(agents_page, bad):
    at = agents_page("viewer", range="all", id=bad)
    assert not at.exception
    notices = [n.value for n in at.info] + [w.value for w in at.warning]
    assert any("agent" in n for n in notices), notices


def test_settings_changes_are_marked_on_the_trend(agents_page, agents_url):
    engine = admin_engine(agents_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into lillo_dash.audit_log (actor, actor_role, action, table_name, row_key)"
                " values ('ada', 'admin', 'update', 'agents', cast(:key as jsonb))"
            ),
            {"key": f'{{"agent_id": "{fx.ALPHA}"}}'},
        )
    engine.dispose()
    at = agents_page("viewer", range="all", id=fx.ALPHA)
    assert not at.exception
    assert "Dashed lines: 1 settings change(s) from the audit log." in [c.value for c in at.caption]
    at = agents_page("viewer", range="all", id=fx.BETA)
    assert not any("Dashed lines" in c.value for c in at.caption)
