"""Named SQL views: loaded from sql/views/<name>.sql, checked against the live schema, run with
named binds only, cached with a TTL and a bounded number of entries. While the database cannot
answer (gone, or every connection busy), a view's last good rows are shown marked stale.

A view file starts with a header that says what it returns and needs:

    -- name: messages_per_bucket
    -- One row per (bucket, agent): messages in the range.
    -- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids
    -- requires: chat_messages(timestamp, agent_id)

Rules that every view must apply the same way are written as macros and expanded here, so each
lives in exactly one place:
- `epoch_ms(column)`: Lillo stores `timestamp` as a bigint epoch in seconds or milliseconds;
  values above MS_THRESHOLD are milliseconds.
- `command_name(column)`: commands are stored with or without their leading '/'; both are one.
- `last_speaker(alias)`: commands carry no agent; a command belongs to the agent that last wrote
  in its chat at or before it ('' when none did). Two index probes on Lillo's
  (chat_id, timestamp desc) index, one per epoch unit.
- `error_signature(column)`: an error text with its varying parts replaced by placeholders
  (dashboard/error_signature.py).
- `preferences_checksum(alias)`: model_preferences rows summed into one number, so a refresh and
  the model views agree on whether the rows changed since the pairs were filed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import db
from dashboard.config import SQL_DIR, ConfigError, Settings, load_settings
from dashboard.error_signature import expand_error_signature
from dashboard.live_schema import LiveSchema

log = logging.getLogger(__name__)

VIEWS_DIR = SQL_DIR / "views"
# CTEs that several views share, written once: a line `-- include: <part>` in a view stands for
# sql/view_parts/<part>.sql.
PARTS_DIR = SQL_DIR / "view_parts"
_INCLUDE = re.compile(r"^-- include: ([a-z0-9_]+)$", re.MULTILINE)

# Epochs above this are milliseconds (1e11 s is the year 5138; 1e11 ms is March 1973).
MS_THRESHOLD = 100_000_000_000

_COLUMN = r"\(\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\s*\)"
_EPOCH_MS_CALL = re.compile(r"\bepoch_ms" + _COLUMN, re.IGNORECASE)
_COMMAND_NAME_CALL = re.compile(r"\bcommand_name" + _COLUMN, re.IGNORECASE)
_LAST_SPEAKER_CALL = re.compile(r"\blast_speaker" + _COLUMN, re.IGNORECASE)
_WALLET_KEY_CALL = re.compile(r"\bwallet_key" + _COLUMN, re.IGNORECASE)
_BALANCE_SHAPE_CALL = re.compile(r"\bbalance_shape" + _COLUMN, re.IGNORECASE)
_PREFERENCES_CHECKSUM_CALL = re.compile(r"\bpreferences_checksum" + _COLUMN, re.IGNORECASE)
# Each row's three values hashed apart and mixed (building one text per row costs twice as much:
# every model view checks the whole table).
_PREFERENCES_CHECKSUM_SQL = (
    "coalesce(sum(hashtext({c}.agent_id) # hashint8({c}.chat_id) # (hashtext({c}.model_type) << 1)), 0)"
)
# A wallet as one key: an EVM address (0x and 40 hex digits) whatever the case of its digits.
_WALLET_KEY_SQL = """(case
    when length(btrim({c})) = 42 and btrim({c}) ~ '^0[xX][0-9a-fA-F]+$' then lower(btrim({c}))
    else nullif(btrim({c}), '')
end)"""
# What a balance stored as text is, before anything casts it: past 100 characters or a 5-digit
# exponent it is more than any balance, and more than a cast should be asked to read.
_BALANCE_SHAPE_SQL = """(case
    when {c} is null then 'missing'
    when {c} = '' then 'empty'
    when {c} !~ '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$' then 'not a number'
    when length({c}) > 100 or length(ltrim(split_part(lower({c}), 'e', 2), '+-')) > 4 then 'too large'
    else 'number'
end)"""
_LAST_SPEAKER_SQL = """coalesce((
    select spoken.agent_id from (
        (select said.agent_id, said.timestamp as sent_ms, said.id
         from chat_messages as said
         where said.chat_id = {c}.chat_id and said.timestamp > {threshold}
           and said.timestamp <= epoch_ms({c}.timestamp)
         order by said.timestamp desc, said.id desc limit 1)
        union all
        (select said.agent_id, said.timestamp * 1000, said.id
         from chat_messages as said
         where said.chat_id = {c}.chat_id and said.timestamp <= {threshold}
           and said.timestamp <= epoch_ms({c}.timestamp) / 1000
         order by said.timestamp desc, said.id desc limit 1)
    ) as spoken
    order by spoken.sent_ms desc, spoken.id desc
    limit 1
), '')"""
_BIND = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)", re.IGNORECASE)
_REQUIRES_ITEM = re.compile(r"([a-z_]+(?:\.[a-z_]+)?)\s*(?:\(([^)]*)\))?", re.IGNORECASE)
ROLLUP_SUFFIX = ".rollup"


def expand_macros(sql: str) -> str:
    """Expand last_speaker(), command_name(), wallet_key(), balance_shape(), preferences_checksum()
    and epoch_ms() (in that order: the first uses the last).
    Arguments are plain column names or aliases (the patterns admit nothing else)."""
    sql = _LAST_SPEAKER_CALL.sub(lambda m: _LAST_SPEAKER_SQL.format(c=m[1], threshold=MS_THRESHOLD), sql)
    sql = _COMMAND_NAME_CALL.sub(lambda m: f"ltrim(lower({m[1]}), '/')", sql)
    sql = _WALLET_KEY_CALL.sub(lambda m: _WALLET_KEY_SQL.format(c=m[1]), sql)
    sql = _BALANCE_SHAPE_CALL.sub(lambda m: _BALANCE_SHAPE_SQL.format(c=m[1]), sql)
    sql = _PREFERENCES_CHECKSUM_CALL.sub(lambda m: _PREFERENCES_CHECKSUM_SQL.format(c=m[1]), sql)
    sql = expand_error_signature(sql)
    return _EPOCH_MS_CALL.sub(
        lambda m: f"(case when {m[1]} > {MS_THRESHOLD} then {m[1]} else {m[1]} * 1000 end)", sql
    )


def epoch_to_ms(value: int) -> int:
    """The same rule in Python, for values that come from outside SQL (tests, the demo)."""
    return value if value > MS_THRESHOLD else value * 1000


class ViewUnavailable(RuntimeError):
    """A view cannot be shown; the message is meant for the person looking at the page."""


class MissingSchema(ViewUnavailable):
    pass


class QueryTimeout(ViewUnavailable):
    pass


class DatabaseError(ViewUnavailable):
    pass


class DatabaseOutage(DatabaseError):
    """The database cannot be reached or dropped the connection; a later rerun may well work."""

    message = (
        "Database unavailable — retrying. Data loaded before is shown marked stale; everything "
        "comes back by itself once the database answers again (on your next click or reload)."
    )
    # In a part of the page once the page's notice has said the above.
    in_place = "Not loaded — the database is unavailable."


class DatabaseBusy(ViewUnavailable):
    """Every connection of the pool stayed in use for its whole timeout."""

    message = (
        f"The dashboard is busy: all its database connections stayed in use for {db.POOL_TIMEOUT_S} s. "
        "Data loaded before is shown marked stale; try again in a moment."
    )
    in_place = "Not loaded — the dashboard is busy."


@dataclass(frozen=True)
class ViewSql:
    name: str
    description: str
    sql: str
    params: tuple[str, ...]
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def parse_view(name: str, text: str) -> ViewSql:
    header = [line[2:].strip() for line in text.splitlines() if line.startswith("--")]
    fields: dict[str, str] = {}
    description: list[str] = []
    for line in header:
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("name", "params", "requires"):
            fields[key.strip()] = value.strip()
        elif line:
            description.append(line)
    if fields.get("name") != name:
        raise ValueError(f"sql/views/{name}.sql must start with '-- name: {name}'")
    requires = {
        table: tuple(c.strip() for c in (columns or "").split(",") if c.strip())
        for table, columns in _REQUIRES_ITEM.findall(fields.get("requires", ""))
    }
    body = expand_macros(text)
    binds = tuple(dict.fromkeys(_BIND.findall(_strip_comments(body))))
    declared = tuple(p.strip().lstrip(":") for p in fields.get("params", "").split(",") if p.strip())
    if set(binds) != set(declared):
        raise ValueError(f"sql/views/{name}.sql: header params {declared} do not match binds {binds}")
    return ViewSql(name=name, description=" ".join(description), sql=body, params=binds, requires=requires)


@cache
def load_view(name: str, *, rollup: bool = False) -> ViewSql:
    """The view `name` over Lillo's raw tables, or its variant over the dashboard's rollups
    (`<name>.rollup.sql`, same columns and rows) when `rollup` is set."""
    path = VIEWS_DIR / f"{name}{ROLLUP_SUFFIX if rollup else ''}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise KeyError(f"no view named {name!r}{' (rollup variant)' if rollup else ''} in sql/views")
    return parse_view(name, _with_parts(path.read_text(encoding="utf-8")))


def _with_parts(text: str) -> str:
    return _INCLUDE.sub(lambda m: (PARTS_DIR / f"{m[1]}.sql").read_text(encoding="utf-8").rstrip("\n"), text)


def view_names() -> list[str]:
    return sorted(path.stem for path in VIEWS_DIR.glob("*.sql") if not path.stem.endswith(ROLLUP_SUFFIX))


def has_rollup(name: str) -> bool:
    return (VIEWS_DIR / f"{name}{ROLLUP_SUFFIX}.sql").is_file()


def pick_variant(name: str, schema: LiveSchema, params: dict) -> bool:
    """Use the rollup variant when it exists, the rollups are installed and refreshed (with every
    table it reads: an install from before one was added reads the raw tables until the install
    runs again), and the range is whole hours (rollups are kept per UTC hour)."""
    if not (has_rollup(name) and schema.rollups_ready):
        return False
    if schema.missing(load_view(name, rollup=True).requires):
        return False
    bounds = [params[k] for k in ("start_ms", "end_ms", "previous_start_ms") if k in params]
    return all(value % 3_600_000 == 0 for value in bounds)


# Rollup variants count the rows above each source's refresh watermark live. The watermark is bound
# as a value (not read inside the query) so the planner sees it and scans only those rows by id.
WATERMARK_PARAMS = {
    "messages_watermark": "chat_messages",
    "commands_watermark": "command_metrics",
    # The reply latency rollup keeps its own (dashboard/rollups.py): 0 until it is first built.
    "replies_watermark": "reply_latency",
    # The command failures rollup keeps its own too (dashboard/rollups.py).
    "failures_watermark": "command_failures",
    # And the agent of every command (lillo_dash.command_calls).
    "calls_watermark": "command_calls",
    # So does the retention rollup (person_weeks).
    "weeks_watermark": "person_weeks",
    # And the rollup of the pairs set to another model (dashboard/rollups_models.py).
    "model_activity_watermark": "model_pair_activity",
    "model_replies_watermark": "model_pair_replies",
    "model_commands_watermark": "model_pair_commands",
}
_WATERMARKS_SQL = sa.text("select source, last_id from lillo_dash.refresh_state")


def watermarks(conn: sa.Connection) -> dict[str, int]:
    found = dict(conn.execute(_WATERMARKS_SQL).all())
    return {param: found.get(source, 0) for param, source in WATERMARK_PARAMS.items()}


def _prepared(
    conn: sa.Connection, schema: LiveSchema, name: str, params: dict, rollup: bool | None
) -> tuple[sa.TextClause, dict]:
    """The statement of view `name` (variant by `pick_variant` unless `rollup` says) and its binds."""
    view = load_view(name, rollup=pick_variant(name, schema, params) if rollup is None else rollup)
    gaps = schema.missing(view.requires)
    if gaps:
        raise MissingSchema(f"This database has no {', '.join(gaps)}, so this part cannot be shown.")
    if any(p in WATERMARK_PARAMS for p in view.params):
        params = params | watermarks(conn)
    missing_params = [p for p in view.params if p not in params]
    if missing_params:
        raise TypeError(f"view {name} needs parameters {missing_params}")
    return sa.text(view.sql), {p: params[p] for p in view.params}


@contextlib.contextmanager
def _readable_errors(name: str) -> Iterator[None]:
    """Database errors of view `name` as ViewUnavailable with a message for the person."""
    try:
        yield
    except sa.exc.TimeoutError as error:  # the pool's, not the statement's: no connection was free
        log.warning("view %s: no free database connection within %s s", name, db.POOL_TIMEOUT_S)
        raise DatabaseBusy(DatabaseBusy.message) from error
    except sa.exc.DBAPIError as error:
        if isinstance(error, sa.exc.OperationalError) and "statement timeout" in str(error.orig).lower():
            raise QueryTimeout(
                "The query took longer than the statement timeout — "
                "narrow the date range or pick fewer agents."
            ) from error
        if db.connection_lost(error):
            log.warning("view %s: database unavailable: %s", name, str(error.orig).strip().splitlines()[:1])
            raise DatabaseOutage(DatabaseOutage.message) from error
        log.warning("view %s failed: %s", name, str(error.orig).strip().splitlines()[:1])
        log.debug("view %s failed", name, exc_info=True)
        first_line = (
            str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error).__name__
        )
        raise ViewUnavailable(f"This part could not be loaded: the database said “{first_line}”.") from error


def run_view(
    conn: sa.Connection, schema: LiveSchema, name: str, params: dict, *, rollup: bool | None = None
) -> pd.DataFrame:
    """Run one view on `conn` and return its rows. Raises ViewUnavailable with a readable message.

    `rollup` None picks the variant by `pick_variant`; True or False forces one."""
    statement, bound = _prepared(conn, schema, name, params, rollup)
    with _readable_errors(name):
        result = conn.execute(statement, bound)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@contextlib.contextmanager
def streamed_rows(
    engine: sa.Engine, schema: LiveSchema, name: str, params: dict, *, batch: int = 10_000
) -> Iterator[tuple[list[str], Iterator[tuple]]]:
    """(columns, rows) of view `name`, read through a server-side cursor `batch` rows at a time,
    so that an export of millions of rows never holds them all in memory."""
    with _readable_errors(name), engine.connect() as conn:
        statement, bound = _prepared(conn, schema, name, params, None)
        result = conn.execution_options(stream_results=True, max_row_buffer=batch).execute(statement, bound)
        yield list(result.keys()), iter(result)


@dataclass(frozen=True)
class ViewResult:
    name: str
    frame: pd.DataFrame
    fetched_at: datetime
    elapsed_ms: float
    # The last good rows, shown because the database could not answer now.
    stale: bool = False

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.fetched_at).total_seconds()


def fetch_uncached(
    engine: sa.Engine, schema: LiveSchema, name: str, params: dict, *, rollup: bool | None = None
) -> ViewResult:
    started = time.perf_counter()
    with _readable_errors(name), engine.connect() as conn:
        frame = run_view(conn, schema, name, params, rollup=rollup)
    return ViewResult(name, frame, datetime.now(UTC), (time.perf_counter() - started) * 1000)


def cache_key(params: dict) -> tuple:
    """A hashable, order-independent form of view parameters (lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in params.items()))


def params_from_key(key: tuple) -> dict:
    """Back from cache_key: tuples become lists again, which the driver sends as arrays."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in key}


# --- Cached access for pages -------------------------------------------------------------------

# Bumped by a refresh control; part of the cache key, so a refresh reloads that view for everyone
# while other views keep their cached rows.
_generations: dict[str, int] = {}


def refresh(name: str) -> None:
    _generations[name] = _generations.get(name, 0) + 1


def refresh_reading(*tables: str) -> None:
    """Refresh every view that reads any of `tables` (either variant): after a write, no page
    shows the rows as they were before it."""
    for name in view_names():
        variants = [load_view(name)] + ([load_view(name, rollup=True)] if has_rollup(name) else [])
        if any(table in variant.requires for variant in variants for table in tables):
            refresh(name)


def _cache_limits() -> Settings:
    try:
        return load_settings()
    except ConfigError:  # reported by the app on its first run; the cache just uses defaults
        return Settings()


_CACHE_LIMITS = _cache_limits()


@st.cache_data(ttl=_CACHE_LIMITS.cache_ttl_s, max_entries=_CACHE_LIMITS.cache_max_entries, show_spinner=False)
def _cached(database_key: str, name: str, key: tuple, generation: int) -> ViewResult:
    from dashboard import runtime

    found = runtime.database()
    try:
        schema = runtime.live_schema()
    except db.DatabaseUnavailable as error:
        raise DatabaseOutage(DatabaseOutage.message) from error
    return fetch_uncached(found.reader, schema, name, params_from_key(key))


class _LastGood:
    """The last rows each (database, view, parameters) returned, bounded like the cache, kept
    longer than its TTL: what a page shows, marked stale, while the database cannot answer."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._results: OrderedDict[tuple, ViewResult] = OrderedDict()
        self._lock = threading.Lock()  # every session of the server shares it

    def put(self, key: tuple, result: ViewResult) -> None:
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > self._max_entries:
                self._results.popitem(last=False)

    def get(self, key: tuple) -> ViewResult | None:
        with self._lock:
            return self._results.get(key)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


_last_good = _LastGood(_CACHE_LIMITS.cache_max_entries)

# One notice per page: a page run remembers the outage or overload it met first, says so once
# at the top of the page, and asks the database no more until the next run.
_RUN_KEY = "_views_database_problem"


@dataclass
class _RunProblem:
    announce: Callable[[ViewUnavailable], None]
    met: DatabaseOutage | DatabaseBusy | None = None


def begin_run(announce: Callable[[ViewUnavailable], None]) -> None:
    """Start a page run whose first database outage or overload is passed to `announce` (which
    shows the page's one notice about it); later views of the run then do not wait for it."""
    st.session_state[_RUN_KEY] = _RunProblem(announce)


def _this_run() -> _RunProblem | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(_RUN_KEY)


def _instead(
    remembered: tuple, problem: DatabaseOutage | DatabaseBusy, run: _RunProblem | None
) -> ViewResult:
    """The last good rows, marked stale, when the database cannot answer now; without any, the
    problem — in a word when the page's notice has already explained it."""
    if run is not None and run.met is None:
        run.met = problem
        run.announce(problem)
    last = _last_good.get(remembered)
    if last is not None:
        return replace(last, stale=True)
    if run is None:
        raise problem
    raise type(problem)(problem.in_place) from problem


def fetch(name: str, **params) -> ViewResult:
    """Rows of view `name` for `params`, from the cache while fresh (TTL and size from settings).
    While the database is unavailable or busy: the last good rows marked `stale`, else
    DatabaseOutage or DatabaseBusy."""
    # Only the parameters the view declares are part of the key, so pages can pass their whole
    # filter set without splitting the cache.
    from dashboard import runtime

    found = runtime.database()
    if not found.ok:
        raise DatabaseError(found.problem)
    key = cache_key({p: params[p] for p in load_view(name).params if p in params})
    remembered = (found.key, name, key)
    run = _this_run()
    if run is not None and run.met is not None:
        return _instead(remembered, run.met, run)
    try:
        result = _cached(found.key, name, key, _generations.get(name, 0))
    except (DatabaseOutage, DatabaseBusy) as problem:
        return _instead(remembered, problem, run)
    _last_good.put(remembered, result)
    return result


def clear_cache() -> None:
    """Forget cached rows (the last good rows too)."""
    _cached.clear()
    _last_good.clear()
