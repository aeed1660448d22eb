"""Conversations: search over all messages; the range's activity (people's and agents' messages
over time, hour of the week, reply latency, chat sizes); the chats list; and a chat's transcript —
messages in order with author, role and time, the message each reply answers, commands at their
time, paged so a long chat opens as fast as a short one. Opening a transcript is recorded in the
audit log. Every text from the database is shown with st.text: never as Markdown or HTML."""

import pandas as pd
import streamlit as st

from dashboard import (
    charts,
    chat_list,
    export,
    privacy,
    runtime,
    search,
    signin,
    store,
    transcript,
    ui,
    views,
)
from dashboard.config import load_settings
from dashboard.drill import Drill
from dashboard.filter_bar import current

VIEWED_KEY = "_conversations_viewed_chats"
# A message longer than this (Lillo stores what it got, up to megabytes) is cut on screen.
LONGEST_SHOWN = 10_000

user = signin.require_user()
filters = current()
config = signin.auth_config()
st.title("Conversations")

chat_id, problem = transcript.parse_chat_id(st.query_params.get("chat"))
if problem:
    st.warning(ui.plain(problem), icon=":material/error:")

with st.form("open-chat", border=False):
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    typed = left.text_input("Chat id", value="" if chat_id is None else str(chat_id), max_chars=40)
    if right.form_submit_button("Open chat", icon=":material/forum:"):
        st.query_params["chat"] = typed.strip()
        st.query_params.pop("before", None)
        st.rerun()


def _search(text: str) -> None:
    """Messages containing `text`, newest first, each with a snippet and a way into its chat."""
    try:
        found = search.find_messages(
            text,
            index_ready=runtime.live_schema().search_index_ready,
            agent_ids=filters.agent_ids,
            tz=filters.tz,
            fetch=lambda name, **params: views.fetch(name, **params).frame,
        )
    except views.ViewUnavailable as notice:
        st.warning(ui.plain(str(notice)), icon=":material/warning:")
        return
    for notice in found.notices:  # the dashboard's own sentences, never the searched text
        st.info(notice, icon=":material/info:")
    if found.hits is None:
        return
    hits = found.hits
    if found.indexed:
        scope, rule = (
            "all messages",
            " Text is found where it starts a word: “price” finds “prices”, not “superprice”.",
        )
    else:
        scope, rule = f"the newest {search.SEARCH_SCAN_ROWS:,} messages", ""
    st.caption(
        f"Searched {scope}{' of the chosen agents' if filters.agent_ids else ''}; {len(hits)} found"
        f"{f' (the newest {search.SEARCH_LIMIT})' if len(hits) == search.SEARCH_LIMIT else ''}.{rule}"
    )
    if ui.pseudonymised(user.is_admin):
        hits = privacy.pseudonymise(privacy.deployment_key(config.cookie_key), hits)
    query = search.search_text(text)
    for hit in hits.to_dict("records"):
        with st.container(border=True):
            author = hit["user_first_name"] or "(no name)"
            st.text(f"{author} · {hit['role']} · {hit['sent_at']:%Y-%m-%d %H:%M} · chat {hit['chat_id']}")
            before, match, after = search.snippet(hit["content"], query)
            st.markdown(ui.plain(before) + (f"**{ui.plain(match)}**" if match else "") + ui.plain(after))
            if st.button("Open in its chat", key=f"hit-{hit['message_row_id']}", type="tertiary"):
                st.query_params["chat"] = str(hit["chat_id"])
                st.query_params["before"] = transcript.Cursor(
                    int(hit["sent_ms"]), int(hit["message_row_id"])
                ).to_query()
                st.query_params.pop("q", None)
                st.rerun()


if chat_id is None:
    asked = st.text_input("Search messages", value=st.query_params.get("q", ""), max_chars=10_000)
    if asked.strip():
        st.query_params["q"] = asked[: search.MAX_QUERY]
        _search(asked)
    else:
        st.query_params.pop("q", None)
    params, csv_parts = filters.view_params(), filters.export_parts()
    st.caption(filters.describe())
    left, right = st.columns(2)
    with left:
        st.subheader("Messages by people and agents")
        ui.chart_block(
            "messages_per_bucket",
            params,
            lambda frame: charts.messages_by_role(frame, bucket=filters.bucket, tz=filters.tz),
            csv_parts=csv_parts,
            drill=Drill(
                "app_pages/conversations.py",
                filters,
                help="Click a bar to narrow the page and its chats to that period.",
            ),
        )
    with right:
        st.subheader("When people talk")
        ui.chart_block(
            "activity_heatmap",
            params,
            lambda frame: charts.hour_of_week_heatmap(frame, tz=filters.tz),
            csv_parts=csv_parts,
        )
    left, right = st.columns(2)
    with left:
        st.subheader("How fast agents reply")
        st.caption("From a person's message to the agent's next reply in the same chat, in the range.")
        ui.chart_block("reply_latency", params, charts.reply_latency, csv_parts=csv_parts)
    with right:
        st.subheader("How big chats get")
        st.caption("Every chat by its stored messages, all time.")
        ui.chart_block(
            "chat_size_distribution",
            params,
            charts.chat_sizes,
            csv_parts={"agents": csv_parts["agents"]},
        )
    st.subheader("Chats")
    st.caption(f"Messages in the range · {filters.describe()}. Open a chat to read it.")
    chat_list.chats_section(filters)
    st.stop()

try:
    agents = views.fetch("chat_agents", chat_id=chat_id, tz=filters.tz).frame
except views.ViewUnavailable as notice:
    st.warning(str(notice), icon=":material/warning:")
    st.stop()
if agents.empty:
    st.info(f"There is no chat {chat_id} in this database.", icon=":material/search_off:")
    st.stop()

# Reading a transcript is reading personal data: it is shown only once the audit log has it.
viewed = st.session_state.setdefault(VIEWED_KEY, set())
if chat_id not in viewed:
    try:
        store.record_view(runtime.writer(), config, user, "chat_messages", {"chat_id": chat_id})
    except store.WriteRefused as refused:
        st.warning(
            f"{refused} The transcript is shown only when its viewing can be recorded.",
            icon=":material/policy:",
        )
        st.stop()
    viewed.add(chat_id)

kind = "private chat" if chat_id > 0 else "group"
st.subheader(f"Chat {chat_id} · {kind}")
first_at, last_at = agents["chat_first_at"].min(), agents["last_at"].max()
st.caption(
    f"{int(agents['n_messages'].sum()):,} stored messages · first {first_at:%Y-%m-%d %H:%M}, "
    f"last {last_at:%Y-%m-%d %H:%M} ({filters.tz})"
)
controls = st.columns([2, 1])
labels = dict(zip(agents["agent_id"], agents["agent_name"], strict=True))
chosen_agents = controls[0].multiselect(
    "Agents in this chat",
    list(labels),
    format_func=labels.get,
    placeholder="All agents",
    key=f"agents-{chat_id}",
)
with controls[1]:
    pseudonymised = ui.pseudonymise_switch(user.is_admin)
key = privacy.deployment_key(config.cookie_key)

cursor = transcript.parse_cursor(st.query_params.get("before"))
if problem := transcript.cursor_problem(st.query_params.get("before")):
    st.info(ui.plain(problem), icon=":material/info:")
params = {
    "chat_id": chat_id,
    "agent_ids": chosen_agents,
    "limit": transcript.PAGE_SIZE,
    "tz": filters.tz,
} | (cursor.view_params() if cursor else transcript.NEWEST)
try:
    page = views.fetch("chat_transcript", **params).frame
except views.ViewUnavailable as notice:
    st.warning(str(notice), icon=":material/warning:")
    st.stop()
if page.empty:
    st.info("No messages of these agents here.")
    st.stop()
if pseudonymised:
    page = privacy.pseudonymise(key, page)

# Commands up to the cursor's moment: a link to a command's time shows that command too.
newest_ms = max(int(page["sent_ms"].max()), cursor.sent_ms) if cursor else transcript.MAX_BIGINT
commands = views.fetch(
    "chat_commands",
    chat_id=chat_id,
    from_ms=int(page["sent_ms"].min()),
    to_ms=newest_ms,
    tz=filters.tz,
    limit=transcript.MAX_COMMANDS_PER_PAGE,
).frame

navigation = st.columns(3)
oldest = page.iloc[-1]
if len(page) == transcript.PAGE_SIZE and navigation[0].button(
    "Older messages", icon=":material/arrow_upward:"
):
    st.query_params["before"] = transcript.Cursor(
        int(oldest["sent_ms"]), int(oldest["message_row_id"]) - 1
    ).to_query()
    st.rerun()
if cursor and navigation[1].button("Newest messages", icon=":material/arrow_downward:"):
    st.query_params.pop("before", None)
    st.rerun()


def _author(row: dict) -> str:
    name = row["user_first_name"] or "(no name)"
    return f"{name} (@{row['username']})" if row.get("username") else name


for kind_of, row in transcript.interleaved(page, commands):
    if kind_of == "command":
        outcome = "ok" if row["success"] else "failed"
        when = f"{row['sent_at']:%Y-%m-%d %H:%M:%S}"
        line = f"⚙ /{row['command']} · {when} · {row['duration_ms']:,} ms · {outcome}"
        if not row["success"] and row["error"]:
            line += f": {row['error']}"
        st.text(line)
        continue
    role = "assistant" if row["role"] == "assistant" else "user"
    with st.chat_message(role):
        agents_text = ", ".join(labels.get(a, a) for a in row["agent_ids"])
        st.text(f"{_author(row)} · {row['role']} · {row['sent_at']:%Y-%m-%d %H:%M:%S} · {agents_text}")
        if row["reply_to_message_id"] is not None and not pd.isna(row["reply_to_message_id"]):
            with st.container(border=True):
                if row["reply_missing"]:
                    st.text("↪ replies to a message that is not stored")
                else:
                    st.text(f"↪ {row['reply_author']}: {row['reply_content']}")
                    if st.button("Show it", key=f"reply-{row['message_row_id']}", type="tertiary"):
                        target = transcript.Cursor(int(row["reply_sent_ms"]), int(row["reply_row_id"]))
                        st.query_params["before"] = target.to_query()
                        st.rerun()
        content = row["content"] or ""
        st.text(content[:LONGEST_SHOWN])
        if len(content) > LONGEST_SHOWN:
            st.caption(
                f"… {len(content) - LONGEST_SHOWN:,} more characters: the transcript's CSV export holds "
                "the whole message."
            )

st.caption(f"Showing {len(page)} messages and {len(commands)} commands, oldest first.")
export.download_button(
    "chat_transcript",
    params | transcript.NEWEST | {"limit": load_settings().export_row_cap},
    {
        "chat": str(chat_id),
        "agents": "+".join(chosen_agents),
        "pseudonymised": "yes" if pseudonymised else "no",
    },
    transform=(lambda row: privacy.pseudonymise_row(key, row)) if pseudonymised else None,
)
