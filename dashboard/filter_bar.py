"""The sidebar widgets for the global filters, kept in sync with the URL query string.

The URL is the source of truth when it changes from outside (a pasted link, first load); the
widgets are the source of truth while a person uses them, and every change is written back to
the URL. Pages read the result with `current()`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from dashboard.filters import (
    BUCKETS,
    FILTER_KEYS,
    PRESET_LABELS,
    TIMEZONES,
    Filters,
    parse_filters,
)

_STATE = "global_filters"
_SYNCED = "global_filters_synced_query"


def _url_query() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in FILTER_KEYS if key in st.query_params}


def _normalised(query: dict) -> dict[str, list[str]]:
    return {k: (v if isinstance(v, list) else [v]) for k, v in query.items() if v not in (None, [], "")}


def _load_widgets(filters: Filters) -> None:
    st.session_state["f_range"] = filters.preset
    st.session_state["f_bucket"] = filters.bucket
    st.session_state["f_tz"] = filters.tz
    st.session_state["f_agents"] = list(filters.agent_ids)
    tzinfo = filters.start.tzinfo
    if filters.preset == "custom":
        last = (filters.end - pd.Timedelta(days=1)).astimezone(tzinfo).date()
        st.session_state["f_from"] = filters.start.astimezone(tzinfo).date()
        st.session_state["f_to"] = last


def _widget_query() -> dict:
    query = {
        "range": st.session_state.get("f_range"),
        "bucket": st.session_state.get("f_bucket"),
        "tz": st.session_state.get("f_tz"),
        "agent": st.session_state.get("f_agents") or [],
    }
    if query["range"] == "custom":
        for key in ("from", "to"):
            if isinstance(picked := st.session_state.get(f"f_{key}"), date):
                query[key] = picked.isoformat()
    return query


def filter_bar(agents: pd.DataFrame | None, *, default_tz: str, now: datetime | None = None) -> Filters:
    """Render the global filters in the sidebar and return them. `agents` is the agent
    directory (agent_id, agent_name); None when it cannot be read."""
    now = now or datetime.now(UTC)
    known = set(agents["agent_id"]) if agents is not None else None
    url = _normalised(_url_query())
    from_url = parse_filters(url, known_agent_ids=known, now=now, default_tz=default_tz)
    # A URL with no filter keys (e.g. after switching pages) keeps the session's filters.
    if "f_range" not in st.session_state or (url and url != st.session_state.get(_SYNCED)):
        _load_widgets(from_url)
        notices = from_url.notices
    else:
        notices = ()

    sidebar = st.sidebar
    sidebar.selectbox("Date range", list(PRESET_LABELS), format_func=PRESET_LABELS.get, key="f_range")
    if st.session_state["f_range"] == "custom":
        if "f_from" not in st.session_state:
            st.session_state["f_to"] = now.date()
            st.session_state["f_from"] = now.date() - timedelta(days=29)
        sidebar.date_input("From", key="f_from", format="YYYY-MM-DD")
        sidebar.date_input("To (inclusive)", key="f_to", format="YYYY-MM-DD")
    if agents is not None:
        labels = dict(zip(agents["agent_id"], agents["agent_name"], strict=True))
        st.session_state["f_agents"] = [a for a in st.session_state.get("f_agents", []) if a in labels]
        sidebar.multiselect(
            "Agents",
            list(labels),
            format_func=lambda agent_id: labels.get(agent_id, agent_id),
            key="f_agents",
            placeholder="All agents",
        )
    sidebar.segmented_control(
        "Time bucket", BUCKETS, key="f_bucket", format_func=str.capitalize, required=True
    )
    zones = (
        list(TIMEZONES) if st.session_state["f_tz"] in TIMEZONES else [st.session_state["f_tz"], *TIMEZONES]
    )
    sidebar.selectbox("Time zone", zones, key="f_tz")

    filters = parse_filters(
        _normalised(_widget_query()), known_agent_ids=known, now=now, default_tz=default_tz
    )
    canonical = _normalised(filters.to_query())
    for key in FILTER_KEYS:
        if key in canonical:
            st.query_params[key] = canonical[key]
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state[_SYNCED] = canonical
    st.session_state[_STATE] = filters
    return replace(filters, notices=notices + filters.notices)


def current() -> Filters:
    """The filters the app computed for this run (app.py renders the filter bar before the page)."""
    return st.session_state[_STATE]
