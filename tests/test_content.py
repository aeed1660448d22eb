"""The Content page's pure parts: which image URLs may be loaded (and why the others are refused),
the gallery's reading of rows of unknown shape and its HTML, the post list's rows, the figures."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from dashboard import content_charts, gallery, posts
from dashboard.image_urls import MAX_DATA_URL_CHARS, check_image_url, looks_like_image, safe_image_url
from tests.content_data import LONG_URL, PNG, html_tags, script_urls

SVG = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="


@pytest.mark.parametrize(
    "url",
    [
        "https://img.example/a.png",
        "http://img.example:8080/a?b=c#d",
        "HTTPS://IMG.EXAMPLE/A.PNG",
        "  https://img.example/padded.png  ",
        "https://httpbin.org/status/404",  # allowed: the browser finds out, the placeholder stays
        PNG,
        SVG,
        "data:image/jpeg;base64,/9j/4AAQ",
        "data:image/webp;base64,UklGR",
        "data:image/gif;base64,R0lGOD",
    ],
)
def test_web_and_data_image_urls_are_allowed(url):
    assert safe_image_url(url) == url.strip()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "no image"),
        (float("nan"), "no image"),
        (12, "not a URL"),
        ("", "no image (empty URL)"),
        ("   ", "no image (empty URL)"),
        ("img/missing.png", "relative URL: no site to load it from"),
        ("/static/a.png", "relative URL: no site to load it from"),
        ("//evil.example/a.png", "relative URL: no site to load it from"),
        ("javascript:alert(1)", "javascript: URLs are never shown"),
        (" JavaScript:alert(1)", "javascript: URLs are never shown"),
        ("vbscript:msgbox(1)", "vbscript: URLs are never shown"),
        ("file:///etc/passwd", "file: URLs are never shown"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data URL that is not a PNG, JPEG, GIF, WebP or SVG image"),
        (
            "data:image/svg+xml,<svg onload=alert(1)>",
            "data URL that is not a PNG, JPEG, GIF, WebP or SVG image",
        ),
        ("data:image/png;base64," + "A" * 100_000, "image data too large (98 KB; at most 64 KB)"),
        (LONG_URL, "URL too long (98 KB; at most 2 KB)"),
        ('https://img.example/a.png" onerror="alert(1)', "URL with spaces, quotes or control characters"),
        ("https://img.example/a b.png", "URL with spaces, quotes or control characters"),
        ("https:///no-host.png", "not a valid web address"),
        ("https://user:pw@img.example/a.png", "not a valid web address"),
        ("https://img.example:port/a.png", "not a valid web address"),
    ],
)
def test_everything_else_is_refused_with_a_reason(value, problem):
    checked = check_image_url(value)
    assert checked.url is None and checked.problem == problem


def test_a_data_url_just_within_the_bound_is_allowed():
    prefix = "data:image/png;base64,"
    assert safe_image_url(prefix + "A" * (MAX_DATA_URL_CHARS - len(prefix))) is not None
    assert safe_image_url(prefix + "A" * (MAX_DATA_URL_CHARS - len(prefix) + 1)) is None


@pytest.mark.parametrize(
    ("value", "looks"),
    [
        (PNG, True),
        ("https://img.example/a.JPG?size=2", True),
        ("https://img.example/page.html", False),
        ("a.png", False),
        (None, False),
        (42, False),
    ],
)
def test_what_looks_like_a_picture(value, looks):
    assert looks_like_image(value) is looks


# --- The gallery ------------------------------------------------------------------------------------


def test_the_image_column_is_found_from_values_then_names():
    rows = [
        {"id": 1, "link": "https://site.example/post", "art": PNG},
        {"id": 2, "art": "https://x.example/b.webp"},
    ]
    assert gallery.image_column(rows) == "art"
    # Every value broken: the name decides, the surest word first.
    broken = [{"page_url": "", "image_url": "javascript:alert(1)", "title": "x"}]
    assert gallery.image_column(broken) == "image_url"
    assert gallery.image_column([{"id": 1, "title": "no pictures here"}]) is None
    assert gallery.image_column([]) is None
    # A tie in values goes to the name that says picture.
    tie = [{"source": PNG, "thumbnail": PNG}]
    assert gallery.image_column(tie) == "thumbnail"


def _frame(*items: dict) -> pd.DataFrame:
    return pd.DataFrame({"item_id": [item.get("id") for item in items], "item": list(items)})


def test_gallery_items_of_unknown_shape():
    frame = _frame(
        {"id": 7, "picture": "https://img.example/7.png", "title": "Seven", "prompt": "a seven", "alt": "7"},
        {"id": 8, "picture": "javascript:alert(1)", "description": "hostile"},
        {"id": 9, "picture": None},
    )
    items, column = gallery.gallery_items(frame)
    assert column == "picture"
    assert [(i.item_id, i.title, i.prompt, i.caption) for i in items] == [
        (7, "Seven", "a seven", "7"),
        (8, "#8", None, "hostile"),
        (9, "#9", None, None),
    ]
    assert [i.image.url for i in items] == ["https://img.example/7.png", None, None]
    assert items[1].image.problem == "javascript: URLs are never shown"


def test_a_table_without_pictures_gets_placeholders():
    items, column = gallery.gallery_items(_frame({"id": 1, "title": "plain"}))
    assert column is None and items[0].image.url is None and items[0].image.problem == "no image column"


def test_thumbnails_escape_everything_and_never_carry_a_script_url():
    hostile = {
        "id": 1,
        "image_url": 'https://img.example/a.png?x="><script>alert(1)</script>',
        "name": "<img src=x onerror=alert(1)>",
    }
    refused = {"id": 2, "image_url": "javascript:alert(1)", "name": "<b>bold</b>"}
    good = {"id": 3, "image_url": PNG, "name": "fine"}
    items, _ = gallery.gallery_items(_frame(hostile, refused, good))
    markup = "".join(gallery.thumbnail_html(item) for item in items)
    tags = html_tags(markup)
    assert {tag for tag, _ in tags} == {"div", "img"}  # names and URLs stayed text
    assert [attrs["src"] for tag, attrs in tags if tag == "img"] == [PNG]  # the quotes made 1 unsafe
    assert script_urls(markup) == []
    assert "javascript: URLs are never shown" in html.unescape(markup)


def test_the_placeholder_style_survives_the_sanitizer():
    """DOMPurify drops a <style> whose text looks like markup: the placeholder SVG is encoded."""
    body = gallery.STYLE.removeprefix("<style>").removesuffix("</style>")
    assert not re.search(r"<[/\w!]", body)


def test_details_cut_long_values_and_keep_every_column():
    item = gallery.gallery_items(
        _frame({"id": 1, "image_url": "x" * 1000, "meta": {"a": [1, 2]}, "n": None})
    )[0][0]
    shown = gallery.details(item).set_index("field")["value"].to_dict()
    assert shown["id"] == "1" and shown["meta"] == '{"a": [1, 2]}' and shown["n"] == ""
    assert shown["image_url"].endswith("… (1,000 characters)") and len(shown["image_url"]) < 350


# --- Posts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tweet_id", "url"),
    [
        ("1800000000000000001", "https://x.com/i/web/status/1800000000000000001"),
        (" 123 ", "https://x.com/i/web/status/123"),
        ("not-a-tweet-id", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_tweet_links_only_from_digits(tweet_id, url):
    assert posts.tweet_url(tweet_id) == url


def test_shown_posts_keep_only_safe_images_and_say_why():
    frame = pd.DataFrame(
        {
            "post_id": [1, 2, 3, 4],
            "content": ["a", "b", "c", "d"],
            "image_url": [PNG, "javascript:alert(1)", None, ""],
            "tweet_id": ["123", None, "abc", None],
        }
    )
    shown = posts.shown_posts(frame)
    assert shown["image"].tolist()[:1] == [PNG] and shown["image"].iloc[1:].isna().all()
    assert shown["image_note"].tolist()[1] == "javascript: URLs are never shown"
    assert pd.isna(shown["image_note"].iloc[0]) and pd.isna(shown["image_note"].iloc[2])
    assert shown["image_note"].iloc[3] == "no image (empty URL)"
    assert shown["tweet"].tolist()[0] == "https://x.com/i/web/status/123"


def test_post_labels_are_one_short_line():
    label = posts.post_label(
        {"post_id": 3, "post_type": "tweet", "content": "line one\nline two " + "x" * 100}
    )
    assert label.startswith("#3 · tweet · line one line two") and label.endswith("…") and "\n" not in label
    assert posts.post_label({"post_id": 4, "post_type": None, "content": ""}) == "#4 · ? · (no text)"


# --- Figures ------------------------------------------------------------------------------------------


def test_a_single_bucket_gets_a_readable_axis():
    frame = pd.DataFrame(
        {"bucket_start": [pd.Timestamp("2026-03-01")], "agent_name": ["(no agent)"], "n_items": [24]}
    )
    figure = content_charts.items_per_bucket(frame, bucket="week", tz="UTC", noun="Poses")
    assert figure.data[0].width == 7 * 86_400_000 * 0.8
    low, high = figure.layout.xaxis.range
    assert pd.Timestamp(high) - pd.Timestamp(low) == pd.Timedelta(days=28)


def test_balance_bands_grey_out_unusable_text():
    frame = pd.DataFrame(
        {
            "dimension": ["balance", "balance", "verified"],
            "band_order": [101, 5, 1],
            "band": ["too large", "1k–10k", "under 1 day"],
            "n_holders": [2, 3, 4],
            "n_rows": [2, 3, 4],
            "n_also_chat": [1, 1, 1],
        }
    )
    figure = content_charts.balance_distribution(frame)
    assert list(figure.data[0].x) == ["1k–10k", "too large"]
    assert list(figure.data[0].marker.color) == [content_charts.SUCCESS_COLOR, content_charts.UNUSABLE_COLOR]
    age = content_charts.verification_age(frame)
    assert [list(bar.y) for bar in age.data] == [[3], [1]]
