"""Models: which LLM each (agent, chat) runs on, and the evidence to compare them — the mix,
figures per model over the range with the number of chats behind each, commands that need
function calling in chats set to GEMINI, and the history of changes with a changed chat's figures
before and after. A chat without a model preference runs on OpenAI, Lillo's default; every figure
counts such chats as OPENAI and says so. Admins tune preferences on the Model tuning page."""

import streamlit as st

from dashboard import export, model_figures, signin, ui
from dashboard.filter_bar import current

MIX_COLUMNS = {
    "model_type": st.column_config.TextColumn("Model"),
    "n_chats": st.column_config.NumberColumn("Chats (ever)", format="localized"),
    "n_default_chats": st.column_config.NumberColumn(
        "Of which default", format="localized", help="Chats without a preference row: they run on OpenAI."
    ),
    "n_active_chats": st.column_config.NumberColumn("Active in range", format="localized"),
    "n_messages": st.column_config.NumberColumn("Messages in range", format="localized"),
    "traffic_share": st.column_config.ProgressColumn(
        "Share of traffic", format="percent", min_value=0.0, max_value=1.0
    ),
}
COMPARISON_COLUMNS = {
    "model_type": st.column_config.TextColumn("Model"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized", help="Active in the range."),
    "messages_per_chat_per_day": st.column_config.NumberColumn("Msgs / chat / day", format="%.2f"),
    "messages_per_chat": st.column_config.NumberColumn("Conversation length", format="%.1f"),
    "median_ms": st.column_config.NumberColumn("Reply p50 (ms)", format="localized"),
    "p90_ms": st.column_config.NumberColumn("Reply p90 (ms)", format="localized"),
    "n_replies": st.column_config.NumberColumn("Replies", format="localized"),
    "command_success_rate": st.column_config.NumberColumn("Cmd success", format="percent"),
    "command_p95_ms": st.column_config.NumberColumn("Cmd p95 (ms)", format="localized"),
    "n_commands": st.column_config.NumberColumn("Commands", format="localized"),
    "returning_share": st.column_config.NumberColumn("Came back", format="percent"),
    "n_new_people": st.column_config.NumberColumn("New people", format="localized"),
    "evidence": st.column_config.TextColumn("Evidence"),
}
MISCONFIG_COLUMNS = {
    "link": st.column_config.LinkColumn("Chat", display_text=r"chat=(-?\d+)"),
    "agent_name": st.column_config.TextColumn("Agent"),
    "command": st.column_config.TextColumn("Command"),
    "n_calls": st.column_config.NumberColumn("Calls", format="localized"),
    "n_failures": st.column_config.NumberColumn("Failures", format="localized"),
    "last_at": st.column_config.DatetimeColumn("Last call", format="YYYY-MM-DD HH:mm"),
}
CHANGE_COLUMNS = {
    "changed_at": st.column_config.DatetimeColumn("Changed", format="YYYY-MM-DD HH:mm"),
    "agent_name": st.column_config.TextColumn("Agent"),
    "chat_id": st.column_config.NumberColumn("Chat", format="%d"),
    "model_before": st.column_config.TextColumn("From"),
    "model_after": st.column_config.TextColumn("To"),
    "source": st.column_config.TextColumn("Known from"),
    "actor": st.column_config.TextColumn("By"),
    "reason": st.column_config.TextColumn("Reason"),
}
EFFECT_COLUMNS = {
    "period": st.column_config.TextColumn("Period"),
    "period_start": st.column_config.DatetimeColumn("From", format="YYYY-MM-DD"),
    "period_end": st.column_config.DatetimeColumn("To", format="YYYY-MM-DD"),
    "messages_per_day": st.column_config.NumberColumn("Msgs / day", format="%.2f"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "median_ms": st.column_config.NumberColumn("Reply p50 (ms)", format="localized"),
    "n_replies": st.column_config.NumberColumn("Replies", format="localized"),
    "command_success_rate": st.column_config.NumberColumn("Cmd success", format="percent"),
    "command_p95_ms": st.column_config.NumberColumn("Cmd p95 (ms)", format="localized"),
    "n_commands": st.column_config.NumberColumn("Commands", format="localized"),
    "n_people": st.column_config.NumberColumn("People", format="localized"),
}
EFFECT_WINDOW_DAYS = 14

user = signin.require_user()
filters = current()
params = filters.view_params()
csv_parts = filters.export_parts()
names = model_figures.agent_names()

st.title("Models")
st.caption(
    f"{filters.describe()} · each (agent, chat) runs on the model set for it; a chat without a "
    "preference runs on OpenAI (Lillo's default) and is counted as OPENAI here."
)
if user.is_admin:
    st.page_link("app_pages/model_tuning.py", label="Tune model preferences", icon=":material/tune:")

st.subheader("Mix")
mix = ui.fetch_or_notice("model_mix", params)
if mix is not None:
    if mix.frame.empty:
        st.caption("No chats yet.")
    else:
        st.caption("All chosen agents")
        ui.table(model_figures.overall_mix(mix.frame), MIX_COLUMNS)
        st.caption("Chats per agent and model (ever)")
        st.dataframe(model_figures.mix_by_agent(mix.frame, names), hide_index=True, width="stretch")
        export.download_button("model_mix", params, csv_parts, key="csv-model_mix")
    ui.data_age_footer(mix)

st.subheader("Comparison over the range")
st.caption(
    "For the chats on each model that had messages in the range. Evidence says how many chats, "
    "replies, commands and people each figure rests on: few means a figure can mislead. Read "
    "from the rollups, OPENAI's chats and people are estimates (within 2%) and the percentiles "
    "come from histograms (within 1%)."
)
ui.view_block(
    "model_comparison",
    params,
    lambda frame: ui.table(model_figures.with_evidence(frame), COMPARISON_COLUMNS),
    csv_parts=csv_parts,
)

st.subheader("Likely misconfigurations")
st.caption(
    "Commands that need function calling (image generation, market data) run in chats set to "
    "GEMINI, which has none."
)
ui.view_block(
    "model_misconfigurations",
    params,
    lambda frame: ui.table(
        model_figures.linked_misconfigurations(frame, names, filters.tz), MISCONFIG_COLUMNS
    ),
    empty_message="None in this range: no function-calling command ran in a GEMINI chat.",
    csv_parts=csv_parts,
)

st.subheader("History")
st.caption(
    "Preference changes, newest first: from the dashboard's audit log (with who, why and the model "
    "before) and from rows updated in Lillo itself (only the time and the new model are known). "
    f"Pick one to compare the chat's {EFFECT_WINDOW_DAYS} days before and after."
)
changes_params = {"agent_ids": params["agent_ids"], "limit": 500}
changes = ui.fetch_or_notice("model_changes", changes_params)
if changes is not None and changes.frame.empty:
    st.caption("No preference was ever changed.")
elif changes is not None:
    shown = model_figures.named_changes(changes.frame, names, filters.tz)
    picked = st.dataframe(
        shown[[c for c in CHANGE_COLUMNS if c in shown.columns]],
        column_config=CHANGE_COLUMNS,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="model-change",
    )
    export.download_button(
        "model_changes", changes_params, {"agents": csv_parts["agents"]}, key="csv-model_changes"
    )
    rows = picked.selection.rows if picked else []
    if rows:
        change = changes.frame.iloc[rows[0]]
        st.markdown(
            ui.plain(
                f"Chat {change['chat_id']} with {names.get(change['agent_id'], change['agent_id'])}: "
                f"{change['model_before'] or 'unknown'} → {change['model_after']}, "
                f"{EFFECT_WINDOW_DAYS} days before and after"
            )
        )
        ui.view_block(
            "model_change_effect",
            model_figures.effect_params(change, EFFECT_WINDOW_DAYS),
            lambda frame: ui.table(model_figures.whole_ms(frame), EFFECT_COLUMNS),
            csv_parts={"chat": str(change["chat_id"]), "agent": str(change["agent_id"])},
        )
if changes is not None:
    ui.data_age_footer(changes)
