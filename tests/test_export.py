"""CSV export: formula cells defused, comment header, row cap, streaming; the download grants (who
may download what, until when); the download route over real views (what write_csv writes, sent
in pieces, refused without the owner's sign-in); and the pages' links."""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import io
import json
import re
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from streamlit.testing.v1 import AppTest

from dashboard import auth, export, export_route, runtime, signin, transcript, views
from tests import fixture_data as fx
from tests.accounts import ACCOUNTS, signed_in

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def parse(text: str) -> tuple[list[str], list[dict]]:
    """The leading `# ` comment lines, and the rows (a last TRUNCATED comment left out)."""
    lines = text.split("\n")
    comments = []
    while lines and lines[0].startswith("# "):
        comments.append(lines.pop(0)[2:])
    body = "\n".join(line for line in lines if not line.startswith("# TRUNCATED"))
    return comments, list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, None),
        (datetime(2026, 3, 1, 12, 30), "2026-03-01 12:30:00"),
        ({"image": True, "name": "日本"}, '{"image": true, "name": "日本"}'),
        (["-x"], '["-x"]'),
    ],
)
def test_cells_are_inert_in_spreadsheets(value, shown):
    assert export.inert(value) == shown


def test_write_csv_has_comments_header_rows_and_round_trips_any_text():
    rows = [(1, "Ünïcødé 日本語 Кириллица", "=cmd|' /C calc'!A0"), (2, 'quote " and, comma\nnewline', None)]
    out = io.StringIO()
    written = export.write_csv(
        out, ["id", "text", "other"], rows, comments=["what", "filters: x"], row_cap=10
    )
    assert written == export.Written(2, False)
    comments, parsed = parse(out.getvalue())
    assert comments == ["what", "filters: x"]
    assert parsed == [
        {"id": "1", "text": "Ünïcødé 日本語 Кириллица", "other": "'=cmd|' /C calc'!A0"},
        {"id": "2", "text": 'quote " and, comma\nnewline', "other": ""},
    ]


def test_row_cap_truncates_and_says_so():
    out = io.StringIO()
    written = export.write_csv(out, ["n"], ((i,) for i in range(100)), comments=[], row_cap=7)
    assert written == export.Written(7, True)
    text = out.getvalue()
    assert len(parse(text)[1]) == 7
    assert text.rstrip().endswith("narrow the filters for the rest.")
    assert "TRUNCATED: only the first 7 rows" in text


def test_transform_applies_to_every_row():
    out = io.StringIO()
    export.write_csv(
        out, ["name"], [("Alice",), ("Bob",)], comments=[], row_cap=10, transform=lambda r: {"name": "person"}
    )
    assert [r["name"] for r in parse(out.getvalue())[1]] == ["person", "person"]


def test_writing_streams_rows_instead_of_holding_them():
    rows = ((i, f"message number {i} " * 5, i * 2.5) for i in range(200_000))
    sink = open("/dev/null", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    tracemalloc.start()
    try:
        export.write_csv(sink, ["id", "text", "value"], rows, comments=[], row_cap=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sink.close()
    assert peak < 5 * 2**20, f"peak {peak / 2**20:.1f} MB while writing 200,000 rows"


def test_file_name_names_the_view_filters_and_time():
    name = export.file_name(
        "top_chats", {"range": "7d", "agent": "a/b c", "tz": ""}, datetime(2026, 3, 1, 9, 5, 7, tzinfo=UTC)
    )
    assert name == "lillo_top_chats_range-7d_agent-a_b_c_asof-20260301T090507Z.csv"


def test_chunks_join_to_what_write_csv_writes_and_stay_small(monkeypatch):
    monkeypatch.setattr(export, "CHUNK_CHARS", 1_000)
    rows = [(i, f"=row {i} " * 20) for i in range(500)]
    written = export.Written()
    chunks = list(export.csv_chunks(["id", "text"], rows, comments=["c"], row_cap=400, written=written))
    out = io.StringIO()
    export.write_csv(out, ["id", "text"], rows, comments=["c"], row_cap=400)
    assert "".join(chunks) == out.getvalue()
    assert written == export.Written(400, True)
    assert len(chunks) > 50
    longest_row = max(len(f"{i},'=row {i} " * 20) for i in range(500)) + 10
    assert max(len(c) for c in chunks) <= 1_000 + longest_row


# --- Download grants: who may download what, and until when -----------------------------------------

NOW = 1_800_000_000.0


@pytest.fixture
def config(tmp_path) -> auth.AuthConfig:
    """Two password accounts, and every organisation (OIDC) account as a viewer."""
    accounts = {
        "ada": auth.Account("ada", "admin", "unused-hash"),
        "vic": auth.Account("vic", "viewer", "unused-hash"),
    }
    return auth.AuthConfig(
        accounts=accounts,
        oidc_roles={"*": "viewer"},
        oidc_enabled=True,
        cookie_key=b"k" * 32,
        data_dir=tmp_path,
    )


ADA = auth.User("ada", "admin", NOW - 60)
VIC = auth.User("vic", "viewer", NOW - 60)
SPEC = export.ViewExport("top_chats", {"limit": 10, "agent_ids": ["a"]}, {"range": "7d"}, 1_000)


def test_a_grant_is_redeemed_by_its_owner_only(config):
    grants = export_route.Grants()
    token = grants.offer(None, SPEC, ADA, NOW)
    assert len(token) >= 40  # 256 random bits
    assert grants.redeem(token, lambda owner: ADA, config, NOW + 1) == SPEC
    with pytest.raises(export_route.Refused) as other:
        grants.redeem(token, lambda owner: VIC, config, NOW + 1)
    assert other.value.status == 403 and "another account" in other.value.message
    with pytest.raises(export_route.Refused) as nobody:
        grants.redeem(token, lambda owner: None, config, NOW + 1)
    assert nobody.value.status == 403 and "Sign in" in nobody.value.message


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "../../etc/passwd"])
def test_an_unknown_or_forged_token_is_refused(config, token):
    grants = export_route.Grants()
    grants.offer(None, SPEC, ADA, NOW)
    with pytest.raises(export_route.Refused) as refused:
        grants.redeem(token, lambda owner: ADA, config, NOW)
    assert refused.value.status == 404


def test_a_grant_expires_ten_minutes_after_the_page_last_showed_it(config):
    grants = export_route.Grants()
    pseudonymised = dataclasses.replace(SPEC, transform=lambda row: row)
    token = grants.offer(None, pseudonymised, ADA, NOW)
    # A rerun showing the same file keeps the token and renews it.
    assert grants.offer(token, as_a_rerun_builds_it(pseudonymised), ADA, NOW + 500) == token
    assert grants.redeem(token, lambda owner: ADA, config, NOW + 500 + 599).same_file(pseudonymised)
    with pytest.raises(export_route.Refused) as expired:
        grants.redeem(token, lambda owner: ADA, config, NOW + 500 + 601)
    assert expired.value.status == 404 and "expired" in expired.value.message
    assert export_route.GRANT_TTL_S == 600


def as_a_rerun_builds_it(spec: export.ViewExport) -> export.ViewExport:
    """The same export as a new rerun builds it: new dicts and a new transform callable."""
    transform = (lambda row: row) if spec.transform else None
    return export.ViewExport(spec.name, dict(spec.params), dict(spec.parts), spec.row_cap, transform)


def test_other_filters_or_another_person_get_a_new_token_and_the_old_one_is_withdrawn(config):
    grants = export_route.Grants()
    token = grants.offer(None, SPEC, ADA, NOW)
    narrower = export.ViewExport("top_chats", {"limit": 10, "agent_ids": ["b"]}, {"range": "7d"}, 1_000)
    renewed = grants.offer(token, narrower, ADA, NOW + 1)
    assert renewed != token
    assert grants.redeem(renewed, lambda owner: ADA, config, NOW + 2) == narrower
    with pytest.raises(export_route.Refused):
        grants.redeem(token, lambda owner: ADA, config, NOW + 2)
    pseudonymised = dataclasses.replace(SPEC, transform=lambda row: row)
    assert grants.offer(renewed, pseudonymised, ADA, NOW + 3) != renewed
    assert grants.offer(renewed, narrower, VIC, NOW + 3) != renewed
    assert len(grants) == 2


def test_signing_out_or_a_role_change_ends_the_grant(config):
    grants = export_route.Grants()
    token = grants.offer(None, SPEC, ADA, NOW)
    demoted = auth.AuthConfig(
        accounts={"ada": auth.Account("ada", "viewer", "unused-hash")}, data_dir=config.data_dir
    )
    with pytest.raises(export_route.Refused) as changed:
        grants.redeem(token, lambda owner: ADA, demoted, NOW + 1)
    assert changed.value.status == 403
    auth.AuthState(config.data_dir).sign_out("ada", NOW + 2)
    with pytest.raises(export_route.Refused):
        grants.redeem(token, lambda owner: ADA, config, NOW + 3)


def test_grants_are_bounded(config):
    grants = export_route.Grants(max_grants=3)
    tokens = [grants.offer(None, SPEC, ADA, NOW + i) for i in range(5)]
    assert len(grants) == 3
    with pytest.raises(export_route.Refused):
        grants.redeem(tokens[0], lambda owner: ADA, config, NOW + 5)
    assert grants.redeem(tokens[-1], lambda owner: ADA, config, NOW + 5) == SPEC


def _request(cookie: str | None) -> Request:
    headers = [(b"cookie", cookie.encode("latin-1"))] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_the_sender_is_read_from_the_sign_in_cookie_of_the_owners_kind(config):
    now = time.time()
    ada = auth.User("ada", "admin", now - 60)
    good = f"{signin.COOKIE_NAME}={auth.session_token(config, ada)}"
    assert export_route.requester(_request(good), config, ada) == ada
    forged = auth.session_token(dataclasses.replace(config, cookie_key=b"another key" * 3), ada)
    assert export_route.requester(_request(f"{signin.COOKIE_NAME}={forged}"), config, ada) is None
    assert export_route.requester(_request(None), config, ada) is None

    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    claims = json.dumps({"is_logged_in": True, "email": "Eve@Example.org", "iat": now - 5})
    signed = create_signed_value(get_cookie_secret(), USER_COOKIE_NAME, claims).decode("latin-1")
    eve = auth.User("eve@example.org", "viewer", now - 5, "oidc")
    sender = export_route.requester(_request(f"{USER_COOKIE_NAME}={signed}"), config, eve)
    assert (sender.name.lower(), sender.role, sender.via) == ("eve@example.org", "viewer", "oidc")
    # An organisation grant is not redeemed with a password cookie, nor the other way round.
    assert export_route.requester(_request(good), config, eve) is None
    assert export_route.requester(_request(f"{USER_COOKIE_NAME}={signed}"), config, ada) is None


# --- The download route, over real views ------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    bodies: list[bytes]

    @property
    def text(self) -> str:
        return b"".join(self.bodies).decode("utf-8")


def get(path: str, cookie: str | None = None, *, disconnect_after: int | None = None) -> Answer:
    """GET `path` from the download route as uvicorn would call it; with `disconnect_after`, the
    client goes away after that many body messages."""
    app = Starlette(routes=export_route.routes())
    started: dict = {}
    bodies: list[bytes] = []
    headers = [(b"cookie", cookie.encode("latin-1"))] if cookie else []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8501),
    }

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            if disconnect_after is not None and len(bodies) >= disconnect_after:
                raise OSError("the client went away")
            bodies.append(message.get("body", b""))

    with contextlib.suppress(ClientDisconnect):
        anyio.run(app, scope, receive, send)
    return Answer(started["status"], {k.decode(): v.decode() for k, v in started["headers"]}, bodies)


@pytest.fixture
def served(monkeypatch, fixture_db):
    """The download route on the fixture database; yields a function that grants an export to the
    test's admin and returns (the route's path, the admin's cookie header)."""
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()
    config = signin.auth_config()
    admin = auth.User(ACCOUNTS["admin"]["username"], "admin", time.time() - 5)
    cookie = f"{signin.COOKIE_NAME}={auth.session_token(config, admin)}"

    def grant(spec: export.ViewExport, user: auth.User = admin) -> tuple[str, str]:
        token = export_route.grants().offer(None, spec, user, time.time())
        return f"/export/{token}.csv", cookie

    return grant


def _transcript_spec(row_cap: int, transform=None) -> export.ViewExport:
    params = {"chat_id": fx.GROUP_CHAT, "agent_ids": [], "tz": "UTC", "limit": row_cap} | transcript.NEWEST
    return export.ViewExport("chat_transcript", params, {"chat": str(fx.GROUP_CHAT)}, row_cap, transform)


def test_the_route_streams_exactly_what_write_csv_writes(served, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_CHARS", 200)
    spec = _transcript_spec(1_000, transform=lambda row: row | {"username": "someone"})
    path, cookie = served(spec)
    answer = get(path, cookie)
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["cache-control"] == "no-store"
    disposition = re.fullmatch(
        r'attachment; filename="(lillo_chat_transcript_chat-(-?\d+)_asof-(\d{8}T\d{6})Z\.csv)"',
        answer.headers["content-disposition"],
    )
    assert disposition and int(disposition[2]) == fx.GROUP_CHAT
    as_of = datetime.strptime(disposition[3], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - as_of).total_seconds()) < 60
    assert len(answer.bodies) > 3  # sent in pieces as the rows came
    assert answer.bodies[0].startswith(codecs.BOM_UTF8)
    lines = answer.text.removeprefix("\ufeff").split("\n")
    assert lines[:3] == [
        "# Lillo Dashboard export of chat_transcript",
        f"# filters: chat={fx.GROUP_CHAT}",
        f"# as of {as_of:%Y-%m-%d %H:%M:%S} UTC; at most 1,000 rows",
    ]
    found = runtime.database()
    with views.streamed_rows(found.reader, runtime.live_schema(), spec.name, dict(spec.params)) as (c, rows):
        expected = io.StringIO()
        written = export.write_csv(expected, c, rows, comments=[], row_cap=1_000, transform=spec.transform)
    assert "\n".join(lines[3:]) == expected.getvalue()
    stored = fx.messages()
    assert written.n_rows == (stored["chat_id"] == fx.GROUP_CHAT).sum() > 3
    assert {r["username"] for r in parse(answer.text.removeprefix("\ufeff"))[1]} == {"someone"}


def test_the_route_keeps_the_row_cap_and_says_when_it_cut(served):
    path, cookie = served(_transcript_spec(2))
    answer = get(path, cookie)
    text = answer.text.removeprefix("\ufeff")
    assert answer.status == 200
    assert len(parse(text)[1]) == 2
    # The view itself stops at the cap (its limit), so nothing was cut: no TRUNCATED line.
    assert "TRUNCATED" not in text
    capped = export.ViewExport("top_chats", _top_chats_params(), {"range": "all"}, 2)
    path, cookie = served(capped)
    text = get(path, cookie).text.removeprefix("\ufeff")
    assert len(parse(text)[1]) == 2
    assert text.endswith(
        "# TRUNCATED: only the first 2 rows are in this file; narrow the filters for the rest.\n"
    )


def _top_chats_params() -> dict:
    return {
        "start_ms": int((fx.ANCHOR - timedelta(days=3650)).timestamp() * 1000),
        "end_ms": int((fx.ANCHOR + timedelta(days=1)).timestamp() * 1000),
        "tz": "UTC",
        "agent_ids": [],
        "limit": 10,
    }


def test_the_route_refuses_without_the_owners_sign_in_and_sends_no_data(served):
    path, cookie = served(_transcript_spec(1_000))
    for sent in (None, f"{signin.COOKIE_NAME}=forged.cookie", "other=1"):
        answer = get(path, sent)
        assert answer.status == 403
        assert answer.headers["content-type"].startswith("text/plain")
        assert "content-disposition" not in answer.headers
        assert "Sign in" in answer.text and "chat_transcript" not in answer.text
    viewer = auth.User(ACCOUNTS["viewer"]["username"], "viewer", time.time() - 5)
    viewer_cookie = f"{signin.COOKIE_NAME}={auth.session_token(signin.auth_config(), viewer)}"
    answer = get(path, viewer_cookie)
    assert (answer.status, answer.text) == (403, "This download link was made for another account.")
    for unknown in ("/export/" + "A" * 43 + ".csv", "/export/.csv", path.replace(".csv", "x.csv")):
        answer = get(unknown, cookie)
        assert answer.status == 404 and "chat_transcript" not in answer.text


def test_an_export_has_every_row_the_filters_select(served):
    params = {
        "start_ms": int((fx.ANCHOR - timedelta(days=30)).timestamp() * 1000),
        "end_ms": int(fx.ANCHOR.timestamp() * 1000),
        "tz": "UTC",
        "agent_ids": [],
    }
    path, cookie = served(export.ViewExport("agent_activity", params, {"range": "30d"}, 1_000))
    comments, parsed = parse(get(path, cookie).text.removeprefix("\ufeff"))
    assert comments[:2] == ["Lillo Dashboard export of agent_activity", "filters: range=30d"]
    expected = views.fetch("agent_activity", **params).frame
    assert [r["agent_id"] for r in parsed] == expected["agent_id"].astype(str).tolist()
    assert [int(r["n_messages"]) for r in parsed] == expected["n_messages"].tolist()
    assert list(parsed[0]) == list(expected.columns)


def test_a_client_going_away_ends_the_query(served, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_CHARS", 100)
    path, cookie = served(_transcript_spec(1_000))
    answer = get(path, cookie, disconnect_after=2)
    assert answer.status == 200 and len(answer.bodies) == 2
    assert runtime.database().reader.pool.checkedout() == 0


def test_a_view_that_cannot_run_is_a_plain_503(served):
    path, cookie = served(export.ViewExport("no_such_view", {}, {}, 10))
    answer = get(path, cookie)
    assert answer.status in (500, 503)
    assert "content-disposition" not in answer.headers


# --- The page's control ---------------------------------------------------------------------------------


def test_pages_link_to_a_download_granted_to_the_signed_in_person(monkeypatch, fixture_db):
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()
    at = signed_in(AppTest.from_file(APP, default_timeout=60), "viewer")
    at.query_params.update({"range": "all"})
    at.run()
    assert not at.exception
    links = {b.key: b.proto.url for b in at.link_button if b.value == "Download CSV"}
    assert {"csv-top_chats", "csv-agent_activity"} <= set(links)
    url = links["csv-top_chats"]
    token = re.fullmatch(r"/export/([A-Za-z0-9_-]{40,})\.csv", url)[1]
    vic = at.session_state[signin.SESSION_KEY]
    granted = export_route.grants().redeem(token, lambda owner: vic, signin.auth_config(), time.time())
    assert granted.name == "top_chats" and granted.parts.get("range") == "all"
    assert granted.row_cap == 1_000_000
    # A rerun with the same filters keeps the links; other filters get new ones.
    at.run()
    assert {b.key: b.proto.url for b in at.link_button if b.value == "Download CSV"} == links
    at.selectbox(key="f_tz").set_value("Asia/Tokyo").run()
    assert not at.exception
    narrower = {b.key: b.proto.url for b in at.link_button if b.value == "Download CSV"}
    assert narrower["csv-top_chats"] != url
    token = re.fullmatch(r"/export/(.+)\.csv", narrower["csv-top_chats"])[1]
    granted = export_route.grants().redeem(token, lambda owner: vic, signin.auth_config(), time.time())
    assert granted.parts.get("tz") == "Asia/Tokyo"
    with pytest.raises(export_route.Refused):
        export_route.grants().redeem(
            url.split("/")[-1][:-4], lambda owner: vic, signin.auth_config(), time.time()
        )
