"""Widgets that recur on every page: a view's frame (data age, refresh, notices), KPI tiles."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

import pandas as pd
import streamlit as st

from dashboard import export, figure_cache, views
from dashboard.drill import Drill, first_point


def humanize_age(seconds: float) -> str:
    if seconds < 5:
        return "just now"
    if seconds < 90:
        return f"{int(seconds)} s ago"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    return f"{seconds / 3600:.1f} h ago"


def database_notice_slot() -> None:
    """A place at the top of the page for its one notice that the database is unavailable or busy,
    filled by the first view of this run that meets either."""
    slot = st.empty()
    views.begin_run(lambda problem: slot.warning(str(problem), icon=":material/database_off:"))


def fetch_or_notice(name: str, params: dict) -> views.ViewResult | None:
    """A view's result, or None after a notice in its place (missing table, timeout, trouble)."""
    try:
        return views.fetch(name, **params)
    except views.MissingSchema as notice:
        st.info(str(notice), icon=":material/table_rows:")
    except (views.DatabaseOutage, views.DatabaseBusy) as problem:
        if str(problem) == problem.in_place:  # the page's notice at the top has said why
            st.caption(str(problem))
        else:
            st.warning(str(problem), icon=":material/database_off:")
    except views.ViewUnavailable as problem:
        st.warning(str(problem), icon=":material/warning:")
    return None


def view_block(
    name: str,
    params: dict,
    render: Callable[[pd.DataFrame], None],
    *,
    empty_message: str = "No data in this range.",
    csv_parts: dict[str, str] | None = None,
) -> views.ViewResult | None:
    """Fetch view `name`, draw it with `render`, and show its data age with a refresh control.
    With `csv_parts` (the filters, for the file name) a CSV download of every row follows.

    A view that cannot be shown (missing table or column, timeout, database trouble) becomes a
    short notice in its place; the rest of the page carries on.
    """
    result = fetch_or_notice(name, params)
    if result is None:
        return None
    if result.frame.empty:
        st.caption(empty_message)
    else:
        render(result.frame)
        if csv_parts is not None:
            export.download_button(name, params, csv_parts)
    data_age_footer(result)
    return result


def chart_block(
    name: str,
    params: dict,
    figure: Callable[[pd.DataFrame], object],
    *,
    csv_parts: dict[str, str],
    drill: Drill | None = None,
) -> views.ViewResult | None:
    """`view_block` for a chart: `figure` turns the view's rows into a plotly figure. With
    `drill`, clicking a bar opens the page listing the rows behind it."""

    def draw(frame: pd.DataFrame) -> None:
        built = figure_cache.figure(figure, frame)
        if drill is None:
            st.plotly_chart(built, width="stretch")
            return
        event = st.plotly_chart(
            built, width="stretch", on_select="rerun", selection_mode="points", key=f"drill-{name}"
        )
        st.caption(drill.help)
        point = first_point(event)
        target = drill.target(point) if point is not None else None
        if target is not None:
            page, query = target
            st.switch_page(page, query_params=query)

    return view_block(name, params, draw, csv_parts=csv_parts)


def data_age_footer(result: views.ViewResult) -> None:
    fetched = result.fetched_at.astimezone(UTC).strftime("%H:%M:%S UTC")
    left, right = st.columns([3, 1], vertical_alignment="center")
    if result.stale:
        left.caption(
            f":material/history: Stale — from {result.fetched_at.astimezone(UTC):%H:%M} UTC "
            f"({humanize_age(result.age_s())}): the database could not answer now."
        )
    else:
        left.caption(f"Data as of {fetched} ({humanize_age(result.age_s())}) · {result.elapsed_ms:,.0f} ms")
    if right.button("Refresh", key=f"refresh-{result.name}", icon=":material/refresh:", type="tertiary"):
        views.refresh(result.name)
        st.rerun()


def format_delta(current: float | None, previous: float | None, *, as_points: bool = False) -> str | None:
    """'+12.5%' against the previous period, or percentage points for rates; None when unknown."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    if as_points:
        return f"{(current - previous) * 100:+.1f} pp"
    if previous == 0:
        return None if current == 0 else "new"
    return f"{(current - previous) / previous * 100:+.1f}%"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
# Markdown also links bare URLs, www. addresses and e-mail addresses, escaped or not: an invisible
# word joiner after their marker breaks the pattern and shows the same text.
_AUTOLINK = re.compile(r"(?i)(https?(?=:)|ftp(?=:)|mailto(?=:)|www(?=\.)|@)")


def plain(text: str) -> str:
    """`text` escaped for Streamlit's Markdown elements: a notice that quotes a URL parameter
    cannot become a link, an emphasis, an icon or HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK.sub("\\1\u2060", text))


def show_notices(notices: tuple[str, ...] | list[str]) -> None:
    for notice in notices:
        st.info(plain(notice), icon=":material/info:")


# The deepest page a link may ask for: offsets past it are refused rather than scanned.
MAX_PAGE = 4_000


def parse_page(text: str | None) -> tuple[int, str | None]:
    """(page number, None) from the URL's `page`, or (1, why) when it is not one from 1 to MAX_PAGE."""
    if not text:
        return 1, None
    cleaned = text.strip()
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 6 and 1 <= int(cleaned) <= MAX_PAGE:
        return int(cleaned), None
    return 1, f"“{cleaned[:40]}” is not a page number from 1 to {MAX_PAGE:,}: showing page 1."


def pager(
    page: int, page_size: int, n_shown: int, has_next: bool, *, noun: str, key: str, param: str = "page"
) -> None:
    """Previous, "Chats 26 to 50 of page 2" as a caption, and Next, each moving the URL's `param`
    (each list on a page its own)."""
    left, middle, right = st.columns([1, 2, 1], vertical_alignment="center")
    if page > 1 and left.button("Previous", icon=":material/chevron_left:", key=f"{key}-previous"):
        st.query_params[param] = str(page - 1)
        st.rerun()
    if n_shown:
        first = (page - 1) * page_size
        middle.caption(f"{noun} {first + 1:,}–{first + n_shown:,} · page {page:,}")
    if (
        has_next
        and page < MAX_PAGE
        and right.button("Next", icon=":material/chevron_right:", key=f"{key}-next")
    ):
        st.query_params[param] = str(page + 1)
        st.rerun()


# The "pseudonymise people" choice, kept across pages (a widget's own state is dropped when a
# page without it runs).
PSEUDONYMISE_KEY = "_pseudonymise_people"


def pseudonymised(is_admin: bool) -> bool:
    """Whether people are shown under pseudonyms now (the switch's last state on any page)."""
    return st.session_state.get(PSEUDONYMISE_KEY, True) or not is_admin


def pseudonymise_switch(is_admin: bool, *, key: str = "pseudonymise") -> bool:
    """The "Pseudonymise people" toggle: on by default, and only admins can turn it off."""
    chosen = st.toggle(
        "Pseudonymise people",
        value=st.session_state.get(PSEUDONYMISE_KEY, True) or not is_admin,
        disabled=not is_admin,
        help="Names and usernames become stable pseudonyms and wallet addresses are masked. "
        "Only admins can turn this off.",
        key=key,
    )
    st.session_state[PSEUDONYMISE_KEY] = chosen
    return chosen or not is_admin


@dataclass(frozen=True)
class Tile:
    label: str
    column: str
    fmt: str = "{:,.0f}"
    # Rates compare in percentage points; durations are better when they go down.
    is_rate: bool = False
    lower_is_better: bool = False
    help: str | None = None


def _value(row: pd.Series | None, column: str):
    if row is None or column not in row or pd.isna(row[column]):
        return None
    return row[column]


def kpi_row(name: str, params: dict, tiles: list[Tile], *, compare: bool) -> None:
    """One metric tile per `tiles` entry from view `name`'s 'current' and 'previous' rows."""
    result = fetch_or_notice(name, params)
    if result is None:
        return
    rows = {row["period"]: row for _, row in result.frame.iterrows()}
    current, previous = rows.get("current"), rows.get("previous")
    for column, tile in zip(st.columns(len(tiles)), tiles, strict=True):
        value = _value(current, tile.column)
        before = _value(previous, tile.column) if compare else None
        if value is None and tile.column.startswith("n_"):
            value = 0
        if before is None and compare and tile.column.startswith("n_"):
            before = 0
        column.metric(
            tile.label,
            "—" if value is None else tile.fmt.format(value),
            delta=format_delta(value, before, as_points=tile.is_rate) if compare else None,
            delta_color="inverse" if tile.lower_is_better else "normal",
            help=tile.help,
            border=True,
        )
    data_age_footer(result)


def table(frame: pd.DataFrame, columns: dict) -> None:
    """A read-only table showing `columns` (name -> st.column_config) in that order."""
    shown = [c for c in columns if c in frame.columns]
    st.dataframe(frame[shown], column_config=columns, hide_index=True, width="stretch")
