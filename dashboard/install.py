"""Applies SQL files: Lillo's own tables (embedded and test databases only) and the dashboard's
objects (its own schema, installed by the explicit `python -m dashboard install`)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dashboard.config import SQL_DIR


def _sql_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sql"))


def _apply(engine: sa.Engine, files: list[Path]) -> list[str]:
    applied = []
    with engine.begin() as conn:
        for path in files:
            # Fixed files from the repository, no parameters: sent to the driver as one script
            # (through psycopg directly, which then leaves a '%' in a comment alone).
            conn.connection.driver_connection.execute(path.read_text(encoding="utf-8"))
            applied.append(path.name)
    return applied


def apply_lillo_schema(engine: sa.Engine) -> list[str]:
    """Create Lillo's eight tables. Only for the embedded demo database and for tests: the
    dashboard never creates Lillo's tables in a database it was pointed at."""
    return _apply(engine, _sql_files(SQL_DIR / "schema"))


def install_dashboard_objects(engine: sa.Engine) -> list[str]:
    """Create or update the dashboard's own objects in schema lillo_dash; safe to re-run."""
    return _apply(engine, _sql_files(SQL_DIR / "install"))
