"""Building a test database: Lillo's tables, the hand-made fixture or the demo generator's rows,
and optionally the dashboard's install and its rollups."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from dashboard import rollups
from dashboard.db import admin_engine
from dashboard.install import apply_lillo_schema, install_dashboard_objects
from tests import fixture_data

DEMO_SCALE = 20_000


def prepared(
    url: str,
    *,
    demo: bool = False,
    install: bool = True,
    refresh: bool = True,
    seed: Callable[[sa.Engine], None] | None = None,
) -> str:
    """`url`, filled with the fixture (or `demo` rows), then `seed`'s extra rows, then installed
    and its rollups built as asked."""
    engine = admin_engine(url)
    try:
        apply_lillo_schema(engine)
        if demo:
            from dashboard import demo as demo_data

            demo_data.load_demo(engine, scale=DEMO_SCALE, seed=7)
        else:
            fixture_data.load(engine)
        if seed is not None:
            seed(engine)
        if install:
            install_dashboard_objects(engine)
        if install and refresh:
            rollups.refresh(engine)
    finally:
        engine.dispose()
    return url
