"""Searching message text, apart from Streamlit: cleaning what was typed, choosing between the
word index over all messages and a bounded scan of the newest ones, and the snippet of a hit.

Both ways find the messages whose text contains the search text, case-insensitively, with `%`, `_`,
quotes and backslashes taken literally (an escaped ILIKE pattern), newest first. The word index
(sql/install/007_*.sql) holds each message's words and pairs of neighbouring words as
PostgreSQL's parser splits text; it narrows the search to the messages holding the searched
words, and so adds one condition: the text must start a word — "price" finds "prices" and "price
list", not "superprice". The parser keeps an e-mail or web address or a decimal number as one
word, so a part of one is not found through the index. It does not split scripts written without
spaces (Chinese, Japanese, Thai…) into words at all: such a search, and one for a single letter,
scans the newest messages instead and says so."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

MAX_QUERY = 200
SEARCH_SCAN_ROWS = 200_000
SEARCH_LIMIT = 50
_LIKE_SPECIAL = re.compile(r"([\\%_])")
# Han, kana, Thai, Lao, Myanmar, Khmer: words follow each other without spaces, and the index
# would hold a whole run of them as one word.
_UNSPACED_SCRIPT = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0002fa1f]"
)
# The shortest word beginning the index is asked for: one letter begins most words.
MIN_PREFIX = 2
# A function like views.fetch that returns the view's rows: (view name, **params) -> DataFrame.
Fetch = Callable[..., pd.DataFrame]


def search_text(text: str | None) -> str:
    """What is searched for: NUL characters (which PostgreSQL text cannot hold) dropped, runs of
    white space made one space, at most MAX_QUERY characters."""
    return " ".join((text or "").replace("\x00", "").split())[:MAX_QUERY]


def search_pattern(text: str | None) -> tuple[str | None, str | None]:
    """(ILIKE pattern, None) for a search text; (None, why) when there is nothing to search for.
    %, _ and backslashes match themselves. A note says when the text was cut to MAX_QUERY."""
    whole = " ".join((text or "").replace("\x00", "").split())
    if not whole:
        return None, None
    if not any(ch.isalnum() for ch in whole):
        return None, "Type some letters or digits to search for: punctuation alone matches almost everything."
    note = f"Only the first {MAX_QUERY} characters were searched for." if len(whole) > MAX_QUERY else None
    return "%" + _LIKE_SPECIAL.sub(r"\\\1", whole[:MAX_QUERY]) + "%", note


def written_without_spaces(query: str) -> bool:
    return bool(_UNSPACED_SCRIPT.search(query))


def _quoted(entry: str) -> str:
    return "'" + entry.replace("\\", "\\\\").replace("'", "''") + "'"


def words_query(entries: pd.DataFrame) -> str | None:
    """The tsquery text for the index from search_words' rows: every entry, those that may continue
    as beginnings (`:*`) when they have at least MIN_PREFIX characters (a shorter beginning would
    match nearly every message, so it is left out). None when no entry is left."""
    terms = [
        _quoted(row.entry) + (":*" if row.may_continue else "")
        for row in entries.itertuples()
        if not row.may_continue or len(row.entry) >= MIN_PREFIX
    ]
    return " & ".join(terms) or None


@dataclass(frozen=True)
class SearchResult:
    """The hits (None when nothing was searched), whether the word index answered, and notices."""

    hits: pd.DataFrame | None
    indexed: bool = False
    notices: list[str] = field(default_factory=list)


def _scan_notice(reason: str) -> str:
    return f"{reason} So only the newest {SEARCH_SCAN_ROWS:,} messages were searched."


def find_messages(
    text: str | None, *, index_ready: bool, agent_ids: Iterable[str], tz: str, fetch: Fetch
) -> SearchResult:
    """The newest messages (at most SEARCH_LIMIT) containing `text`, from the word index when it is
    `index_ready` and can serve this text, else from a scan of the newest SEARCH_SCAN_ROWS."""
    pattern, note = search_pattern(text)
    notices = [note] if note else []
    if pattern is None:
        return SearchResult(None, notices=notices)
    query = search_text(text)
    common = {"pattern": pattern, "limit": SEARCH_LIMIT, "agent_ids": list(agent_ids), "tz": tz}
    index_query = None
    if not index_ready:
        notices.append(
            _scan_notice(
                "This database has no word index of messages: `python -m dashboard install` adds it."
            )
        )
    elif written_without_spaces(query):
        notices.append(
            _scan_notice(
                "Chinese, Japanese, Thai and other text written without spaces is not split into words "
                "by the word index."
            )
        )
    else:
        index_query = words_query(fetch("search_words", search_text=query))
        if index_query is None:
            notices.append(_scan_notice("The word index needs a word of two or more letters or digits."))
    if index_query is not None:
        return SearchResult(fetch("message_search_indexed", words_query=index_query, **common), True, notices)
    return SearchResult(fetch("message_search", scan_rows=SEARCH_SCAN_ROWS, **common), False, notices)


def snippet(content: str, query: str, width: int = 80) -> tuple[str, str, str]:
    """(before, match, after) around the first case-insensitive occurrence of `query` in `content`
    that starts a word (else the first anywhere), at most `width` characters on each side; the
    whole start when it does not occur."""
    found = re.search(r"(?<![^\W_])" + re.escape(query), content, re.IGNORECASE) or re.search(
        re.escape(query), content, re.IGNORECASE
    )
    if not found or not query:
        return content[: 2 * width], "", ""
    position, end = found.span()
    before = content[max(0, position - width) : position]
    after = content[end : end + width]
    return (
        ("…" if position > width else "") + before,
        content[position:end],
        after + ("…" if end + width < len(content) else ""),
    )
