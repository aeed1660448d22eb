"""What the Commands page needs besides views: the command named in its URL, and the links and
rows built from view rows (transcript links for error examples, command page links)."""

from __future__ import annotations

import urllib.parse

import pandas as pd

# command_metrics.command is varchar(50); a longer name cannot exist.
MAX_COMMAND_CHARS = 50
# The transcript page's `before` cursor is "<sent_ms>-<message row id>", inclusive; the largest id
# it accepts (one below bigint's maximum) shows the page of messages at or before that moment.
LAST_ROW_ID = 2**63 - 2


def parse_command(text: str | None) -> tuple[str | None, str | None]:
    """(command name, problem): the name as views compare it (lower case, without the leading '/'),
    or None with a reason a person can read when `text` cannot be a command."""
    if text is None or not text.strip():
        return None, None
    name = text.strip().lower().lstrip("/")
    if not name:
        return None, "“/” alone is not a command."
    if len(name) > MAX_COMMAND_CHARS:
        return None, f"A command name has at most {MAX_COMMAND_CHARS} characters."
    if any(not character.isprintable() for character in name):
        return None, "A command name cannot hold control characters."
    return name, None


def command_link(name: str) -> str:
    return "/commands?" + urllib.parse.urlencode({"command": name})


def transcript_link(chat_id: int, sent_ms: int) -> str:
    """The transcript of `chat_id` at the page of messages at or before `sent_ms`."""
    return f"/conversations?chat={int(chat_id)}&before={int(sent_ms)}-{LAST_ROW_ID}"


def signature_examples(signatures: pd.DataFrame) -> pd.DataFrame:
    """One row per example failure of view error_signatures' rows: signature, chat, moment and
    the link to the transcript there."""
    rows = [
        {
            "signature": row["signature"],
            "chat_id": int(chat_id),
            "failed_at": moment(sent_ms),
            "link": transcript_link(chat_id, sent_ms),
        }
        for _, row in signatures.iterrows()
        for chat_id, sent_ms in zip(row["example_chat_ids"], row["example_sent_ms"], strict=True)
    ]
    return pd.DataFrame(rows, columns=["signature", "chat_id", "failed_at", "link"])


def moment(sent_ms: int) -> pd.Timestamp:
    return pd.Timestamp(int(sent_ms), unit="ms", tz="UTC")
