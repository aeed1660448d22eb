"""A small hand-made Lillo data set whose right answers are known without the dashboard's SQL.

Every row carries its true moment (`at`); the stored `timestamp` is that moment in seconds or in
milliseconds, chosen per row, so tests compute expected answers from `at` and never from the
dashboard's own epoch rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

ANCHOR = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
ALPHA = "11111111-1111-1111-1111-111111111111"
BETA = "22222222-2222-2222-2222-222222222222"
GAMMA = "33333333-3333-3333-3333-333333333333"  # registered, never wrote
GHOST = "ghost-bot"  # has messages, no agents row
PRIVATE_CHAT = 1001
OTHER_PRIVATE_CHAT = 2002
GROUP_CHAT = -1001234567890

AGENTS = [
    {
        "id": ALPHA,
        "name": "Alpha",
        "type": "telegram",
        "is_active": True,
        "secure_config": "c2VjcmV0LWFscGhh",
    },
    {"id": BETA, "name": "Beta", "type": "telegram", "is_active": False, "secure_config": "c2VjcmV0LWJldGE="},
    {"id": GAMMA, "name": "Gamma", "type": "telegram", "is_active": True, "secure_config": None},
]


def _at(days: float, hours: float = 0) -> datetime:
    return ANCHOR - timedelta(days=days) + timedelta(hours=hours)


# (chat, message_id, user_id, first name, username, role, agent, at, unit, reply_to)
_MESSAGES = [
    # current period: the 7 days before ANCHOR
    (PRIVATE_CHAT, 1, 501, "Ana", "ana", "user", ALPHA, _at(1, 9), "ms", None),
    (PRIVATE_CHAT, 2, 9001, "Alpha", None, "assistant", ALPHA, _at(1, 9.01), "ms", 1),
    (PRIVATE_CHAT, 3, 501, "Ana", "ana", "user", ALPHA, _at(2, 23.5), "s", None),
    (PRIVATE_CHAT, 4, 9001, "Alpha", None, "assistant", ALPHA, _at(2, 23.51), "s", 3),
    (GROUP_CHAT, 10, 502, "Борис", None, "user", ALPHA, _at(3, 12), "ms", None),
    (GROUP_CHAT, 11, 9001, "Alpha", None, "assistant", ALPHA, _at(3, 12.1), "ms", 10),
    (GROUP_CHAT, 12, 503, "さくら", "sakura", "user", BETA, _at(3, 13), "s", None),
    (GROUP_CHAT, 13, 9002, "Beta", None, "assistant", BETA, _at(3, 13.2), "ms", 12),
    (GROUP_CHAT, 14, 502, "Борис", None, "user", GHOST, _at(4, 8), "ms", None),
    (GROUP_CHAT, 15, 9003, "Ghost", None, "assistant", GHOST, _at(4, 8.05), "ms", 14),
    (GROUP_CHAT, 16, 504, "<b>Eve</b>", None, "user", BETA, _at(5, 18), "ms", None),
    (GROUP_CHAT, 17, 0, "system", None, "system", BETA, _at(5, 18.01), "ms", None),
    (OTHER_PRIVATE_CHAT, 1, 505, "Zoë", None, "user", BETA, _at(6, 7), "s", None),
    (OTHER_PRIVATE_CHAT, 2, 9002, "Beta", None, "assistant", BETA, _at(6, 7.02), "s", 1),
    # previous period: 7 to 14 days before ANCHOR
    (PRIVATE_CHAT, 20, 501, "Ana", "ana", "user", ALPHA, _at(8, 10), "ms", None),
    (PRIVATE_CHAT, 21, 9001, "Alpha", None, "assistant", ALPHA, _at(8, 10.01), "ms", 20),
    (GROUP_CHAT, 30, 506, "Omar", "omar", "user", ALPHA, _at(10, 15), "s", None),
    (GROUP_CHAT, 31, 9001, "Alpha", None, "assistant", ALPHA, _at(10, 15.1), "s", 30),
    # older than both periods
    (GROUP_CHAT, 40, 502, "Борис", None, "user", GHOST, _at(40), "s", None),
    # exactly at the end bound: outside [start, end)
    (PRIVATE_CHAT, 50, 501, "Ana", "ana", "user", ALPHA, ANCHOR, "ms", None),
]

# (command, user, chat, duration ms, success, error, at, unit)
_COMMANDS = [
    ("img", 501, PRIVATE_CHAT, 8200, True, None, _at(1, 9.5), "ms"),
    (
        "/img",
        501,
        PRIVATE_CHAT,
        30500,
        False,
        "upstream 503 from https://img.example/gen?id=8f3a",
        _at(1, 10),
        "ms",
    ),
    ("ticker", 502, GROUP_CHAT, 310, True, None, _at(3, 12.2), "s"),
    ("dex", 503, GROUP_CHAT, 950, False, "ECONNRESET fetching token 0x9f8e", _at(3, 13.5), "ms"),
    ("settings", 9001, GROUP_CHAT, 40, True, None, _at(4, 9), "s"),
    ("gecko", 505, OTHER_PRIVATE_CHAT, 420, True, None, _at(6, 7.5), "ms"),
    ("clear", 501, PRIVATE_CHAT, 0, True, None, _at(2), "ms"),
    # previous period
    ("img", 501, PRIVATE_CHAT, 7000, True, None, _at(8, 11), "ms"),
    ("ticker", 506, GROUP_CHAT, 280, False, "Token not found: XYZ", _at(10, 15.2), "s"),
    # older
    ("msg", 502, GROUP_CHAT, 120, True, None, _at(40), "s"),
]


def _epoch(at: datetime, unit: str) -> int:
    seconds = int(at.timestamp())
    return seconds * 1000 + at.microsecond // 1000 if unit == "ms" else seconds


def messages() -> pd.DataFrame:
    columns = [
        "chat_id",
        "message_id",
        "user_id",
        "user_first_name",
        "username",
        "role",
        "agent_id",
        "at",
        "unit",
        "reply_to_message_id",
    ]
    frame = pd.DataFrame(_MESSAGES, columns=columns)
    frame["timestamp"] = [_epoch(at, unit) for at, unit in zip(frame["at"], frame["unit"], strict=True)]
    frame["stored_ms"] = _stored_ms(frame)
    frame["id"] = range(1, len(frame) + 1)
    frame["content"] = "message " + frame["message_id"].astype(str)
    return frame


def commands() -> pd.DataFrame:
    columns = ["command", "user_id", "chat_id", "duration", "success", "error", "at", "unit"]
    frame = pd.DataFrame(_COMMANDS, columns=columns)
    frame["timestamp"] = [_epoch(at, unit) for at, unit in zip(frame["at"], frame["unit"], strict=True)]
    frame["stored_ms"] = _stored_ms(frame)
    frame["agent_id"] = [
        _last_speaker(chat, ms) for chat, ms in zip(frame["chat_id"], frame["stored_ms"], strict=True)
    ]
    return frame


def _stored_ms(frame: pd.DataFrame) -> pd.Series:
    """The stored epoch in milliseconds, from the unit each row was written in."""
    return frame["timestamp"].where(frame["unit"] == "ms", frame["timestamp"] * 1000)


def _last_speaker(chat_id: int, at_ms: int) -> str:
    """The agent that last wrote in the chat at or before `at_ms` ('' if none); ties by row id."""
    said = messages()
    said = said[(said["chat_id"] == chat_id) & (said["stored_ms"] <= at_ms)]
    if said.empty:
        return ""
    return said.sort_values(["stored_ms", "id"]).iloc[-1]["agent_id"]


def load(engine) -> None:
    """Insert the fixture rows (a few dozen: plain INSERTs are fine here)."""
    import sqlalchemy as sa

    message_rows = [
        {
            "chat_id": chat,
            "message_id": mid,
            "user_id": uid,
            "user_first_name": first,
            "username": username,
            "role": role,
            "agent_id": agent,
            "timestamp": _epoch(at, unit),
            "reply_to_message_id": reply,
            "content": f"message {mid}",
        }
        for chat, mid, uid, first, username, role, agent, at, unit, reply in _MESSAGES
    ]
    command_rows = [
        {
            "command": command,
            "user_id": uid,
            "chat_id": chat,
            "duration": duration,
            "success": success,
            "error": error,
            "timestamp": _epoch(at, unit),
        }
        for command, uid, chat, duration, success, error, at, unit in _COMMANDS
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into agents (id, name, type, is_active, secure_config, capabilities) "
                "values (cast(:id as uuid), :name, :type, :is_active, :secure_config, '{}'::jsonb)"
            ),
            AGENTS,
        )
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, username, role,"
                " content, timestamp, reply_to_message_id, agent_id) values (:message_id, :chat_id, :user_id,"
                " :user_first_name, :username, :role, :content, :timestamp, :reply_to_message_id, :agent_id)"
            ),
            message_rows,
        )
        conn.execute(
            sa.text(
                "insert into command_metrics (command, user_id, chat_id, duration, success, error, timestamp)"
                " values (:command, :user_id, :chat_id, :duration, :success, :error, :timestamp)"
            ),
            command_rows,
        )
