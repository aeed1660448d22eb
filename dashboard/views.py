"""Named SQL views: loaded from sql/views/<name>.sql, checked against the live schema, run with
named binds only, cached with a TTL and a bounded number of entries.

A view file starts with a header that says what it returns and needs:

    -- name: messages_per_bucket
    -- One row per (bucket, agent): messages in the range.
    -- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids
    -- requires: chat_messages(timestamp, agent_id)

Lillo stores `timestamp` as a bigint epoch in seconds or milliseconds. Views write
`epoch_ms(column)`; this module expands it into the one conversion rule below, so every view
converts the same way and the rule lives in exactly one place.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from dashboard.config import SQL_DIR, ConfigError, Settings, load_settings
from dashboard.db import describe_connect_error
from dashboard.live_schema import LiveSchema

log = logging.getLogger(__name__)

VIEWS_DIR = SQL_DIR / "views"

# Epochs above this are milliseconds (1e11 s is the year 5138; 1e11 ms is March 1973).
MS_THRESHOLD = 100_000_000_000

_EPOCH_MS_CALL = re.compile(r"\bepoch_ms\(\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\s*\)", re.IGNORECASE)
_BIND = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)", re.IGNORECASE)
_REQUIRES_ITEM = re.compile(r"([a-z_]+)\s*(?:\(([^)]*)\))?", re.IGNORECASE)


def expand_epoch_ms(sql: str) -> str:
    """Replace each `epoch_ms(col)` with the seconds-or-milliseconds rule, applied to `col`."""
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
    body = expand_epoch_ms(text)
    binds = tuple(dict.fromkeys(_BIND.findall(_strip_comments(body))))
    declared = tuple(p.strip().lstrip(":") for p in fields.get("params", "").split(",") if p.strip())
    if set(binds) != set(declared):
        raise ValueError(f"sql/views/{name}.sql: header params {declared} do not match binds {binds}")
    return ViewSql(name=name, description=" ".join(description), sql=body, params=binds, requires=requires)


@cache
def load_view(name: str) -> ViewSql:
    path = VIEWS_DIR / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise KeyError(f"no view named {name!r} in sql/views")
    return parse_view(name, path.read_text(encoding="utf-8"))


def view_names() -> list[str]:
    return sorted(path.stem for path in VIEWS_DIR.glob("*.sql"))


def run_view(conn: sa.Connection, schema: LiveSchema, name: str, params: dict) -> pd.DataFrame:
    """Run one view on `conn` and return its rows. Raises ViewUnavailable with a readable message."""
    view = load_view(name)
    gaps = schema.missing(view.requires)
    if gaps:
        raise MissingSchema(f"This database has no {', '.join(gaps)}, so this part cannot be shown.")
    missing_params = [p for p in view.params if p not in params]
    if missing_params:
        raise TypeError(f"view {name} needs parameters {missing_params}")
    try:
        result = conn.execute(sa.text(view.sql), {p: params[p] for p in view.params})
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.OperationalError as error:
        if "statement timeout" in str(error.orig).lower():
            raise QueryTimeout(
                "The query took longer than the statement timeout — "
                "narrow the date range or pick fewer agents."
            ) from error
        raise
    except sa.exc.DBAPIError as error:
        log.exception("view %s failed", name)
        first_line = (
            str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error).__name__
        )
        raise ViewUnavailable(f"This part could not be loaded: the database said “{first_line}”.") from error


@dataclass(frozen=True)
class ViewResult:
    name: str
    frame: pd.DataFrame
    fetched_at: datetime
    elapsed_ms: float

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.fetched_at).total_seconds()


def fetch_uncached(engine: sa.Engine, schema: LiveSchema, name: str, params: dict) -> ViewResult:
    started = time.perf_counter()
    with engine.connect() as conn:
        frame = run_view(conn, schema, name, params)
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
        return fetch_uncached(found.reader, runtime.live_schema(), name, params_from_key(key))
    except sa.exc.OperationalError as error:
        raise DatabaseError(
            describe_connect_error(found.reader.url.render_as_string(False), error)
        ) from error


def fetch(name: str, **params) -> ViewResult:
    """Rows of view `name` for `params`, from the cache while fresh (TTL and size from settings)."""
    # Only the parameters the view declares are part of the key, so pages can pass their whole
    # filter set without splitting the cache.
    from dashboard import runtime

    found = runtime.database()
    if not found.ok:
        raise DatabaseError(found.problem)
    declared = {p: params[p] for p in load_view(name).params if p in params}
    return _cached(found.key, name, cache_key(declared), _generations.get(name, 0))


def clear_cache() -> None:
    _cached.clear()
