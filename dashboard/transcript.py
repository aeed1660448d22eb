"""The transcript page's rules, apart from Streamlit: reading a chat id and a page cursor from
the URL, and interleaving a page of messages with the commands run in the same time."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

MAX_BIGINT = 2**63 - 1
PAGE_SIZE = 50
# Commands shown between one page's messages; a bot spamming commands cannot flood the page.
MAX_COMMANDS_PER_PAGE = 500
_CURSOR = re.compile(r"(\d{1,19})-(\d{1,19})")


@dataclass(frozen=True)
class Cursor:
    """The newest message a page may show: (sent_ms, row id), inclusive."""

    sent_ms: int
    row_id: int

    def to_query(self) -> str:
        return f"{self.sent_ms}-{self.row_id}"

    def view_params(self) -> dict:
        # The view shows rows strictly before (before_ms, before_id): one past this message.
        return {"before_ms": self.sent_ms, "before_id": self.row_id + 1}


NEWEST = {"before_ms": MAX_BIGINT, "before_id": MAX_BIGINT}


def shown(text: str) -> str:
    """`text` as a notice quotes it: at most 40 characters, control and bidirectional characters
    written as escapes, so a link cannot hide or reorder the sentence around it."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text[:40])


def parse_chat_id(text: str | None) -> tuple[int | None, str | None]:
    """(chat id, None) for a whole number that fits PostgreSQL's bigint; (None, why) otherwise."""
    if text is None or not text.strip():
        return None, None
    cleaned = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,30}", cleaned):
        return (
            None,
            f"“{shown(cleaned)}” is not a chat id: chat ids are whole numbers, "
            "like 123456789 or -1001234567890.",
        )
    value = int(cleaned)
    if not -(2**63) <= value <= MAX_BIGINT:
        return None, f"{shown(cleaned)} is too large to be a chat id."
    return value, None


def parse_cursor(text: str | None) -> Cursor | None:
    """A cursor from '<sent_ms>-<row id>'; None (the newest page) for anything else."""
    match = _CURSOR.fullmatch((text or "").strip())
    if not match:
        return None
    sent_ms, row_id = int(match[1]), int(match[2])
    if sent_ms >= MAX_BIGINT or row_id >= MAX_BIGINT:
        return None
    return Cursor(sent_ms, row_id)


def cursor_problem(text: str | None) -> str | None:
    """Why the URL's `before` is not used (None when it is, or when there is none)."""
    if not (text or "").strip() or parse_cursor(text) is not None:
        return None
    return f"“{shown(text.strip())}” is not a place in this chat; showing the newest messages."


def interleaved(messages: pd.DataFrame, commands: pd.DataFrame) -> list[tuple[str, dict]]:
    """('message' | 'command', row) oldest first, commands placed at their time among messages
    (a command and a message of the same millisecond: the message first)."""
    items = [
        (int(r["sent_ms"]), 0, int(r["message_row_id"]), "message", r) for r in messages.to_dict("records")
    ]
    items += [
        (int(r["sent_ms"]), 1, int(r["command_row_id"]), "command", r) for r in commands.to_dict("records")
    ]
    return [(kind, row) for *_, kind, row in sorted(items, key=lambda item: item[:3])]
