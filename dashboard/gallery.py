"""Galleries of tables whose columns Lillo does not document (illustrations, Gerta poses): their
rows arrive as JSON objects with whatever columns the live table has. This module finds the column
that holds the pictures, the prompt, caption and title, and writes the thumbnails' HTML.

Only URLs that pass dashboard.image_urls reach an <img>, always as an HTML-escaped attribute;
every other value is plain text. A picture that fails to load (a 404, a dead host) shows the
placeholder drawn behind it, never a broken frame: Chromium and Firefox draw ::before on an
<img> only when it failed, and the rule below covers the broken-image icon with the placeholder.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from urllib.parse import quote

import pandas as pd

from dashboard.image_urls import CheckedImage, check_image_url, looks_like_image

# Words in a column name that say it holds pictures, surest first.
IMAGE_WORDS = ("image", "img", "picture", "photo", "thumb", "avatar", "url", "src")
PROMPT_COLUMNS = ("prompt",)
CAPTION_COLUMNS = ("caption", "description", "alt_text", "alt", "text")
TITLE_COLUMNS = ("name", "title")
# Long values (a data URL, a long prompt) are cut in the detail table: the full text is in the CSV.
DETAIL_CHARS = 300

_PLACEHOLDER_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='48' height='48' viewBox='0 0 24 24' fill='none' "
    "stroke='#909399' stroke-width='1.5' stroke-linecap='round' stroke-linejoin='round'>"
    "<rect x='3' y='3' width='18' height='18' rx='2'/><circle cx='8.5' cy='8.5' r='1.5'/>"
    "<path d='M21 15l-5-5L5 21'/><path d='M3 3l18 18'/></svg>"
)
# Percent-encoded: the HTML sanitizer drops a <style> whose text holds anything tag-like.
PLACEHOLDER = f'url("data:image/svg+xml,{quote(_PLACEHOLDER_SVG, safe="")}")'

STYLE = f"""<style>
.lillo-picture {{
  position: relative; width: 100%; aspect-ratio: 1 / 1; overflow: hidden; border-radius: 8px;
  background: #f0f2f6 {PLACEHOLDER} center / 40% no-repeat;
}}
.lillo-picture.lillo-full {{ aspect-ratio: auto; min-height: 240px; background-size: 64px; }}
.lillo-picture img {{
  position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; color: transparent;
}}
.lillo-picture.lillo-full img {{
  position: relative; display: block; margin: 0 auto; max-width: 640px; height: auto; max-height: 70vh;
  object-fit: contain;
}}
.lillo-picture img::before {{
  content: ""; position: absolute; inset: 0; background: #f0f2f6 {PLACEHOLDER} center / 40% no-repeat;
}}
.lillo-picture.lillo-full img::before {{ background-size: 64px; }}
.lillo-picture .lillo-refused {{
  position: absolute; left: 0; right: 0; bottom: 0; padding: 4px 6px; font-size: 0.72rem;
  line-height: 1.2; color: #5f6368; background: rgba(240, 242, 246, 0.92);
}}
.lillo-picture-label {{
  font-size: 0.8rem; margin-top: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}}
</style>"""


@dataclass(frozen=True)
class GalleryItem:
    item_id: object
    image: CheckedImage
    title: str
    prompt: str | None
    caption: str | None
    fields: dict = field(default_factory=dict)


def _name_rank(name: str) -> int:
    """How surely a column's name says it holds pictures: 0 for 'image…', len(IMAGE_WORDS) for
    a name with none of the words."""
    lowered = name.lower()
    return next((i for i, word in enumerate(IMAGE_WORDS) if word in lowered), len(IMAGE_WORDS))


def image_column(rows: list[dict]) -> str | None:
    """The column holding the pictures' addresses: the one with the most values that look like
    images (its name breaks ties); when no value looks like one (every URL broken, say), the
    text column whose name says it most surely. None when no column qualifies."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    looks = {name: sum(looks_like_image(row.get(name)) for row in rows) for name in names}
    if names and max(looks.values()) > 0:
        return min(names, key=lambda n: (-looks[n], _name_rank(n), names.index(n)))
    named = [
        n
        for n in names
        if _name_rank(n) < len(IMAGE_WORDS) and any(isinstance(row.get(n), str) for row in rows)
    ]
    return min(named, key=lambda n: (_name_rank(n), names.index(n)), default=None)


def _first_text(row: dict, columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value
    return None


def gallery_items(frame: pd.DataFrame) -> tuple[list[GalleryItem], str | None]:
    """The items of a gallery view's rows (item_id, item as a dict) and the image column used."""
    rows = [item if isinstance(item, dict) else {} for item in frame.get("item", [])]
    column = image_column(rows)
    items = []
    for item_id, row in zip(frame.get("item_id", []), rows, strict=True):
        title = _first_text(row, TITLE_COLUMNS) or f"#{item_id}"
        items.append(
            GalleryItem(
                item_id=item_id,
                image=check_image_url(row.get(column)) if column else CheckedImage(None, "no image column"),
                title=title,
                prompt=_first_text(row, PROMPT_COLUMNS),
                caption=_first_text(row, CAPTION_COLUMNS),
                fields=row,
            )
        )
    return items, column


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > DETAIL_CHARS:
        return f"{text[:DETAIL_CHARS]}… ({len(text):,} characters)"
    return text


def details(item: GalleryItem) -> pd.DataFrame:
    """Every column of the item as (field, value) text rows, long values cut."""
    return pd.DataFrame(
        [(name, "" if value is None else _shown(value)) for name, value in item.fields.items()],
        columns=["field", "value"],
    )


def picture_html(image: CheckedImage, *, full: bool = False) -> str:
    """A square thumbnail (or the full picture) of `image`: an <img> only for an allowed URL,
    otherwise the placeholder (a thumbnail's with the reason as text)."""
    classes = "lillo-picture lillo-full" if full else "lillo-picture"
    if image.url is None and full:
        return f'<div class="{classes}"></div>'  # the page says why beside it
    if image.url is None:
        reason = html.escape(image.problem or "no image")
        return f'<div class="{classes}"><div class="lillo-refused">{reason}</div></div>'
    source = html.escape(image.url, quote=True)
    return (
        f'<div class="{classes}"><img src="{source}" alt="" loading="lazy" '
        f'referrerpolicy="no-referrer" decoding="async"></div>'
    )


def thumbnail_html(item: GalleryItem) -> str:
    label = html.escape(item.title)
    return f'{picture_html(item.image)}<div class="lillo-picture-label" title="{label}">{label}</div>'
