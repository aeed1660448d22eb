"""The scale benchmark: `python -m dashboard bench --scale 10m`.

What is measured, on a demo data set of `scale` chat messages kept in its own embedded server
(data/bench-<scale>, built once with the rollups, reused while it holds exactly `scale` messages):

- Views: every view in sql/views, for the ranges 30d and all, with the parameters the real filter
  code builds (`parse_filters(...).view_params()`, plus EXTRA_PARAMS).
  - cold_ms: `views.fetch_uncached` — the app's path on a cache miss, with the variant
    `views.pick_variant` chooses — on a freshly opened connection (a new backend, so its catalog
    caches are cold; opening it is not timed, as the app's pool keeps connections open).
    PostgreSQL's shared buffers and the OS page cache are warm after the data build; a server
    restart would be colder still. The rollups were just refreshed, so the rows a rollup variant
    counts live (above the refresh watermark) are none: its best case.
  - warm_ms: a repeated call of `views.fetch` itself, the function the pages call, run outside a
    Streamlit server ("bare mode"): `st.cache_data` then keeps entries in the same in-memory store
    a server uses, so a warm call is the real key hashing plus unpickling of the cached result.
    The miss that fills the cache runs with the bench's statement timeout, not the app's.
  - naive_ms: for views with a rollup variant, the raw-table SQL (`rollup=False`) with only
    Lillo's own indexes (the dashboard's on Lillo's tables dropped in a transaction rolled back
    afterwards), on a new connection; null for views without one.
  Every number is the median of RUNS runs.
- Pages: every page in app.py's navigation, rendered server-side by Streamlit's AppTest against
  the bench database. cold_ms: a run after `views.clear_cache()` and `st.cache_data.clear()`
  (Python modules already imported, as in a running server); warm_ms: the next run.
- server_rss_mb: `streamlit run serve.py` on the bench database, every page opened in headless
  Chromium with COMBINATIONS different filter settings; then the resident memory of the server
  process and its children.
- load: 30 sessions at once against a freshly started server for 2 minutes, each a websocket
  client speaking Streamlit's protocol as a browser tab does — renders, errors, render-time
  percentiles, peak database connections, server memory, CPU by process (dashboard/load_run.py).
  Twice: as people use it, pausing 2-8 s on each page (the p95 budget), and back to back, which
  measures the renders per second the machine can serve (errors and pools budgeted, times reported).
- refresh: an incremental refresh after 10,000 new messages (copies of the newest, rolled back),
  the median of RUNS runs (each run is in the JSON): a server refreshes every minute, so the pages
  a refresh reads stay cached, while the first run after the load run finds many evicted.

The JSON also says which variant the app used per view, the notes printed under the tables and
the budget verdicts. Budgets are set for 10 M messages on 2 cores; the command prints PASS/FAIL
per budget and exits 0 unless `--check` is given: a benchmark measures, it does not gate.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from dashboard import app_server, db, embedded, figure_cache, filters, rollups, views
from dashboard.config import PROJECT_ROOT, ConfigError, Settings, load_settings, redact_url
from dashboard.demo import PERIOD_DAYS
from dashboard.live_schema import LiveSchema, introspect

APP = PROJECT_ROOT / "app.py"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
RANGES = ("30d", "all")
RUNS = 3
SEED = 42
STATEMENT_TIMEOUT_MS = 120_000
# Parameters views take beyond the global filters. A new view parameter gets its default here.
EXTRA_PARAMS = {
    "limit": 10,
    # The chats and people lists' first page, as the pages open them.
    "offset": 0,
    "kind": "all",
    "min_messages": 1,
    # The model tuning list (model_targets): pairs on any model.
    "current_model": "all",
    "participant": None,
    "person": None,
    # One agent's views (agent_retention): the busiest agent (agent_id is set by busiest_chat).
    "agent_id": "",
    # The people of one of its retention cohorts (agent_retention's drill-down, agent_cohort_people):
    # its first, in which everyone is new (cohort_week is set by busiest_chat).
    "cohort_week": "1970-01-05",
    # One pair's figures around a change of its model (model_change_effect): the busiest chat and the
    # agent that wrote most in it, a week each side of a moment a week before its last message
    # (changed_at_ms and the pair's agent are set by busiest_chat).
    "changed_at_ms": 2_000_000_000_000,
    "window_days": 7,
    # The Commands page's views: every command, as the page opens them.
    "command": "",
    "sort": "messages",
    "actor": "",
    "table_name": "",
    # One chat's views: the newest page of the busiest chat (chat_id is set by busiest_chat).
    "chat_id": 0,
    "before_ms": 2**63 - 1,
    "before_id": 2**63 - 1,
    "from_ms": 0,
    "to_ms": 2**63 - 1,
    # A search for a word the demo's messages hold: the bounded scan, and the word index's query
    # as dashboard/search.py builds it from search_words.
    "pattern": "%price%",
    "scan_rows": 200_000,
    "search_text": "price",
    "words_query": "'price':*",
}

VIEW_COLD_BUDGET_MS = {"30d": 300, "all": 1_000}
VIEW_WARM_BUDGET_MS = 50
MIN_ROLLUP_SPEEDUP = 10
PAGE_COLD_BUDGET_MS = 2_000
PAGE_WARM_BUDGET_MS = 300
SERVER_RSS_BUDGET_MB = 700
BUDGET_SCALE = 10_000_000

COMBINATIONS = 50
SERVER_START_TIMEOUT_S = 180
PAGE_RENDER_TIMEOUT_MS = 180_000
SERVER_RUN_DEADLINE_S = 45 * 60

# Streamlit warns on every cached call made outside a server; that is how warm_ms is measured.
for _logger in (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.caching.cache_resource_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
):
    logging.getLogger(_logger).setLevel(logging.ERROR)

_servers: list = []  # keeps the embedded server's handle alive for the whole run


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says what to fix."""


@dataclass(frozen=True)
class ViewTiming:
    name: str
    range: str
    variant: str  # what the app's path used: "rollup" or "raw"
    cold_ms: float
    warm_ms: float
    naive_ms: float | None


@dataclass(frozen=True)
class PageTiming:
    path: str
    cold_ms: float
    warm_ms: float


@dataclass(frozen=True)
class NavPage:
    file: str  # relative to app.py, as st.Page and AppTest.switch_page take it
    path: str  # the URL path: "/" for the default page


@dataclass(frozen=True)
class Budget:
    budget: str
    ok: bool | None  # None: not measured in this run
    detail: str


# --- The data set ---------------------------------------------------------------------------------


def scale_label(scale: int) -> str:
    """10_000_000 -> '10m', 200_000 -> '200k', 1234 -> '1234'."""
    for suffix, factor in (("m", 1_000_000), ("k", 1_000)):
        if scale % factor == 0:
            return f"{scale // factor}{suffix}"
    return str(scale)


def message_count(engine: sa.Engine) -> int | None:
    """Rows in chat_messages, or None when the table does not exist."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('chat_messages') is null")).scalar_one():
            return None
        return conn.execute(sa.text("select count(*) from chat_messages")).scalar_one()


def bench_database(scale: int, data_dir: Path, *, progress: Callable[[str], None] = print) -> str:
    """The URL of the bench database for `scale`: built once under data_dir/bench-<scale>, then
    reused; the dashboard's objects installed and its rollups refreshed."""
    from dashboard import demo, install

    server = embedded.start_server(data_dir / f"bench-{scale_label(scale)}" / "pg")
    _servers.append(server)
    url = embedded.ensure_database(server, embedded.DEMO_DATABASE)
    engine = db.admin_engine(url)
    try:
        found = message_count(engine)
        reloaded = found != scale
        if reloaded:
            progress(f"Building the bench data set: {scale:,} messages (found {found or 0:,})…")
            started = time.perf_counter()
            install.apply_lillo_schema(engine)
            summary = demo.load_demo(engine, scale=scale, seed=SEED, progress=progress)
            progress(f"Loaded {summary} in {time.perf_counter() - started:.0f} s")
        else:
            progress(f"Reusing the bench data set with {scale:,} messages ({redact_url(url)})")
        install.install_dashboard_objects(engine)
        try:
            from dashboard import rollups
        except ImportError:
            progress("WARNING: dashboard.rollups is not importable; the rollups were not built.")
        else:
            started = time.perf_counter()
            # A reload replaces every row, so an incremental refresh would keep stale rollups.
            report = rollups.refresh(engine, full=reloaded)
            progress(f"Rollups refreshed in {time.perf_counter() - started:.1f} s: {report}")
        if not reloaded:
            # The refresh timings of earlier runs roll back 10,000 messages and what they added to
            # the rollups: dead rows, and pages the views' index-only reads must visit again until
            # autovacuum gets to them. Cleaned before timing, as a database left alone would be.
            started = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("vacuum")
            progress(f"Vacuumed in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()
    return url


# --- Views ------------------------------------------------------------------------------------------


def declared_params(name: str) -> tuple[str, ...]:
    """Parameters of view `name`, over both variants."""
    found = list(views.load_view(name).params)
    if views.has_rollup(name):
        found += views.load_view(name, rollup=True).params
    # Watermarks are bound by views.run_view itself.
    return tuple(p for p in dict.fromkeys(found) if p not in views.WATERMARK_PARAMS)


def busiest_chat(engine: sa.Engine) -> dict:
    """{"chat_id": the chat with the most messages, "agent_id": the agent with the most, "cohort_week":
    that agent's first retention cohort, "changed_at_ms": a week before that chat's last message,
    "chat_agent_id": the agent that wrote most in that chat}: the one-chat, one-agent and one-pair
    views are timed on the largest."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("select chat_id from chat_messages group by chat_id order by count(*) desc limit 1")
        ).scalar()
        agent = conn.execute(
            sa.text("select agent_id from chat_messages group by agent_id order by count(*) desc limit 1")
        ).scalar()
        chat_agent = conn.execute(
            sa.text(
                "select agent_id from chat_messages where chat_id = :chat"
                " group by agent_id order by count(*) desc limit 1"
            ),
            {"chat": found or 0},
        ).scalar()
        last_sql = "select max(epoch_ms(timestamp)) from chat_messages where chat_id = :chat"
        last_ms = conn.execute(sa.text(views.expand_macros(last_sql)), {"chat": found or 0}).scalar()
        first_week = conn.execute(
            sa.text(
                views.expand_macros(
                    "select to_char(date_trunc('week', to_timestamp(min(epoch_ms(timestamp)) / 1000.0)"
                    " at time zone 'UTC'), 'YYYY-MM-DD') from chat_messages"
                    " where agent_id = :agent and role = 'user'"
                )
            ),
            {"agent": agent or ""},
        ).scalar()
    return {
        "chat_id": found or 0,
        "agent_id": agent or "",
        "cohort_week": first_week or EXTRA_PARAMS["cohort_week"],
        "changed_at_ms": last_ms - 7 * 86_400_000 if last_ms else EXTRA_PARAMS["changed_at_ms"],
        "chat_agent_id": chat_agent or "",
    }


# Views of one (agent, chat) pair: timed on the busiest chat with the agent that wrote most in it.
PAIR_VIEWS = {"model_change_effect"}


def view_params(name: str, range_: str, now: datetime, data: dict | None = None) -> dict:
    """The parameters the app binds for `range_`, plus EXTRA_PARAMS and `data` (values taken from
    the database); fails when the view declares one none of them provides."""
    chosen = filters.parse_filters({"range": range_}, known_agent_ids=None, now=now, default_tz="UTC")
    params = chosen.view_params() | EXTRA_PARAMS | (data or {})
    if name in PAIR_VIEWS and "chat_agent_id" in params:
        params["agent_id"] = params["chat_agent_id"]
    unknown = [p for p in declared_params(name) if p not in params]
    if unknown:
        raise BenchError(
            f"view {name} takes parameter(s) {', '.join(unknown)} the bench has no value for: "
            "add a default to EXTRA_PARAMS in dashboard/bench.py"
        )
    return params


def median_ms(measure: Callable[[], float], runs: int) -> float:
    return statistics.median(measure() for _ in range(runs))


def timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def fresh_connection_ms(engine: sa.Engine, call: Callable[[], object]) -> float:
    """Time `call` on a newly opened backend connection (opening it is not timed)."""
    engine.dispose()
    with engine.connect():
        pass
    return timed_ms(call)


# The dashboard's indexes on Lillo's tables (sql/install/*.concurrently.sql, each named lillo_dash_…).
_DASHBOARD_INDEXES_ON_LILLO = sa.text(
    r"""
    select format('%I.%I', n.nspname, c.relname)
    from pg_index as i
    inner join pg_class as c on c.oid = i.indexrelid
    inner join pg_namespace as n on n.oid = c.relnamespace
    where n.nspname <> 'lillo_dash' and c.relname like 'lillo\_dash\_%'
    """
)


def naive_ms(url: str, schema: LiveSchema, name: str, params: dict) -> float:
    """The raw-table SQL of view `name` on a newly opened connection with only Lillo's own indexes,
    as the reader runs it (its work_mem): the dashboard's indexes on Lillo's tables are dropped
    inside the transaction and the drop rolled back. The bench database is the bench's own; the
    drop locks those tables until the rollback, while nothing else runs."""
    engine = db.admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select set_config('work_mem', :mem, true)"), {"mem": db.READER_WORK_MEM})
            timeout = str(STATEMENT_TIMEOUT_MS)
            conn.execute(sa.text("select set_config('statement_timeout', :ms, true)"), {"ms": timeout})
            for index in conn.execute(_DASHBOARD_INDEXES_ON_LILLO).scalars().all():
                # The name comes quoted from format('%I.%I'); DDL takes no bind parameters.
                conn.exec_driver_sql(f"drop index {index}")
            elapsed = timed_ms(lambda: views.run_view(conn, schema, name, params, rollup=False))
            conn.rollback()
    finally:
        engine.dispose()
    return elapsed


@contextlib.contextmanager
def app_database(url: str, *, statement_timeout_ms: int | None = None) -> Iterator[None]:
    """Point the app's own settings (dashboard.runtime) at `url` for the duration, optionally with
    another statement timeout."""
    keys = ("DATABASE_URL", "DATABASE_READ_URL", "DASHBOARD_STATEMENT_TIMEOUT_MS")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    if statement_timeout_ms is not None:
        os.environ["DASHBOARD_STATEMENT_TIMEOUT_MS"] = str(statement_timeout_ms)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


BENCH_ADMIN = "bench-admin"


@contextlib.contextmanager
def bench_admin() -> Iterator[dict[str, str]]:
    """An admin account of the bench's own, so that every page, the admin ones too, is measured
    signed in: written to a private temporary accounts file named by DASHBOARD_ACCOUNTS_FILE
    for the duration (the app and a server started meanwhile read it)."""
    import secrets
    import tempfile

    from dashboard.auth import write_accounts_file

    account = {"username": BENCH_ADMIN, "password": secrets.token_urlsafe(16)}
    saved = os.environ.get("DASHBOARD_ACCOUNTS_FILE")
    with tempfile.TemporaryDirectory(prefix="lillo-bench-") as folder:
        path = Path(folder) / "accounts.toml"
        write_accounts_file(path, {"admin": account})
        os.environ["DASHBOARD_ACCOUNTS_FILE"] = str(path)
        try:
            yield account
        finally:
            if saved is None:
                os.environ.pop("DASHBOARD_ACCOUNTS_FILE", None)
            else:
                os.environ["DASHBOARD_ACCOUNTS_FILE"] = saved


def app_statement_timeout_ms() -> int:
    """The statement timeout the app runs with here (DASHBOARD_STATEMENT_TIMEOUT_MS)."""
    try:
        return load_settings().statement_timeout_ms
    except ConfigError:
        return Settings().statement_timeout_ms


def warm_ms(url: str, name: str, params: dict, runs: int) -> float:
    """A cache hit of `views.fetch`, the pages' entry point (see the module docstring). The miss
    that fills the cache may take as long as cold_ms, so it gets the bench's statement timeout."""
    with app_database(url, statement_timeout_ms=STATEMENT_TIMEOUT_MS):
        views.clear_cache()
        views.fetch(name, **params)
        return median_ms(lambda: timed_ms(lambda: views.fetch(name, **params)), runs)


def view_timing(
    engine: sa.Engine,
    schema: LiveSchema,
    url: str,
    name: str,
    range_: str,
    now: datetime,
    runs: int,
    data: dict | None = None,
) -> ViewTiming:
    """One view at one range: the app's path cold, the raw SQL (if there is a rollup), cached."""
    params = view_params(name, range_, now, data)

    def run(rollup: bool | None) -> object:
        return views.fetch_uncached(engine, schema, name, params, rollup=rollup)

    cold = median_ms(lambda: fresh_connection_ms(engine, lambda: run(None)), runs)
    naive = median_ms(lambda: naive_ms(url, schema, name, params), runs) if views.has_rollup(name) else None
    variant = "rollup" if views.pick_variant(name, schema, params) else "raw"
    return ViewTiming(name, range_, variant, cold, warm_ms(url, name, params, runs), naive)


def view_timings(
    url: str,
    *,
    now: datetime | None = None,
    runs: int = RUNS,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[ViewTiming]:
    """cold, warm and naive timings of every view for every range in RANGES."""
    now = now or datetime.now(UTC)
    engine = db.reader_engine(url, statement_timeout_ms=STATEMENT_TIMEOUT_MS)
    try:
        with engine.connect() as conn:
            schema = introspect(conn)
        data = busiest_chat(engine)
        timings = []
        for name in views.view_names():
            for range_ in RANGES:
                try:
                    timing = view_timing(engine, schema, url, name, range_, now, runs, data)
                except views.ViewUnavailable as error:
                    raise BenchError(f"view {name}, range {range_}: {error}") from error
                progress(f"  {name} {range_}: cold {timing.cold_ms:,.0f} ms, naive {_ms(timing.naive_ms)} ms")
                timings.append(timing)
    finally:
        engine.dispose()
    return timings


# --- Pages ------------------------------------------------------------------------------------------


def _constant(node: ast.expr | None):
    return node.value if isinstance(node, ast.Constant) else None


def navigation_pages(app: Path = APP) -> list[NavPage]:
    """The pages app.py registers with `st.Page("app_pages/x.py", ..., url_path=...)`."""
    found = []
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page" and node.args):
            continue
        file = _constant(node.args[0])
        if not isinstance(file, str):
            continue
        keywords = {k.arg: _constant(k.value) for k in node.keywords}
        url_path = keywords.get("url_path") or Path(file).stem
        found.append((node.lineno, file, url_path, keywords.get("default") is True))
    found.sort()
    if found and not any(is_default for *_, is_default in found):
        found[0] = (*found[0][:3], True)  # st.navigation makes the first page the default
    return [NavPage(file, "/" if is_default else f"/{url_path}") for _, file, url_path, is_default in found]


def _clear_app_caches() -> None:
    import streamlit as st

    from dashboard import runtime

    views.clear_cache()
    st.cache_data.clear()
    runtime.forget_schema()
    figure_cache.clear()


def _checked(at, page: NavPage):
    if at.exception:
        raise BenchError(f"page {page.path} raised: {at.exception[0].message}")
    return at


def page_run_ms(page: NavPage, admin: str) -> tuple[float, float, list[str]]:
    """Cold and warm render times of one page in a fresh AppTest session signed in as `admin`, and
    the warnings the cold run showed (a view over the statement timeout shows one instead of its
    data)."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import User
    from dashboard.signin import SESSION_KEY

    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state[SESSION_KEY] = User(admin, "admin", time.time())
    if page.path != "/":
        # AppTest learns the pages' url_paths from st.navigation on a first run.
        _checked(at.run(), page)
        at.switch_page(page.file)
    _clear_app_caches()
    cold = timed_ms(lambda: _checked(at.run(), page))
    warnings = [str(warning.value) for warning in at.warning]
    warm = timed_ms(lambda: _checked(at.run(), page))
    return cold, warm, warnings


def page_timings(url: str, *, runs: int = RUNS, notes: list[str] | None = None) -> list[PageTiming]:
    """cold and warm server-side render times of every page in the app's navigation; warnings a
    page showed go to `notes`."""
    pages = navigation_pages()
    timings = []
    with app_database(url), bench_admin() as admin:
        page_run_ms(pages[0], admin["username"])  # imports plotly and the pages once, as a server has
        for page in pages:
            runs_ms = [page_run_ms(page, admin["username"]) for _ in range(runs)]
            timings.append(
                PageTiming(
                    page.path,
                    statistics.median(cold for cold, _, _ in runs_ms),
                    statistics.median(warm for _, warm, _ in runs_ms),
                )
            )
            shown = dict.fromkeys(w for *_, warnings in runs_ms for w in warnings)
            if notes is not None:
                notes.extend(f"page {page.path} showed: {warning}" for warning in shown)
    _clear_app_caches()
    return timings


# --- Server memory ------------------------------------------------------------------------------------


def agent_ids(url: str) -> list[str]:
    engine = db.reader_engine(url, statement_timeout_ms=STATEMENT_TIMEOUT_MS)
    try:
        with engine.connect() as conn:
            schema = introspect(conn)
        frame = views.fetch_uncached(engine, schema, "agent_directory", {}).frame
    finally:
        engine.dispose()
    return sorted(frame["agent_id"].astype(str))


def filter_combinations(agents: list[str], count: int, now: datetime, seed: int = SEED) -> list[dict]:
    """`count` different URL queries over ranges, custom dates, buckets, zones and 0 to 2 agents."""
    rng = random.Random(seed)
    ranges = [*filters.PRESETS, "custom"]
    chosen: dict[str, dict] = {}
    for _ in range(count * 100):
        if len(chosen) == count:
            break
        query: dict = {
            "range": rng.choice(ranges),
            "bucket": rng.choice(filters.BUCKETS),
            "tz": rng.choice(filters.TIMEZONES),
        }
        if query["range"] == "custom":
            # Mostly inside the demo's span, sometimes reaching before its first day.
            last = now.date() - timedelta(days=rng.randrange(0, PERIOD_DAYS))
            query |= {"from": (last - timedelta(days=rng.randrange(0, PERIOD_DAYS // 2))).isoformat()}
            query |= {"to": last.isoformat()}
        picked = rng.sample(agents, k=min(len(agents), rng.randrange(0, 3)))
        if picked:
            query["agent"] = picked
        chosen.setdefault(urlencode(query, doseq=True), query)
    return list(chosen.values())


@contextlib.contextmanager
def streamlit_server(url: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app served on the bench database; a server that does not start is a BenchError."""
    try:
        with app_server.running_app({"DATABASE_URL": url}, timeout_s=SERVER_START_TIMEOUT_S) as served:
            yield served
    except app_server.AppServerError as error:
        raise BenchError(str(error)) from error


def process_rss_mb(pid: int) -> float:
    """Resident memory of process `pid` and all its children, in MiB."""
    import psutil

    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in processes) / 2**20


# Done when the script run has finished (the app root says so; headless Chromium shows no status
# widget), the page has its title and no element is still a loading skeleton, for 0.3 s.
_SCRIPT_DONE = """() => {
    const done = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        && document.querySelector('[data-testid="stMain"] h1')
        && !document.querySelector('[data-testid="stSkeleton"]');
    window.__quiet = done ? (window.__quiet || 0) + 1 : 0;
    return window.__quiet >= 3;
}"""


def sign_in(tab, base: str, account: dict[str, str]) -> None:
    """Sign `tab` in through the form; its cookie keeps every later page signed in."""
    tab.goto(base, timeout=60_000)
    tab.get_by_label("Username", exact=True).fill(account["username"])
    tab.get_by_label("Password", exact=True).fill(account["password"])
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_function(_SCRIPT_DONE, timeout=PAGE_RENDER_TIMEOUT_MS, polling=100)


def server_rss_mb(
    url: str,
    *,
    combinations: int = COMBINATIONS,
    notes: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> float:
    """Resident memory of the Streamlit server after every page was opened with `combinations`
    different filter settings."""
    from playwright.sync_api import sync_playwright

    if not Path(app_server.CHROMIUM).exists():
        raise BenchError(
            f"{app_server.CHROMIUM} is missing: install Debian's chromium, or pass --skip-server"
        )
    notes = notes if notes is not None else []
    queries = filter_combinations(agent_ids(url), combinations, datetime.now(UTC))
    visits = [(page.path, query) for page in navigation_pages() for query in queries]
    rendered = failed = 0
    deadline = time.monotonic() + SERVER_RUN_DEADLINE_S
    with bench_admin() as admin, streamlit_server(url) as (base, process), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=app_server.CHROMIUM, args=app_server.CHROMIUM_FLAGS, headless=True
        )
        try:
            tab = browser.new_page(viewport={"width": 1440, "height": 1000})
            sign_in(tab, base, admin)
            for path, query in visits:
                if time.monotonic() > deadline:
                    notes.append(f"RSS run stopped at its {SERVER_RUN_DEADLINE_S // 60} min deadline.")
                    break
                tab.goto(f"{base}{path}?{urlencode(query, doseq=True)}", timeout=60_000)
                tab.wait_for_function(_SCRIPT_DONE, timeout=PAGE_RENDER_TIMEOUT_MS, polling=100)
                rendered += 1
                failed += tab.locator('[data-testid="stException"]').count() > 0
                if rendered % 10 == 0:
                    progress(f"  {rendered}/{len(visits)} renders, {process_rss_mb(process.pid):.0f} MB")
        finally:
            browser.close()
        rss = process_rss_mb(process.pid)
    notes.append(f"server_rss_mb after {rendered} renders ({len(queries)} filter settings per page).")
    if failed:
        notes.append(f"{failed} render(s) showed an exception.")
    return rss


# --- Budgets and report -------------------------------------------------------------------------------


def _over(items: list[tuple[str, float]], limit: float, describe: str) -> Budget:
    over = [(label, value) for label, value in items if value > limit]
    if over:
        detail = "over: " + ", ".join(f"{label} {value:,.0f}" for label, value in over)
    elif items:
        label, value = max(items, key=lambda item: item[1])
        detail = f"worst: {label} {value:,.0f}"
    else:
        detail = "nothing measured"
    return Budget(describe, not over, detail)


def _speedup(rows: list[dict]) -> Budget:
    describe = f"rollup views at all: naive_ms / cold_ms ≥ {MIN_ROLLUP_SPEEDUP}"
    if not rows:
        return Budget(describe, None, "no view has a rollup variant")
    ratios = [(row["name"], row["naive_ms"] / max(row["cold_ms"], 0.001)) for row in rows]
    under = [(name, ratio) for name, ratio in ratios if ratio < MIN_ROLLUP_SPEEDUP]
    shown = under or [min(ratios, key=lambda item: item[1])]
    detail = ("under: " if under else "lowest: ") + ", ".join(f"{name} {ratio:.1f}x" for name, ratio in shown)
    return Budget(describe, not under, detail)


REFRESH_NEW_MESSAGES = 10_000
REFRESH_BUDGET_MS = 2_000
_COPY_NEWEST_MESSAGES = sa.text(
    """
    insert into chat_messages (message_id, chat_id, user_id, user_first_name, username, role, content,
                               timestamp, reply_to_message_id, agent_id)
    select message_id + 1000000000, chat_id, user_id, user_first_name, username, role, content,
           timestamp, reply_to_message_id, agent_id
    from chat_messages order by id desc limit :n
    """
)


def refresh_ms(url: str, n_messages: int = REFRESH_NEW_MESSAGES) -> float:
    """An incremental refresh after `n_messages` new messages (copies of the newest ones under new
    message ids), timed inside one transaction that is then rolled back: the data set is unchanged."""
    engine = db.admin_engine(url)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(_COPY_NEWEST_MESSAGES, {"n": n_messages})
            started = time.perf_counter()
            rollups.refresh_in_transaction(conn)
            elapsed = (time.perf_counter() - started) * 1000
            transaction.rollback()
    finally:
        engine.dispose()
    return elapsed


EXPORT_ROWS = 1_000_000
EXPORT_MEMORY_BUDGET_MB = 200


def export_memory(url: str, rows: int = EXPORT_ROWS) -> dict:
    """A CSV download of `rows` messages (the busiest chat's transcript) from a freshly started
    server, through the page's link as a signed-in browser follows it (dashboard/export_probe.py):
    rows received, file size, seconds and the rise of the server's peak resident memory."""
    if not Path(app_server.CHROMIUM).exists():
        raise BenchError(
            f"{app_server.CHROMIUM} is missing: the export probe signs in with Debian's chromium"
        )
    found = subprocess.run(
        [sys.executable, "-m", "dashboard.export_probe", url, str(rows)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
    )
    if found.returncode != 0:
        raise BenchError(f"the export probe failed: {found.stderr.strip().splitlines()[-1:]}")
    return json.loads(found.stdout.strip().splitlines()[-1])


def budget_checks(results: dict) -> list[Budget]:
    rows = results["views"]
    checks = [
        _over(
            [(row["name"], row["cold_ms"]) for row in rows if row["range"] == range_],
            limit,
            f"view cold_ms, {range_} ≤ {limit:,} ms",
        )
        for range_, limit in VIEW_COLD_BUDGET_MS.items()
    ]
    checks.append(
        _over(
            [(f"{row['name']} {row['range']}", row["warm_ms"]) for row in rows],
            VIEW_WARM_BUDGET_MS,
            f"view warm_ms ≤ {VIEW_WARM_BUDGET_MS} ms",
        )
    )
    checks.append(_speedup([row for row in rows if row["range"] == "all" and row["naive_ms"] is not None]))
    pages = results["pages"]
    checks.append(
        _over(
            [(p["path"], p["cold_ms"]) for p in pages],
            PAGE_COLD_BUDGET_MS,
            f"page cold_ms ≤ {PAGE_COLD_BUDGET_MS:,} ms",
        )
    )
    checks.append(
        _over(
            [(p["path"], p["warm_ms"]) for p in pages],
            PAGE_WARM_BUDGET_MS,
            f"page warm_ms ≤ {PAGE_WARM_BUDGET_MS:,} ms",
        )
    )
    refresh = results.get("refresh_10k_ms")
    if refresh is not None:
        label = f"refresh after {REFRESH_NEW_MESSAGES:,} new messages ≤ {REFRESH_BUDGET_MS:,} ms"
        checks.append(Budget(label, refresh <= REFRESH_BUDGET_MS, f"{refresh:,.0f} ms"))
    if (exported := results.get("export")) is not None:
        label = f"CSV export of {exported['rows']:,} rows raises memory ≤ {EXPORT_MEMORY_BUDGET_MB} MB"
        ok = exported["rss_increase_mb"] <= EXPORT_MEMORY_BUDGET_MB
        checks.append(Budget(label, ok, f"{exported['rss_increase_mb']:,.0f} MB"))
    from dashboard import load_run  # it imports this module

    if (load := results.get("load")) is not None:
        checks += load_run.budgets(load)
    if (back_to_back := results.get("load_back_to_back")) is not None:
        checks += load_run.budgets(back_to_back, p95=False, label="load back to back")
    rss = results["server_rss_mb"]
    label = f"server_rss_mb ≤ {SERVER_RSS_BUDGET_MB}"
    if rss is None:
        checks.append(Budget(label, None, "not measured (--skip-server)"))
    else:
        checks.append(Budget(label, rss <= SERVER_RSS_BUDGET_MB, f"{rss:,.0f} MB"))
    return checks


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def markdown(results: dict, checks: list[Budget]) -> str:
    lines = [
        f"## Lillo Dashboard bench — {results['scale']} ({results['messages']:,} messages)",
        "",
        "| view | range | variant | cold ms | warm ms | naive ms | naive / cold |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in results["views"]:
        ratio = "–" if row["naive_ms"] is None else f"{row['naive_ms'] / max(row['cold_ms'], 0.001):.1f}x"
        lines.append(
            f"| {row['name']} | {row['range']} | {row['variant']} | {_ms(row['cold_ms'])} "
            f"| {_ms(row['warm_ms'])} | {_ms(row['naive_ms'])} | {ratio} |"
        )
    lines += ["", "| page | cold ms | warm ms |", "|---|---:|---:|"]
    lines += [f"| {p['path']} | {_ms(p['cold_ms'])} | {_ms(p['warm_ms'])} |" for p in results["pages"]]
    rss = results["server_rss_mb"]
    lines += ["", f"Server RSS: {'not measured' if rss is None else f'{rss:,.0f} MB'}"]
    if (refresh := results.get("refresh_10k_ms")) is not None:
        lines.append(f"Refresh after {REFRESH_NEW_MESSAGES:,} new messages: {refresh:,.0f} ms")
    if (exported := results.get("export")) is not None:
        lines.append(
            f"CSV export of {exported['rows']:,} rows ({exported['file_mb']:,.0f} MB): "
            f"{exported['seconds']:,.1f} s, peak memory +{exported['rss_increase_mb']:,.0f} MB"
        )
    if "load" in results:
        from dashboard import load_run

        lines += load_run.markdown_lines(results["load"])
        if results.get("load_back_to_back") is not None:
            lines += ["", *load_run.markdown_lines(results["load_back_to_back"])]
    lines.append("")
    lines += [f"- {note}" for note in results["notes"]]
    lines.append("")
    verdict = {True: "PASS", False: "FAIL", None: "SKIP"}
    lines += [f"{verdict[check.ok]}  {check.budget} — {check.detail}" for check in checks]
    return "\n".join(lines)


def results_for(
    scale: int, views_: list[ViewTiming], pages: list[PageTiming], rss: float | None, notes: list[str]
) -> dict:
    return {
        "scale": scale_label(scale),
        "messages": scale,
        "views": [_rounded(asdict(timing)) for timing in views_],
        "pages": [_rounded(asdict(timing)) for timing in pages],
        "server_rss_mb": None if rss is None else round(rss, 1),
        "notes": notes,
    }


def _rounded(row: dict) -> dict:
    """Milliseconds to 0.01: finer digits are noise."""
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}


def default_json_path(scale: int) -> Path:
    return RESULTS_DIR / f"bench-{scale_label(scale)}.json"


def run(
    scale: int,
    *,
    data_dir: Path,
    json_path: Path | None = None,
    skip_server: bool = False,
    load_sessions: int | None = None,
    load_seconds: float | None = None,
    progress: Callable[[str], None] = print,
) -> list[Budget]:
    """Build or reuse the data set, measure, write the JSON, print the table; returns the checks."""
    url = bench_database(scale, data_dir, progress=progress)
    notes = [
        f"Median of {RUNS} runs. cold_ms: the app's path with its cache empty, on a new connection; "
        "PostgreSQL's buffer cache is warm after the data build.",
        "warm_ms: views.fetch answered from st.cache_data (bare mode, in-memory store as in a server).",
    ]
    if scale != BUDGET_SCALE:
        notes.append(f"Budgets are set for {BUDGET_SCALE:,} messages; this run has {scale:,}.")
    progress("Timing views…")
    view_rows = view_timings(url, progress=progress)
    limit = app_statement_timeout_ms()
    notes += [
        f"{row.name} {row.range}: cold {row.cold_ms:,.0f} ms is over the app's statement timeout "
        f"({limit:,} ms), so its page shows a timeout notice instead"
        for row in view_rows
        if row.cold_ms > limit
    ]
    progress("Timing pages…")
    page_rows = page_timings(url, notes=notes)
    # The pages ran in this process: its idle pooled connections would count as the served app's.
    from dashboard import runtime

    runtime.close_connections()
    rss = None
    if not skip_server:
        progress("Measuring server memory in Chromium…")
        rss = server_rss_mb(url, notes=notes, progress=progress)
    loads: dict[str, dict | None] = {"load": None, "load_back_to_back": None}
    if not skip_server and load_sessions != 0:
        from dashboard import load_run

        sessions, seconds = load_sessions or load_run.SESSIONS, load_seconds or load_run.SECONDS
        for key, think_s in (("load", load_run.THINK_S), ("load_back_to_back", (0.0, 0.0))):
            progress(
                f"Load run: {sessions} websocket sessions for {seconds:,.0f} s, {load_run.pacing(think_s)}…"
            )
            loads[key] = load_run.load_run(
                url, sessions=sessions, seconds=seconds, think_s=think_s, notes=notes, progress=progress
            )
    results = results_for(scale, view_rows, page_rows, rss, notes) | loads
    progress(f"Timing a refresh after {REFRESH_NEW_MESSAGES:,} new messages (rolled back)…")
    refresh_runs = [round(refresh_ms(url), 1) for _ in range(RUNS)]
    results["refresh_10k_ms"] = statistics.median(refresh_runs)
    results["refresh_10k_runs_ms"] = refresh_runs
    progress(f"Exporting {EXPORT_ROWS:,} rows to CSV in a fresh process…")
    results["export"] = export_memory(url)
    checks = budget_checks(results)
    results["budgets"] = [asdict(check) for check in checks]
    path = json_path or default_json_path(scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    progress(markdown(results, checks))
    progress(f"\nWrote {path}")
    return checks
