"""The Content page's sections: the paged post list with one post read in full, and the paged
galleries of illustrations and Gerta poses with a dialog for the full picture. Text from the
tables (post text, prompts, captions, any column) is shown as plain text, never as Markdown or
HTML; pictures only through dashboard.gallery."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import export, gallery, posts, ui, views
from dashboard.config import load_settings
from dashboard.image_urls import check_image_url

POST_PAGE_SIZE = 25
GALLERY_PAGE_SIZE = 24
GRID_COLUMNS = 6
POST_COLUMNS = {
    "posted_at": st.column_config.DatetimeColumn("Posted", format="YYYY-MM-DD HH:mm"),
    "post_type": st.column_config.TextColumn("Type"),
    "content": st.column_config.TextColumn("Text", width="large"),
    "location": st.column_config.TextColumn("Location"),
    "prompt": st.column_config.TextColumn("Prompt"),
    "image": st.column_config.ImageColumn("Image"),
    "image_note": st.column_config.TextColumn("Image not shown", help="Why a stored image URL is not loaded"),
    "tweet": st.column_config.LinkColumn("Tweet", display_text="Open tweet"),
}
PER_AGENT_COLUMNS = {
    "agent_name": st.column_config.TextColumn("Agent"),
    "n_items": st.column_config.NumberColumn("In range", format="localized"),
}


def page_number(param: str) -> int:
    """The page the URL's `param` asks for (1 with a notice when it is no page number)."""
    page, problem = ui.parse_page(st.query_params.get(param))
    if problem:
        st.info(ui.plain(problem), icon=":material/info:")
    return page


def _export_params(params: dict) -> dict:
    return params | {"limit": load_settings().export_row_cap, "offset": 0}


def _paged(name: str, params: dict, param: str, page_size: int) -> tuple[views.ViewResult | None, int]:
    """The view's rows of the URL's page, one more than shown (so the pager knows of a next page)."""
    page = page_number(param)
    result = ui.fetch_or_notice(name, params | {"limit": page_size + 1, "offset": (page - 1) * page_size})
    return result, page


def post_list(params: dict, csv_parts: dict[str, str]) -> None:
    result, page = _paged("post_list", params, "posts_page", POST_PAGE_SIZE)
    if result is None:
        return
    frame = result.frame.head(POST_PAGE_SIZE)
    if frame.empty:
        st.caption("No posts on this page." if page > 1 else "No posts in this range.")
    else:
        shown = posts.shown_posts(frame)
        ui.table(shown, POST_COLUMNS)
        _one_post(shown)
    ui.pager(
        page,
        POST_PAGE_SIZE,
        len(frame),
        len(result.frame) > POST_PAGE_SIZE,
        noun="Posts",
        key="posts_page",
        param="posts_page",
    )
    if not frame.empty:
        export.download_button("post_list", _export_params(params), csv_parts)
    ui.data_age_footer(result)


def _one_post(shown: pd.DataFrame) -> None:
    rows = {row["post_id"]: row for row in shown.to_dict("records")}
    chosen = st.selectbox(
        "Read a post in full",
        list(rows),
        format_func=lambda post_id: posts.post_label(rows[post_id]),
        key="posts-read",
    )
    if chosen is None:
        return
    post = rows[chosen]
    with st.container(border=True):
        text_side, picture_side = st.columns([3, 1])
        with text_side:
            st.caption(ui.plain(f"{post['post_type']} · {post['posted_at']:%Y-%m-%d %H:%M}"))
            st.text(post["content"])
            for label, column in (("Location", "location"), ("Prompt", "prompt")):
                if isinstance(post[column], str) and post[column]:
                    st.caption(label)
                    st.text(post[column])
            if isinstance(post["tweet"], str):
                st.link_button("Open the tweet", post["tweet"], icon=":material/open_in_new:")
        with picture_side:
            if isinstance(post["image_url"], str):
                st.html(gallery.STYLE)
                st.html(gallery.picture_html(check_image_url(post["image_url"]), full=True))
                if isinstance(post["image_note"], str):
                    st.caption(ui.plain(f"Image not shown: {post['image_note']}"))


def gallery_section(
    name: str, params: dict, csv_parts: dict[str, str], *, noun: str, one: str, param: str
) -> None:
    """A paged grid of thumbnails from gallery view `name` (`noun` for many, `one` for one item);
    'Open' shows one in full."""
    result, page = _paged(name, params, param, GALLERY_PAGE_SIZE)
    if result is None:
        return
    frame = result.frame.head(GALLERY_PAGE_SIZE)
    items, column = gallery.gallery_items(frame)
    if not items:
        st.caption(f"No {noun.lower()} on this page." if page > 1 else f"No {noun.lower()} here.")
    else:
        if column is None:
            st.info(
                "No column of this table holds image addresses, so every item shows a placeholder. "
                "Open one to see its columns.",
                icon=":material/image_not_supported:",
            )
        else:
            st.caption(ui.plain(f"Pictures from the column “{column}”; open one for its prompt and caption."))
        _grid(items, one=one, key=name)
    ui.pager(
        page,
        GALLERY_PAGE_SIZE,
        len(frame),
        len(result.frame) > GALLERY_PAGE_SIZE,
        noun=noun,
        key=param,
        param=param,
    )
    if items:
        export.download_button(name, _export_params(params), csv_parts)
    ui.data_age_footer(result)


def _grid(items: list[gallery.GalleryItem], *, one: str, key: str) -> None:
    st.html(gallery.STYLE)
    for first in range(0, len(items), GRID_COLUMNS):
        for cell, item in zip(st.columns(GRID_COLUMNS), items[first : first + GRID_COLUMNS], strict=False):
            with cell:
                st.html(gallery.thumbnail_html(item))
                if st.button("Open", key=f"{key}-open-{item.item_id}", width="stretch"):
                    _details(item, one)


@st.dialog("Picture", width="large")
def _details(item: gallery.GalleryItem, one: str) -> None:
    st.text(f"{one} {item.title}")
    st.html(gallery.STYLE)
    st.html(gallery.picture_html(item.image, full=True))
    if item.image.url is None:
        st.caption(ui.plain(f"Image not shown: {item.image.problem}"))
    for label, text in (("Prompt", item.prompt), ("Caption", item.caption)):
        st.caption(label)
        st.text(text or "—")
    st.caption("Every column of the row")
    st.dataframe(gallery.details(item), hide_index=True, width="stretch")


def per_agent(frame: pd.DataFrame) -> pd.DataFrame:
    """A per-bucket view's rows summed per agent, most first."""
    totals = frame.groupby("agent_name", as_index=False)["n_items"].sum()
    return totals.sort_values(["n_items", "agent_name"], ascending=[False, True], kind="stable")
