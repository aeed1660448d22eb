"""People: everyone who wrote to the agents — messages, chats, agents talked to, first and last
seen, linked wallet — then the token holders (balances, verification, whether they chat), and a
person's page (/people?person=<id>) with their chats. Names, usernames and wallets are
pseudonymised unless an admin turns that off, in exports too."""

import streamlit as st

from dashboard import chat_list, export, privacy, signin, token_holders, ui, views
from dashboard.config import load_settings
from dashboard.filter_bar import current

PAGE_SIZE = 50
SORTS = {"messages": "Most messages", "recent": "Last seen"}
COLUMNS = {
    "link": st.column_config.LinkColumn("Person", display_text=r"person=(\d+)"),
    "user_first_name": st.column_config.TextColumn("Name"),
    "username": st.column_config.TextColumn("Username"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "n_chats": st.column_config.NumberColumn("Chats", format="localized"),
    "agent_names": st.column_config.TextColumn("Agents talked to"),
    "first_seen_at": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD HH:mm"),
    "last_seen_at": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
    "wallet_address": st.column_config.TextColumn("Wallet"),
}

user = signin.require_user()
filters = current()
key = privacy.deployment_key(signin.auth_config().cookie_key)
st.title("People")
pseudonymised = ui.pseudonymise_switch(user.is_admin)


def _shown(frame):
    return privacy.pseudonymise(key, frame) if pseudonymised else frame


def _transform():
    return (lambda row: privacy.pseudonymise_row(key, row)) if pseudonymised else None


def _people_params(**chosen) -> dict:
    return {"agent_ids": list(filters.agent_ids), "tz": filters.tz, "person": None} | chosen


person, problem = chat_list.parse_participant(st.query_params.get("person"))
if problem:
    st.warning(ui.plain(problem), icon=":material/error:")

with st.form("open-person", border=False):
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    typed = left.text_input("Telegram user id", value="" if person is None else str(person), max_chars=40)
    if right.form_submit_button("Open person", icon=":material/person_search:"):
        st.query_params.clear()
        st.query_params["person"] = typed.strip()
        st.rerun()

if person is None:
    st.caption(
        "Everyone who wrote to "
        + ("the chosen agents" if filters.agent_ids else "the agents")
        + ", all time. Open a person to see their chats."
    )
    sort = st.segmented_control(
        "Order", list(SORTS), format_func=SORTS.get, default="messages", key="people-sort"
    )
    sort = sort or "messages"
    page, problem = ui.parse_page(st.query_params.get("page"))
    if problem:
        st.info(ui.plain(problem), icon=":material/info:")
    params = _people_params(sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    try:
        result = views.fetch("people", **(params | {"limit": PAGE_SIZE + 1}))
    except views.MissingSchema as notice:
        st.info(str(notice), icon=":material/table_rows:")
        st.stop()
    except views.ViewUnavailable as notice:
        st.warning(str(notice), icon=":material/warning:")
        st.stop()
    frame = result.frame.head(PAGE_SIZE)
    if frame.empty:
        st.caption("Nobody on this page." if page > 1 else "Nobody wrote to these agents yet.")
    else:
        shown = _shown(frame)
        ui.table(shown.assign(link=[f"/people?person={p}" for p in frame["user_id"]]), COLUMNS)
    ui.pager(page, PAGE_SIZE, len(frame), len(result.frame) > PAGE_SIZE, noun="People", key="people")
    if not frame.empty:
        export.download_button(
            "people",
            params | {"limit": load_settings().export_row_cap, "offset": 0},
            {
                "agents": "+".join(filters.agent_ids),
                "sort": sort,
                "pseudonymised": "yes" if pseudonymised else "no",
            },
            transform=_transform(),
        )
    ui.data_age_footer(result)
    token_holders.section(pseudonymised=pseudonymised, key=key, tz=filters.tz)
    st.stop()

try:
    found = views.fetch("people", **_people_params(person=person, sort="messages", limit=1, offset=0)).frame
except views.ViewUnavailable as notice:
    st.warning(str(notice), icon=":material/warning:")
    st.stop()
if found.empty:
    st.info(
        f"Nobody with Telegram id {person} wrote to "
        + ("the chosen agents." if filters.agent_ids else "the agents."),
        icon=":material/search_off:",
    )
    st.stop()

profile = _shown(found).iloc[0]
name = profile["user_first_name"] or "(no name)"
# Names come from Telegram: escaped, so Markdown in them stays text.
st.subheader(ui.plain(name + (f" (@{profile['username']})" if profile["username"] else "")), anchor=False)
st.caption(ui.plain(f"Telegram id {person} · talks to {profile['agent_names'] or '—'}"))
tiles = st.columns(4)
tiles[0].metric("Messages", f"{int(profile['n_messages']):,}", border=True)
tiles[1].metric("Chats", f"{int(profile['n_chats']):,}", border=True)
tiles[2].metric("First seen", f"{profile['first_seen_at']:%Y-%m-%d}", border=True)
tiles[3].metric("Last seen", f"{profile['last_seen_at']:%Y-%m-%d}", border=True)
wallet = profile["wallet_address"]
st.text(f"Linked wallet: {wallet}" if isinstance(wallet, str) and wallet else "No linked wallet.")
st.subheader("Their chats")
st.caption(f"Messages in the range · {filters.describe()}.")
chat_list.chats_section(filters, participant=person)
