"""Agent settings (admins only): every agent at a glance, and a guarded editor for one of them.

Saving goes through dashboard.store: validate → before/after → confirm with a reason → one
transaction that writes only if nobody changed the agent meanwhile → audit row.
"""

import json

import pandas as pd
import streamlit as st

from dashboard import runtime, signin, store, ui, views
from dashboard.filter_bar import current

AGENT_COLUMNS = {
    "name": st.column_config.TextColumn("Name"),
    "type": st.column_config.TextColumn("Type"),
    "is_active": st.column_config.CheckboxColumn("Active"),
    "capabilities_on": st.column_config.TextColumn("Capabilities on"),
    "credentials": st.column_config.TextColumn(
        "Credentials", help="Whether the agent has encrypted credentials stored (they are never shown)."
    ),
    "last_active_at": st.column_config.DatetimeColumn("Last active", format="YYYY-MM-DD HH:mm"),
    "agent_id": st.column_config.TextColumn("Agent id"),
}
TOAST_KEY = "_settings_saved"

user = signin.require_admin()
filters = current()

st.title("Agent settings")
if not runtime.live_schema().rollups_installed:
    st.info(
        "Agent settings need the dashboard's own objects in this database (roles, audit log): "
        "an admin runs `python -m dashboard install` once.",
        icon=":material/build:",
    )
    st.stop()
st.caption(f"Last active in {filters.tz}. Credentials are never shown, only whether they are set.")
if toast := st.session_state.pop(TOAST_KEY, None):
    st.toast(toast, icon=":material/check_circle:")


def _on_off(capabilities) -> str:
    if not isinstance(capabilities, dict):
        return ""
    return ", ".join(sorted(str(k) for k, v in capabilities.items() if v is True))


def _credentials(value) -> str:
    return "unknown" if value is None or pd.isna(value) else ("set" if value else "not set")


def _overview(frame: pd.DataFrame) -> None:
    shown = frame.assign(
        capabilities_on=frame["capabilities"].map(_on_off),
        credentials=frame["credentials_set"].map(_credentials),
    )
    ui.table(shown, AGENT_COLUMNS)


result = ui.view_block(
    "agent_settings", {"tz": filters.tz}, _overview, empty_message="No agents.", csv_parts={"tz": filters.tz}
)
if result is None or result.frame.empty:
    st.stop()
agents = result.frame

st.subheader("Edit an agent")
ids = agents["agent_id"].tolist()
asked = st.query_params.get("edit")
chosen_id = st.selectbox(
    "Agent",
    ids,
    index=ids.index(asked) if asked in ids else 0,
    format_func=lambda agent_id: f"{agents.set_index('agent_id').at[agent_id, 'name']} ({agent_id})",
)
if asked and asked not in ids:
    st.info("The agent in the link does not exist (any more); showing the first agent instead.")
st.query_params["edit"] = chosen_id
row = agents.set_index("agent_id").loc[chosen_id].to_dict() | {"agent_id": chosen_id}
known_keys = sorted({str(k) for caps in agents["capabilities"] if isinstance(caps, dict) for k in caps})
current_caps = row["capabilities"] if isinstance(row["capabilities"], dict) else {}


def _pretty(value) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


with st.form(f"edit-{chosen_id}"):
    name = st.text_input("Name", value=row["name"] or "")
    is_active = st.toggle("Active", value=bool(row["is_active"]))
    st.markdown("**Capabilities**")
    toggle_columns = st.columns(4)
    toggles = {
        key: toggle_columns[i % 4].toggle(
            key, value=current_caps.get(key) is True, key=f"cap-{chosen_id}-{key}"
        )
        for i, key in enumerate(known_keys)
    }
    new_capability = st.text_input("Add a capability (switched on)", placeholder="e.g. voice_replies")
    character_config = st.text_area(
        "character_config (JSON)", value=_pretty(row["character_config"]), height=220
    )
    system_identity = st.text_area(
        "system_identity (JSON)", value=_pretty(row["system_identity"]), height=160
    )
    reviewed = st.form_submit_button("Review changes", type="primary")


@st.dialog("Confirm the change", width="large")
def _confirm(change: store.RowChange) -> None:
    st.caption(f"Agent {change.key['agent_id']}: fields that change, before and after.")
    for field, before, after in change.diff():
        st.markdown(f"**{field}**")
        left, right = st.columns(2)
        left.caption("Before")
        left.code(_pretty(before) or "null", language="json")
        right.caption("After")
        right.code(_pretty(after) or "null", language="json")
    reason = st.text_area("Reason (goes into the audit log)", max_chars=store.MAX_REASON, key="reason")
    if st.button("Confirm and save", type="primary"):
        try:
            store.apply(runtime.writer(), signin.auth_config(), user, [change], reason)
        except store.WriteRefused as refused:
            st.error(str(refused), icon=":material/block:")
        else:
            views.refresh_reading("agents", "lillo_dash.audit_log")
            st.session_state[TOAST_KEY] = f"Saved {change.after['name']}."
            st.rerun()


if reviewed:
    try:
        change = store.agent_edit(
            row,
            name=name,
            is_active=is_active,
            capabilities=toggles,
            new_capability=new_capability,
            character_config=character_config,
            system_identity=system_identity,
        )
    except store.InvalidInput as invalid:
        st.error(str(invalid), icon=":material/error:")
    else:
        if change.diff():
            _confirm(change)
        else:
            st.info("Nothing changed.")
