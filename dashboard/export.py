"""CSV export of what a table or chart shows: every row its view selects with the current filters
(not only the rows on screen), streamed from the database to the browser.

The page shows a 'Download CSV' link (`download_button`); the link names a short-lived grant
(dashboard.export_route) and the server's download route answers it by running the view again
through a server-side cursor and sending the CSV in chunks as the rows arrive, so neither the rows
nor the file are ever held in memory whole. The first lines are `#` comments saying what the file
holds (view, filters, as-of time, row cap); a last one says when the cap cut it short. Text cells
that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) get a
leading apostrophe, so a hostile chat message cannot become a formula.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import streamlit as st

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# Text handed on at a time: big enough that per-chunk costs vanish, small enough to stay cheap.
CHUNK_CHARS = 256 * 2**10


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


@dataclass
class Written:
    """What a CSV writer wrote, filled in as it goes."""

    n_rows: int = 0
    truncated: bool = False


def csv_chunks(
    columns: list[str],
    rows: Iterable[tuple],
    *,
    comments: list[str],
    row_cap: int,
    transform: Callable[[dict], dict] | None = None,
    written: Written | None = None,
) -> Iterator[str]:
    """The CSV text in pieces of about CHUNK_CHARS: comment lines, the header and at most
    `row_cap` rows (each through `transform`, e.g. pseudonymisation, when given); a last comment
    says when the cap cut the rows short. `written` is kept up to date."""
    written = written if written is not None else Written()
    buffer = io.StringIO(newline="")
    for comment in comments:
        buffer.write("# " + comment.replace("\r", " ").replace("\n", " ") + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        if written.n_rows == row_cap:
            written.truncated = True
            break
        values = dict(zip(columns, row, strict=True))
        if transform is not None:
            values = transform(values)
        writer.writerow([inert(values[c]) for c in columns])
        written.n_rows += 1
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if written.truncated:
        buffer.write(
            f"# TRUNCATED: only the first {row_cap:,} rows are in this file; "
            "narrow the filters for the rest.\n"
        )
    yield buffer.getvalue()


def write_csv(
    out: io.TextIOBase,
    columns: list[str],
    rows: Iterable[tuple],
    *,
    comments: list[str],
    row_cap: int,
    transform: Callable[[dict], dict] | None = None,
) -> Written:
    """`csv_chunks` written to `out`."""
    written = Written()
    for chunk in csv_chunks(
        columns, rows, comments=comments, row_cap=row_cap, transform=transform, written=written
    ):
        out.write(chunk)
    return written


@dataclass(frozen=True)
class ViewExport:
    """One export a page offers: view `name` with `params`, the filters for the file name and
    header, the row cap and an optional per-row transform."""

    name: str
    params: Mapping
    parts: Mapping[str, str]
    row_cap: int
    transform: Callable[[dict], dict] | None = None

    def same_file(self, other: ViewExport) -> bool:
        """Whether `other` makes the same file. A page makes a new transform callable at each
        rerun, so only whether there is one counts."""
        mine = (self.name, self.params, self.parts, self.row_cap, self.transform is None)
        return mine == (other.name, other.params, other.parts, other.row_cap, other.transform is None)


def comments_for(export: ViewExport, as_of: datetime) -> list[str]:
    filters = ", ".join(f"{k}={v}" for k, v in export.parts.items() if v) or "none"
    return [
        f"Lillo Dashboard export of {export.name}",
        f"filters: {filters}",
        f"as of {as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; at most {export.row_cap:,} rows",
    ]


def view_csv(export: ViewExport, as_of: datetime) -> Iterator[bytes]:
    """The CSV of the export as UTF-8 with a BOM (so spreadsheets read any script), in chunks,
    read from the database through a server-side cursor while it is consumed. The view runs
    before the first chunk, so a view that cannot run raises before anything is sent."""
    from dashboard import runtime, views

    found = runtime.database()
    if not found.ok:
        raise views.ViewUnavailable(found.problem)
    streamed = views.streamed_rows(found.reader, runtime.live_schema(), export.name, dict(export.params))
    with streamed as (columns, rows):
        chunks = csv_chunks(
            columns,
            rows,
            comments=comments_for(export, as_of),
            row_cap=export.row_cap,
            transform=export.transform,
        )
        yield codecs.BOM_UTF8 + next(chunks).encode("utf-8")
        for chunk in chunks:
            yield chunk.encode("utf-8")


def download_button(
    name: str,
    params: Mapping,
    parts: Mapping[str, str],
    *,
    transform: Callable[[dict], dict] | None = None,
    key: str | None = None,
) -> None:
    """A 'Download CSV' link: every row view `name` selects for `params`, streamed by the
    server's download route to the signed-in person only."""
    from dashboard import export_route, signin
    from dashboard.config import load_settings

    user = st.session_state.get(signin.SESSION_KEY)  # set by signin.require_user at each run
    if user is None:
        return
    row_cap = load_settings().export_row_cap
    key = key or f"csv-{name}"
    url = export_route.link(key, ViewExport(name, dict(params), dict(parts), row_cap, transform), user)
    st.link_button(
        "Download CSV",
        url,
        icon=":material/download:",
        key=key,
        help=f"All rows these filters select (at most {row_cap:,}), not only those on screen.",
    )


def frame_download_button(frame, name: str, parts: Mapping[str, str], *, key: str) -> None:
    """A 'Download CSV' button for a small table computed on the page (not a view), e.g. a write's
    preview: the same comment lines, formula defusing and BOM as the view exports."""
    as_of = datetime.now(UTC)
    comments = comments_for(ViewExport(name, {}, dict(parts), len(frame)), as_of)
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    text = "".join(csv_chunks(list(frame.columns), rows, comments=comments, row_cap=len(frame)))
    st.download_button(
        "Download CSV",
        codecs.BOM_UTF8 + text.encode("utf-8"),
        file_name=file_name(name, parts, as_of),
        mime="text/csv",
        icon=":material/download:",
        key=key,
    )
