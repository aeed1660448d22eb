"""Commands: per command calls, failures, success rate and duration percentiles, trend, by agent,
error signatures, slowest calls and the retry funnel — and a command's page
(/commands?command=<name>) with its duration histogram and errors over time. Error texts are
shown as plain text in tables, cut to 300 characters."""

import streamlit as st

from dashboard import charts, command_page, drill, export, ui, views
from dashboard.config import load_settings
from dashboard.drill import Drill
from dashboard.filter_bar import current

SLOWEST_SHOWN = 50
STATS_COLUMNS = {
    "link": st.column_config.LinkColumn("Command", display_text=r"command=(.+)$"),
    "n_calls": st.column_config.NumberColumn("Calls", format="localized"),
    "n_failures": st.column_config.NumberColumn("Failures", format="localized"),
    "success_rate": st.column_config.NumberColumn("Success", format="percent"),
    "p50_duration_ms": st.column_config.NumberColumn("p50 ms", format="%.0f"),
    "p95_duration_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
    "p99_duration_ms": st.column_config.NumberColumn("p99 ms", format="%.0f"),
}
AGENT_COLUMNS = {
    "link": st.column_config.LinkColumn("Command", display_text=r"command=(.+)$"),
    "agent_name": st.column_config.TextColumn("Agent"),
    "n_calls": st.column_config.NumberColumn("Calls", format="localized"),
    "n_failures": st.column_config.NumberColumn("Failures", format="localized"),
    "success_rate": st.column_config.NumberColumn("Success", format="percent"),
}
SIGNATURE_COLUMNS = {
    "signature": st.column_config.TextColumn("Error signature", width="large"),
    "n_failures": st.column_config.NumberColumn("Failures", format="localized"),
    "first_seen_at": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD HH:mm"),
    "last_seen_at": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
    "commands": st.column_config.TextColumn("Commands"),
    "agent_names": st.column_config.TextColumn("Agents"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
    "n_people": st.column_config.NumberColumn("People", format="localized"),
    "example_error": st.column_config.TextColumn("Latest error text"),
}
EXAMPLE_COLUMNS = {
    "link": st.column_config.LinkColumn("Transcript", display_text="Open at that moment"),
    "signature": st.column_config.TextColumn("Error signature"),
    "chat_id": st.column_config.NumberColumn("Chat", format="%d"),
    "failed_at": st.column_config.DatetimeColumn("Failed at (UTC)", format="YYYY-MM-DD HH:mm:ss"),
}
SLOWEST_COLUMNS = {
    "link": st.column_config.LinkColumn("Command", display_text=r"command=(.+)$"),
    "duration_ms": st.column_config.NumberColumn("Duration ms", format="localized"),
    "success": st.column_config.CheckboxColumn("Succeeded"),
    "called_at": st.column_config.DatetimeColumn("At (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "chat_id": st.column_config.NumberColumn("Chat", format="%d"),
    "agent_name": st.column_config.TextColumn("Agent"),
    "error": st.column_config.TextColumn("Error text"),
}
FUNNEL_COLUMNS = {
    "link": st.column_config.LinkColumn("Command", display_text=r"command=(.+)$"),
    "n_failures": st.column_config.NumberColumn("Failures", format="localized"),
    "n_retried": st.column_config.NumberColumn("Retried within 10 min", format="localized"),
    "retry_rate": st.column_config.NumberColumn("Retry rate", format="percent"),
    "n_retry_succeeded": st.column_config.NumberColumn("Retry succeeded", format="localized"),
    "retry_success_rate": st.column_config.NumberColumn("Retries that succeeded", format="percent"),
}

filters = current()
params = filters.view_params()
csv_parts = filters.export_parts()


def _agent_names() -> dict[str, str]:
    try:
        directory = views.fetch("agent_directory").frame
    except views.ViewUnavailable:
        return {}
    return dict(zip(directory["agent_id"], directory["agent_name"], strict=True))


AGENT_NAMES = _agent_names()


def _named(ids) -> list[str]:
    return [AGENT_NAMES.get(agent_id, agent_id) or "(no agent)" for agent_id in ids]


def _linked(frame):
    return frame.assign(link=[command_page.command_link(name) for name in frame["command"]])


def sections(command: str) -> None:
    """Everything shown for one command, or for every command when `command` is ''."""
    scoped = params | {"command": command}
    parts = csv_parts | {"command": command}

    st.subheader("Errors over time" if command else "Calls per command")
    ui.chart_block(
        "command_trend",
        scoped,
        lambda frame: (charts.command_failures if command else charts.command_trend)(
            frame, bucket=filters.bucket, tz=filters.tz
        ),
        csv_parts=parts,
        drill=Drill(
            "app_pages/commands.py",
            filters,
            extra=lambda point: {"command": command or drill.point_value(point) or ""},
            help="Click a bar to open that command's calls and errors of that period.",
        ),
    )

    st.subheader("By agent")
    st.caption("A command belongs to the agent that last wrote in its chat before it.")
    ui.view_block(
        "command_agents",
        scoped,
        lambda frame: ui.table(_linked(frame).assign(agent_name=_named(frame["agent_id"])), AGENT_COLUMNS),
        csv_parts=parts,
    )

    st.subheader("Error signatures")
    st.caption(
        "Failures grouped by the first line of their error text, with ids, numbers, hex, UUIDs, URLs "
        "and quoted values replaced by placeholders."
    )
    signatures = ui.view_block(
        "error_signatures",
        scoped,
        lambda frame: ui.table(
            frame.assign(
                signature=frame["signature"].replace("", "(no error text)"),
                agent_names=[", ".join(_named(ids.split(", "))) for ids in frame["agent_ids"]],
            ),
            SIGNATURE_COLUMNS,
        ),
        empty_message="No failures in this range.",
        csv_parts=parts,
    )
    if signatures is not None and not signatures.frame.empty:
        st.caption("The latest failures of each signature, linked to the transcript at that moment.")
        examples = command_page.signature_examples(signatures.frame)
        shown = examples.assign(signature=examples["signature"].replace("", "(no error text)"))
        ui.table(shown, EXAMPLE_COLUMNS)

    st.subheader("Slowest calls")
    slowest = ui.view_block(
        "command_slowest_calls",
        scoped | {"limit": SLOWEST_SHOWN},
        lambda frame: ui.table(
            _linked(frame).assign(
                agent_name=_named(frame["agent_id"]),
                called_at=[command_page.moment(ms) for ms in frame["sent_ms"]],
            ),
            SLOWEST_COLUMNS,
        ),
    )
    if slowest is not None and not slowest.frame.empty:
        export.download_button(
            "command_slowest_calls", scoped | {"limit": load_settings().export_row_cap}, parts
        )

    st.subheader("Retry funnel")
    st.caption(
        "After a failure: how often the same person ran the same command again within 10 minutes, "
        "and how often that next try succeeded."
    )
    ui.view_block(
        "command_retry_funnel",
        scoped,
        lambda frame: ui.table(
            _linked(frame).assign(
                retry_rate=frame["n_retried"] / frame["n_failures"],
                retry_success_rate=(frame["n_retry_succeeded"] / frame["n_retried"]).where(
                    frame["n_retried"] > 0
                ),
            ),
            FUNNEL_COLUMNS,
        ),
        empty_message="No failures in this range.",
        csv_parts=parts,
    )


command, problem = command_page.parse_command(st.query_params.get("command"))
if problem:
    st.warning(ui.plain(problem), icon=":material/error:")

try:
    known = views.fetch("command_names").frame
except views.ViewUnavailable as notice:
    st.warning(str(notice), icon=":material/warning:")
    st.stop()


def _open_chosen() -> None:
    st.query_params.clear()
    if st.session_state["commands-open"]:
        st.query_params["command"] = st.session_state["commands-open"]


options = ["", *known["command"]]
st.selectbox(
    "Open a command",
    options,
    index=options.index(command) if command in options else 0,
    format_func=lambda name: "All commands" if name == "" else "/" + name,
    key="commands-open",
    on_change=_open_chosen,
)

if command is None:
    st.title("Commands")
    st.caption(filters.describe())
    st.subheader("Per command")
    ui.view_block(
        "command_stats",
        params,
        lambda frame: ui.table(_linked(frame), STATS_COLUMNS),
        empty_message="No commands in this range.",
        csv_parts=csv_parts,
    )
    sections("")
    st.stop()

if command not in set(known["command"]):
    st.title("Commands")
    st.info(
        ui.plain(f"No command “/{command}” was ever run here. Pick one above."), icon=":material/search_off:"
    )
    st.stop()

st.title(ui.plain("/" + command))
st.caption(filters.describe())
stats = ui.view_block(
    "command_stats",
    params,
    lambda frame: ui.table(_linked(frame[frame["command"] == command]), STATS_COLUMNS),
    empty_message="No commands in this range.",
    csv_parts=csv_parts,
)
if stats is not None and command not in set(stats.frame["command"]):
    st.caption(ui.plain(f"/{command} was not run in this range."))
st.subheader("Duration distribution")
ui.chart_block(
    "command_durations",
    params | {"command": command},
    charts.command_durations,
    csv_parts=csv_parts | {"command": command},
)
sections(command)
