"""What the connected database actually has: tables, their columns and column types, and which
of the dashboard's indexes on Lillo's tables are built and usable.

Lillo's schema is partly undocumented and has older versions in the wild, so views declare what
they need and are checked against this registry before they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

LILLO_TABLES = (
    "chat_messages",
    "posts",
    "user_data",
    "command_metrics",
    "gerta_poses",
    "illustrations",
    "agents",
    "model_preferences",
)

# The tables without which the dashboard has nothing to show at all.
ESSENTIAL_TABLES = ("chat_messages",)

DASHBOARD_SCHEMA = "lillo_dash"
# The sources whose rollups must have been built once before views read them.
ROLLUP_SOURCES = ("chat_messages", "command_metrics")

_COLUMNS_SQL = sa.text(
    """
    select
        case when c.table_schema = :dashboard_schema
            then c.table_schema || '.' || c.table_name else c.table_name end as table_name,
        c.column_name,
        c.data_type
    from information_schema.columns as c
    where (c.table_schema = current_schema() and c.table_name = any(cast(:tables as text[])))
       or c.table_schema = :dashboard_schema
    order by 1, c.ordinal_position
    """
)
# The word index of message text (sql/install/007_search_index.concurrently.sql).
SEARCH_INDEX = "lillo_dash_chat_messages_words"
# Only valid indexes count: a concurrent build that was interrupted leaves one the planner ignores.
_DASHBOARD_INDEXES_SQL = sa.text(
    """
    select c.relname
    from pg_index as i
    join pg_class as c on c.oid = i.indexrelid
    join pg_class as t on t.oid = i.indrelid
    where i.indisvalid and i.indisready
      and t.relnamespace = cast(current_schema() as regnamespace)
      and c.relname like 'lillo\\_dash\\_%'
    """
)
_REFRESHED_SQL = sa.text(
    "select source from lillo_dash.refresh_state where refreshed_at is not null and source = any(:sources)"
)


@dataclass(frozen=True)
class LiveSchema:
    """Tables -> {column: data_type} as found in the database's current schema."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    refreshed_sources: frozenset[str] = frozenset()
    # The dashboard's valid indexes on Lillo's tables (named lillo_dash_*).
    indexes: frozenset[str] = frozenset()

    def missing(self, requirements: dict[str, tuple[str, ...]]) -> list[str]:
        """Human-readable names of what `requirements` asks for and this database lacks."""
        gaps = []
        for table, columns in requirements.items():
            if table not in self.tables:
                gaps.append(f"table {table}")
                continue
            gaps.extend(f"column {table}.{column}" for column in columns if column not in self.tables[table])
        return gaps

    @property
    def missing_lillo_tables(self) -> list[str]:
        return [table for table in LILLO_TABLES if table not in self.tables]

    @property
    def rollups_installed(self) -> bool:
        return f"{DASHBOARD_SCHEMA}.refresh_state" in self.tables

    @property
    def rollups_ready(self) -> bool:
        """Installed and built at least once for every source table."""
        return self.rollups_installed and set(ROLLUP_SOURCES) <= self.refreshed_sources

    @property
    def search_index_ready(self) -> bool:
        return SEARCH_INDEX in self.indexes


def introspect(conn: sa.Connection) -> LiveSchema:
    tables: dict[str, dict[str, str]] = {}
    rows = conn.execute(_COLUMNS_SQL, {"tables": list(LILLO_TABLES), "dashboard_schema": DASHBOARD_SCHEMA})
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    refreshed: frozenset[str] = frozenset()
    if f"{DASHBOARD_SCHEMA}.refresh_state" in tables:
        refreshed = frozenset(conn.execute(_REFRESHED_SQL, {"sources": list(ROLLUP_SOURCES)}).scalars())
    indexes = frozenset(conn.execute(_DASHBOARD_INDEXES_SQL).scalars())
    return LiveSchema(tables, refreshed, indexes)
