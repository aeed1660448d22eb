"""Token holders (user_data) on the People page: headline numbers, balances by band, holders by
the age of their last verification, and the paged list — who holds what, when it was verified and
whether they also chat. A wallet counts once however many rows link it (an EVM address whatever
the letter case of its digits); balances are stored as text and shown as read, with the text as
stored beside them. Names, usernames and wallets are pseudonymised unless an admin turns that off."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import content_charts, content_sections, export, privacy, ui
from dashboard.config import load_settings

PAGE_SIZE = 50
PAGE_PARAM = "holders_page"
SORTS = {"balance": "Largest balance", "verified": "Last verified"}
# The balance bands of text that is no usable number (token_holder_bands' order from 100).
UNUSABLE_FROM = 100
COLUMNS = {
    "link": st.column_config.LinkColumn("Person", display_text=r"person=(\d+)"),
    "first_name": st.column_config.TextColumn("Name"),
    "username": st.column_config.TextColumn("Username"),
    "wallet_address": st.column_config.TextColumn("Wallet"),
    "wallet_note": st.column_config.TextColumn("Linked"),
    "balance": st.column_config.NumberColumn("Balance", format="localized"),
    "balance_status": st.column_config.TextColumn("Balance reads as"),
    "token_balance": st.column_config.TextColumn("As stored"),
    "last_verified_at": st.column_config.DatetimeColumn("Last verified", format="YYYY-MM-DD HH:mm"),
    "verified_days_ago": st.column_config.NumberColumn("Days ago", format="%d"),
    "also_chats": st.column_config.CheckboxColumn("Also chats"),
    "n_messages": st.column_config.NumberColumn("Messages written", format="localized"),
}


def summary(bands: pd.DataFrame) -> dict[str, int]:
    """Headline numbers from token_holder_bands: holders, the user_data rows behind them (more
    when a wallet is linked twice), holders who chat, verified within 30 days, and unusable
    balances."""
    verified = bands[bands["dimension"] == "verified"]
    balance = bands[bands["dimension"] == "balance"]
    holders = int(verified["n_holders"].sum())
    return {
        "holders": holders,
        "rows": int(verified["n_rows"].sum()),
        "also_chat": int(verified["n_also_chat"].sum()),
        "verified_30d": int(verified.loc[verified["band_order"] <= 3, "n_holders"].sum()),
        "unusable": int(balance.loc[balance["band_order"] >= UNUSABLE_FROM, "n_holders"].sum()),
    }


def wallet_note(n_rows: int, wallet: object) -> str:
    if not isinstance(wallet, str) or not wallet.strip():
        return "no wallet"
    if n_rows > 1:
        return f"{n_rows} rows, one wallet (letter case differs)"
    return ""


def shown_holders(frame: pd.DataFrame) -> pd.DataFrame:
    """token_holders rows as listed: whether the holder chats, a link to their person page when
    they do, and a note on merged or missing wallets."""
    chats = frame["n_messages"].fillna(0).astype("int64") > 0
    return frame.assign(
        also_chats=chats,
        link=[
            f"/people?person={int(user)}" if chatting and pd.notna(user) else None
            for user, chatting in zip(frame["user_id"], chats, strict=True)
        ],
        wallet_note=[
            wallet_note(int(n), w) for n, w in zip(frame["n_rows"], frame["wallet_address"], strict=True)
        ],
    )


def _tiles(numbers: dict[str, int]) -> None:
    holders = numbers["holders"]
    tiles = st.columns(4)
    tiles[0].metric("Token holders", f"{holders:,}", border=True, help="Wallets, each counted once.")
    share = f" ({numbers['also_chat'] / holders:.0%})" if holders else ""
    tiles[1].metric("Also chat", f"{numbers['also_chat']:,}{share}", border=True)
    tiles[2].metric("Verified in 30 days", f"{numbers['verified_30d']:,}", border=True)
    tiles[3].metric(
        "Unusable balances",
        f"{numbers['unusable']:,}",
        border=True,
        help="Stored balance text that is empty, missing, not a number, negative or too large.",
    )
    merged = numbers["rows"] - holders
    if merged:
        st.caption(
            f"{merged:,} user_data row{'s' if merged > 1 else ''} link a wallet that another row links "
            "too, in different letter case (0xAB… and 0xab… are one EVM address): each wallet is "
            "counted once."
        )


def section(*, pseudonymised: bool, key: bytes, tz: str) -> None:
    """The token holders section: numbers, the two charts and the list."""
    st.subheader("Token holders")
    st.caption("People who linked a wallet, all time (user_data); balances as last verified.")
    bands = ui.fetch_or_notice("token_holder_bands", {})
    if bands is None:
        return
    if bands.frame.empty:
        st.caption("Nobody linked a wallet yet.")
        ui.data_age_footer(bands)
        return
    _tiles(summary(bands.frame))
    left, right = st.columns(2)
    with left:
        st.caption("Holders by verified balance")
        st.plotly_chart(content_charts.balance_distribution(bands.frame), width="stretch")
    with right:
        st.caption("Holders by time since their last verification")
        st.plotly_chart(content_charts.verification_age(bands.frame), width="stretch")
    export.download_button("token_holder_bands", {}, {}, key="csv-token_holder_bands")
    ui.data_age_footer(bands)
    _holder_list(pseudonymised=pseudonymised, key=key, tz=tz)


def _holder_list(*, pseudonymised: bool, key: bytes, tz: str) -> None:
    sort = st.segmented_control(
        "Order holders", list(SORTS), format_func=SORTS.get, default="balance", key="holders-sort"
    )
    sort = sort or "balance"
    page = content_sections.page_number(PAGE_PARAM)
    params = {"tz": tz, "sort": sort, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    result = ui.fetch_or_notice("token_holders", params)
    if result is None:
        return
    frame = result.frame.head(PAGE_SIZE)
    if frame.empty:
        st.caption("No holders on this page.")
    else:
        shown = privacy.pseudonymise(key, frame) if pseudonymised else frame
        ui.table(shown_holders(shown), COLUMNS)
    has_next = len(result.frame) > PAGE_SIZE
    ui.pager(page, PAGE_SIZE, len(frame), has_next, noun="Holders", key=PAGE_PARAM, param=PAGE_PARAM)
    if not frame.empty:
        export.download_button(
            "token_holders",
            params | {"limit": load_settings().export_row_cap, "offset": 0},
            {"sort": sort, "pseudonymised": "yes" if pseudonymised else "no"},
            transform=(lambda row: privacy.pseudonymise_row(key, row)) if pseudonymised else None,
        )
    ui.data_age_footer(result)
