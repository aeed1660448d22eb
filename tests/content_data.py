"""Hand-made content rows for the Content page and the token holders, added to the fixture of
tests/fixture_data.py (whose people 501-506 wrote messages). Each row's true moment is written
out here, and the right answers are in the tests that use them, counted by hand.

Token holders are verified relative to the time the rows are written (the views age them against
now()), each far from the band edges it is meant to fall between.
"""

from __future__ import annotations

import time
from datetime import timedelta
from html.parser import HTMLParser

import sqlalchemy as sa

from tests import fixture_data as fx

PNG = (  # one pixel
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
LONG_URL = "https://img.example/" + "a" * 100_000  # 100 KB


def _ms(days: float, hours: float = 0) -> int:
    return int((fx.ANCHOR - timedelta(days=days) + timedelta(hours=hours)).timestamp() * 1000)


# (type, content, ms, stored in seconds?, location, prompt, image_url, tweet_id)
POSTS = [
    (
        "tweet",
        "gm <b>all</b> [x](javascript:alert(1))",
        _ms(1),
        False,
        "Berlin",
        None,
        "javascript:alert(1)",
        "1800000000000000001",
    ),
    ("tweet", "second\nline", _ms(1, 2), True, None, "a cat", "", "not-a-tweet-id"),
    ("announcement", "news", _ms(3), False, None, None, "https://img.example/a.png", None),
    ("tweet", "old", _ms(10), True, None, None, None, None),  # before the 7-day range
    ("tweet", "at the end bound", _ms(0), False, None, None, LONG_URL, None),  # outside [start, end)
]

# (agent_id, prompt, image_url, caption, ms, stored in seconds?)
ILLUSTRATIONS = [
    (fx.ALPHA, "a cat", PNG, "Cat", _ms(1), False),  # id 1
    (fx.BETA, "a dog", "javascript:alert(1)", None, _ms(2), True),  # id 2
    (fx.ALPHA, "old", PNG, None, _ms(20), False),  # id 3: before the range
    (fx.GHOST, "a ghost", "https://img.example/404.png", "<b>boo</b>", _ms(2, 1), False),  # id 4
]

# (name, description, prompt, image_url, created_at ms)
POSES = [
    ("waving", "Waving hello", "Gerta waving", PNG, _ms(40)),  # id 1
    ("thinking", "Thinking", "Gerta thinking", "img/thinking.png", _ms(1, 3)),  # id 2
]

EVM = "0xAbCdEf0123456789abcdef0123456789ABCDEF01"
HOUR_S = 3600
DAY_S = 86_400


def holders(now_s: int) -> list[dict]:
    """user_data rows U1-U16 (ids 1-16 in this order); last_verified in seconds unless noted."""

    def row(wallet, telegram_id, balance, verified, name="Holder"):
        return {
            "wallet_address": wallet,
            "telegram_id": telegram_id,
            "first_name": name,
            "username": None,
            "token_balance": balance,
            "last_verified": verified,
        }

    hexes = "123456789abcdef"
    return [
        row(EVM, 501, "1500.5", now_s - 2 * HOUR_S, "Ana"),  # U1
        row(EVM.lower(), 9_999_001, "", (now_s - 10 * DAY_S) * 1000),  # U2: U1's wallet, in ms
        row("0x" + "1" * 40, 502, "1e400", now_s - 40 * DAY_S, "Борис"),  # U3
        row("So1anaWa11etCaseSensitive", 503, "12,5", None),  # U4
        row("so1anawa11etcasesensitive", 8_000_000_001, "abc", now_s - 400 * DAY_S),  # U5: not EVM
        row(None, 504, "0", now_s - 100 * DAY_S, "<b>Eve</b>"),  # U6: no wallet
        row("0x" + "2" * 40, None, " 42 ", now_s - 5 * DAY_S),  # U7: no Telegram id
        row("0x" + "3" * 40, 505, "-5", now_s - 20 * DAY_S),  # U8
        row("0x" + "4" * 40, 8_000_000_002, None, 99_999_999_999_999_999),  # U9: no moment
        row("0x" + "5" * 40, 8_000_000_003, "0.25", now_s - 60 * DAY_S),  # U10
        row("0x" + "6" * 40, 8_000_000_004, "NaN", now_s - 3 * HOUR_S),  # U11
        row("0x" + "7" * 40, 8_000_000_005, "123456789012345678901234567890", now_s - 25 * HOUR_S),  # U12
        row("0x" + "8" * 40, 8_000_000_006, "1" + "0" * 150, now_s - 8 * DAY_S),  # U13: 151 digits
        row("0x" + "9" * 40, 8_000_000_007, "1e99999", None),  # U14
        row("0x" + hexes[9] * 40, 8_000_000_008, "1e-400", now_s - 2 * DAY_S),  # U15
        row("0x" + hexes[10] * 40, 506, "", 0),  # U16: a zero epoch is no moment
    ]


def seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into posts (type, content, timestamp, location, prompt, image_url, tweet_id)"
                " values (:type, :content, :timestamp, :location, :prompt, :image_url, :tweet_id)"
            ),
            [
                {
                    "type": kind,
                    "content": content,
                    "timestamp": ms // 1000 if in_seconds else ms,
                    "location": location,
                    "prompt": prompt,
                    "image_url": image,
                    "tweet_id": tweet,
                }
                for kind, content, ms, in_seconds, location, prompt, image, tweet in POSTS
            ],
        )
        conn.execute(
            sa.text(
                "insert into illustrations (agent_id, prompt, image_url, caption, timestamp)"
                " values (:agent_id, :prompt, :image_url, :caption, :timestamp)"
            ),
            [
                {
                    "agent_id": agent,
                    "prompt": prompt,
                    "image_url": image,
                    "caption": caption,
                    "timestamp": ms // 1000 if in_seconds else ms,
                }
                for agent, prompt, image, caption, ms, in_seconds in ILLUSTRATIONS
            ],
        )
        conn.execute(
            sa.text(
                "insert into gerta_poses (name, description, prompt, image_url, created_at)"
                " values (:name, :description, :prompt, :image_url, to_timestamp(:ms / 1000.0))"
            ),
            [
                {"name": name, "description": description, "prompt": prompt, "image_url": image, "ms": ms}
                for name, description, prompt, image, ms in POSES
            ],
        )
        conn.execute(
            sa.text(
                "insert into user_data (wallet_address, telegram_id, first_name, username, token_balance,"
                " last_verified) values (:wallet_address, :telegram_id, :first_name, :username,"
                " :token_balance, :last_verified)"
            ),
            holders(int(time.time())),
        )


class _Tags(HTMLParser):
    def __init__(self, markup: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def html_tags(markup: str) -> list[tuple[str, dict]]:
    """The (tag, attributes) a browser would build from `markup`, in order."""
    return _Tags(markup).tags


def script_urls(markup: str) -> list[str]:
    """Attribute values in `markup` that hold a script URL, or an event handler's name."""
    found = []
    for _, attrs in html_tags(markup):
        for name, value in attrs.items():
            squeezed = "".join((value or "").split()).lower()
            if name.startswith("on") or "javascript:" in squeezed or "vbscript:" in squeezed:
                found.append(f"{name}={value}")
    return found
