"""Overview: the range's headline numbers against the previous period, activity over time,
the busiest chats and every agent."""

import streamlit as st

from dashboard import charts, ui
from dashboard.drill import Drill, clicked_agent
from dashboard.filter_bar import current

MESSAGE_TILES = [
    ui.Tile("Messages", "n_messages"),
    ui.Tile("Active chats", "n_active_chats"),
    ui.Tile("Active users", "n_active_users", help="People who wrote at least one message."),
    ui.Tile("Active agents", "n_active_agents"),
]
COMMAND_TILES = [
    ui.Tile("Commands run", "n_commands"),
    ui.Tile("Command success", "success_rate", fmt="{:.1%}", is_rate=True),
    ui.Tile("p95 command duration", "p95_duration_ms", fmt="{:,.0f} ms", lower_is_better=True),
]
TOP_CHATS_COLUMNS = {
    "chat_id": st.column_config.NumberColumn("Chat", format="%d"),
    "chat_kind": st.column_config.TextColumn("Kind"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "n_people": st.column_config.NumberColumn(
        "People (ever)",
        format="localized",
        help="Everyone who ever wrote in the chat, not only in this range.",
    ),
    "agent_names": st.column_config.TextColumn("Agents"),
    "last_active_at": st.column_config.DatetimeColumn("Last active", format="YYYY-MM-DD HH:mm"),
}
AGENT_COLUMNS = {
    "agent_name": st.column_config.TextColumn("Agent"),
    "is_active": st.column_config.CheckboxColumn("Active"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
    "last_active_at": st.column_config.DatetimeColumn("Last active", format="YYYY-MM-DD HH:mm"),
    "agent_id": st.column_config.TextColumn("Agent id"),
}

filters = current()
params = filters.view_params()
csv_parts = filters.export_parts()

st.title("Overview")
st.caption(filters.describe() + ("" if filters.has_previous_period else " · no previous period for all time"))

ui.kpi_row("message_kpis", params, MESSAGE_TILES, compare=filters.has_previous_period)
ui.kpi_row("command_kpis", params, COMMAND_TILES, compare=filters.has_previous_period)

left, right = st.columns(2)
with left:
    st.subheader("Messages by agent")
    ui.chart_block(
        "messages_per_bucket",
        params,
        lambda frame: charts.messages_per_bucket(frame, bucket=filters.bucket, tz=filters.tz),
        csv_parts=csv_parts,
        drill=Drill(
            "app_pages/conversations.py",
            filters,
            extra=clicked_agent,
            help="Click a bar to open that agent's chats of that period.",
        ),
    )
with right:
    st.subheader("Commands, failures in red")
    ui.chart_block(
        "commands_per_bucket",
        params,
        lambda frame: charts.commands_per_bucket(frame, bucket=filters.bucket, tz=filters.tz),
        csv_parts=csv_parts,
        drill=Drill(
            "app_pages/commands.py", filters, help="Click a bar to open that period's commands and errors."
        ),
    )

st.subheader("Top 10 chats")
st.caption(f"Last active in {filters.tz}.")
ui.view_block(
    "top_chats", params | {"limit": 10}, lambda frame: ui.table(frame, TOP_CHATS_COLUMNS), csv_parts=csv_parts
)

st.subheader("Agents")
st.caption(
    f"Messages and chats in the range; last active ever, in {filters.tz}. "
    "Agents without an agents row show their raw id."
)
ui.view_block("agent_activity", params, lambda frame: ui.table(frame, AGENT_COLUMNS), csv_parts=csv_parts)
