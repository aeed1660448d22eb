"""Audit log (admins only): every change made through the dashboard — who, when, which row,
before and after, and why — filtered by actor, table and the global time range."""

import json

import streamlit as st

from dashboard import signin, ui, views
from dashboard.filter_bar import current

MAX_ROWS = 5_000
ANY = ""
COLUMNS = {
    "at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
    "actor": st.column_config.TextColumn("Actor"),
    "actor_role": st.column_config.TextColumn("Role"),
    "action": st.column_config.TextColumn("Action"),
    "table_name": st.column_config.TextColumn("Table"),
    "row_key": st.column_config.TextColumn("Row"),
    "reason": st.column_config.TextColumn("Reason"),
}

signin.require_admin()
filters = current()

st.title("Audit log")
st.caption(f"{filters.describe()} · times in {filters.tz}. Entries cannot be changed or deleted.")

try:
    facets = views.fetch("audit_facets").frame
except views.MissingSchema as notice:
    st.info(f"{notice} An admin can run `python -m dashboard install` to create the audit log.")
    st.stop()
except views.ViewUnavailable as notice:
    st.warning(str(notice), icon=":material/warning:")
    st.stop()

left, right = st.columns(2)
actor = left.selectbox(
    "Actor", [ANY, *sorted(facets["actor"].unique())], format_func=lambda a: a or "Everyone"
)
table_name = right.selectbox(
    "Table", [ANY, *sorted(facets["table_name"].unique())], format_func=lambda t: t or "All tables"
)
params = {
    "start_ms": filters.start_ms,
    "end_ms": filters.end_ms,
    "tz": filters.tz,
    "actor": actor,
    "table_name": table_name,
    "limit": MAX_ROWS,
}


def _pretty(text) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) if isinstance(text, str) else "null"


def _entries(frame) -> None:
    if len(frame) == MAX_ROWS:
        st.caption(f"Showing the newest {MAX_ROWS:,} entries; narrow the range to see older ones.")
    picked = st.dataframe(
        frame[list(COLUMNS)],
        column_config=COLUMNS,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="audit-table",
    )
    rows = picked.selection.rows if picked else []
    if not rows:
        st.caption("Select an entry to see its values before and after.")
        return
    entry = frame.iloc[rows[0]]
    st.markdown(
        f"**Entry {entry['audit_id']}** · {entry['action']} of {entry['table_name']} {entry['row_key']}"
    )
    before, after = st.columns(2)
    before.caption("Before")
    before.code(_pretty(entry["before"]), language="json")
    after.caption("After")
    after.code(_pretty(entry["after"]), language="json")


ui.view_block(
    "audit_log",
    params,
    _entries,
    empty_message="No audit entries match these filters.",
    csv_parts=filters.export_parts() | {"actor": actor, "table": table_name},
)
