"""The bench's load run: its arithmetic and verdicts on made-up samples with answers worked out by
hand, its reading of Streamlit's messages on hand-built ones, and against the app served on a small
demo database: one websocket session rendering pages, and one short real run of a few sessions."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.TextInput_pb2 import TextInput

from dashboard import bench, db, load_run
from dashboard.load_run import READER, SIGN_IN_FORM, WRITER, Render, ServerSamples, Visitor
from tests.databases import prepared


def test_percentiles_by_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0]
    assert load_run.percentile(values, 50) == 5.0  # ceil(0.5 * 10) = 5th smallest
    assert load_run.percentile(values, 95) == 10.0  # ceil(9.5) = 10th
    assert load_run.percentile(values, 90) == 9.0  # ceil(9.0) = 9th
    assert load_run.percentile([7.0], 95) == 7.0
    assert load_run.percentile([], 50) is None
    twenty = [float(n) for n in range(1, 21)]
    assert load_run.percentile(twenty, 95) == 19.0  # ceil(19.0) = 19th


def test_pool_limits_are_the_engines_pool_plus_overflow():
    assert load_run.pool_limits() == {READER: db.POOL_SIZE + db.POOL_OVERFLOW, WRITER: 4}


def _summary(renders, samples=None, think_s=(2.0, 8.0)) -> dict:
    samples = samples or ServerSamples(
        connections={READER: 6, WRITER: 1, "lillo-dashboard-admin": 1},
        pooled_total=7,
        active=3,
        rss_peak_mb=612.34,
        rss_end_mb=600.0,
        cpu_s={"server": 60.0, "database": 30.0, "load clients": 6.0, "machine": 200.0},
        seconds=120.0,
        load_average=(1.5, 2.4),
    )
    # Through JSON, as the bench writes it.
    found = load_run.summary(renders, samples, sessions=3, seconds=120, cores=2, think_s=think_s)
    return json.loads(json.dumps(found))


RENDERS = [
    Render("/", 1000.0, title_ms=400.0),
    Render("/", 3000.0, title_ms=2500.0),
    Render("/", 2000.0, title_ms=900.0),
    Render("/people", 500.0, title_ms=300.0),
    Render("/people", 61000.0, "/people: timeout"),
]


def test_summary_counts_renders_errors_and_times_per_page():
    found = _summary(RENDERS)
    assert (found["renders"], found["errors"]) == (5, 1)
    # Sorted: 500, 1000, 2000, 3000, 61000 — p50 the 3rd, p95 the 5th.
    assert (found["p50_ms"], found["p95_ms"], found["max_ms"]) == (2000.0, 61000.0, 61000.0)
    home = {"renders": 3, "errors": 0, "p50_ms": 2000.0, "p95_ms": 3000.0, "max_ms": 3000.0}
    home |= {"title_p50_ms": 900.0, "title_p95_ms": 2500.0}
    assert found["pages"]["/"] == home
    assert found["pages"]["/people"]["errors"] == 1 and found["pages"]["/people"]["p50_ms"] == 500.0
    # The timed-out render never showed a title: 300, 400, 900, 2500 remain.
    assert (found["title_p50_ms"], found["title_p95_ms"]) == (400.0, 2500.0)
    assert found["pages"]["/people"]["title_p95_ms"] == 300.0
    assert found["error_samples"] == ["/people: timeout"]
    assert found["connections"]["peak"] == {READER: 6, WRITER: 1, "lillo-dashboard-admin": 1}
    assert found["connections"]["pool_limit"] == db.POOL_SIZE + db.POOL_OVERFLOW + 4
    assert found["server_rss_mb"] == {"peak": 612.3, "end": 600.0}
    # 120 s on 2 cores = 240 CPU seconds; other = 200 - (60 + 30 + 6) = 104.
    assert found["cpu_percent_of_machine"] == {
        "server": 25.0,
        "database": 12.5,
        "load clients": 2.5,
        "machine": 83.3,
        "other": 43.3,
    }
    # 5 renders: 60 / 5, 30 / 5, 6 / 5.
    assert found["cpu_s_per_render"] == {"server": 12.0, "database": 6.0, "load clients": 1.2}
    assert found["load_average_1m"] == [1.5, 2.4]
    assert (found["think_s"], found["renders_per_s"]) == ([2.0, 8.0], 0.04)  # 5 renders in 120 s


def test_budgets_fail_on_errors_slow_p95_and_pool_overrun():
    checks = load_run.budgets(_summary(RENDERS))
    assert [check.ok for check in checks] == [False, False, True]
    assert "61,000" in checks[0].detail and "1 of 5: /people: timeout" in checks[1].detail

    fast = [Render("/", 2900.0), Render("/people", 3000.0)]
    over = ServerSamples(connections={READER: 11, WRITER: 0}, pooled_total=11)
    checks = load_run.budgets(_summary(fast, over))
    # p95 of two is the larger: 3,000 ms is within the budget; 11 reader connections are not.
    assert [check.ok for check in checks] == [True, True, False]
    assert "reader 11" in checks[2].detail


def test_the_back_to_back_run_budgets_errors_and_pools_but_reports_times():
    found = _summary(RENDERS, think_s=(0.0, 0.0))
    checks = load_run.budgets(found, p95=False, label="load back to back")
    assert [check.budget.split(":")[0] for check in checks] == ["load back to back"] * 2
    assert [check.ok for check in checks] == [False, True]
    assert "back to back: 5 renders (0.0/s)" in "\n".join(load_run.markdown_lines(found))

    people = _summary([Render("/", 900.0)])
    results = bench.results_for(20_000, [], [], None, []) | {"load": people, "load_back_to_back": found}
    table = bench.markdown(results, bench.budget_checks(results))
    assert "PASS  load: p95 render ≤ 3,000 ms at 3 sessions, 2–8 s think time" in table
    assert "FAIL  load back to back: no render errors — 1 of 5" in table
    assert "p95 render ≤ 3,000 ms at 3 sessions, back to back" not in table
    assert "| /people | 2 | 1 | 500 | 61,000 | 300 |" in table  # the back-to-back run's pages


class _CountingVisitor:
    """Stands in for a websocket session: records when each render was asked for."""

    def __init__(self):
        self.asked: list[tuple[float, str]] = []

    async def render(self, path: str, query: str) -> Render:
        self.asked.append((time.monotonic(), path))
        return Render(path, 1.0, title="t")


def test_sessions_pause_a_think_time_between_pages_and_stop_before_the_deadline():
    visitor, renders = _CountingVisitor(), []
    started = time.monotonic()
    pages = ["/", "/people", "/agents"]
    asyncio.run(load_run._session(1, visitor, pages, [{}], started + 0.5, renders, (0.1, 0.15)))
    times = [started] + [at for at, _path in visitor.asked]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 0.5 s of 0.1-0.15 s pauses: 3 or 4 renders, each after a pause, none after the deadline.
    assert 3 <= len(renders) <= 4 and all(gap >= 0.1 for gap in gaps), gaps
    assert times[-1] < started + 0.5
    # Session 1 starts on the second page and goes round in order.
    assert [path for _at, path in visitor.asked][:3] == ["/people", "/agents", "/"]


def test_no_renders_is_not_a_pass():
    checks = load_run.budgets(_summary([], ServerSamples()))
    assert [check.ok for check in checks] == [False, False, True]


def test_report_lines_and_the_bench_markdown():
    found = _summary(RENDERS)
    text = "\n".join(load_run.markdown_lines(found))
    assert "3 websocket sessions for 120 s, 2–8 s think time: 5 renders (0.0/s), 1 errors" in text
    assert "p50 2,000, p95 61,000" in text
    assert f"{READER} 6/10" in text and "pooled total 7 / 14" in text and "lillo-dashboard-admin 1" in text
    assert "| /people | 2 | 1 | 500 | 61,000 | 300 |" in text
    assert "(to the page title: p50 400, p95 2,500)" in text and "load average 1.5 → 2.4" in text
    assert load_run.markdown_lines(None) == ["Load run: not measured"]

    results = bench.results_for(20_000, [], [], None, []) | {"load": found}
    checks = bench.budget_checks(results)
    table = bench.markdown(results, checks)
    assert "FAIL  load: p95 render ≤ 3,000 ms at 3 sessions, 2–8 s think time" in table
    assert "| /people | 2 | 1 | 500 | 61,000 | 300 |" in table


def _element(path: tuple[int, ...] = (0, 1)) -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.delta_path.extend(path)
    return msg


def _alert(format_, body: str) -> ForwardMsg:
    msg = _element()
    msg.delta.new_element.alert.format = format_
    msg.delta.new_element.alert.body = body
    return msg


def test_errors_are_exceptions_error_and_warning_notices_the_sign_in_form_and_lost_pages():
    exception = _element()
    exception.delta.new_element.exception.type = "KeyError"
    exception.delta.new_element.exception.message = "'agent_id'"
    assert load_run.problem_in(exception) == "KeyError: 'agent_id'"
    timeout = "Query took longer than 10 s — narrow the date range"
    assert load_run.problem_in(_alert(Alert.WARNING, timeout)) == timeout
    assert load_run.problem_in(_alert(Alert.ERROR, " Database unavailable ")) == "Database unavailable"
    password = _element()
    password.delta.new_element.text_input.label = "Password"
    password.delta.new_element.text_input.type = TextInput.PASSWORD
    assert load_run.problem_in(password) == SIGN_IN_FORM
    lost = ForwardMsg()
    lost.page_not_found.page_name = "nowhere"
    assert load_run.problem_in(lost) == "page not found (nowhere)"
    broken = ForwardMsg(script_finished=ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
    assert load_run.problem_in(broken) == "the script did not compile"


def test_info_notices_captions_plain_inputs_and_a_finished_run_are_not_errors():
    assert load_run.problem_in(_alert(Alert.INFO, "Unknown range 'x'; showing the last 30 days.")) is None
    caption = _element()
    caption.delta.new_element.markdown.body = "No data in this range."
    assert load_run.problem_in(caption) is None
    username = _element()
    username.delta.new_element.text_input.label = "Chat id"
    assert load_run.problem_in(username) is None
    assert load_run.problem_in(ForwardMsg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY)) is None


def test_the_title_is_the_main_areas_h1_and_pages_map_to_their_script_hashes():
    title = _element((0, 1))
    title.delta.new_element.heading.tag = "h1"
    title.delta.new_element.heading.body = "Overview"
    assert load_run.title_in(title) == "Overview"
    in_sidebar = _element((1, 0))
    in_sidebar.delta.new_element.heading.CopyFrom(title.delta.new_element.heading)
    subheader = _element((0, 4))
    subheader.delta.new_element.heading.tag = "h3"
    subheader.delta.new_element.heading.body = "Busiest chats"
    assert load_run.title_in(in_sidebar) is None and load_run.title_in(subheader) is None

    navigation = ForwardMsg()
    navigation.navigation.app_pages.add(page_script_hash="aaa", page_name="Overview", is_default=True)
    navigation.navigation.app_pages.add(page_script_hash="bbb", page_name="People", url_pathname="people")
    assert load_run.page_hashes(navigation) == {"/": "aaa", "/people": "bbb"}


@pytest.fixture(scope="module")
def load_db(new_database) -> str:
    return prepared(new_database("load"), demo=True)


@pytest.fixture(scope="module")
def served(load_db):
    """The app served on the load database with an admin account: (base URL, sign-in cookie)."""
    with bench.bench_admin() as admin, bench.streamlit_server(load_db) as (base, _process):
        yield base, load_run.session_cookie(load_db, admin["username"])


async def _renders(base: str, cookie: str, visits: list[tuple[str, str]]) -> list[Render]:
    visitor = Visitor(base, cookie)
    try:
        return [await visitor.render(path, query, timeout_s=180) for path, query in visits]
    finally:
        await visitor.close()


def test_a_websocket_session_renders_pages_as_the_browser_asks_for_them(served):
    base, cookie = served
    visits = [("/", "range=7d&bucket=day"), ("/people", "range=all"), ("/", "range=30d&tz=Europe%2FBerlin")]
    overview, people, again = asyncio.run(_renders(base, cookie, visits))
    assert (overview.error, overview.title) == (None, "Overview")
    assert 0 < overview.title_ms <= overview.ms
    # After the first run the session knows the pages' script hashes and switches by them.
    assert (people.error, people.title) == (None, "People")
    assert (again.error, again.title) == (None, "Overview")


def test_a_session_counts_what_the_page_shows_as_an_error(served):
    base, cookie = served
    # The query string reaches st.query_params: a chat id that is not one is refused with a warning.
    (bad_chat,) = asyncio.run(_renders(base, cookie, [("/conversations", "chat=abc")]))
    assert bad_chat.title == "Conversations"
    assert bad_chat.error.startswith("/conversations: “abc” is not a chat id")
    (signed_out,) = asyncio.run(_renders(base, "forged.cookie", [("/", "")]))
    assert signed_out.error == f"/: {SIGN_IN_FORM}"


def test_a_short_real_run_renders_without_errors_within_the_pools(load_db):
    notes: list[str] = []
    found = load_run.load_run(
        load_db, sessions=3, seconds=15, think_s=(0.0, 0.0), notes=notes, progress=lambda _line: None
    )
    assert found["renders"] > 0
    assert found["errors"] == 0, found["error_samples"]
    assert found["sessions"] == 3
    assert 0 < found["p50_ms"] <= found["p95_ms"] <= found["max_ms"]
    assert 0 < found["title_p50_ms"] <= found["p50_ms"]
    assert set(found["pages"]) == {page.path for page in bench.navigation_pages()}
    connections = found["connections"]
    assert 0 < connections["peak"][READER] <= connections["pool_limits"][READER]
    assert connections["peak_pooled"] <= connections["pool_limit"]
    assert found["server_rss_mb"]["peak"] >= found["server_rss_mb"]["end"] > 0
    assert found["cpu_percent_of_machine"]["server"] > 0
    assert not [note for note in notes if "sampler stopped" in note]
