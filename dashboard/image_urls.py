"""Which image URLs from Lillo's tables the browser may load, and why the others are refused.

Image URLs in posts, illustrations and Gerta poses are written by bots and people: some are empty,
relative, `javascript:` or far too long. Only two kinds ever reach a page: http(s) URLs with a host,
and `data:image/...` URLs of the raster formats and SVG, at most MAX_DATA_URL_CHARS long. An SVG is
only ever shown through <img>, where a browser runs no script inside it. Everything else becomes a
placeholder with the reason, never a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_DATA_URL_CHARS = 64 * 1024
# Longer http(s) URLs are refused too: browsers and servers cut them around 2-8 KB anyway.
MAX_WEB_URL_CHARS = 2_048

_DATA_URL = re.compile(
    r"data:image/(?:png|jpeg|jpg|gif|webp|svg\+xml)(?:;[a-z0-9=._+-]+)*(?:;base64)?,[^\s\"'<>\\]*",
    re.IGNORECASE,
)
# Whitespace, quotes, angle brackets and controls have no place in a URL an <img> should load.
_UNSAFE_CHARACTERS = re.compile(r"[\s\"'<>\\\x00-\x1f\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_IMAGE_PATH = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|avif|bmp)(?:$|[?#])", re.IGNORECASE)


@dataclass(frozen=True)
class CheckedImage:
    """`url` when the browser may load it; otherwise None and `problem` says why."""

    url: str | None
    problem: str | None = None


def _size(n_chars: int) -> str:
    return f"{n_chars / 1024:,.0f} KB" if n_chars >= 1024 else f"{n_chars:,} characters"


def check_image_url(value: object) -> CheckedImage:
    """The URL if it is an http(s) URL with a host or a bounded data:image URL; else why not."""
    if value is None or (isinstance(value, float) and value != value):
        return CheckedImage(None, "no image")
    if not isinstance(value, str):
        return CheckedImage(None, "not a URL")
    text = value.strip()
    if not text:
        return CheckedImage(None, "no image (empty URL)")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return CheckedImage(None, "relative URL: no site to load it from")
    name = scheme[1].lower()
    if name == "data":
        if len(text) > MAX_DATA_URL_CHARS:
            limit = _size(MAX_DATA_URL_CHARS)
            return CheckedImage(None, f"image data too large ({_size(len(text))}; at most {limit})")
        if not _DATA_URL.fullmatch(text):
            return CheckedImage(None, "data URL that is not a PNG, JPEG, GIF, WebP or SVG image")
        return CheckedImage(text)
    if name not in ("http", "https"):
        return CheckedImage(None, f"{name}: URLs are never shown")
    if len(text) > MAX_WEB_URL_CHARS:
        return CheckedImage(None, f"URL too long ({_size(len(text))}; at most {_size(MAX_WEB_URL_CHARS)})")
    if _UNSAFE_CHARACTERS.search(text):
        return CheckedImage(None, "URL with spaces, quotes or control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        return CheckedImage(None, "not a valid web address")
    if not parts.hostname or parts.username is not None:
        return CheckedImage(None, "not a valid web address")
    return CheckedImage(text)


def safe_image_url(value: object) -> str | None:
    return check_image_url(value).url


def looks_like_image(value: object) -> bool:
    """Whether `value` reads as a picture's address: a data:image URL, or an http(s) URL whose
    path ends in an image file name."""
    if not isinstance(value, str):
        return False
    text = value.strip()[:MAX_WEB_URL_CHARS]
    lowered = text[:11].lower()
    if lowered.startswith("data:image/"):
        return True
    return lowered.startswith(("http://", "https://")) and bool(_IMAGE_PATH.search(text))
