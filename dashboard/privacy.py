"""Pseudonyms for people: stable per Telegram user id and per deployment (keyed with a secret,
so they cannot be reversed by hashing known ids), and masked wallet addresses."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

PERSON_NAME_COLUMNS = ("user_first_name", "first_name")
USERNAME_COLUMNS = ("username",)


def pseudonym(key: bytes, user_id: object) -> str:
    """'Person 3F7A2C' — the same for the same id and key."""
    digest = hmac.new(key, f"person:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"Person {digest[:6].upper()}"


def mask_wallet(address: object) -> object:
    """'0x12ab…89ef' for addresses longer than 10 characters; others become '…'."""
    if not isinstance(address, str) or not address:
        return address
    return f"{address[:6]}…{address[-4:]}" if len(address) > 10 else "…"


def pseudonymise_row(key: bytes, row: dict) -> dict:
    """A row with people's names and usernames replaced (assistants keep theirs) and wallet
    addresses masked."""
    changed = dict(row)
    if changed.get("reply_author") is not None and changed.get("reply_role") != "assistant":
        changed["reply_author"] = pseudonym(key, changed.get("reply_user_id"))
    if row.get("role") == "assistant":
        return changed
    person = pseudonym(key, row.get("user_id"))
    for column in PERSON_NAME_COLUMNS:
        if column in changed and changed[column] is not None:
            changed[column] = person
    for column in USERNAME_COLUMNS:
        if column in changed and changed[column] is not None:
            changed[column] = person.replace("Person ", "person_").lower()
    if "wallet_address" in changed:
        changed["wallet_address"] = mask_wallet(changed["wallet_address"])
    return changed


def pseudonymise(key: bytes, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [pseudonymise_row(key, row) for row in frame.to_dict("records")], columns=frame.columns
    )


def deployment_key(secret: bytes) -> bytes:
    """The pseudonym key of this deployment, derived from its cookie key (never the key itself)."""
    return hmac.new(secret, b"lillo-dashboard pseudonyms", hashlib.sha256).digest()
