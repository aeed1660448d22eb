"""Deterministic demo data for Lillo's eight tables, bulk-loaded with COPY.

`load_demo(engine, scale=N)` empties the eight tables and fills them in one transaction: exactly N
chat messages, and agents, chats, people, commands, posts, illustrations, poses, wallets and model
preferences in proportion. The dashboard's tests and screenshots rely on these facts:

- Agents: 7 up to 1M messages, 40 at 10M (linear in between); fixed names first (Gerta, Lillo,
  Market Max, ...); one inactive agent (index 6, 17, 28, 39 → four at 40); different capability
  maps; `secure_config` is a fake ciphertext. About 1% of messages belong to agent ids with no
  agents row ('legacy-bot' and a deleted uuid), all in the oldest 30% of the traffic.
- Chats: ≈ N/100, people ≈ N/40. Private chat id = the person's Telegram id (70% below 2^31);
  groups are -100xxxxxxxxxx supergroups plus a few -4xxxxxxxx basic groups. Traffic per chat is
  Zipf-distributed, so a few chats hold most of it; some groups and DMs are served by 2 or 3 agents.
- Time: 120 days before the anchor, with a UTC day rhythm, a weekend rhythm, 2.5x growth and a few
  busy days. Each turn is a user message and usually one or two assistant replies a lognormal few
  seconds later (reply_to_message_id = the user's message_id). In multi-agent chats a user message
  is sometimes stored once per agent, with the same message_id. `timestamp` is in seconds for the
  oldest 14% of the traffic and for the unknown agents (an older code path), milliseconds otherwise.
- command_metrics: N/20 rows below 5M messages, N/5 from 5M on (10M → 2M rows, as the scale test
  wants), sampled from the user messages; per-command durations, failure rates and error texts.
- model_preferences: 3% of N rows: ~30% of the (agent, chat) pairs whose chat id fits the INTEGER
  column, topped up with DMs whose history was cleared since (pairs of an agent and a person).
- posts N/200, illustrations N/500, user_data ≈ people/20, gerta_poses 24. Images are small
  offline `data:image/svg+xml` URLs, plus a few broken values in illustrations.

Loading: TRUNCATE, drop the secondary indexes, COPY FREEZE every table from CSV built with numpy in
fixed chunks of CHUNK_ROWS messages (memory stays flat), rebuild the indexes exactly as they were,
ANALYZE, commit. 10M messages + 2M commands take about 2.5 minutes on 2 cores.

Determinism: every draw comes from a numpy generator seeded with (seed, table, chunk), and chunks
have a fixed size, so the rows depend only on (scale, seed, anchor). All columns except the time
columns are independent of the anchor. Times follow a UTC clock rhythm, so they move exactly with
the anchor when two anchors differ by whole weeks. The clock is read only for the default anchor.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import string
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

CHUNK_ROWS = 250_000  # fixed, not tuned per machine: the rows must not depend on it
PERIOD_DAYS = 120
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
INT32_MAX = 2**31 - 1
CSV_BATCH_ROWS = 25_000
NULL = "\\N"  # the COPY NULL marker; an unquoted empty CSV field then stays an empty string

# Stream ids for np.random.default_rng([seed, stream, chunk]): one independent stream per use.
(
    WORLD_RNG,
    CURVE_RNG,
    MESSAGES_RNG,
    COMMANDS_RNG,
    PREFERENCES_RNG,
    POSTS_RNG,
    ILLUSTRATIONS_RNG,
    WALLETS_RNG,
    AGENTS_RNG,
) = range(9)

# Shares in "traffic quantile" space (0 = first message of the period, 1 = the last).
SECONDS_UNTIL = 0.14  # older rows written by the code path that stored Telegram seconds
UNKNOWN_AGENTS_UNTIL = 0.30
UNKNOWN_AGENT_SHARE = 0.035  # of turns before UNKNOWN_AGENTS_UNTIL → about 1% of all messages
INACTIVE_AFTER = 0.80  # deactivated agents stop answering here

TABLES = (
    "chat_messages",
    "command_metrics",
    "agents",
    "model_preferences",
    "posts",
    "illustrations",
    "gerta_poses",
    "user_data",
)


@dataclass(frozen=True)
class DemoSummary:
    """Rows loaded per table, and the newest moment of the data."""

    anchor: datetime
    agents: int
    chat_messages: int
    command_metrics: int
    model_preferences: int
    posts: int
    illustrations: int
    gerta_poses: int
    user_data: int

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "anchor"}

    def __str__(self) -> str:
        counts = ", ".join(f"{n:,} {table}" for table, n in self.counts().items())
        return f"{counts} (anchor {self.anchor:%Y-%m-%d %H:%M} UTC)"


def load_demo(
    engine: sa.Engine,
    *,
    scale: int,
    seed: int = 42,
    anchor: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Empty Lillo's eight tables and fill them with `scale` chat messages and everything around them.

    The tables must exist (sql/schema/001_lillo_tables.sql). One transaction: a failed load leaves
    the previous data in place.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1 message, got {scale}")
    anchor = _checked_anchor(anchor)
    say = progress or (lambda _message: None)
    world = build_world(scale, seed)
    clock = Clock.build(anchor, seed)
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cursor:
            cursor.execute(
                sql.SQL("truncate {} restart identity").format(
                    sql.SQL(", ").join(map(sql.Identifier, TABLES))
                )
            )
            # Building an index once after the load is several times faster than updating it
            # row by row (the rows arrive in time order, the indexes are by chat).
            indexes = _drop_secondary_indexes(cursor)
            counts["agents"] = _copy(cursor, "agents", [agent_rows(world, clock, seed)])
            seeds: list[CommandSeeds] = []
            counts["chat_messages"] = _copy(
                cursor, "chat_messages", _with_progress(message_chunks(world, clock, seed, seeds), say, scale)
            )
            counts["command_metrics"] = _copy(cursor, "command_metrics", command_chunks(seeds, clock, seed))
            say(f"command_metrics: {counts['command_metrics']:,} rows")
            counts["model_preferences"] = _copy(
                cursor, "model_preferences", [model_preference_rows(world, clock, seed)]
            )
            counts["posts"] = _copy(cursor, "posts", [post_rows(world, clock, seed)])
            counts["illustrations"] = _copy(cursor, "illustrations", [illustration_rows(world, clock, seed)])
            counts["gerta_poses"] = _copy(cursor, "gerta_poses", [gerta_pose_rows(clock)])
            counts["user_data"] = _copy(cursor, "user_data", [user_data_rows(world, clock, seed)])
            say("rebuilding indexes")
            cursor.execute("set local maintenance_work_mem = '256MB'")
            for statement in indexes:
                cursor.execute(statement)
            say("analyzing tables")
            # Fresh statistics, so the dashboard's first queries get good plans on the new data.
            cursor.execute(sql.SQL("analyze {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
        conn.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    summary = DemoSummary(anchor=anchor, **counts)
    say(f"demo loaded: {summary}")
    return summary


def _checked_anchor(anchor: datetime | None) -> datetime:
    if anchor is None:
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if anchor.tzinfo is None or anchor.utcoffset() is None:
        raise ValueError("anchor must be timezone-aware (UTC)")
    return anchor.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class Rows:
    """A chunk of one table: column names and equally long column arrays (None = NULL)."""

    columns: tuple[str, ...]
    values: tuple[Sequence, ...]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def csv(self) -> bytes:
        """The rows as UTF-8 CSV for COPY, encoded as written (a str buffer takes 4 bytes a character)."""
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        # Python objects cost ~10x the numpy arrays: convert a slice at a time.
        for start in range(0, len(self), CSV_BATCH_ROWS):
            columns = [_csv_values(v[start : start + CSV_BATCH_ROWS]) for v in self.values]
            writer.writerows(zip(*columns, strict=True))
        text.flush()
        return buffer.getvalue()


def _csv_values(values: Sequence) -> list:
    values = np.asarray(values)
    if values.dtype == object:
        # The csv module writes None as an empty field, which COPY would read as ''; mark NULLs.
        return np.where(values == None, NULL, values).tolist()  # noqa: E711
    return values.tolist()


def _copy(cursor, table: str, chunks: Iterable[Rows]) -> int:
    """COPY the chunks into `table`; returns the number of rows written."""
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return 0
    # FREEZE: the table was truncated in this transaction, so rows go in frozen and the dashboard's
    # first reads do not have to rewrite every page to set hint bits.
    statement = sql.SQL("copy {} ({}) from stdin with (format csv, null {}, freeze)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, first.columns)), sql.Literal(NULL)
    )
    total = 0
    # The queued writer sends on a thread while the next chunk is being built.
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for rows in itertools.chain([first], chunks):
            copy.write(rows.csv())
            total += len(rows)
    return total


def _drop_secondary_indexes(cursor) -> list[str]:
    """Drop the eight tables' indexes other than primary keys; return the statements that recreate
    them exactly as they were (unique constraints as constraints)."""
    cursor.execute(
        """
        select t.relname, i.indexrelid::regclass::text, c.conname,
               pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid)
        from pg_index i
        join pg_class t on t.oid = i.indrelid
        left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = t.oid
        where t.oid = any(%s::regclass[]) and not i.indisprimary
        order by 1, 2
        """,
        (list(TABLES),),
    )
    recreate = []
    for table, index, constraint, index_def, constraint_def in cursor.fetchall():
        if constraint:
            cursor.execute(
                sql.SQL("alter table {} drop constraint {}").format(
                    sql.Identifier(table), sql.Identifier(constraint)
                )
            )
            recreate.append(
                sql.SQL("alter table {} add constraint {} {}").format(
                    sql.Identifier(table), sql.Identifier(constraint), sql.SQL(constraint_def)
                )
            )
        else:
            cursor.execute(sql.SQL("drop index {}").format(sql.SQL(index)))  # regclass text: already quoted
            recreate.append(sql.SQL(index_def))
    return recreate


def _with_progress(chunks: Iterator[Rows], say: Callable[[str], None], scale: int) -> Iterator[Rows]:
    done = 0
    for rows in chunks:
        yield rows
        done += len(rows)
        say(f"chat_messages: {done:,} / {scale:,} rows")


# --------------------------------------------------------------------------------------------
# Time


@dataclass(frozen=True)
class Clock:
    """The period before the anchor, and where a traffic quantile falls in it."""

    anchor_ms: int
    start_ms: int
    cdf: np.ndarray  # share of all traffic before each hour boundary of the period
    hour_offsets_ms: np.ndarray  # those boundaries, in ms after start_ms

    @classmethod
    def build(cls, anchor: datetime, seed: int) -> Clock:
        anchor_ms = int(anchor.timestamp() * 1000)
        start_ms = anchor_ms - PERIOD_DAYS * DAY_MS
        hour_offsets_ms = np.arange(PERIOD_DAYS * 24 + 1, dtype=np.int64) * HOUR_MS
        weights = hourly_activity(start_ms + hour_offsets_ms[:-1] + HOUR_MS // 2, seed)
        cdf = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        return cls(anchor_ms, start_ms, cdf, hour_offsets_ms)

    def at(self, quantile: np.ndarray) -> np.ndarray:
        """Epoch ms at which `quantile` of the period's traffic has happened."""
        # Offsets, not epochs: the same float math for every anchor, so times shift exactly.
        return self.start_ms + np.interp(quantile, self.cdf, self.hour_offsets_ms).astype(np.int64)

    def spread(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n moments spread like the traffic, oldest first."""
        return self.at(np.sort(rng.random(n)))


# Relative activity per UTC hour: quiet at night in Europe, busiest in the European evening.
# fmt: off
WEEKDAY_BY_HOUR = np.array([
    0.55, 0.40, 0.28, 0.20, 0.18, 0.22, 0.35, 0.55, 0.75, 0.90, 1.00, 1.05,
    1.10, 1.20, 1.35, 1.45, 1.50, 1.55, 1.60, 1.55, 1.45, 1.25, 1.00, 0.75,
])
# fmt: on
# Weekends start later and stay up later.
WEEKEND_BY_HOUR = 0.85 * np.roll(WEEKDAY_BY_HOUR, 2)
GROWTH_OVER_PERIOD = 2.5


def hourly_activity(hour_mid_ms: np.ndarray, seed: int) -> np.ndarray:
    """Relative traffic in each hour of the period: clock rhythm, growth and day-to-day noise."""
    rng = np.random.default_rng([seed, CURVE_RNG])
    n_hours = len(hour_mid_ms)
    hour_of_day = (hour_mid_ms // HOUR_MS) % 24
    weekday = (hour_mid_ms // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    rhythm = np.where(weekday >= 5, WEEKEND_BY_HOUR[hour_of_day], WEEKDAY_BY_HOUR[hour_of_day])
    growth = GROWTH_OVER_PERIOD ** ((np.arange(n_hours) + 0.5) / n_hours)
    day = np.arange(n_hours) // 24
    daily = rng.lognormal(0.0, 0.12, PERIOD_DAYS)
    busy_days = rng.choice(PERIOD_DAYS - 2, 3, replace=False)  # e.g. a token launch
    daily[busy_days] *= 2.2
    return rhythm * growth * daily[day]


def iso_utc(epoch_ms: np.ndarray) -> np.ndarray:
    """timestamptz literals for COPY, e.g. '2025-03-01T12:00:00.123Z'."""
    text = np.datetime_as_string(epoch_ms.astype("datetime64[ms]"), unit="ms").astype("U23")  # 4-digit years
    return np.char.add(text, "Z")


# --------------------------------------------------------------------------------------------
# The world: agents, people and chats, built once per load (small next to the messages)


@dataclass(frozen=True)
class World:
    scale: int
    n_known_agents: int
    agent_ids: np.ndarray  # text ids; the last UNKNOWN_AGENTS have no agents row
    agent_names: np.ndarray
    agent_usernames: np.ndarray
    agent_bot_ids: np.ndarray
    agent_inactive: np.ndarray
    agent_latency: np.ndarray  # reply-latency factor
    agent_secrets: np.ndarray
    user_ids: np.ndarray
    user_first_names: np.ndarray
    user_usernames: np.ndarray  # None = no @username
    chat_ids: np.ndarray
    chat_private: np.ndarray
    chat_first_message_id: np.ndarray
    member_start: np.ndarray  # chat → slice of `members` (user indices); a DM has its one person
    member_count: np.ndarray
    members: np.ndarray
    agent_start: np.ndarray  # chat → slice of `chat_agents` (agent indices), the first is primary
    agent_count: np.ndarray
    chat_agents: np.ndarray
    birth_order: np.ndarray  # chats sorted by the traffic quantile at which they start
    birth_sorted: np.ndarray
    birth_cum_weight: np.ndarray

    def chats_at(self, rng: np.random.Generator, quantile: np.ndarray) -> np.ndarray:
        """A chat for each turn: among chats already started, proportional to their weight."""
        started = np.searchsorted(self.birth_sorted, quantile, side="right")
        target = rng.random(len(quantile)) * self.birth_cum_weight[started - 1]
        position = np.minimum(np.searchsorted(self.birth_cum_weight, target, side="right"), started - 1)
        return self.birth_order[position]


def agent_count(scale: int) -> int:
    if scale <= 1_000_000:
        return 7
    if scale >= 10_000_000:
        return 40
    return 7 + round(33 * (scale - 1_000_000) / 9_000_000)


def build_world(scale: int, seed: int) -> World:
    rng = np.random.default_rng([seed, WORLD_RNG])
    n_agents = agent_count(scale)
    agents = _agents(rng, n_agents)
    n_users = max(scale // 40, 40)
    users = _people(rng, n_users)
    chats = _chats(rng, scale, users["ids"], n_agents, agents["popularity"])
    return World(
        scale=scale,
        n_known_agents=n_agents,
        **{k: v for k, v in agents.items() if k != "popularity"},
        **{f"user_{k}": v for k, v in users.items()},
        **chats,
    )


def _agents(rng: np.random.Generator, n_agents: int) -> dict[str, np.ndarray]:
    named = [a[0] for a in NAMED_AGENTS]
    names = (named + EXTRA_AGENT_NAMES)[:n_agents] + [name for _, name in UNKNOWN_AGENTS]
    n_all = len(names)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n_agents)]
    deleted = str(uuid.UUID(bytes=rng.bytes(16), version=4))
    ids += [deleted if agent_id == "deleted-uuid" else agent_id for agent_id, _ in UNKNOWN_AGENTS]
    usernames = [_bot_username(name) for name in names]
    bot_ids = 7_000_000_000 + rng.choice(900_000_000, n_all, replace=False)
    popularity = np.array([a[3] for a in NAMED_AGENTS] + [0.04 / (k + 1) ** 0.5 for k in range(40)])[
        :n_agents
    ]
    latency = np.concatenate([[a[4] for a in NAMED_AGENTS], rng.uniform(0.6, 1.6, 40)])[:n_agents]
    secrets = [base64.b64encode(rng.bytes(96)).decode() for _ in range(n_agents)]
    inactive = np.arange(n_all) % 11 == 6
    return {
        "agent_ids": np.array(ids, dtype=object),
        "agent_names": np.array(names, dtype=object),
        "agent_usernames": np.array(usernames, dtype=object),
        "agent_bot_ids": bot_ids,
        "agent_inactive": inactive & (np.arange(n_all) < n_agents),
        "agent_latency": np.concatenate([latency, [1.3] * len(UNKNOWN_AGENTS)]),
        "agent_secrets": np.array(secrets, dtype=object),
        "popularity": popularity / popularity.sum(),
    }


def _bot_username(name: str) -> str:
    ascii_name = "".join(c for c in name.lower() if c.isascii() and c.isalnum()) or "lillo"
    return f"{ascii_name}_bot"


def _people(rng: np.random.Generator, n_users: int) -> dict[str, np.ndarray]:
    # Telegram ids: older accounts below 2^31, newer ones 10-digit numbers above it.
    old = rng.random(n_users) < 0.7
    candidates = np.where(
        old, rng.integers(100_000, INT32_MAX, n_users), rng.integers(5_000_000_000, 7_999_999_999, n_users)
    )
    ids = _unique_in_order(candidates)
    while len(ids) < n_users:  # collisions are rare; top up deterministically
        ids = _unique_in_order(np.concatenate([ids, rng.integers(100_000, INT32_MAX, n_users)]))
    ids = ids[:n_users]
    first_names = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n_users)]
    handles = np.array(HANDLES, dtype=object)[rng.integers(0, len(HANDLES), n_users)]
    suffix = np.where(rng.random(n_users) < 0.5, "", "_" + NUMBERS[rng.integers(1, 10_000, n_users)])
    usernames = np.where(rng.random(n_users) < 0.3, None, handles + suffix)
    return {"ids": ids, "first_names": first_names, "usernames": usernames}


def _unique_in_order(values: np.ndarray) -> np.ndarray:
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _chats(
    rng: np.random.Generator, scale: int, user_ids: np.ndarray, n_agents: int, popularity: np.ndarray
) -> dict[str, np.ndarray]:
    n_users = len(user_ids)
    n_chats = max(scale // 100, 24)
    n_private = min(round(0.78 * n_chats), n_users)
    n_basic = max(2, round(0.03 * n_chats))
    n_super = n_chats - n_private - n_basic
    kind = np.concatenate([np.zeros(n_private, int), np.ones(n_basic, int), np.full(n_super, 2)])
    private = kind == 0
    owners = rng.choice(n_users, n_private, replace=False)
    ids = np.concatenate(
        [
            user_ids[owners],
            -_unique_in_order(rng.integers(400_000_000, 499_999_999, n_basic * 2))[:n_basic],
            -(
                1_000_000_000_000
                + _unique_in_order(rng.integers(1_100_000_000, 2_999_999_999, n_super * 2))[:n_super]
            ),
        ]
    )
    # Zipf weights by rank, groups more likely near the top: a few chats carry most traffic.
    rank = np.argsort(np.argsort(rng.random(n_chats) * np.where(private, 1.0, 0.25)))
    weight = 1.0 / (rank + 1.0)
    birth = np.where(rank < max(3, n_chats // 20), 0.0, rng.uniform(0.0, 0.95, n_chats))
    birth_order = np.argsort(birth, kind="stable")
    members = _members(rng, kind, weight, owners, n_users)
    agents = _serving_agents(rng, private, n_agents, popularity)
    first_message_id = np.where(private, rng.integers(1, 3_000, n_chats), rng.integers(1, 250_000, n_chats))
    return {
        "chat_ids": ids,
        "chat_private": private,
        "chat_first_message_id": first_message_id,
        **members,
        **agents,
        "birth_order": birth_order,
        "birth_sorted": birth[birth_order],
        "birth_cum_weight": np.cumsum(weight[birth_order]),
    }


def _members(
    rng: np.random.Generator, kind: np.ndarray, weight: np.ndarray, owners: np.ndarray, n_users: int
) -> dict[str, np.ndarray]:
    """Who talks in each chat: the owner of a DM; in groups a crowd, bigger in busier groups."""
    group = kind != 0
    budget = int(1.6 * n_users)
    share = np.sqrt(weight) * group
    size = np.where(group, 3 + np.floor(budget * share / share.sum()).astype(np.int64), 1)
    n_group_slots = int(size[group].sum())
    # Everyone is in at least one group (if there are enough slots); the rest join at random.
    crowd = np.concatenate(
        [rng.permutation(n_users), rng.integers(0, n_users, max(0, n_group_slots - n_users))]
    )
    members = np.empty(int(size.sum()), dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    is_group_slot = np.repeat(group, size)
    members[is_group_slot] = crowd[:n_group_slots]
    members[~is_group_slot] = owners
    return {"member_start": start, "member_count": size, "members": members}


def _serving_agents(
    rng: np.random.Generator, private: np.ndarray, n_agents: int, popularity: np.ndarray
) -> dict[str, np.ndarray]:
    """1 agent per chat; some groups have 2 or 3 and some people DM two bots."""
    n_chats = len(private)
    extra_group = (rng.random(n_chats) < 0.25).astype(int) * (1 + (rng.random(n_chats) < 0.4))
    extra_private = (rng.random(n_chats) < 0.08).astype(int)
    count = np.minimum(1 + np.where(private, extra_private, extra_group), n_agents)
    # Weighted sampling without replacement (Gumbel top-k): the first is the chat's primary agent.
    keys = np.log(popularity) + rng.gumbel(size=(n_chats, n_agents))
    top = np.argsort(-keys, axis=1)[:, :3]
    chosen = top[np.arange(3) < count[:, None]]
    return {
        "agent_start": np.concatenate([[0], np.cumsum(count)[:-1]]),
        "agent_count": count,
        "chat_agents": chosen,
    }


# --------------------------------------------------------------------------------------------
# chat_messages

# A turn is a few consecutive rows of one chat. Roles per position: U user, A assistant, S system.
QA, QAA, USER_ONLY, SYSTEM, SEEN_TWICE = range(5)
SHAPE_ROLES = ("UA", "UAA", "U", "S", "UUA")  # SEEN_TWICE: the 2nd U is the same message for agent 2
SHAPE_SIZE = np.array([len(r) for r in SHAPE_ROLES])
ROLE_NAMES = np.array(["user", "assistant", "system"], dtype=object)
ROLE_AT = np.array([[" UAS".index(r) - 1 for r in (roles + "   ")[:3]] for roles in SHAPE_ROLES])
ASSISTANT_RANK = np.array([[(roles[: p + 1]).count("A") for p in range(3)] for roles in SHAPE_ROLES])
SHAPES_PRIVATE = [0.80, 0.11, 0.075, 0.015]
SHAPES_GROUP = [0.50, 0.07, 0.415, 0.015]
MEAN_TURN_ROWS = 1.9


@dataclass(frozen=True)
class CommandSeeds:
    """User messages that were slash commands: where, who, when (the metrics are made later)."""

    chat_ids: np.ndarray
    user_ids: np.ndarray
    epoch_ms: np.ndarray
    private: np.ndarray
    in_seconds: np.ndarray


def command_count(scale: int) -> int:
    """One command per 20 messages; the 10M scale test asks for 2M commands, so N/5 from 5M on."""
    return scale // 5 if scale >= 5_000_000 else scale // 20


def message_chunks(world: World, clock: Clock, seed: int, seeds: list[CommandSeeds]) -> Iterator[Rows]:
    """chat_messages in CHUNK_ROWS pieces, oldest first; appends each chunk's command seeds."""
    scale = world.scale
    next_id = world.chat_first_message_id.copy()  # per chat, carried across chunks
    last_ms = np.full(len(world.chat_ids), clock.start_ms, dtype=np.int64)
    n_commands = command_count(scale)
    for chunk, first_row in enumerate(range(0, scale, CHUNK_ROWS)):
        n_rows = min(CHUNK_ROWS, scale - first_row)
        rng = np.random.default_rng([seed, MESSAGES_RNG, chunk])
        rows, commands = _message_chunk(world, clock, rng, first_row, n_rows, next_id, last_ms)
        n_chunk_commands = ((first_row + n_rows) * n_commands) // scale - (first_row * n_commands) // scale
        seeds.append(_command_seeds(rng, commands, n_chunk_commands))
        yield rows


def _message_chunk(
    world: World,
    clock: Clock,
    rng: np.random.Generator,
    first_row: int,
    n_rows: int,
    next_id: np.ndarray,
    last_ms: np.ndarray,
) -> tuple[Rows, dict[str, np.ndarray]]:
    turn = _turns(world, rng, first_row, n_rows)
    n_turns = len(turn["shape"])
    # Each turn starts at its first row's place in the traffic: times rise with the row number.
    start = np.concatenate([[0], np.cumsum(SHAPE_SIZE[turn["shape"]])[:-1]])
    quantile = (first_row + start + SHAPE_SIZE[turn["shape"]] * rng.random(n_turns)) / world.scale
    turn_ms = clock.at(np.minimum(quantile, 1.0))
    first_reply_ms = (rng.lognormal(np.log(4_000), 0.8, n_turns) * world.agent_latency[turn["agent"]]).astype(
        np.int64
    )
    second_reply_ms = rng.lognormal(np.log(1_500), 0.6, n_turns).astype(np.int64)

    of = np.repeat(np.arange(n_turns), SHAPE_SIZE[turn["shape"]])[:n_rows]
    position = np.arange(n_rows) - start[of]
    shape = turn["shape"][of]
    role = ROLE_AT[shape, position]
    seen_twice = (shape == SEEN_TWICE) & (position == 1)
    agent = np.where(seen_twice, turn["other_agent"][of], turn["agent"][of])
    chat = turn["chat"][of]
    rank = ASSISTANT_RANK[shape, position]
    epoch_ms = turn_ms[of] + (rank >= 1) * first_reply_ms[of] + (rank >= 2) * second_reply_ms[of]
    message_id, epoch_ms = _in_chat_order(chat, ~seen_twice, epoch_ms, next_id, last_ms)
    epoch_ms = np.minimum(epoch_ms, clock.anchor_ms)

    unknown = agent >= world.n_known_agents
    in_seconds = (quantile[of] < SECONDS_UNTIL) | unknown
    stored_ms = np.where(in_seconds, epoch_ms // 1000 * 1000, epoch_ms)
    is_user = role == 0
    user = turn["user"][of]
    replies_to_turn = message_id[start[of]]
    quotes_previous = is_user & (rng.random(n_rows) < 0.08) & (message_id > world.chat_first_message_id[chat])
    reply_to = np.where(role == 1, replies_to_turn, np.where(quotes_previous, message_id - 1, -1))
    repeat = np.flatnonzero(seen_twice)
    reply_to[repeat] = reply_to[repeat - 1]  # the same message, stored for the second agent

    values = (
        message_id,
        world.chat_ids[chat],
        np.where(is_user, world.user_ids[user], world.agent_bot_ids[agent]),
        np.where(is_user, world.user_first_names[user], world.agent_names[agent]),
        np.where(
            is_user, world.user_usernames[user], np.where(role == 1, world.agent_usernames[agent], None)
        ),
        ROLE_NAMES[role],
        _message_texts(rng, role, seen_twice),
        np.where(in_seconds, epoch_ms // 1000, epoch_ms),
        np.where(reply_to >= 0, reply_to.astype(object), None),
        world.agent_ids[agent],
        iso_utc(stored_ms),
    )
    columns = (
        "message_id",
        "chat_id",
        "user_id",
        "user_first_name",
        "username",
        "role",
        "content",
        "timestamp",
        "reply_to_message_id",
        "agent_id",
        "created_at",
    )
    first_user_rows = is_user & (position == 0)
    commands = {
        "chat_ids": world.chat_ids[chat][first_user_rows],
        "user_ids": world.user_ids[user][first_user_rows],
        "epoch_ms": epoch_ms[first_user_rows],
        "private": world.chat_private[chat][first_user_rows],
        "in_seconds": in_seconds[first_user_rows],
    }
    return Rows(columns, values), commands


def _turns(world: World, rng: np.random.Generator, first_row: int, n_rows: int) -> dict[str, np.ndarray]:
    """Chat, agent(s), speaker and shape of the turns that fill rows first_row.. of this chunk."""
    n = n_rows  # every turn has at least one row, so n_rows turns always suffice
    # Where each turn falls in the traffic, estimated (the true place needs the shapes, drawn below):
    # close enough for which chats exist yet and which agents still answer.
    quantile = (first_row + np.arange(n) * MEAN_TURN_ROWS) / world.scale
    chat = world.chats_at(rng, quantile)
    count = world.agent_count[chat]
    slot = np.where(
        (count > 1) & (rng.random(n) < 0.3), 1 + (rng.random(n) * (count - 1)).astype(np.int64), 0
    )
    agent = world.chat_agents[world.agent_start[chat] + slot]
    other_agent = world.chat_agents[world.agent_start[chat] + (slot + 1) % count]
    # Unknown agents served early traffic only; deactivated agents' chats fell back to Lillo.
    n_unknown = len(world.agent_ids) - world.n_known_agents
    unknown = (quantile < UNKNOWN_AGENTS_UNTIL) & (rng.random(n) < UNKNOWN_AGENT_SHARE)
    agent = np.where(unknown, world.n_known_agents + (rng.random(n) < 0.3) * (n_unknown - 1), agent)
    retired = quantile >= INACTIVE_AFTER
    agent = np.where(retired & world.agent_inactive[agent], LILLO, agent)
    other_ok = (other_agent != agent) & ~(retired & world.agent_inactive[other_agent])

    private = world.chat_private[chat]
    shape = np.where(private, _choose(rng, SHAPES_PRIVATE, n), _choose(rng, SHAPES_GROUP, n))
    shape = np.where((shape == QA) & other_ok & (rng.random(n) < 0.35), SEEN_TWICE, shape)
    # The busiest members of a group talk most.
    speaker = (world.member_count[chat] * rng.random(n) ** 2.5).astype(np.int64)
    user = world.members[world.member_start[chat] + speaker]

    n_turns = int(np.searchsorted(np.cumsum(SHAPE_SIZE[shape]), n_rows)) + 1
    return {
        "chat": chat[:n_turns],
        "agent": agent[:n_turns],
        "other_agent": other_agent[:n_turns],
        "shape": shape[:n_turns],
        "user": user[:n_turns],
    }


def _choose(rng: np.random.Generator, shares: Sequence[float], n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares) / sum(shares), rng.random(n), side="right")


def _in_chat_order(
    chat: np.ndarray, new_message: np.ndarray, epoch_ms: np.ndarray, next_id: np.ndarray, last_ms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Telegram message ids and times that rise together within each chat.

    Ids count up per chat in row order (a message seen by a second agent repeats the id); a
    message never predates the chat's previous one (a slow reply delays the next question).
    `next_id` and `last_ms` carry each chat's state to the next chunk.
    """
    order = np.argsort(chat, kind="stable")
    chat_sorted = chat[order]
    first = np.flatnonzero(np.r_[True, chat_sorted[1:] != chat_sorted[:-1]])
    last = np.r_[first[1:] - 1, len(chat) - 1]
    group = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(chat)]))
    counted = np.cumsum(new_message[order])
    before = counted[first] - new_message[order][first]
    ids_sorted = next_id[chat_sorted] + counted - before[group] - 1
    next_id[chat_sorted[first]] += counted[last] - before

    # Running maximum per chat: offset each chat's times into its own band, then accumulate.
    band = np.int64(1) << 40
    relative = epoch_ms[order] - last_ms.min()
    rising = np.maximum.accumulate(group * band + relative) - group * band + last_ms.min()
    ms_sorted = np.maximum(rising, last_ms[chat_sorted])
    last_ms[chat_sorted[last]] = ms_sorted[last]

    message_id = np.empty_like(ids_sorted)
    message_id[order] = ids_sorted
    ms = np.empty_like(ms_sorted)
    ms[order] = ms_sorted
    return message_id, ms


def _message_texts(rng: np.random.Generator, role: np.ndarray, seen_twice: np.ndarray) -> np.ndarray:
    """Texts by role; a message stored for a second agent repeats the text of the row before."""
    n = len(role)
    pools = [USER_TEXTS, ASSISTANT_TEXTS, SYSTEM_TEXTS]
    offsets = np.cumsum([0] + [len(p) for p in pools])
    which = offsets[role] + (rng.random(n) * np.array([len(p) for p in pools])[role]).astype(np.int64)
    long_share = np.where(role == 1, 0.01, 0.003)
    which = np.where(rng.random(n) < long_share, offsets[-1] + rng.integers(0, len(LONG_TEXTS), n), which)
    numbers = NUMBERS[rng.integers(1, 10_000, n)]
    repeat = np.flatnonzero(seen_twice)
    which[repeat], numbers[repeat] = which[repeat - 1], numbers[repeat - 1]
    return fill_templates(USER_TEXTS + ASSISTANT_TEXTS + SYSTEM_TEXTS + LONG_TEXTS, which, {"n": numbers})


def fill_templates(templates: Sequence[str], which: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """Row i gets templates[which[i]] with its {field}s taken from values[field][i]."""
    out = np.empty(len(which), dtype=object)
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(templates) + 1))
    for t, template in enumerate(templates):
        rows = order[bounds[t] : bounds[t + 1]]
        if len(rows) == 0:
            continue
        text = np.full(len(rows), "", dtype=object)
        for literal, field, _, _ in string.Formatter().parse(template):
            text = text + literal
            if field:
                text = text + values[field][rows]
        out[rows] = text
    return out


# --------------------------------------------------------------------------------------------
# command_metrics


def _command_seeds(rng: np.random.Generator, commands: dict[str, np.ndarray], n: int) -> CommandSeeds:
    available = len(commands["epoch_ms"])
    picked = np.sort(rng.choice(available, n if available else 0, replace=n > available))
    return CommandSeeds(**{k: v[picked] for k, v in commands.items()})


# name: (share, median ms, sigma, failure rate)
COMMANDS = {
    "msg": (0.10, 1_400, 0.6, 0.03),
    "settings": (0.05, 45, 0.5, 0.01),
    "clear": (0.04, 70, 0.6, 0.01),
    "myagents": (0.05, 90, 0.5, 0.01),
    "newagent": (0.015, 650, 0.6, 0.06),
    "img": (0.22, 8_000, 0.45, 0.14),
    "ticker": (0.18, 260, 0.8, 0.03),
    "dex": (0.12, 380, 0.9, 0.10),
    "gecko": (0.12, 320, 0.85, 0.04),
    "start": (0.03, 30, 0.4, 0.002),
    "help": (0.02, 15, 0.4, 0.002),
}
COMMAND_NAMES = np.array(list(COMMANDS), dtype=object)
SLASHED_NAMES = "/" + COMMAND_NAMES
IMG_TIMEOUT_MS = 30_000


def command_chunks(seeds: list[CommandSeeds], clock: Clock, seed: int) -> Iterator[Rows]:
    """command_metrics in CHUNK_ROWS pieces, from the command seeds the messages left."""
    names = [f.name for f in fields(CommandSeeds)]
    every = {name: np.concatenate([getattr(s, name) for s in seeds]) for name in names}
    for chunk, first in enumerate(range(0, len(every["epoch_ms"]), CHUNK_ROWS)):
        part = CommandSeeds(**{name: values[first : first + CHUNK_ROWS] for name, values in every.items()})
        yield _command_chunk(part, clock, np.random.default_rng([seed, COMMANDS_RNG, chunk]), chunk == 0)


def _command_chunk(seeds: CommandSeeds, clock: Clock, rng: np.random.Generator, first_chunk: bool) -> Rows:
    n = len(seeds.epoch_ms)
    share, median, sigma, failure = (np.array(c) for c in zip(*COMMANDS.values(), strict=True))
    command = _choose(rng, share, n)
    # msg works in DMs only: in groups people use the market commands instead.
    command = np.where((COMMAND_NAMES[command] == "msg") & ~seeds.private, _index("ticker"), command)
    failed = rng.random(n) < failure[command]
    seeds = _with_retries(seeds, command, failed, rng)
    duration = median[command] * np.exp(sigma[command] * rng.standard_normal(n))
    is_img = command == _index("img")
    timed_out = failed & is_img & (rng.random(n) < 0.35)
    duration = np.where(failed & ~timed_out, duration * 0.4, duration)
    duration = np.clip(np.where(timed_out, IMG_TIMEOUT_MS, duration), 1, INT32_MAX).astype(np.int64)
    if first_chunk:
        _add_bad_durations(duration)
    error = np.full(n, None, dtype=object)
    error[failed] = _error_texts(
        rng, command[failed], duration[failed], seeds.chat_ids[failed], seeds.user_ids[failed]
    )
    if first_chunk and failed.any():
        error[np.flatnonzero(failed)[0]] = LONG_ERROR
    epoch_ms = np.minimum(seeds.epoch_ms + rng.integers(0, 800, n), clock.anchor_ms)
    stored_ms = np.where(seeds.in_seconds, epoch_ms // 1000 * 1000, epoch_ms)
    slashed = rng.random(n) < 0.2  # an older bot version stored the leading "/"
    values = (
        np.where(slashed, SLASHED_NAMES[command], COMMAND_NAMES[command]),
        seeds.user_ids,
        seeds.chat_ids,
        duration,
        ~failed,
        error,
        np.where(seeds.in_seconds, epoch_ms // 1000, epoch_ms),
        iso_utc(stored_ms),
    )
    columns = ("command", "user_id", "chat_id", "duration", "success", "error", "timestamp", "created_at")
    return Rows(columns, values)


RETRY_SHARE = 0.4  # of failed commands, the share the same person runs again soon
RETRY_FAILURE = 0.3  # of those retries, the share that fails again


def _with_retries(
    seeds: CommandSeeds, command: np.ndarray, failed: np.ndarray, rng: np.random.Generator
) -> CommandSeeds:
    """Turn the row after some failed commands into the same person retrying the same command in
    the same chat 20 s to 9 min later (so the retry funnel has something to show); `command` and
    `failed` are updated in place, the seeds returned with the retries' people, chats and times."""
    n = len(failed)
    source = np.flatnonzero(failed[:-1] & (rng.random(max(n - 1, 0)) < RETRY_SHARE))
    source = source[np.diff(np.r_[-2, source]) > 1]  # a retry row is not also the next one's source
    retry = source + 1
    values = {f.name: getattr(seeds, f.name).copy() for f in fields(CommandSeeds)}
    for name in ("user_ids", "chat_ids", "private", "in_seconds"):
        values[name][retry] = values[name][source]
    values["epoch_ms"][retry] = values["epoch_ms"][source] + rng.integers(20_000, 540_000, len(retry))
    command[retry] = command[source]
    failed[retry] = rng.random(len(retry)) < RETRY_FAILURE
    return CommandSeeds(**values)


def _index(command: str) -> int:
    return list(COMMANDS).index(command)


def _add_bad_durations(duration: np.ndarray) -> None:
    """A handful of zero and two negative durations: bad data the dashboard must tolerate."""
    for position, value in [(3, 0), (8, 0), (13, 0), (21, 0), (34, 0), (55, -1), (89, -47)]:
        if position < len(duration):
            duration[position] = value


def _error_texts(
    rng: np.random.Generator,
    command: np.ndarray,
    duration: np.ndarray,
    chat_ids: np.ndarray,
    user_ids: np.ndarray,
) -> np.ndarray:
    n = len(command)
    templates: list[str] = []
    first_template = {}
    for name in COMMANDS:
        first_template[name] = len(templates)
        templates += COMMAND_ERRORS[name]
    per_command = np.array([len(COMMAND_ERRORS[name]) for name in COMMANDS])
    starts = np.array([first_template[name] for name in COMMANDS])
    which = starts[command] + (rng.random(n) * per_command[command]).astype(np.int64)
    values = {
        "hex8": hex_strings(rng, n, 4),
        "hex40": hex_strings(rng, n, 20),
        "n": NUMBERS[rng.integers(1, 10_000, n)],
        "s": NUMBERS[rng.integers(1, 60, n)],
        "ms": duration.astype(str).astype(object),
        "chat": chat_ids.astype(str).astype(object),
        "user": user_ids.astype(str).astype(object),
    }
    return fill_templates(templates, which, values)


HEX_DIGITS = np.array(list("0123456789abcdef"))


def hex_strings(rng: np.random.Generator, n: int, n_bytes: int) -> np.ndarray:
    """n random lowercase hex strings of 2 * n_bytes digits, as an object array."""
    raw = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    digits = np.stack([HEX_DIGITS[raw >> 4], HEX_DIGITS[raw & 15]], axis=2).reshape(n, 2 * n_bytes)
    return np.ascontiguousarray(digits).view(f"<U{2 * n_bytes}").ravel().astype(object)


# --------------------------------------------------------------------------------------------
# agents, model_preferences, posts, illustrations, gerta_poses, user_data (small tables)


def agent_rows(world: World, clock: Clock, seed: int) -> Rows:
    rng = np.random.default_rng([seed, AGENTS_RNG])
    n = world.n_known_agents
    created_ms = clock.start_ms - rng.integers(20, 400, n) * DAY_MS - rng.integers(0, DAY_MS, n)
    updated_ms = np.minimum(created_ms + rng.integers(0, 200, n) * DAY_MS, clock.anchor_ms)
    inactive = world.agent_inactive[:n]
    updated_ms = np.where(inactive, clock.at(np.array([INACTIVE_AFTER]))[0], updated_ms)
    profiles = [_agent_profile(rng, i, world) for i in range(n)]

    def column(key: str) -> np.ndarray:
        return np.array([p[key] for p in profiles], dtype=object)

    values = (
        world.agent_ids[:n],
        world.agent_names[:n],
        column("type"),
        world.agent_secrets,
        column("token_config"),
        column("system_identity"),
        column("character_config"),
        column("capabilities"),
        ~inactive,
        iso_utc(created_ms),
        iso_utc(updated_ms),
    )
    return Rows(AGENT_COLUMNS, values)


AGENT_COLUMNS = (
    "id",
    "name",
    "type",
    "secure_config",
    "token_config",
    "system_identity",
    "character_config",
    "capabilities",
    "is_active",
    "created_at",
    "updated_at",
)


def _agent_profile(rng: np.random.Generator, i: int, world: World) -> dict[str, str | None]:
    """An agent's type and JSON columns: fixed for the named agents, drawn for the others."""
    name = world.agent_names[i]
    if i < len(NAMED_AGENTS):
        _, kind, capabilities, _, _, persona = NAMED_AGENTS[i]
    else:
        kind = "discord" if i % 9 == 4 else "telegram"
        capabilities = {key: bool(rng.random() < 0.5) for key in CAPABILITY_KEYS}
        persona = PERSONAS[i % len(PERSONAS)]
    character = {
        "personality": persona,
        "emoji": EMOJI[i % len(EMOJI)],
        "languages": LANGUAGES[i % len(LANGUAGES)],
    }
    identity = {
        "name": name,
        "username": world.agent_usernames[i],
        "telegram_bot_id": int(world.agent_bot_ids[i]),
    }
    token = {"symbol": _bot_username(name)[:-4].upper()[:6], "chain": "base", "min_balance": "1000"}
    return {
        "type": kind,
        "capabilities": json.dumps(capabilities),
        "character_config": json.dumps(character, ensure_ascii=False),
        "system_identity": json.dumps(identity, ensure_ascii=False),
        "token_config": None if i % 4 == 3 else json.dumps(token),  # some agents were never token-gated
    }


MODEL_TYPES = np.array(["OPENAI", "GEMINI", "GROK", "DEEPSEEK"], dtype=object)
MODEL_SHARES = [0.55, 0.15, 0.15, 0.15]


def model_preference_rows(world: World, clock: Clock, seed: int) -> Rows:
    """~30% of the (agent, chat) pairs that fit the INTEGER chat_id, topped up to 3% of the scale
    with preferences set in DMs whose history was cleared since."""
    rng = np.random.default_rng([seed, PREFERENCES_RNG])
    pair_chat = world.chat_ids[np.repeat(np.arange(len(world.chat_ids)), world.agent_count)]
    pair_agent = world.chat_agents
    # Group admins pick a model more often than people in DMs do.
    share = np.where(pair_chat < 0, 0.6, 0.3)
    chosen = _fits_int32(pair_chat) & (rng.random(len(pair_chat)) < share)
    agents, chats = pair_agent[chosen], pair_chat[chosen]
    dm_users = world.user_ids[_fits_int32(world.user_ids)]
    wanted = max(
        len(chats), min(world.scale * 3 // 100, len(chats) + len(dm_users) * world.n_known_agents // 2)
    )
    while len(chats) < wanted:
        missing = wanted - len(chats)
        extra_agents = rng.integers(0, world.n_known_agents, 2 * missing)
        extra_chats = dm_users[rng.integers(0, len(dm_users), 2 * missing)]
        agents, chats = _unique_pairs(
            np.concatenate([agents, extra_agents]), np.concatenate([chats, extra_chats])
        )
    agents, chats = agents[:wanted], chats[:wanted]
    n = len(chats)
    created_ms = clock.at(rng.random(n))
    changed = rng.random(n) < 0.4  # an admin switched the model again later
    updated_ms = np.where(
        changed, np.minimum(created_ms + rng.integers(HOUR_MS, 30 * DAY_MS, n), clock.anchor_ms), created_ms
    )
    values = (
        world.agent_ids[agents],
        chats,
        MODEL_TYPES[_choose(rng, MODEL_SHARES, n)],
        iso_utc(created_ms),
        iso_utc(updated_ms),
    )
    return Rows(("agent_id", "chat_id", "model_type", "created_at", "updated_at"), values)


def _fits_int32(ids: np.ndarray) -> np.ndarray:
    return (ids >= -INT32_MAX - 1) & (ids <= INT32_MAX)


def _unique_pairs(agents: np.ndarray, chats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs in their first-seen order, without repeats (the table's primary key)."""
    _, first = np.unique(agents * (1 << 33) + (chats + (1 << 31)), return_index=True)
    keep = np.sort(first)
    return agents[keep], chats[keep]


POST_TYPES = np.array(["tweet", "market_update", "announcement", "illustration"], dtype=object)
POST_SHARES = [0.55, 0.2, 0.1, 0.15]


def post_rows(world: World, clock: Clock, seed: int) -> Rows:
    rng = np.random.default_rng([seed, POSTS_RNG])
    n = max(world.scale // 200, 12)
    kind = _choose(rng, POST_SHARES, n)
    kind[:4] = np.arange(4)  # every type is present, even in a tiny demo
    templates = (
        POST_TEXTS["tweet"]
        + POST_TEXTS["market_update"]
        + POST_TEXTS["announcement"]
        + POST_TEXTS["illustration"]
    )
    sizes = np.array([len(POST_TEXTS[t]) for t in POST_TYPES])
    which = np.r_[0, np.cumsum(sizes)][kind] + (rng.random(n) * sizes[kind]).astype(np.int64)
    content = fill_templates(templates, which, {"n": NUMBERS[rng.integers(1, 10_000, n)]})
    is_art = POST_TYPES[kind] == "illustration"
    has_prompt = is_art | (rng.random(n) < 0.2)
    prompt = np.where(has_prompt, np.array(PROMPTS, dtype=object)[rng.integers(0, len(PROMPTS), n)], None)
    image = np.where(
        is_art | ((kind == 0) & (rng.random(n) < 0.25)), IMAGES[rng.integers(0, len(IMAGES), n)], None
    )
    # The newest posts include image values the bot wrote at times, which pages must refuse.
    image[-3:] = ["img/missing.png", "javascript:alert(1)", "https://httpbin.org/status/404"]
    location = np.where(
        rng.random(n) < 0.6, None, np.array(LOCATIONS, dtype=object)[rng.integers(0, len(LOCATIONS), n)]
    )
    tweeted = (kind <= 1) & (rng.random(n) < 0.8)
    tweet_id = np.where(
        tweeted, (1_800_000_000_000_000_000 + rng.integers(0, 10**17, n)).astype(str).astype(object), None
    )
    epoch_ms = clock.spread(rng, n)
    in_seconds = np.arange(n) < n // 10  # the oldest posts come from the seconds-era code
    epoch_ms = np.where(in_seconds, epoch_ms // 1000 * 1000, epoch_ms)
    edited = rng.random(n) < 0.2
    updated_ms = np.where(
        edited, np.minimum(epoch_ms + rng.integers(60_000, 3 * DAY_MS, n), clock.anchor_ms), epoch_ms
    )
    values = (
        POST_TYPES[kind],
        content,
        np.where(in_seconds, epoch_ms // 1000, epoch_ms),
        location,
        prompt,
        image,
        tweet_id,
        iso_utc(epoch_ms),
        iso_utc(updated_ms),
    )
    columns = (
        "type",
        "content",
        "timestamp",
        "location",
        "prompt",
        "image_url",
        "tweet_id",
        "created_at",
        "updated_at",
    )
    return Rows(columns, values)


BAD_IMAGE_URLS = [
    "",
    "img/missing.png",
    "javascript:alert(1)",
    "https://httpbin.org/status/404",
    "data:image/png;base64," + "A" * 100_000,  # 100 KB: refused as too large to show
]


def illustration_rows(world: World, clock: Clock, seed: int) -> Rows:
    rng = np.random.default_rng([seed, ILLUSTRATIONS_RNG])
    n = max(world.scale // 500, 12)
    artists = np.array([i for i in range(world.n_known_agents) if _can_draw(world, i)])
    agent = np.where(rng.random(n) < 0.05, world.n_known_agents, artists[rng.integers(0, len(artists), n)])
    chat = world.chat_ids[rng.integers(0, len(world.chat_ids), n)]
    chat_id = np.where(rng.random(n) < 0.25, None, chat.astype(object))  # "random illustrations" have no chat
    prompt = fill_templates(PROMPTS, rng.integers(0, len(PROMPTS), n), {})
    image = IMAGES[rng.integers(0, len(IMAGES), n)]
    image[rng.choice(n, len(BAD_IMAGE_URLS), replace=False)] = BAD_IMAGE_URLS
    caption = np.where(
        rng.random(n) < 0.3, None, np.array(CAPTIONS, dtype=object)[rng.integers(0, len(CAPTIONS), n)]
    )
    epoch_ms = clock.spread(rng, n)
    values = (world.agent_ids[agent], chat_id, prompt, image, caption, epoch_ms, iso_utc(epoch_ms))
    return Rows(("agent_id", "chat_id", "prompt", "image_url", "caption", "timestamp", "created_at"), values)


def _can_draw(world: World, agent: int) -> bool:
    return agent >= len(NAMED_AGENTS) or NAMED_AGENTS[agent][2].get("image_generation", False)


def gerta_pose_rows(clock: Clock) -> Rows:
    n = len(GERTA_POSES)
    created_ms = clock.start_ms - 30 * DAY_MS + np.arange(n) * HOUR_MS
    names = [name for name, _ in GERTA_POSES]
    values = (
        names,
        [description for _, description in GERTA_POSES],
        [
            f"Gerta, a friendly cartoon girl with red braids, {d.lower()}, flat pastel style"
            for _, d in GERTA_POSES
        ],
        [
            svg_data_url(name.replace("_", " "), PALETTE[i % len(PALETTE)], "circle")
            for i, name in enumerate(names)
        ],
        iso_utc(created_ms),
    )
    return Rows(("name", "description", "prompt", "image_url", "created_at"), values)


def user_data_rows(world: World, clock: Clock, seed: int) -> Rows:
    """People who linked a wallet: mostly chat users, some with no chat activity at all."""
    rng = np.random.default_rng([seed, WALLETS_RNG])
    n_users = len(world.user_ids)
    n = max(n_users // 20, 12)
    n_linked = min(round(0.85 * n), n_users)
    linked = rng.choice(n_users, n_linked, replace=False)
    outsiders = n - n_linked
    telegram_id = np.concatenate(
        [world.user_ids[linked], 8_000_000_000 + rng.choice(10**9, outsiders, replace=False)]
    )
    username = np.concatenate(
        [
            world.user_usernames[linked],
            np.where(
                rng.random(outsiders) < 0.4,
                None,
                np.array(HANDLES, dtype=object)[rng.integers(0, len(HANDLES), outsiders)],
            ),
        ]
    )
    first_name = np.concatenate(
        [
            world.user_first_names[linked],
            np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), outsiders)],
        ]
    )
    wallet = "0x" + hex_strings(rng, n, 20)
    created_ms = clock.at(rng.random(n))
    verified = rng.random(n) < 0.85
    last_verified = np.where(
        verified,
        ((created_ms + rng.random(n) * (clock.anchor_ms - created_ms)) // 1000)
        .astype(np.int64)
        .astype(object),
        None,
    )
    updated_ms = np.where(
        verified, np.minimum(created_ms + rng.integers(0, 20 * DAY_MS, n), clock.anchor_ms), created_ms
    )
    values = (
        wallet,
        telegram_id,
        username,
        first_name,
        token_balances(rng, n),
        last_verified,
        iso_utc(created_ms),
        iso_utc(updated_ms),
    )
    by_creation = np.argsort(created_ms, kind="stable")  # ids rise with created_at, as in a real table
    values = tuple(v[by_creation] for v in values)
    columns = (
        "wallet_address",
        "telegram_id",
        "username",
        "first_name",
        "token_balance",
        "last_verified",
        "created_at",
        "updated_at",
    )
    return Rows(columns, values)


# Balances as the bot stored them: text that is not always a number.
ODD_BALANCES = ["", "abc", "1e400", "12,5", None, "123456789012345678901234567890", "0", "-5", " 42 ", "NaN"]


def token_balances(rng: np.random.Generator, n: int) -> np.ndarray:
    whole = rng.lognormal(7, 3, n).astype(np.int64).astype(str).astype(object)
    fraction = rng.integers(0, 10**6, n).astype(str).astype(object)
    balance = np.where(rng.random(n) < 0.3, whole, whole + "." + fraction)
    odd = rng.random(n) < 0.06
    balance[odd] = np.array(ODD_BALANCES, dtype=object)[rng.integers(0, len(ODD_BALANCES), odd.sum())]
    balance[rng.choice(n, min(n, len(ODD_BALANCES)), replace=False)] = ODD_BALANCES[:n]  # each at least once
    return balance


# --------------------------------------------------------------------------------------------
# Images: tiny SVGs as data URLs, so the demo shows pictures offline


PALETTE = ["#e4572e", "#29335c", "#f3a712", "#669bbc", "#a8c686", "#8e44ad"]


def svg_data_url(label: str, color: str, shape: str) -> str:
    figure = (
        '<circle cx="48" cy="40" r="26" fill="#fff" opacity="0.85"/>'
        if shape == "circle"
        else '<rect x="22" y="14" width="52" height="52" rx="6" fill="#fff" opacity="0.85"/>'
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" fill="{color}"/>{figure}'
        f'<text x="48" y="88" font-family="sans-serif" font-size="11" text-anchor="middle" fill="#fff">'
        f"{label}</text></svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


IMAGES = np.array(
    [
        svg_data_url(label, PALETTE[i], "circle" if i % 2 else "square")
        for i, label in enumerate(["sunset", "cat", "rocket", "forest", "city", "dragon"])
    ],
    dtype=object,
)


# --------------------------------------------------------------------------------------------
# Text pools. Numbers in {n} make rows differ; the pools cover emoji, non-Latin scripts,
# HTML-looking text and markdown, quotes, tabs, newlines, backslashes and long messages.

NUMBERS = np.array([str(i) for i in range(10_000)], dtype=object)

CAPABILITY_KEYS = ("image_generation", "market_data", "weather", "social")
LILLO = 1  # index of Lillo: takes over the chats of deactivated agents
# name, type, capabilities, popularity, reply-latency factor, personality
NAMED_AGENTS = [
    (
        "Gerta",
        "telegram",
        {"image_generation": True, "market_data": False, "weather": True, "social": True},
        0.26,
        1.2,
        "warm, curious illustrator who loves drawing her friends",
    ),
    (
        "Lillo",
        "telegram",
        {"image_generation": True, "market_data": True, "weather": True, "social": True},
        0.30,
        1.0,
        "the platform's helpful host; concise and cheerful",
    ),
    (
        "Market Max",
        "telegram",
        {"image_generation": False, "market_data": True, "weather": False, "social": True},
        0.14,
        0.7,
        "fast-talking market analyst, always with a chart",
    ),
    (
        "Pixel",
        "telegram",
        {"image_generation": True, "market_data": False, "weather": False, "social": False},
        0.12,
        1.8,
        "pixel artist; answers with pictures",
    ),
    (
        "Scout",
        "telegram",
        {"image_generation": False, "market_data": True, "weather": True, "social": False},
        0.08,
        0.9,
        "explorer who checks the weather and the charts",
    ),
    (
        "Nova",
        "twitter",
        {"image_generation": False, "market_data": False, "weather": True, "social": True},
        0.06,
        1.1,
        "social butterfly who posts the community's news",
    ),
    (
        "Echo",
        "telegram",
        {"image_generation": False, "market_data": False, "social": True},
        0.04,
        1.0,
        "an early experiment that repeats things back, retired",
    ),
]
# fmt: off
EXTRA_AGENT_NAMES = [
    "Sage", "Atlas", "Bolt", "Coco", "Мила", "Dex", "Ember", "さくら", "Fizz", "Goji", "Halo", "Iris",
    "Juno", "Kiko", "Luma", "Milo", "Nori", "Orbit", "Pico", "Quill", "Rex", "Sol", "Tiki", "Uma",
    "Vega", "Wren", "Xeno", "Yuki", "Zed", "Aiko", "Bram", "Cleo", "Dune",
]
# Agent ids in chat_messages with no agents row: an old bot, and an agent deleted since.
UNKNOWN_AGENTS = [("legacy-bot", "Legacy Bot"), ("deleted-uuid", "Gerta (old)")]
PERSONAS = ["calm librarian", "sarcastic robot", "cheerful gardener", "night-owl DJ", "patient tutor"]
EMOJI = ["🌸", "🤖", "📈", "🎨", "🧭", "✨", "🔁", "🦉", "⚡", "🍀"]
LANGUAGES = [["en"], ["en", "ru"], ["en", "ja"], ["en", "ar"], ["en", "zh"], ["de", "en"]]

FIRST_NAMES = [
    "Alex", "Maria", "John", "Sofia", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Ben", "Chloe",
    "Max", "Anna", "David", "Zoë", "José", "Łukasz", "Ömer", "Мария", "Дмитрий", "Иван", "Алёна",
    "さくら", "健太", "ゆい", "محمد", "فاطمة", "أحمد", "李伟", "王芳", "张敏", "Ngozi", "Kwame",
    "Priya", "Arjun", "🦊 Foxy", "Ivan 🚀", "crypto_kid", "<b>Bold</b>",
    "Robert'); DROP TABLE students;--", "D'Angelo", "Anne-Marie", "X Æ A-12", "Sam", "Kim", "Leo",
    "Nina",
]
HANDLES = [
    "alex", "maria_k", "johnny", "sofia", "liam_dev", "emmaw", "noah", "olivia", "lucas", "mia_art",
    "benji", "chloe", "maxpower", "anna", "davidc", "zoe", "jose", "lukasz", "omer", "masha", "dima",
    "ivan", "alyona", "sakura", "kenta", "yui", "mohammed", "fatima", "ahmed", "liwei", "wangfang",
    "zhangmin", "ngozi", "kwame", "priya", "arjun", "foxy", "moonboy", "degen", "whale_watcher",
    "hodler", "gm_guy",
]
# fmt: on

USER_TEXTS = [
    "gm ☀️",
    "gm gm {n}",
    "@lillo_bot what's the price of SOL right now?",
    "Привет! Как дела?",
    "Сколько стоит биткоин сегодня?",
    "こんにちは！今日の天気は？",
    "ありがとう 🙏",
    "مرحبا، كيف حالك؟",
    "ما هو سعر البيتكوين اليوم؟",
    "你好，今天比特币价格多少？",
    "谢谢你的帮助 👍",
    "lol 😂😂😂",
    "can you summarize the last {n} messages?",
    "<b>bold</b> test",
    "<script>alert(1)</script>",
    "check this [click](http://example.com/{n})",
    "wen moon 🚀🚀",
    "ticker ETH",
    "is $PEPE still pumping? up {n}% today",
    "Gerta draw me a dragon 🐉 please",
    "What's the weather in Berlin?",
    "remind me about the call at {n}",
    "ok",
    "👍",
    "who are you?",
    "tell me a joke",
    "<img src=x onerror=alert('xss')>",
    "SELECT * FROM users; -- just kidding",
    "line one\nline two\nline three",
    "tab\tseparated\tvalues {n}",
    "quote \"this\" and 'that'",
    "back\\slash and \\N is not null",
    "Z̷̛a̴l̶g̵o̸ text {n}",
    "RTL mixed: hello עברית world",
    "family 👨‍👩‍👧‍👦 and flags 🇩🇪🇯🇵🇧🇷",
    "https://t.me/some_channel/{n}",
    "`code` and **bold** and _italic_",
    "price alert at ${n}",
    "¿Qué tal? Ça va? Grüße aus München",
    "how many holders does 0xdeadbeef{n} have?",
    "windows line\r\nending",
    "   leading and trailing spaces   ",
    "can you make it more 🔥🔥🔥",
    "thanks! 🙌",
    "what model are you using?",
    "/img a cat astronaut, #{n}",
]
ASSISTANT_TEXTS = [
    "SOL is trading at ${n}.42 (+3.1% in 24h) 📈",
    "Here's your image! 🎨",
    "Привет! У меня всё отлично, спасибо 😊",
    "今日は晴れ、最高気温は{n}度です ☀️",
    "مرحباً! أنا بخير، شكراً لسؤالك 🌙",
    "你好！比特币当前价格约为 {n} 美元。",
    "<b>Top gainers</b>\n1. PEPE +{n}%\n2. WIF +12%\n3. BONK +9%",
    "I can't help with that, but here's a [guide](https://example.com/guide?id={n}).",
    "| coin | price |\n|---|---|\n| BTC | ${n} |\n| ETH | $3,120 |",
    "Sure! Why did the bot cross the road? 🤖",
    "Summary of the last {n} messages: mostly memes and one serious question about gas fees.",
    "⚠️ Rate limit reached, try again in {n}s",
    "Done ✅",
    "I'm Lillo's friendly assistant. How can I help?",
    "Berlin: 12°C, light rain 🌧️, wind {n} km/h",
    "That is not financial advice 😉",
    "Here is some code:\n```python\nprint('hello {n}')\n```",
    "Hmm, I'm not sure. Could you rephrase?",
    "<i>thinking…</i> the answer is {n}",
    "Reminder set for {n} ✅",
    "🎉🎉🎉",
    "I'm using GPT-4o in this chat.",
    "Trending on DEX: $MOG, $BRETT, $TOSHI (vol ${n}k)",
    "Good morning everyone! ☕",
]
SYSTEM_TEXTS = [
    "Chat history cleared by an admin ({n} messages).",
    "Model switched to GROK by an admin.",
    "Agent settings updated.",
    "Summary of earlier conversation: the group discussed {n} memes.",
    "Model switched to GEMINI by an admin: image generation is unavailable on this model.",
]
LONG_TEXTS = [
    "Daily market report 📊\n"
    + "".join(
        f"{i}. TOKEN{i}: price ${i * 1.37:.2f}, 24h volume ${i * 91_000:,}, holders {i * 311}\n"
        for i in range(1, 90)
    ),
    "長いメッセージ：" + "今日はとても良い天気でした。散歩に行って、公園で猫を見ました。" * 60,
    "Log paste:\n```\n"
    + "".join(
        f"2025-01-0{i % 9 + 1}T12:00:{i % 60:02d}Z ERROR worker-{i} ECONNRESET https://api.example.com/v1/items/{i}\n"
        for i in range(70)
    )
    + "```",
    "Длинное сообщение. " + "Расскажи мне подробнее про стейкинг, комиссии и риски, пожалуйста. " * 40,
]

COMMAND_ERRORS = {
    "msg": [
        "Cannot send DM to user {user}: Forbidden: bot was blocked by the user",
        "OpenAI API error 500 (request id req_{hex8}) after {ms}ms",
    ],
    "settings": [
        "Permission denied: user {user} is not an admin of chat {chat}",
        "Unknown model type 'GPT{n}': expected OPENAI, GEMINI, GROK or DEEPSEEK",
    ],
    "clear": [
        "Permission denied: user {user} is not an admin of chat {chat}",
        "Invalid count '{n}x': expected a number between 1 and 1000",
    ],
    "myagents": ["Database timeout after {ms}ms (query id {hex8})"],
    "newagent": [
        "Permission denied: user {user} is not an admin of chat {chat}",
        "Agent limit reached ({n}/5) for user {user}",
        "Invalid bot token for agent {hex8}: 401 Unauthorized from https://api.telegram.org/bot***/getMe",
    ],
    "img": [
        "Image generation failed: upstream 503 from https://api.example-images.com/v1/gen?id={hex8} "
        "after {ms}ms",
        "Content policy violation (request {hex8}): prompt rejected",
        "Timeout after {ms}ms waiting for https://api.example-images.com/v1/jobs/{hex8}",
        "GEMINI does not support function calling: image tool unavailable in chat {chat}",
    ],
    "ticker": [
        "Symbol not found: XYZ{n}",
        "Rate limit exceeded for chat {chat}, retry after {s}s",
        "HTTP 429 from https://api.coingecko.com/api/v3/simple/price?ids=token-{n}",
    ],
    "dex": [
        "Token not found: 0x{hex40}",
        "ECONNRESET while fetching https://api.dexscreener.com/latest/dex/tokens/0x{hex40}",
        "Unexpected response 502 from https://api.dexscreener.com/token-boosts/latest/v1 (req {hex8})",
        "Rate limit exceeded for chat {chat}, retry after {s}s",
    ],
    "gecko": [
        "CoinGecko API error 429: You've exceeded the Rate Limit (retry in {s}s)",
        "Invalid mode 'market{n}': expected market|trending",
    ],
    "start": ["Telegram API 403: Forbidden: bot was kicked from the group chat {chat}"],
    "help": ["Telegram API 400: Bad Request: message is too long ({n} bytes)"],
}
LONG_ERROR = "Unhandled error in command handler: TypeError: Cannot read properties of undefined\n" + "".join(
    f"    at handler{i} (/app/dist/commands/handler{i}.js:{i * 7}:{i % 80}) [req {i:08x}]\n"
    for i in range(140)
)

PROMPTS = [
    "a cat astronaut floating over Tokyo at night, neon, 4k",
    "Gerta waving in a field of sunflowers, watercolor",
    "a dragon made of candlestick charts, epic lighting",
    "пиксель-арт: кот на крыше",
    "桜の木の下で本を読む少女、アニメ風",
    "a cozy cabin in the snow, <b>warm</b> light",
    "abstract art of a rocket 🚀 leaving the moon",
    "a robot barista making latte art",
    "market bull and bear playing chess, oil painting",
]
CAPTIONS = [
    "Here you go! 🎨",
    "Fresh from the oven",
    "Готово!",
    "できました ✨",
    "What do you think? 🤔",
    "<i>art</i> by Lillo",
    "تم الرسم",
]
LOCATIONS = ["Berlin", "Tokyo 東京", "São Paulo", "Lagos", "Москва", "Dubai دبي", "New York", "Online"]
POST_TEXTS = {
    "tweet": [
        "gm from the Lillo crew ☀️ #{n}",
        "Our agents answered {n} questions today 🤖",
        "New feature: /img in every group 🎨",
        "Thread 🧵 on how Gerta learned to draw, part {n}",
        '<b>HTML</b> in a tweet?! & ampersands & "quotes"',
    ],
    "market_update": [
        "BTC ${n}0 | ETH $3,120 | SOL $142 📊",
        "Top gainers today: PEPE +{n}%, WIF +12% 🚀",
        "Market is 🔴 today: total cap down {n}bn",
    ],
    "announcement": [
        "Maintenance tonight at 02:00 UTC ({n} min)",
        "Welcome our new agent! 👋",
        "Важное объявление: новые команды уже доступны",
        "お知らせ：新しいエージェントが登場しました",
    ],
    "illustration": [
        "Gerta's drawing of the day #{n} 🎨",
        "Random illustration: {n} cats in space",
        "Today's art prompt came from our community ✨",
    ],
}

GERTA_POSES = [
    ("waving", "Waving hello"),
    ("thinking", "Thinking with a hand on her chin"),
    ("laughing", "Laughing out loud"),
    ("sleeping", "Sleeping at her desk"),
    ("dancing", "Dancing happily"),
    ("pointing", "Pointing at something"),
    ("shrugging", "Shrugging"),
    ("reading", "Reading a big book"),
    ("coding", "Coding on a laptop"),
    ("cooking", "Cooking pancakes"),
    ("painting", "Painting on an easel"),
    ("running", "Running fast"),
    ("meditating", "Meditating cross-legged"),
    ("surprised", "Looking surprised"),
    ("celebrating", "Celebrating with confetti"),
    ("facepalm", "Doing a facepalm"),
    ("thumbs_up", "Giving a thumbs up"),
    ("peace_sign", "Making a peace sign"),
    ("sitting", "Sitting on a bench"),
    ("jumping", "Jumping for joy"),
    ("singing", "Singing into a microphone"),
    ("drinking_coffee", "Drinking a coffee"),
    ("stargazing", "Stargazing with a telescope"),
    ("hugging", "Hugging a plush cat"),
]
