"""CSV export of what a table or chart shows: every row its view selects with the current filters
(not only the rows on screen), streamed from the database.

The file is written when the person clicks the button: the view runs again through a server-side
cursor, rows go through the csv module into a temporary file that spills to disk past a few MB, so
a million-row export never holds its rows in memory as Python objects; the finished file is then
handed to Streamlit, which serves downloads from memory. The first lines are `#` comments saying
what the file holds (view, filters, as-of time, row cap); a last one says when the cap cut it
short. Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) get a leading apostrophe, so a hostile chat message cannot become a formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import streamlit as st

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SPILL_TO_DISK_BYTES = 8 * 2**20


def inert(value):
    """A cell value a spreadsheet shows as text: formula starts defused, times as ISO text, JSON
    documents as JSON."""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict | list):
        return inert(json.dumps(value, ensure_ascii=False))
    return value


def file_name(name: str, parts: Mapping[str, str], as_of: datetime) -> str:
    """'lillo_<name>_<key>-<value>…_asof-<UTC time>.csv', only file-safe characters."""
    pieces = [name] + [f"{key}-{value}" for key, value in parts.items() if value]
    slug = _UNSAFE_NAME.sub("_", "_".join(pieces)).strip("_")[:150]
    return f"lillo_{slug}_asof-{as_of.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"


@dataclass(frozen=True)
class Written:
    n_rows: int
    truncated: bool


def write_csv(
    out: io.TextIOBase,
    columns: list[str],
    rows: Iterable[tuple],
    *,
    comments: list[str],
    row_cap: int,
    transform: Callable[[dict], dict] | None = None,
) -> Written:
    """Comment lines, the header and at most `row_cap` rows (each through `transform`, e.g.
    pseudonymisation, when given); a last comment says when the cap cut the rows short."""
    for comment in comments:
        out.write("# " + comment.replace("\r", " ").replace("\n", " ") + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n_rows = 0
    truncated = False
    for row in rows:
        if n_rows == row_cap:
            truncated = True
            break
        values = dict(zip(columns, row, strict=True))
        if transform is not None:
            values = transform(values)
        writer.writerow([inert(values[c]) for c in columns])
        n_rows += 1
    if truncated:
        out.write(
            f"# TRUNCATED: only the first {row_cap:,} rows are in this file; "
            "narrow the filters for the rest.\n"
        )
    return Written(n_rows, truncated)


def export_view(
    name: str,
    params: Mapping,
    parts: Mapping[str, str],
    *,
    row_cap: int,
    transform: Callable[[dict], dict] | None = None,
) -> bytes:
    """The CSV of view `name` with `params`, UTF-8 with a BOM (so spreadsheets read any script).
    Rows are written as they arrive into a file that spills to disk; Streamlit serves downloads
    from memory, so only the finished file is held there, once."""
    from dashboard import runtime, views

    as_of = datetime.now(UTC)
    found = runtime.database()
    filters = ", ".join(f"{k}={v}" for k, v in parts.items() if v) or "none"
    with tempfile.SpooledTemporaryFile(max_size=SPILL_TO_DISK_BYTES, mode="w+b") as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        with views.streamed_rows(found.reader, runtime.live_schema(), name, dict(params)) as (columns, rows):
            write_csv(
                text,
                columns,
                rows,
                comments=[
                    f"Lillo Dashboard export of {name}",
                    f"filters: {filters}",
                    f"as of {as_of:%Y-%m-%d %H:%M:%S} UTC; at most {row_cap:,} rows",
                ],
                row_cap=row_cap,
                transform=transform,
            )
        text.detach()
        handle.seek(0)
        return handle.read()


def download_button(
    name: str,
    params: Mapping,
    parts: Mapping[str, str],
    *,
    transform: Callable[[dict], dict] | None = None,
    key: str | None = None,
) -> None:
    """A 'Download CSV' button: on click, every row view `name` selects for `params`."""
    from dashboard.config import load_settings

    row_cap = load_settings().export_row_cap
    st.download_button(
        "Download CSV",
        data=lambda: export_view(name, params, parts, row_cap=row_cap, transform=transform),
        file_name=file_name(name, parts, datetime.now(UTC)),
        mime="text/csv",
        icon=":material/download:",
        key=key or f"csv-{name}",
        on_click="ignore",
        help=f"All rows these filters select (at most {row_cap:,}), not only those on screen.",
    )
