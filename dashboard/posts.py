"""The post list's rows as the page shows them: the image only when its URL may be loaded (else the
reason), and a link to the tweet built from a tweet id that is only digits. Pure functions of the
post_list view's rows."""

from __future__ import annotations

import re

import pandas as pd

from dashboard.image_urls import check_image_url

_TWEET_ID = re.compile(r"[0-9]{1,25}")
LABEL_CHARS = 70


def tweet_url(tweet_id: object) -> str | None:
    """The tweet's address on x.com, or None when the stored id is not a tweet id."""
    if not isinstance(tweet_id, str) or not _TWEET_ID.fullmatch(tweet_id.strip()):
        return None
    return f"https://x.com/i/web/status/{tweet_id.strip()}"


def shown_posts(frame: pd.DataFrame) -> pd.DataFrame:
    """post_list rows with `image` (an allowed URL or None), `image_note` (why an image is not
    shown) and `tweet` (a link or None)."""
    checked = [check_image_url(url) for url in frame["image_url"]]
    return frame.assign(
        image=[c.url for c in checked],
        image_note=[
            None if c.url is not None or url is None or pd.isna(url) else c.problem
            for c, url in zip(checked, frame["image_url"], strict=True)
        ],
        tweet=[tweet_url(t) for t in frame["tweet_id"]],
    )


def post_label(row: dict) -> str:
    """'#12 · tweet · gm from the Lillo crew…' for a picker: one line, cut."""
    text = " ".join(str(row.get("content") or "").split())
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "…"
    return f"#{row['post_id']} · {row.get('post_type') or '?'} · {text or '(no text)'}"
