"""Text from URLs or the database shown in Streamlit's Markdown elements stays text."""

from __future__ import annotations

import re

import pytest

from dashboard.ui import plain


@pytest.mark.parametrize(
    "text",
    [
        "Unknown agent '[click](javascript:alert(1))'",
        "<img src=x onerror=alert(1)>",
        "**bold** _em_ `code` # heading",
        ":material/home: :red[alarm] $x^2$",
        "a\\b ~~strike~~ | table |",
    ],
)
def test_every_markdown_character_is_escaped(text):
    escaped = plain(text)
    # Removing the escapes gives the text back, and no special character is left unescaped.
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    assert not re.search(r"(?<!\\)[`*_\[\]()#<>~$:|]", escaped.replace("\\\\", ""))


def test_ordinary_sentences_are_unchanged():
    assert plain("Showing the first page, in UTC") == "Showing the first page, in UTC"
