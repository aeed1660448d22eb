"""Agents: per agent usage over the range — messages, chats, people (new and returning), reply
latency, commands, model mix, capabilities — each agent's share over time, and an agent's page
(/agents?id=<agent id>) with its trend (settings changes marked), top chats and people, commands,
model preferences and weekly retention cohorts. The page's parameter is `id`, not `agent`: the
global filter bar already uses `agent` (the agents every page is filtered to)."""

from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard import agent_usage, charts, drill, export, privacy, signin, ui
from dashboard.drill import Drill
from dashboard.filter_bar import current

USAGE_COLUMNS = {
    "link": st.column_config.LinkColumn("Agent", display_text=r"id=(.*)$"),
    "agent_name": st.column_config.TextColumn("Name"),
    "is_active": st.column_config.CheckboxColumn("Active"),
    "n_user_messages": st.column_config.NumberColumn("User msgs", format="localized"),
    "n_assistant_messages": st.column_config.NumberColumn("Agent msgs", format="localized"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
    "n_people": st.column_config.NumberColumn("People", format="localized"),
    "n_new_people": st.column_config.NumberColumn("New", format="localized", help="First message ever."),
    "n_returning_people": st.column_config.NumberColumn("Returning", format="localized"),
    "median_ms": st.column_config.NumberColumn("Reply p50 (ms)", format="localized"),
    "p90_ms": st.column_config.NumberColumn("Reply p90 (ms)", format="localized"),
    "n_commands": st.column_config.NumberColumn("Commands", format="localized"),
    "command_success_rate": st.column_config.NumberColumn("Cmd success", format="percent"),
    **{
        f"n_{m.lower()}_chats": st.column_config.NumberColumn(f"{m.title()} chats", format="localized")
        for m in agent_usage.MODELS
    },
    "capabilities": st.column_config.TextColumn("Capabilities"),
    "last_active_at": st.column_config.DatetimeColumn("Last active", format="YYYY-MM-DD HH:mm"),
}
PEOPLE_COLUMNS = {
    "link": st.column_config.LinkColumn("Person", display_text=r"person=(\d+)"),
    "user_first_name": st.column_config.TextColumn("Name"),
    "username": st.column_config.TextColumn("Username"),
    "n_messages": st.column_config.NumberColumn("Messages (ever)", format="localized"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
    "last_seen_at": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
}
CHAT_COLUMNS = {
    "link": st.column_config.LinkColumn("Chat", display_text=r"chat=(-?\d+)"),
    "chat_kind": st.column_config.TextColumn("Kind"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "n_people": st.column_config.NumberColumn("People (ever)", format="localized"),
    "last_active_at": st.column_config.DatetimeColumn("Last message", format="YYYY-MM-DD HH:mm"),
}
COHORT_COLUMNS = {
    "link": st.column_config.LinkColumn("Person", display_text=r"person=(\d+)"),
    "user_first_name": st.column_config.TextColumn("Name"),
    "username": st.column_config.TextColumn("Username"),
    "n_messages": st.column_config.NumberColumn("Messages (ever)", format="localized"),
    "n_weeks_active": st.column_config.NumberColumn("Weeks active", format="localized"),
    "came_back": st.column_config.CheckboxColumn("Came back"),
    "last_message_at": st.column_config.DatetimeColumn("Last message", format="YYYY-MM-DD HH:mm"),
}
COHORT_SHOWN = 50
MIX_COLUMNS = {
    "model_type": st.column_config.TextColumn("Model"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
}

STATES = {True: "active", False: "inactive"}

user = signin.require_user()
filters = current()
params = filters.view_params()
csv_parts = filters.export_parts()


def _export(name: str, chosen: dict, parts: dict, transform=None) -> None:
    export.download_button(name, chosen, parts, transform=transform, key=f"csv-{name}")


def _usage(chosen: dict):
    """The per agent table and the results behind it (for their data-age footers)."""
    usage = ui.fetch_or_notice("agent_usage", chosen)
    if usage is None:
        return None, []
    latency = ui.fetch_or_notice("reply_latency", chosen)
    mix = ui.fetch_or_notice("agent_model_mix", chosen)
    table = agent_usage.usage_table(
        usage.frame, latency.frame if latency else None, mix.frame if mix else None
    )
    return table, [r for r in (usage, latency, mix) if r is not None]


agent_id, problem = agent_usage.parse_agent_id(st.query_params.get("id"))
if problem:
    st.warning(ui.plain(problem) + " Showing all agents.", icon=":material/error:")

if agent_id is None:
    st.title("Agents")
    st.caption(
        f"{filters.describe()} · messages, people, replies and commands in the range; model mix over "
        "each agent's chats ever (a chat without a model preference uses OpenAI, Lillo's default); "
        "people are estimated within 2% when rollups are installed. Click a column to sort."
    )
    table, results = _usage(params)
    if table is not None:
        if table.empty:
            st.caption("No agents yet.")
        else:
            ui.table(
                table.assign(link=[f"/agents?id={quote(a, safe='')}" for a in table["agent_id"]]),
                USAGE_COLUMNS,
            )
            exports = {
                "agent_usage": "Usage",
                "reply_latency": "Reply latency",
                "agent_model_mix": "Model mix",
            }
            for column, (name, label) in zip(st.columns(len(exports)), exports.items(), strict=True):
                with column:
                    st.caption(f"{label} (CSV)")
                    _export(name, params, csv_parts)
        for result in results:
            ui.data_age_footer(result)
    st.subheader("Each agent's share of messages")
    ui.chart_block(
        "messages_per_bucket",
        params,
        lambda frame: charts.agent_share(frame, bucket=filters.bucket, tz=filters.tz),
        csv_parts=csv_parts,
        drill=Drill(
            "app_pages/agents.py",
            filters,
            extra=lambda point: {"id": drill.point_value(point) or ""},
            help="Click the chart to open that agent's page for that period.",
        ),
    )
    st.stop()

agent_params = params | {"agent_ids": [agent_id]}
agent_parts = csv_parts | {"agents": agent_id}
table, results = _usage(agent_params)
if table is None:
    st.stop()
if table.empty:
    st.title("Agents")
    st.info(
        ui.plain(f"No agent with id “{agent_id[:40]}” exists: it has no agents row and no messages."),
        icon=":material/search_off:",
    )
    st.page_link("app_pages/agents.py", label="All agents", icon=":material/arrow_back:")
    st.stop()

row = table.iloc[0]
st.title(ui.plain(str(row["agent_name"])))
st.caption(
    ui.plain(
        f"Agent id {agent_id} · {STATES.get(row['is_active'], 'no agents row')} · "
        f"capabilities: {row['capabilities'] or 'none'} · {filters.describe()}"
    )
)
tiles = st.columns(5)
tiles[0].metric("Messages", f"{int(row['n_user_messages'] + row['n_assistant_messages']):,}", border=True)
tiles[1].metric("People", f"{int(row['n_people']):,}", f"{int(row['n_new_people']):,} new", border=True)
latency = row.get("median_ms")
tiles[2].metric(
    "Reply p50", "—" if latency != latency or latency is None else f"{latency / 1000:,.1f} s", border=True
)
tiles[3].metric("Commands", f"{int(row['n_commands']):,}", border=True)
rate = row["command_success_rate"]
tiles[4].metric("Command success", "—" if rate != rate or rate is None else f"{rate:.1%}", border=True)
_export("agent_usage", agent_params, agent_parts)
for result in results:
    if result.name != "agent_model_mix":  # its own block below has the footer
        ui.data_age_footer(result)

changes = None
audit = ui.fetch_or_notice("audit_log", params | {"actor": "", "table_name": "", "limit": 1_000})
if audit is not None:
    changes = agent_usage.settings_changes(audit.frame, agent_id)

st.subheader("Messages over time")
if changes is not None and not changes.empty:
    st.caption(f"Dashed lines: {len(changes)} settings change(s) from the audit log.")


def _trend(frame):
    figure = charts.messages_by_role(frame, bucket=filters.bucket, tz=filters.tz)
    return charts.with_change_markers(figure, changes) if changes is not None else figure


def _only_this_agent(point) -> dict:
    return {"agent": [agent_id]}


ui.chart_block(
    "messages_per_bucket",
    agent_params,
    _trend,
    csv_parts=agent_parts,
    drill=Drill(
        "app_pages/conversations.py",
        filters,
        extra=_only_this_agent,
        help="Click a bar to open this agent's chats of that period.",
    ),
)

st.subheader("Commands, failures in red")
st.caption("A command belongs to the agent that last wrote in its chat before it.")
ui.chart_block(
    "commands_per_bucket",
    agent_params,
    lambda frame: charts.commands_per_bucket(frame, bucket=filters.bucket, tz=filters.tz),
    csv_parts=agent_parts,
    drill=Drill(
        "app_pages/commands.py",
        filters,
        extra=_only_this_agent,
        help="Click a bar to open this agent's commands and errors of that period.",
    ),
)

left, right = st.columns(2)
with left:
    st.subheader("Top chats")
    ui.view_block(
        "chat_list",
        agent_params
        | {
            "kind": "all",
            "min_messages": 1,
            "participant": None,
            "sort": "messages",
            "limit": 10,
            "offset": 0,
        },
        lambda frame: ui.table(
            frame.assign(link=[f"/conversations?chat={c}" for c in frame["chat_id"]]), CHAT_COLUMNS
        ),
        csv_parts=agent_parts,
    )
with right:
    st.subheader("Model preferences")
    st.caption("The agent's chats ever, by the model set for them (none set = OpenAI).")
    ui.view_block(
        "agent_model_mix",
        {"agent_ids": [agent_id]},
        lambda frame: ui.table(frame, MIX_COLUMNS),
        csv_parts=agent_parts,
    )

st.subheader("Top people")
key = privacy.deployment_key(signin.auth_config().cookie_key)
pseudonymised = ui.pseudonymise_switch(user.is_admin)
people_params = {
    "agent_ids": [agent_id],
    "tz": filters.tz,
    "person": None,
    "sort": "messages",
    "limit": 10,
    "offset": 0,
}
people = ui.fetch_or_notice("people", people_params)
if people is not None:
    if people.frame.empty:
        st.caption("Nobody wrote to this agent yet.")
    else:
        shown = privacy.pseudonymise(key, people.frame) if pseudonymised else people.frame
        ui.table(shown.assign(link=[f"/people?person={p}" for p in shown["user_id"]]), PEOPLE_COLUMNS)
        _export(
            "people",
            people_params,
            agent_parts | {"pseudonymised": "yes" if pseudonymised else "no"},
            (lambda r: privacy.pseudonymise_row(key, r)) if pseudonymised else None,
        )
    ui.data_age_footer(people)


def _cohort_people(week: str) -> None:
    """The people of one retention cohort (first message to the agent in `week`), names
    pseudonymised as in the top people above."""
    st.markdown(f"**People who first wrote to this agent in the week of {week}**")
    cohort_params = {"agent_id": agent_id, "cohort_week": week, "limit": COHORT_SHOWN, "offset": 0}
    cohort = ui.fetch_or_notice("agent_cohort_people", cohort_params)
    if cohort is None:
        return
    shown = privacy.pseudonymise(key, cohort.frame) if pseudonymised else cohort.frame
    ui.table(shown.assign(link=[f"/people?person={p}" for p in shown["user_id"]]), COHORT_COLUMNS)
    if len(shown) == COHORT_SHOWN:
        st.caption(f"The {COHORT_SHOWN} who wrote most; the CSV has everyone.")
    _export(
        "agent_cohort_people",
        cohort_params | {"limit": None},
        agent_parts | {"cohort": week, "pseudonymised": "yes" if pseudonymised else "no"},
        (lambda r: privacy.pseudonymise_row(key, r)) if pseudonymised else None,
    )


st.subheader("Retention")
st.caption(
    "People by the UTC week (from Monday) of their first message to this agent, for the weeks that "
    "overlap the range; then the share of them who wrote again in each following week."
)
retention_params = {"agent_id": agent_id, "start_ms": filters.start_ms, "end_ms": filters.end_ms}
retention = ui.fetch_or_notice("agent_retention", retention_params)
if retention is not None:
    matrix = agent_usage.retention_matrix(retention.frame)
    if matrix.empty:
        st.caption("Nobody first wrote to this agent in these weeks.")
    else:
        week_columns = {
            c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="percent")
            for c in matrix.columns
            if c.startswith("week_")
        }
        picked = st.dataframe(
            matrix,
            column_config={
                "cohort_week": st.column_config.DateColumn("First week", format="YYYY-MM-DD"),
                "cohort_size": st.column_config.NumberColumn("People", format="localized"),
            }
            | week_columns,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="retention-cohort",
        )
        st.caption("Select a cohort to list its people.")
        _export("agent_retention", retention_params, agent_parts)
        if rows := (picked.selection.rows if picked else []):
            _cohort_people(pd.Timestamp(matrix.iloc[rows[0]]["cohort_week"]).date().isoformat())
    ui.data_age_footer(retention)
