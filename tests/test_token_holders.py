"""Token holders on the embedded PostgreSQL over the hand-made user_data rows U1-U16 of
tests/content_data.py, both over Lillo's tables and over the rollups, against answers worked out by
hand: wallets merged across letter case, balances that are empty, huge, not numbers or too small
for a float, verification ages, and who also chats (by Telegram id, from the fixture's messages)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import token_holders, views
from dashboard.db import admin_engine, reader_engine
from dashboard.live_schema import introspect
from tests import content_data as cd
from tests.databases import prepared

# Holder -> the user_data id of the row it shows (its latest verified). H1 is U1 and U2: one EVM
# wallet in two letter cases. U4 and U5 differ in case too, but are not EVM addresses: two wallets.
BY_BALANCE = [12, 1, 7, 10, 15, 6, 8, 3, 4, 5, 9, 11, 13, 14, 16]
BY_VERIFIED = [1, 11, 12, 15, 7, 13, 8, 3, 10, 6, 5, 4, 9, 14, 16]
STATUS = {
    1: "ok",  # 1500.5
    3: "too large",  # 1e400
    4: "not a number",  # 12,5
    5: "not a number",  # abc
    6: "ok",  # 0
    7: "ok",  # " 42 "
    8: "negative",  # -5
    9: "missing",  # null
    10: "ok",  # 0.25
    11: "not a number",  # NaN
    12: "ok",  # 30 digits: 1.2e29
    13: "too large",  # 151 digits
    14: "too large",  # 1e99999
    15: "ok",  # 1e-400
    16: "empty",  # ""
}
# User messages each holder's Telegram ids wrote (tests/fixture_data.py): 501 wrote 4, 502 3,
# 503, 504, 505 and 506 one each; nobody else any.
MESSAGES = {1: 4, 3: 3, 4: 1, 6: 1, 8: 1, 16: 1}
BALANCE_BANDS = [
    # (order, band, holders, rows, also chat)
    (0, "zero", 1, 1, 1),
    (1, "under 1", 2, 2, 0),
    (3, "10–100", 1, 1, 0),
    (5, "1k–10k", 1, 2, 1),
    (31, "1e29–1e30", 1, 1, 0),
    (101, "too large", 3, 3, 1),
    (102, "negative", 1, 1, 1),
    (103, "not a number", 3, 3, 1),
    (104, "empty", 1, 1, 1),
    (105, "missing", 1, 1, 0),
]
VERIFIED_BANDS = [
    (1, "under 1 day", 2, 3, 1),  # H1 (2 h, two rows), H11 (3 h)
    (2, "1–7 days", 3, 3, 0),  # H7 (5 d), H12 (25 h), H15 (2 d)
    (3, "7–30 days", 2, 2, 1),  # H8 (20 d), H13 (8 d)
    (4, "30–90 days", 2, 2, 1),  # H3 (40 d), H10 (60 d)
    (5, "90–365 days", 1, 1, 1),  # H6 (100 d)
    (6, "over a year", 1, 1, 0),  # H5 (400 d)
    (7, "never", 4, 4, 2),  # H4, H9 (no valid epoch), H14, H16 (epoch 0)
]


@pytest.fixture(scope="module")
def holders_url(new_database) -> str:
    """The fixture and the content rows, installed, rollups built."""
    return prepared(new_database("token_holders"), seed=cd.seed)


@pytest.fixture(scope="module")
def reader(holders_url):
    engine = reader_engine(holders_url, statement_timeout_ms=10_000)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def holders(conn, *, rollup: bool, **overrides) -> pd.DataFrame:
    params = {"tz": "UTC", "sort": "balance", "limit": 50, "offset": 0} | overrides
    return views.run_view(conn, introspect(conn), "token_holders", params, rollup=rollup)


def bands(conn, *, rollup: bool) -> list[tuple]:
    frame = views.run_view(conn, introspect(conn), "token_holder_bands", {}, rollup=rollup)
    return [
        (
            row.dimension,
            int(row.band_order),
            row.band,
            int(row.n_holders),
            int(row.n_rows),
            int(row.n_also_chat),
        )
        for row in frame.itertuples()
    ]


@pytest.mark.parametrize("rollup", [False, True])
def test_holders_by_balance_with_every_odd_balance_read_safely(reader, rollup):
    got = holders(reader, rollup=rollup)
    assert got["holder_id"].tolist() == BY_BALANCE
    rows = got.set_index("holder_id")
    assert rows["balance_status"].to_dict() == STATUS
    assert rows.loc[1, "balance"] == 1500.5 and rows.loc[7, "balance"] == 42
    assert rows.loc[12, "balance"] == pytest.approx(1.2345678901234568e29)
    assert rows.loc[8, "balance"] == -5 and rows.loc[6, "balance"] == 0
    assert rows.loc[15, "balance"] == 0  # 1e-400: a number, too small for a float
    for holder in (3, 4, 5, 9, 11, 13, 14, 16):
        assert math.isnan(rows.loc[holder, "balance"]), holder
    # The text as stored, beside what it reads as.
    assert rows.loc[3, "token_balance"] == "1e400" and rows.loc[4, "token_balance"] == "12,5"
    assert rows.loc[7, "token_balance"] == " 42 " and rows.loc[16, "token_balance"] == ""
    assert pd.isna(rows.loc[9, "token_balance"])


@pytest.mark.parametrize("rollup", [False, True])
def test_a_wallet_in_two_letter_cases_is_one_holder(reader, rollup):
    rows = holders(reader, rollup=rollup).set_index("holder_id")
    assert 2 not in rows.index  # U2 is U1's wallet in lower case, verified earlier
    assert rows.loc[1, "n_rows"] == 2 and rows.loc[1, "wallet_address"] == cd.EVM
    assert rows.loc[1, "user_id"] == 501 and rows.loc[1, "first_name"] == "Ana"
    # Not an EVM address: case matters, two holders.
    assert {rows.loc[4, "wallet_address"], rows.loc[5, "wallet_address"]} == {
        "So1anaWa11etCaseSensitive",
        "so1anawa11etcasesensitive",
    }
    assert (rows["n_rows"] == 1).drop(1).all()
    assert pd.isna(rows.loc[6, "wallet_address"])  # no wallet: a holder of its own


@pytest.mark.parametrize("rollup", [False, True])
def test_who_also_chats_and_when_each_was_verified(reader, rollup):
    rows = holders(reader, rollup=rollup).set_index("holder_id")
    assert {h: int(n) for h, n in rows["n_messages"].items() if n} == MESSAGES
    assert rows.loc[1, "verified_days_ago"] == 0 and rows.loc[3, "verified_days_ago"] == 40
    assert rows.loc[5, "verified_days_ago"] == 400
    for never in (4, 9, 14, 16):
        assert pd.isna(rows.loc[never, "last_verified_at"]), never


@pytest.mark.parametrize("rollup", [False, True])
def test_holders_sorted_by_verification_and_paged(reader, rollup):
    assert holders(reader, rollup=rollup, sort="verified")["holder_id"].tolist() == BY_VERIFIED
    assert holders(reader, rollup=rollup, limit=5, offset=5)["holder_id"].tolist() == BY_BALANCE[5:10]
    # An order the view does not know is the balance order.
    assert holders(reader, rollup=rollup, sort="messages")["holder_id"].tolist() == BY_BALANCE


@pytest.mark.parametrize("rollup", [False, True])
def test_bands_of_balance_and_verification_age(reader, rollup):
    got = bands(reader, rollup=rollup)
    assert got == [("balance", *band) for band in BALANCE_BANDS] + [
        ("verified", *band) for band in VERIFIED_BANDS
    ]


def test_the_rollup_variant_counts_messages_written_since_the_refresh(holders_url):
    """U5's Telegram id writes after the rollups were built: both variants see it at once."""
    engine = admin_engine(holders_url)
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id)"
                " values (1, 8000000001, 8000000001, 'New', 'user', 'hi', 1772400000, 'x')"
            )
        )
        for rollup in (False, True):
            rows = holders(conn, rollup=rollup).set_index("holder_id")
            assert rows.loc[5, "n_messages"] == 1, rollup
            chatting = {band[2]: band[5] for band in bands(conn, rollup=rollup) if band[0] == "verified"}
            assert chatting["over a year"] == 1, rollup
        transaction.rollback()
    engine.dispose()


def test_summary_and_listed_rows_from_the_views(reader):
    numbers = token_holders.summary(
        views.run_view(reader, introspect(reader), "token_holder_bands", {}, rollup=False)
    )
    assert numbers == {"holders": 15, "rows": 16, "also_chat": 6, "verified_30d": 7, "unusable": 9}
    shown = token_holders.shown_holders(holders(reader, rollup=False)).set_index("holder_id")
    assert shown.loc[1, "wallet_note"] == "2 rows, one wallet (letter case differs)"
    assert shown.loc[6, "wallet_note"] == "no wallet" and shown.loc[7, "wallet_note"] == ""
    assert shown.loc[1, "link"] == "/people?person=501" and shown.loc[1, "also_chats"]
    assert pd.isna(shown.loc[7, "link"]) and not shown.loc[7, "also_chats"]  # no Telegram id
    assert pd.isna(shown.loc[5, "link"])  # has a Telegram id, never wrote
