"""The scale benchmark's measurements on the small demo database: the JSON has every view with
both ranges and every page. No timing assertions: timings belong to the bench, not to tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import bench, filters, views
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_db(new_database) -> str:
    """A small demo database prepared as the bench prepares its own: installed, rollups built."""
    return prepared(new_database("bench"), demo=True)


@pytest.fixture(scope="module")
def results(bench_db) -> dict:
    timings = bench.view_timings(bench_db, runs=1)
    pages = bench.page_timings(bench_db, runs=1)
    # Through JSON, as the bench writes it.
    return json.loads(json.dumps(bench.results_for(20_000, timings, pages, None, ["a note"])))


def test_every_view_appears_with_both_ranges(results):
    found = sorted((row["name"], row["range"]) for row in results["views"])
    assert found == sorted((name, r) for name in views.view_names() for r in bench.RANGES)
    assert set(bench.RANGES) == {"30d", "all"}


def test_every_page_in_navigation_appears(results):
    pages = bench.navigation_pages()
    assert {page.file for page in pages} == {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")}
    assert [p["path"] for p in results["pages"]] == [page.path for page in pages]
    assert sum(page.path == "/" for page in pages) == 1


def test_numbers_are_non_negative(results):
    for row in results["views"]:
        assert row["cold_ms"] >= 0 and row["warm_ms"] >= 0, row
        assert row["variant"] in ("raw", "rollup")
    for page in results["pages"]:
        assert page["cold_ms"] >= 0 and page["warm_ms"] >= 0, page


def test_naive_timing_exactly_for_views_with_a_rollup_variant(results):
    for row in results["views"]:
        if views.has_rollup(row["name"]):
            assert row["naive_ms"] is not None and row["naive_ms"] >= 0, row
        else:
            assert row["naive_ms"] is None, row


def test_json_shape_and_report(results):
    assert set(results) >= {"scale", "views", "pages", "server_rss_mb"}
    assert results["scale"] == "20k" and results["server_rss_mb"] is None
    for row in results["views"]:
        assert set(row) >= {"name", "range", "cold_ms", "warm_ms", "naive_ms"}
    for page in results["pages"]:
        assert set(page) >= {"path", "cold_ms", "warm_ms"}
    checks = bench.budget_checks(results)
    assert all(check.ok is not None for check in checks if "server_rss_mb" not in check.budget)
    table = bench.markdown(results, checks)
    for name in views.view_names():
        assert f"| {name} | 30d |" in table and f"| {name} | all |" in table
    assert "SKIP  server_rss_mb" in table


def test_a_view_parameter_without_a_default_fails_loudly(monkeypatch):
    """A new view parameter must get its default in bench.EXTRA_PARAMS, not be guessed."""
    now = datetime.now(UTC)
    filter_params = set(filters.parse_filters({}, known_agent_ids=None, now=now).view_params())
    extra = [
        (name, param)
        for name in views.view_names()
        for param in bench.declared_params(name)
        if param not in filter_params
    ]
    if not extra:
        pytest.skip("no view takes a parameter beyond the global filters")
    name, param = extra[0]
    monkeypatch.setattr(bench, "EXTRA_PARAMS", {})
    with pytest.raises(bench.BenchError, match=rf"{param}.*EXTRA_PARAMS"):
        bench.view_params(name, "30d", now)


def test_filter_combinations_are_different_and_parse_cleanly():
    now = datetime.now(UTC)
    queries = bench.filter_combinations(["1", "2", "3"], 50, now)
    assert len({json.dumps(q, sort_keys=True) for q in queries}) == 50
    assert {q["range"] for q in queries} == {*filters.PRESETS, "custom"}
    for query in queries:
        parsed = filters.parse_filters(query, known_agent_ids={"1", "2", "3"}, now=now)
        assert not [n for n in parsed.notices if "Unknown" in n or "not a date" in n], query


def test_scale_labels_name_the_data_dirs():
    assert [bench.scale_label(n) for n in (10_000_000, 1_000_000, 200_000, 1_234)] == [
        "10m",
        "1m",
        "200k",
        "1234",
    ]


def test_naive_timing_runs_without_the_dashboards_indexes_on_lillos_tables(bench_db, monkeypatch):
    from dashboard.db import admin_engine
    from dashboard.live_schema import introspect

    ours = sa.text(
        "select indexname from pg_indexes where schemaname = 'public' and indexname like 'lillo_dash_%'"
    )
    engine = admin_engine(bench_db)
    with engine.connect() as conn:
        installed = set(conn.execute(ours).scalars())
        schema = introspect(conn)
    assert {"lillo_dash_command_metrics_by_duration", "lillo_dash_chat_messages_words"} <= installed
    seen = {}

    def run_view(conn, schema, name, params, *, rollup):
        seen["indexes"] = set(conn.execute(ours).scalars())
        seen["rollup"] = rollup
        seen["work_mem"] = conn.execute(sa.text("show work_mem")).scalar_one()

    monkeypatch.setattr(views, "run_view", run_view)
    params = bench.view_params("command_slowest_calls", "all", datetime.now(UTC))
    assert bench.naive_ms(bench_db, schema, "command_slowest_calls", params) >= 0
    assert seen == {"indexes": set(), "rollup": False, "work_mem": "64MB"}
    # The drop was rolled back: every index is there again.
    with engine.connect() as conn:
        assert set(conn.execute(ours).scalars()) == installed
    engine.dispose()


def test_refresh_timing_leaves_the_data_unchanged(bench_db):
    from dashboard.db import admin_engine

    engine = admin_engine(bench_db)
    count = sa.text("select count(*) from chat_messages")
    with engine.connect() as conn:
        before = conn.execute(count).scalar_one()
    assert bench.refresh_ms(bench_db, n_messages=100) > 0
    with engine.connect() as conn:
        assert conn.execute(count).scalar_one() == before
    engine.dispose()


def test_export_probe_exports_through_the_app_path_in_a_fresh_process(bench_db):
    found = bench.export_memory(bench_db, rows=300)
    assert found["rows"] == 300
    assert found["file_mb"] > 0 and found["seconds"] >= 0 and found["rss_increase_mb"] >= 0
    checks = bench.budget_checks(
        bench.results_for(20_000, [], [], None, []) | {"export": found, "refresh_10k_ms": None}
    )
    assert any(check.budget.startswith("CSV export of 300 rows") for check in checks)
