"""CSV export: formula cells defused, comment header, row cap, streaming, and a real view exported
through the app's own path equals the view's rows."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import export, views
from tests import fixture_data as fx


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


def test_export_of_a_view_has_every_row_the_filters_select(monkeypatch, fixture_db):
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()
    params = {
        "start_ms": int((fx.ANCHOR - timedelta(days=30)).timestamp() * 1000),
        "end_ms": int(fx.ANCHOR.timestamp() * 1000),
        "tz": "UTC",
        "agent_ids": [],
    }
    text = export.export_view("agent_activity", params, {"range": "30d"}, row_cap=1_000).decode("utf-8-sig")
    comments, parsed = parse(text)
    assert comments[0] == "Lillo Dashboard export of agent_activity"
    assert comments[1] == "filters: range=30d"
    expected = views.fetch("agent_activity", **params).frame
    assert [r["agent_id"] for r in parsed] == expected["agent_id"].astype(str).tolist()
    assert [int(r["n_messages"]) for r in parsed] == expected["n_messages"].tolist()
    assert list(parsed[0]) == list(expected.columns)
