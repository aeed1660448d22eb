"""Model tuning (admins only): set or clear the model of one (agent, chat) or of every pair a
filter selects, through the guarded write path — preview of every pair that changes (from what to
what, with its traffic) → reason → one transaction that writes only rows nobody changed since the
preview → one audit row per pair. The global filters (range, agents) scope the candidates."""

import pandas as pd
import streamlit as st

from dashboard import export, model_figures, model_tuning, runtime, signin, store, ui, views
from dashboard.chat_list import KINDS
from dashboard.filter_bar import current

TARGET_COLUMNS = {
    "agent_name": st.column_config.TextColumn("Agent"),
    "link": st.column_config.LinkColumn("Chat", display_text=r"chat=(-?\d+)"),
    "chat_kind": st.column_config.TextColumn("Kind"),
    "model_type": st.column_config.TextColumn("Model now"),
    "has_preference": st.column_config.CheckboxColumn("Set", help="Without a row the chat runs on OpenAI."),
    "n_messages": st.column_config.NumberColumn("Messages in range", format="localized"),
    "last_active_at": st.column_config.DatetimeColumn("Last message", format="YYYY-MM-DD HH:mm"),
}
PREVIEW_COLUMNS = {
    "agent_name": st.column_config.TextColumn("Agent"),
    "chat_id": st.column_config.NumberColumn("Chat", format="%d"),
    "model_before": st.column_config.TextColumn("From"),
    "model_after": st.column_config.TextColumn("To"),
    "n_messages": st.column_config.NumberColumn("Messages in range", format="localized"),
}
NEW_MODELS = {
    **{m: m for m in model_tuning.MODEL_TYPES},
    model_tuning.DEFAULT: "Clear (back to the default, OPENAI)",
}
CURRENT_MODELS = {"all": "Any", model_tuning.DEFAULT: "Not set (default)"} | {
    m: m for m in model_tuning.MODEL_TYPES
}
LISTED = 500  # longer lists over short ranges cost seconds; narrow the filter instead
PREVIEW_KEY = "_model_preview"
DONE_KEY = "_model_tuning_done"
UNDO_KEY = "_model_tuning_undo"


def _make_preview(choice, make) -> None:
    """Keep the preview `make(engine)` builds for `choice`, or show why there is none."""
    try:
        st.session_state[PREVIEW_KEY] = (choice, make(runtime.database().reader))
    except store.WriteRefused as refused:
        st.session_state.pop(PREVIEW_KEY, None)
        st.error(str(refused), icon=":material/error:")


def _show_preview(preview: model_tuning.Preview, to: str) -> None:
    """Every pair that will change, its CSV, and the confirmation with a reason."""
    st.subheader("Preview")
    frame = preview.frame().assign(agent_name=lambda f: [names.get(a, a) for a in f["agent_id"]])
    skipped = (
        f" {preview.n_unchanged:,} chosen pair(s) already have it and are left out."
        if preview.n_unchanged
        else ""
    )
    if frame.empty:
        st.info(f"Nothing would change.{skipped}", icon=":material/info:")
        return
    st.caption(f"{len(frame):,} pair(s) will change, all in one transaction or none.{skipped}")
    ui.table(frame, PREVIEW_COLUMNS)
    export.frame_download_button(frame, "model_preview", {"to": to}, key="csv-model_preview")
    reason = st.text_area("Reason (goes into the audit log)", max_chars=store.MAX_REASON, key="tuning-reason")
    if not st.button(f"Confirm and change {len(frame):,} pair(s)", icon=":material/check:", type="primary"):
        return
    try:
        n = store.apply(runtime.writer(), signin.auth_config(), user, preview.changes, reason)
    except store.WriteRefused as refused:
        st.error(str(refused), icon=":material/block:")
        return
    views.refresh_reading("model_preferences", "lillo_dash.audit_log")
    st.session_state.pop(PREVIEW_KEY, None)
    st.session_state[UNDO_KEY] = preview.changes
    st.session_state[DONE_KEY] = f"Changed {n:,} pair(s); each has its row in the audit log."
    st.rerun()


user = signin.require_admin()
filters = current()
names = model_figures.agent_names()

st.title("Model tuning")
if not runtime.live_schema().rollups_installed:
    st.info(
        "Changing model preferences needs the dashboard's own objects in this database (roles, audit "
        "log): an admin runs `python -m dashboard install` once.",
        icon=":material/build:",
    )
    st.stop()
st.caption(
    f"{filters.describe()} · candidates are the chosen agents' chats with messages in the range or "
    "with a preference. A chat without a preference runs on OpenAI."
)
if done := st.session_state.pop(DONE_KEY, None):
    st.success(done, icon=":material/check_circle:")

how = st.segmented_control(
    "Choose chats", ["By filter", "One chat"], default="By filter", required=True, key="tuning-how"
)
chosen: pd.DataFrame | list[dict] = []
if how == "One chat":
    agent_ids = list(names)
    left, right = st.columns(2)
    agent_id = (
        left.selectbox("Agent", agent_ids, format_func=lambda a: f"{names[a]} ({a})") if agent_ids else None
    )
    chat_text = right.text_input("Chat id", placeholder="e.g. 123456789 or -1001234567890")
    if agent_id and chat_text.strip():
        chosen = [{"agent_id": agent_id, "chat_id": chat_text.strip(), "n_messages": None}]
else:
    left, middle, right = st.columns(3)
    kind = left.segmented_control("Kind", list(KINDS), format_func=KINDS.get, default="all", required=True)
    min_messages = middle.number_input("At least this many messages in the range", 0, 10**9, 1)
    current_model = right.selectbox("Running on", list(CURRENT_MODELS), format_func=CURRENT_MODELS.get)
    try:
        target_params = model_tuning.target_params(
            filters, kind=kind, min_messages=int(min_messages), current_model=current_model, limit=LISTED
        )
    except store.InvalidInput as invalid:
        st.error(str(invalid), icon=":material/error:")
        st.stop()
    targets = ui.fetch_or_notice(model_tuning.TARGETS_VIEW, target_params)
    if targets is not None:
        frame = targets.frame
        if frame.empty:
            st.caption("No chats match.")
        else:
            ui.table(
                frame.assign(
                    agent_name=frame["agent_name"].fillna(frame["agent_id"]),  # no agents row: its id
                    link=[f"/conversations?chat={int(c)}" for c in frame["chat_id"]],
                    last_active_at=model_figures.local_time(frame["last_active_ms"], filters.tz),
                ),
                TARGET_COLUMNS,
            )
            more = " (the busiest: narrow the filter to reach the rest)" if len(frame) == LISTED else ""
            st.caption(f"{len(frame):,} chat(s) match{more}.")
            export.download_button(
                model_tuning.TARGETS_VIEW,
                target_params,
                filters.export_parts() | {"kind": kind, "min": str(min_messages), "model": current_model},
                key="csv-model_targets",
            )
            chosen, column = model_tuning.storable(runtime.database().reader, frame)
            if column is not None and len(chosen) < len(frame):
                st.caption(
                    f"{len(frame) - len(chosen):,} of them cannot have a preference in this database and "
                    f"are left out: model_preferences.chat_id is {column.type_name.upper()}, too small "
                    "for their ids (Telegram supergroups); they run on OpenAI."
                )
        ui.data_age_footer(targets)

new_model = st.selectbox("New model", list(NEW_MODELS), format_func=NEW_MODELS.get, key="tuning-new-model")
# A preview holds for the choice it was made for; changing the chats or the model drops it. An
# undo's preview (choice None) holds until it is applied or replaced.
pairs = [
    (r["agent_id"], str(r["chat_id"]))
    for r in (chosen.to_dict("records") if isinstance(chosen, pd.DataFrame) else chosen)
]
choice = (new_model, tuple(pairs))
if st.button("Preview the change", icon=":material/preview:", type="primary"):
    _make_preview(choice, lambda engine: model_tuning.preview(engine, chosen, new_model))
if (applied := st.session_state.get(UNDO_KEY)) and st.button(
    f"Undo the last change ({len(applied):,} pairs back to their models)", icon=":material/undo:"
):
    _make_preview(None, lambda engine: model_tuning.undo_preview(engine, applied))

previewed_choice, preview = st.session_state.get(PREVIEW_KEY, (None, None))
if preview is not None and previewed_choice is not None and previewed_choice != choice:
    st.session_state.pop(PREVIEW_KEY, None)
    preview = None
if preview is not None:
    _show_preview(preview, "undo" if previewed_choice is None else new_model)
