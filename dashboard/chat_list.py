"""The chats list: every chat of the range, filtered by kind, size and participant, sorted and
paged in SQL (view chat_list), with its choices kept in the URL so a copied link reopens it.

`parse_query` is a pure function of the query parameters (tested without Streamlit);
`chats_section` draws the controls, the page of chats and its CSV download.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import streamlit as st

from dashboard import export, ui, views
from dashboard.config import load_settings
from dashboard.filters import Filters
from dashboard.transcript import shown

PAGE_SIZE = 25
KINDS = {"all": "All chats", "private": "Private", "group": "Groups"}
SORTS = {"messages": "Most messages", "recent": "Latest activity"}
MAX_MIN_MESSAGES = 10**9
QUERY_KEYS = ("kind", "min", "who", "sort", "page")
COLUMNS = {
    "link": st.column_config.LinkColumn("Chat", display_text=r"chat=(-?\d+)"),
    "chat_kind": st.column_config.TextColumn("Kind"),
    "agent_names": st.column_config.TextColumn("Agents"),
    "n_people": st.column_config.NumberColumn(
        "People", format="localized", help="Everyone who ever wrote in the chat to these agents."
    ),
    "n_user_messages": st.column_config.NumberColumn("From people", format="localized"),
    "n_assistant_messages": st.column_config.NumberColumn("From agents", format="localized"),
    "n_messages": st.column_config.NumberColumn("Messages", format="localized"),
    "share": st.column_config.ProgressColumn(
        "Share of traffic",
        format="percent",
        min_value=0.0,
        max_value=1.0,
        help="The chat's part of all messages of these agents in the range.",
    ),
    "first_active_at": st.column_config.DatetimeColumn("First in range", format="YYYY-MM-DD HH:mm"),
    "last_active_at": st.column_config.DatetimeColumn("Last in range", format="YYYY-MM-DD HH:mm"),
}


@dataclass(frozen=True)
class ChatListQuery:
    kind: str = "all"
    min_messages: int = 1
    participant: int | None = None
    sort: str = "messages"
    page: int = 1

    def view_params(self, filters: Filters) -> dict:
        return filters.view_params() | {
            "kind": self.kind,
            "min_messages": self.min_messages,
            "participant": self.participant,
            "sort": self.sort,
            "limit": PAGE_SIZE,
            "offset": (self.page - 1) * PAGE_SIZE,
        }

    def _query_values(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "min": str(self.min_messages),
            "who": "" if self.participant is None else str(self.participant),
            "sort": self.sort,
            "page": str(self.page),
        }

    def to_query(self) -> dict[str, str]:
        """The non-default choices, for the URL."""
        defaults = ChatListQuery()._query_values()
        return {key: value for key, value in self._query_values().items() if value != defaults[key]}

    def export_parts(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "min": str(self.min_messages) if self.min_messages > 1 else "",
            "participant": "" if self.participant is None else str(self.participant),
            "sort": self.sort,
        }


def _whole_number(text: str, low: int, high: int) -> int | None:
    cleaned = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,20}", cleaned):
        return None
    value = int(cleaned)
    return value if low <= value <= high else None


def parse_participant(text: str | None) -> tuple[int | None, str | None]:
    """(Telegram user id, None), (None, None) for no one, or (None, why) for something else."""
    if text is None or not text.strip():
        return None, None
    value = _whole_number(text, 0, 2**63 - 1)
    if value is None:
        return None, f"“{shown(text.strip())}” is not a Telegram user id (a whole number like 123456789)."
    return value, None


def parse_query(query: Mapping[str, str]) -> tuple[ChatListQuery, list[str]]:
    """The chat list's choices from the URL; anything unusable is left at its default, with a
    notice saying so."""
    notices: list[str] = []
    parsed = ChatListQuery()
    kind = query.get("kind")
    if kind:
        if kind in KINDS:
            parsed = replace(parsed, kind=kind)
        else:
            notices.append(f"Unknown chat kind “{shown(kind)}”: showing all chats.")
    sort = query.get("sort")
    if sort:
        if sort in SORTS:
            parsed = replace(parsed, sort=sort)
        else:
            notices.append(f"Unknown order “{shown(sort)}”: sorted by most messages.")
    minimum = query.get("min")
    if minimum:
        value = _whole_number(minimum, 1, MAX_MIN_MESSAGES)
        if value is None:
            notices.append(
                f"“{shown(minimum)}” is not a usable minimum size (a whole number from 1 to "
                f"{MAX_MIN_MESSAGES:,}): showing chats of any size."
            )
        else:
            parsed = replace(parsed, min_messages=value)
    participant, problem = parse_participant(query.get("who"))
    if problem:
        notices.append(problem + " The chats are not filtered by participant.")
    parsed = replace(parsed, participant=participant)
    page, problem = ui.parse_page(query.get("page"))
    if problem:
        notices.append(problem)
    parsed = replace(parsed, page=page)
    return parsed, notices


def _write_query(chosen: ChatListQuery, *, fixed_participant: bool) -> None:
    wanted = chosen.to_query()
    for key in QUERY_KEYS:
        if key == "who" and fixed_participant:
            continue
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def _controls(chosen: ChatListQuery, *, fixed_participant: bool) -> ChatListQuery:
    columns = st.columns([2, 2, 1, 2] if not fixed_participant else [2, 2, 1])
    kind = columns[0].segmented_control(
        "Kind", list(KINDS), format_func=KINDS.get, default=chosen.kind, key="chats-kind"
    )
    sort = columns[1].segmented_control(
        "Order", list(SORTS), format_func=SORTS.get, default=chosen.sort, key="chats-sort"
    )
    minimum = columns[2].number_input(
        "Min. messages",
        min_value=1,
        max_value=MAX_MIN_MESSAGES,
        value=chosen.min_messages,
        step=1,
        key="chats-min",
        help="Only chats with at least this many messages in the range.",
    )
    participant = chosen.participant
    if not fixed_participant:
        typed = columns[3].text_input(
            "Participant",
            value="" if chosen.participant is None else str(chosen.participant),
            placeholder="Telegram user id",
            max_chars=40,
            key="chats-who",
            help="Only chats this person wrote in. Find ids on the People page.",
        )
        participant, problem = parse_participant(typed)
        if problem:
            st.warning(ui.plain(problem), icon=":material/error:")
    changed = replace(
        chosen,
        kind=kind or chosen.kind,
        sort=sort or chosen.sort,
        min_messages=int(minimum),
        participant=participant,
    )
    # A new filter starts again at the first page.
    if replace(changed, page=1) != replace(chosen, page=1):
        changed = replace(changed, page=1)
    return changed


def chats_section(filters: Filters, *, participant: int | None = None) -> None:
    """The chats list with its controls; `participant` fixes it to one person's chats."""
    fixed = participant is not None
    chosen, notices = parse_query(st.query_params.to_dict())
    if fixed:
        chosen = replace(chosen, participant=participant)
    ui.show_notices(notices)
    chosen = _controls(chosen, fixed_participant=fixed)
    _write_query(chosen, fixed_participant=fixed)
    params = chosen.view_params(filters)
    try:
        # One row more than a page says whether a next page exists, without counting every chat.
        result = views.fetch("chat_list", **(params | {"limit": PAGE_SIZE + 1}))
    except views.MissingSchema as notice:
        st.info(str(notice), icon=":material/table_rows:")
        return
    except views.ViewUnavailable as problem:
        st.warning(str(problem), icon=":material/warning:")
        return
    frame = result.frame
    has_next = len(frame) > PAGE_SIZE
    frame = frame.head(PAGE_SIZE)
    if frame.empty:
        st.caption(
            "No chats on this page." if chosen.page > 1 else "No chats match these filters in this range."
        )
    else:
        ui.table(frame.assign(link=[f"/conversations?chat={c}" for c in frame["chat_id"]]), COLUMNS)
    ui.pager(chosen.page, PAGE_SIZE, len(frame), has_next, noun="Chats", key="chats")
    if not frame.empty:
        export.download_button(
            "chat_list",
            params | {"limit": load_settings().export_row_cap, "offset": 0},
            filters.export_parts() | chosen.export_parts(),
        )
    ui.data_age_footer(result)
