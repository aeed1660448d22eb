"""What a write is, for every module that builds or applies one: a RowChange, the refusals a
person can read, and the fixed statements of sql/write. dashboard/store.py applies changes;
the modules that build them (store.agent_edit, dashboard/model_tuning.py) depend only on this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa

from dashboard.config import SQL_DIR
from dashboard.views import parse_view


class WriteRefused(Exception):
    """A write that did not happen; the message says why, for the person who tried."""


class InvalidInput(WriteRefused):
    pass


class StaleEdit(WriteRefused):
    pass


class WriterUnavailable(WriteRefused):
    pass


class NotAllowed(WriteRefused):
    pass


@dataclass(frozen=True)
class RowChange:
    """One row to change: `before` is what the editor read, `after` what it should become."""

    table: str
    key: Mapping[str, Any]
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    action: str = "update"

    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that changes."""
        return [
            (f, self.before.get(f), self.after.get(f))
            for f in self.after
            if self.before.get(f) != self.after.get(f)
        ]


@cache
def _statement(name: str) -> tuple[sa.TextClause, tuple[str, ...]]:
    parsed = parse_view(name, (SQL_DIR / "write" / f"{name}.sql").read_text(encoding="utf-8"))
    return sa.text(parsed.sql), parsed.params


def run_statement(conn: sa.Connection, name: str, values: Mapping[str, Any]) -> sa.CursorResult:
    """Run sql/write/<name>.sql on `conn` with the values its header names."""
    statement, params = _statement(name)
    return conn.execute(statement, {p: values[p] for p in params})
