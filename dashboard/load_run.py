"""The load run of `make bench`: SESSIONS people at once, each a Streamlit session of their own
signed in as an admin, opening every page of the served app in turn with filter settings picked at
random for SECONDS — pausing a think time from THINK_S between pages as a person reading them does,
or back to back to measure what the machine can serve.

A session is what a browser tab is to the server: one websocket to /_stcore/stream speaking
Streamlit's own protocol, with the sign-in cookie in its handshake (st.context.cookies reads it
there). Opening a page is what following a link with a query does in the browser: a `rerun_script`
BackMsg whose ClientState names the page (its script hash, from the app's `navigation` message;
the first request on a connection names it by URL path, as opening a URL does) and carries the
query string the filter bar reads through st.query_params. No browser draws anything: visitors
draw pages on machines of their own, so on the bench machine a browser per session would only
measure the browsers.

A render is timed from sending the request to its run's `script_finished`. It is an error when it
takes over RENDER_TIMEOUT_S, the connection drops, the run ends otherwise than successfully, the
page is not found, no page title came, or it shows an exception, an error notice or a warning
notice (the app warns only when a view could not be read: statement timeout, database trouble,
refused write) or the sign-in form. Captions such as "No data in this range." and info notices are
legitimate answers. After a timeout or a drop the session reconnects, as a person would reload.

While the sessions run, a sampler thread records every SAMPLE_EVERY_S the database connections
the app holds (pg_stat_activity by application_name, through a connection of its own named
otherwise), the server's resident memory, and the CPU time of the server, the database and this
process (the load clients), so a slow run says who used the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import sqlalchemy as sa
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.TextInput_pb2 import TextInput
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from dashboard import bench, db
from dashboard.signin import COOKIE_NAME

SESSIONS = 30
SECONDS = 120
FILTER_SETTINGS = 50
RENDER_TIMEOUT_S = 60
# The first render of the app in a fresh server imports the pages and fills the caches.
FIRST_RENDER_TIMEOUT_S = 180
CONNECT_TIMEOUT_S = 30
SAMPLE_EVERY_S = 0.5
HEARTBEAT_S = 15
# What a person spends reading a page before opening the next: each pause is drawn from this range.
THINK_S = (2.0, 8.0)
P95_BUDGET_MS = 3_000

READER = "lillo-dashboard-reader"
WRITER = "lillo-dashboard-writer"
SAMPLER = "lillo-bench-load-sampler"  # not matched by 'lillo-dashboard%': it does not count itself
SIGN_IN_FORM = "the sign-in form instead of the page"

_CONNECTIONS_SQL = sa.text(
    """
    select application_name, count(*) as n, count(*) filter (where state = 'active') as n_active
    from pg_stat_activity
    where datname = current_database() and application_name like 'lillo-dashboard%'
      -- A parallel query's workers carry its application_name but hold no connection of the pool.
      and backend_type = 'client backend'
    group by application_name
    """
)


@dataclass(frozen=True)
class Render:
    path: str
    ms: float  # the rerun request sent to its script run finished
    error: str | None = None
    # To the page's title arriving: app.py's gate, database check and filter bar done, the page's
    # own script begun. None when no title came.
    title_ms: float | None = None
    title: str | None = None


@dataclass
class ServerSamples:
    """What the sampler saw: peaks over the run, CPU seconds per process group."""

    connections: dict[str, int] = field(default_factory=dict)  # peak per application_name
    pooled_total: int = 0  # peak of reader + writer connections in one sample
    active: int = 0  # peak of connections running a statement in one sample
    rss_peak_mb: float = 0.0
    rss_end_mb: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    samples: int = 0
    load_average: tuple[float, float] | None = None  # the machine's 1-minute load at start and end


# --- Pure parts: percentiles, the summary, budgets, the report ---------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank q-th percentile: the smallest value with at least q % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def _times(renders: list[Render]) -> dict:
    values = [r.ms for r in renders]
    titles = [r.title_ms for r in renders if r.title_ms is not None]
    return {
        "renders": len(renders),
        "errors": sum(r.error is not None for r in renders),
        "p50_ms": _round(percentile(values, 50)),
        "p95_ms": _round(percentile(values, 95)),
        "max_ms": _round(max(values, default=None)),
        "title_p50_ms": _round(percentile(titles, 50)),
        "title_p95_ms": _round(percentile(titles, 95)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def pool_limits() -> dict[str, int]:
    """Connections each of the app's pooled engines may hold: pool size plus overflow, read from
    engines built as the app builds them (building one connects nothing)."""
    url = "postgresql+psycopg://nobody@localhost/nothing"
    limits = {}
    for name, engine in (
        (READER, db.reader_engine(url, statement_timeout_ms=1)),
        (WRITER, db.writer_engine(url, statement_timeout_ms=1)),
    ):
        limits[name] = engine.pool.size() + engine.pool._max_overflow  # no public getter for overflow
        engine.dispose()
    return limits


def summary(
    renders: list[Render],
    samples: ServerSamples,
    *,
    sessions: int,
    seconds: float,
    cores: int,
    think_s: tuple[float, float] = (0.0, 0.0),
) -> dict:
    """The load run's results as the bench JSON holds them."""
    limits = pool_limits()
    errors = [r.error for r in renders if r.error is not None]
    pages = sorted({r.path for r in renders})
    window = max(samples.seconds, 0.001) * cores
    cpu_s = dict(samples.cpu_s)
    if "machine" in cpu_s:
        # The machine's busy time beyond the run's own processes: other work sharing it.
        cpu_s["other"] = max(cpu_s["machine"] - sum(v for k, v in cpu_s.items() if k != "machine"), 0.0)
    return {
        "sessions": sessions,
        "seconds": seconds,
        "think_s": list(think_s),
        "renders_per_s": round(len(renders) / max(seconds, 0.001), 2),
        **_times(renders),
        "error_samples": list(dict.fromkeys(errors))[:5],
        "pages": {path: _times([r for r in renders if r.path == path]) for path in pages},
        "connections": {
            "peak": dict(sorted(samples.connections.items())),
            "peak_pooled": samples.pooled_total,
            "peak_active": samples.active,
            "pool_limits": limits,
            "pool_limit": sum(limits.values()),
        },
        "server_rss_mb": {"peak": round(samples.rss_peak_mb, 1), "end": round(samples.rss_end_mb, 1)},
        "cpu_percent_of_machine": {k: round(100 * v / window, 1) for k, v in cpu_s.items()},
        "cpu_s_per_render": {
            k: round(v / len(renders), 2)
            for k, v in cpu_s.items()
            if renders and k in ("server", "database", "load clients")
        },
        "cores": cores,
        "load_average_1m": list(samples.load_average) if samples.load_average else None,
    }


def pacing(think_s: tuple[float, float]) -> str:
    """How the sessions paced their pages: a think time such as '2-8 s', or 'back to back'."""
    low, high = think_s
    return f"{low:g}–{high:g} s think time" if high > 0 else "back to back"


def budgets(load: dict, *, p95: bool = True, label: str = "load") -> list[bench.Budget]:
    """Errors and the app's connections against its pools; with `p95`, the p95 render time too
    (the back-to-back run measures capacity: its render times are reported, not budgeted)."""
    connections = load["connections"]
    peaks = ", ".join(f"{name} {n}" for name, n in connections["peak"].items()) or "none"
    limit = connections["pool_limit"]
    checks = []
    if p95:
        checks.append(
            bench.Budget(
                f"{label}: p95 render ≤ {P95_BUDGET_MS:,} ms at {load['sessions']} sessions, "
                f"{pacing(load['think_s'])}",
                load["p95_ms"] is not None and load["p95_ms"] <= P95_BUDGET_MS,
                f"p95 {bench._ms(load['p95_ms'])} ms over {load['renders']:,} renders",
            )
        )
    return [
        *checks,
        bench.Budget(
            f"{label}: no render errors",
            load["renders"] > 0 and load["errors"] == 0,
            f"{load['errors']:,} of {load['renders']:,}"
            + (f": {load['error_samples'][0]}" if load["error_samples"] else ""),
        ),
        bench.Budget(
            f"{label}: pooled connections ≤ {limit} (reader + writer pools with overflow)",
            connections["peak_pooled"] <= limit
            and all(connections["peak"].get(name, 0) <= n for name, n in connections["pool_limits"].items()),
            f"peak {connections['peak_pooled']} ({peaks})",
        ),
    ]


def markdown_lines(load: dict | None) -> list[str]:
    if load is None:
        return ["Load run: not measured"]
    connections, rss = load["connections"], load["server_rss_mb"]
    limits = connections["pool_limits"]
    pooled = ", ".join(f"{name} {connections['peak'].get(name, 0)}/{n}" for name, n in limits.items())
    others = [f"{name} {n}" for name, n in connections["peak"].items() if name not in limits]
    cpu = ", ".join(f"{name} {share:.0f}%" for name, share in load["cpu_percent_of_machine"].items())
    machine_load = load.get("load_average_1m")
    lines = [
        f"Load run: {load['sessions']} websocket sessions for {load['seconds']:,.0f} s, "
        f"{pacing(load['think_s'])}: {load['renders']:,} renders ({load['renders_per_s']:,.1f}/s), "
        f"{load['errors']:,} errors; render ms "
        f"p50 {bench._ms(load['p50_ms'])}, p95 {bench._ms(load['p95_ms'])}, max {bench._ms(load['max_ms'])} "
        f"(to the page title: p50 {bench._ms(load['title_p50_ms'])}, p95 {bench._ms(load['title_p95_ms'])})",
        f"Load connections (peak / pool limit): {pooled}; pooled total {connections['peak_pooled']} / "
        f"{connections['pool_limit']}, {connections['peak_active']} active"
        + (f"; also {', '.join(others)}" if others else ""),
        f"Load server RSS: peak {rss['peak']:,.0f} MB, end {rss['end']:,.0f} MB",
        f"Load CPU, share of {load['cores']} cores: {cpu}; CPU s per render: "
        + (", ".join(f"{name} {v:.2f}" for name, v in load["cpu_s_per_render"].items()) or "–")
        + (f"; machine load average {machine_load[0]:.1f} → {machine_load[1]:.1f}" if machine_load else ""),
        "",
        "| load page | renders | errors | p50 ms | p95 ms | title p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {path} | {t['renders']:,} | {t['errors']:,} "
        f"| {bench._ms(t['p50_ms'])} | {bench._ms(t['p95_ms'])} | {bench._ms(t['title_p95_ms'])} |"
        for path, t in load["pages"].items()
    ]
    lines += [f"- load error: {error}" for error in load["error_samples"]]
    return lines


# --- The sampler --------------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Polls connections, server memory and CPU time until stopped."""

    def __init__(self, url: str, server_pid: int):
        super().__init__(name="load-sampler", daemon=True)
        self.url, self.server_pid = url, server_pid
        self.found = ServerSamples()
        self.problem: str | None = None
        self._stopping = threading.Event()
        self._cpu_first: dict[tuple[str, int, float], float] = {}
        self._cpu_last: dict[tuple[str, int, float], float] = {}

    def stop(self) -> ServerSamples:
        self._stopping.set()
        self.join(timeout=30)
        return self.found

    def run(self) -> None:
        import psutil

        engine = sa.create_engine(
            db.normalise_url(self.url),
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": db.CONNECT_TIMEOUT_S, "application_name": SAMPLER},
        )
        started = time.monotonic()
        load_at_start = os.getloadavg()[0]
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                database = _local_postmaster(conn)
                machine = psutil.cpu_times()
                while True:
                    self._sample(conn, database, started)
                    if self._stopping.wait(SAMPLE_EVERY_S):
                        break
                self._sample(conn, database, started)
                self.found.rss_end_mb = bench.process_rss_mb(self.server_pid)
                self.found.rss_peak_mb = max(self.found.rss_peak_mb, self.found.rss_end_mb)
                self.found.cpu_s["machine"] = _busy(psutil.cpu_times()) - _busy(machine)
                self.found.load_average = (load_at_start, os.getloadavg()[0])
        except Exception as error:  # noqa: BLE001 - reported with the results, never hides them
            self.problem = f"the load sampler stopped: {type(error).__name__}: {error}"
        finally:
            engine.dispose()
            self.found.seconds = time.monotonic() - started

    def _sample(self, conn: sa.Connection, database, started: float) -> None:
        found = self.found
        rows = conn.execute(_CONNECTIONS_SQL).all()
        for name, n, _ in rows:
            found.connections[name] = max(found.connections.get(name, 0), n)
        found.pooled_total = max(
            found.pooled_total, sum(n for name, n, _ in rows if name in (READER, WRITER))
        )
        found.active = max(found.active, sum(active for *_, active in rows))
        found.rss_peak_mb = max(found.rss_peak_mb, bench.process_rss_mb(self.server_pid))
        found.samples += 1
        self._count_cpu(database, started)

    def _count_cpu(self, database, started: float) -> None:
        """CPU seconds per group since the run began: a process seen first after the start counts
        from its birth, one that ends meanwhile keeps what it had used at its last sample."""
        import psutil

        server = psutil.Process(self.server_pid)
        groups = {"server": [server, *server.children(recursive=True)]}
        if database is not None:
            groups["database"] = [database, *database.children()]
        # This process runs the sessions' websocket clients (and the sampler); anything else it
        # started besides the server and the database counts with it.
        counted = {p.pid for processes in groups.values() for p in processes}
        others = [p for p in psutil.Process().children(recursive=True) if p.pid not in counted]
        groups["load clients"] = [psutil.Process(), *others]
        wall_start = time.time() - (time.monotonic() - started)
        for group, processes in groups.items():
            for process in processes:
                try:
                    with process.oneshot():
                        times, born = process.cpu_times(), process.create_time()
                except psutil.Error:
                    continue
                key = (group, process.pid, born)
                used = times.user + times.system
                self._cpu_first.setdefault(key, used if born < wall_start else 0.0)
                self._cpu_last[key] = used
        totals: dict[str, float] = dict.fromkeys(groups, 0.0)
        for key, used in self._cpu_last.items():
            totals[key[0]] = totals.get(key[0], 0.0) + used - self._cpu_first[key]
        self.found.cpu_s = totals | {k: v for k, v in self.found.cpu_s.items() if k == "machine"}


def _local_postmaster(conn: sa.Connection):
    """The database server's main process when it runs on this machine (its backends are its
    children), else None."""
    import psutil

    backend = conn.execute(sa.text("select pg_backend_pid()")).scalar_one()
    try:
        parent = psutil.Process(backend).parent()
    except psutil.Error:
        return None
    return parent if parent is not None and "postgres" in parent.name() else None


def _busy(times) -> float:
    """CPU seconds spent working (guest time is already inside user time)."""
    fields = ("user", "nice", "system", "irq", "softirq", "steal")
    return sum(getattr(times, name, 0.0) for name in fields)


# --- The sessions ----------------------------------------------------------------------------------


def session_cookie(url: str, username: str) -> str:
    """The sign-in cookie the app sets after `username` signs in through its form, made the way
    the app makes it: its own auth configuration, read with the served app's database setting, so
    it is signed with the key the server checks."""
    from dashboard import auth, signin

    with bench.app_database(url):
        config = signin.auth_config()
    return auth.session_token(config, auth.User(username, "admin", time.time()))


def problem_in(msg: ForwardMsg) -> str | None:
    """What a ForwardMsg shows that makes its render an error, or None."""
    kind = msg.WhichOneof("type")
    if kind == "page_not_found":
        return f"page not found ({msg.page_not_found.page_name or 'no name'})"
    if kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
        return "the script did not compile"
    if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None
    element = msg.delta.new_element
    shown = element.WhichOneof("type")
    if shown == "exception":
        return f"{element.exception.type}: {element.exception.message}".strip(": ")[:200]
    if shown == "alert" and element.alert.format in (Alert.ERROR, Alert.WARNING):
        return element.alert.body.strip()[:200]
    if shown == "text_input" and element.text_input.type == TextInput.PASSWORD:
        return SIGN_IN_FORM
    return None


def title_in(msg: ForwardMsg) -> str | None:
    """The page title (the main area's h1) a ForwardMsg draws, or None."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None
    element = msg.delta.new_element
    in_main = list(msg.metadata.delta_path[:1]) == [0]  # root containers: 0 main, 1 sidebar
    if in_main and element.WhichOneof("type") == "heading" and element.heading.tag == "h1":
        return element.heading.body
    return None


def page_hashes(msg: ForwardMsg) -> dict[str, str]:
    """URL path → page script hash, from the app's `navigation` message."""
    return {
        "/" if page.is_default else f"/{page.url_pathname}": page.page_script_hash
        for page in msg.navigation.app_pages
    }


class Visitor:
    """One person's browser tab as the server sees it: a websocket to the app's stream holding the
    sign-in cookie, so a Streamlit session of its own for as long as the connection lasts."""

    def __init__(self, base: str, cookie: str):
        self.base = base
        self.stream = "ws" + base.removeprefix("http") + "/_stcore/stream"
        self.cookie = cookie
        self.socket: ClientConnection | None = None
        self.hashes: dict[str, str] = {}

    async def connect(self) -> None:
        self.socket = await connect(
            self.stream,
            origin=self.base,
            subprotocols=["streamlit"],
            additional_headers={"Cookie": f"{COOKIE_NAME}={self.cookie}"},
            # Pages send charts and tables whole; a browser has no message size limit either.
            max_size=None,
            ping_interval=None,
            proxy=None,
            open_timeout=CONNECT_TIMEOUT_S,
        )
        self.hashes = {}

    async def close(self) -> None:
        socket, self.socket = self.socket, None
        if socket is not None:
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(5):
                    await socket.close()

    def _request(self, path: str, query: str) -> bytes:
        state = ClientState(
            query_string=query,
            context_info=ContextInfo(
                timezone="UTC",
                timezone_offset=0,
                locale="en-US",
                url=f"{self.base}{path}?{query}",
                is_embedded=False,
                color_scheme="light",
            ),
        )
        state.widget_states.SetInParent()
        if path in self.hashes:
            state.page_script_hash = self.hashes[path]
        else:
            state.page_name = path.strip("/")
        return BackMsg(rerun_script=state).SerializeToString()

    async def render(self, path: str, query: str, timeout_s: float = RENDER_TIMEOUT_S) -> Render:
        """Open `path` with `query` and wait for its script run to finish."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                if self.socket is None:
                    await self.connect()
                await self.socket.send(self._request(path, query))
                return await self._finished(path, started)
        except TimeoutError:
            reason = "timeout"
        except ConnectionClosed as closed:
            reason = f"connection dropped ({closed.rcvd.code if closed.rcvd else 'no close frame'})"
        except (WebSocketException, OSError) as error:
            reason = f"cannot connect: {type(error).__name__}: {error}"[:200]
        # Whatever the server still sends for this run would muddle the next: start afresh.
        await self.close()
        return Render(path, (time.perf_counter() - started) * 1000, f"{path}: {reason}")

    async def _finished(self, path: str, started: float) -> Render:
        run_id = title = title_ms = None
        problems: list[str] = []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.socket.recv())
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                # Every run starts with one; what came before it ended the previous request.
                run_id = msg.metadata.run.script_run_id
                continue
            if run_id is None:
                continue
            if kind == "navigation":
                self.hashes = page_hashes(msg)
            if (problem := problem_in(msg)) is not None:
                problems.append(problem)
            if title is None and (title := title_in(msg)) is not None:
                title_ms = (time.perf_counter() - started) * 1000
            if kind != "script_finished" or msg.metadata.run.script_run_id not in ("", run_id):
                continue
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                run_id = None  # st.rerun: the run that follows is this render's
                continue
            if msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                continue
            break
        ms = (time.perf_counter() - started) * 1000
        if not problems and title is None:
            problems.append("no page title")
        return Render(path, ms, f"{path}: {problems[0]}" if problems else None, title_ms, title)


async def _session(
    index: int,
    visitor: Visitor,
    pages: list[str],
    queries: list[dict],
    deadline: float,
    renders: list[Render],
    think_s: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Every page in turn from a different first one per session, each with a random filter
    setting, until the deadline; appends to `renders` as it goes. Before each page the session
    pauses for a think time drawn uniformly from `think_s` (the first pause also staggers the
    sessions' starts); a pause that would end past the deadline ends the session."""
    rng = random.Random(bench.SEED + index)
    while True:
        pause = rng.uniform(*think_s)
        if time.monotonic() + pause >= deadline:
            return
        await asyncio.sleep(pause)
        path = pages[(index + len(renders)) % len(pages)]
        renders.append(await visitor.render(path, urlencode(rng.choice(queries), doseq=True)))


async def _first_render(base: str, cookie: str) -> Render:
    """The landing page once before the clock starts: it checks the cookie is honoured and lets the
    server import the pages, as its first visitor would."""
    visitor = Visitor(base, cookie)
    try:
        return await visitor.render("/", "", timeout_s=FIRST_RENDER_TIMEOUT_S)
    finally:
        await visitor.close()


async def _drive(
    base: str,
    cookie: str,
    *,
    sessions: int,
    seconds: float,
    pages: list[str],
    queries: list[dict],
    think_s: tuple[float, float],
    on_start: Callable[[], None],
    progress: Callable[[str], None],
) -> list[Render]:
    first = await _first_render(base, cookie)
    if first.title is None or (first.error or "").endswith(SIGN_IN_FORM):
        raise bench.BenchError(f"the load run's first render failed: {first.error}")
    progress(f"  first render {first.ms:,.0f} ms" + (f", with {first.error}" if first.error else ""))
    visitors = [Visitor(base, cookie) for _ in range(sessions)]
    found: list[list[Render]] = [[] for _ in visitors]
    try:
        await asyncio.gather(*(visitor.connect() for visitor in visitors))
        on_start()
        deadline = time.monotonic() + seconds
        running = asyncio.gather(
            *(_session(i, v, pages, queries, deadline, found[i], think_s) for i, v in enumerate(visitors))
        )
        while not running.done():
            await asyncio.wait([running], timeout=HEARTBEAT_S)
            renders = [r for rs in found for r in rs]
            errors = sum(r.error is not None for r in renders)
            progress(f"  {len(renders):,} renders, {errors:,} errors")
        running.result()
    finally:
        await asyncio.gather(*(visitor.close() for visitor in visitors), return_exceptions=True)
    return [render for renders in found for render in renders]


def load_run(
    url: str,
    *,
    sessions: int = SESSIONS,
    seconds: float = SECONDS,
    think_s: tuple[float, float] = THINK_S,
    notes: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> dict:
    """`sessions` signed-in websocket sessions rendering every page against a freshly started
    server on `url` for `seconds`; the summary (see `summary`)."""
    queries = bench.filter_combinations(bench.agent_ids(url), FILTER_SETTINGS, datetime.now(UTC))
    pages = [page.path for page in bench.navigation_pages()]
    with bench.bench_admin() as admin, bench.streamlit_server(url) as (base, process):
        cookie = session_cookie(url, admin["username"])
        sampler = Sampler(url, process.pid)

        def start() -> None:
            progress(f"  {sessions} sessions rendering for {seconds:,.0f} s…")
            sampler.start()

        try:
            renders = asyncio.run(
                _drive(
                    base,
                    cookie,
                    sessions=sessions,
                    seconds=seconds,
                    pages=pages,
                    queries=queries,
                    think_s=think_s,
                    on_start=start,
                    progress=progress,
                )
            )
        finally:
            samples = sampler.stop() if sampler.is_alive() else sampler.found
    if sampler.problem and notes is not None:
        notes.append(sampler.problem)
    found = summary(
        renders, samples, sessions=sessions, seconds=seconds, cores=os.cpu_count() or 1, think_s=think_s
    )
    if notes is not None:
        notes.append(
            f"Load run: {sessions} websocket clients speaking Streamlit's protocol (a session each, an "
            f"admin's sign-in cookie), each opening the {len(pages)} pages in turn with one of "
            f"{len(queries)} filter settings at random, {pacing(think_s)}; render time from the rerun "
            "request to its script run finished (to the page title: app.py's part done). "
            "No browser draws the pages."
        )
    return found
