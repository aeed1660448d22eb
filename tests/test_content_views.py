"""The Content page's views on the embedded PostgreSQL over hand-made rows (tests/content_data.py),
against answers counted by hand: posts per bucket and the post list, the galleries of
illustrations and Gerta poses read as JSON whatever their columns, their counts per bucket and
agent, and live tables of other shapes — other columns, no id, no table at all."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from dashboard import views
from dashboard.db import admin_engine, reader_engine
from dashboard.live_schema import introspect
from tests import content_data as cd
from tests import fixture_data as fx
from tests.databases import prepared

START_MS = int((fx.ANCHOR - timedelta(days=7)).timestamp() * 1000)
END_MS = int(fx.ANCHOR.timestamp() * 1000)


@pytest.fixture(scope="module")
def content_url(new_database) -> str:
    return prepared(new_database("content_views"), seed=cd.seed, install=False)


@pytest.fixture(scope="module")
def reader(content_url):
    engine = reader_engine(content_url, statement_timeout_ms=10_000)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def run(conn, name: str, **overrides) -> pd.DataFrame:
    params = {
        "start_ms": START_MS,
        "end_ms": END_MS,
        "agent_ids": [],
        "tz": "UTC",
        "bucket": "day",
        "limit": 50,
        "offset": 0,
    } | overrides
    return views.run_view(conn, introspect(conn), name, params)


def _days(frame: pd.DataFrame) -> list[str]:
    return [f"{moment:%Y-%m-%d}" for moment in frame["bucket_start"]]


def test_posts_per_bucket_counts_by_type_and_day(reader):
    got = run(reader, "posts_per_bucket")
    # Mar 1 00:00 (ms) and 02:00 (seconds) are tweets; Feb 27 an announcement. The post 10 days
    # back and the one exactly at the end bound are outside.
    assert list(zip(_days(got), got["post_type"], got["n_posts"], strict=True)) == [
        ("2026-02-27", "announcement", 1),
        ("2026-03-01", "tweet", 2),
    ]


def test_posts_per_bucket_in_another_time_zone(reader):
    got = run(reader, "posts_per_bucket", tz="America/New_York")  # UTC-5 in March
    assert list(zip(_days(got), got["post_type"], got["n_posts"], strict=True)) == [
        ("2026-02-26", "announcement", 1),
        ("2026-02-28", "tweet", 2),
    ]


def test_post_list_newest_first_with_everything_as_stored(reader):
    got = run(reader, "post_list")
    assert got["content"].tolist() == ["second\nline", "gm <b>all</b> [x](javascript:alert(1))", "news"]
    assert got["posted_ms"].tolist() == [cd._ms(1, 2), cd._ms(1), cd._ms(3)]
    first = got.iloc[0]
    assert (first["post_type"], first["prompt"], first["image_url"], first["tweet_id"]) == (
        "tweet",
        "a cat",
        "",
        "not-a-tweet-id",
    )
    assert f"{first['posted_at']:%Y-%m-%d %H:%M}" == "2026-03-01 02:00"
    assert got.iloc[1]["location"] == "Berlin"


def test_post_list_pages(reader):
    assert run(reader, "post_list", limit=2, offset=0)["content"].tolist() == [
        "second\nline",
        "gm <b>all</b> [x](javascript:alert(1))",
    ]
    assert run(reader, "post_list", limit=2, offset=2)["content"].tolist() == ["news"]


def test_illustration_gallery_reads_whole_rows_newest_id_first(reader):
    got = run(reader, "illustration_gallery")
    assert got["item_id"].tolist() == [4, 2, 1]  # id 3 is older than the range
    items = {row.item_id: row.item for row in got.itertuples()}
    assert items[1]["prompt"] == "a cat" and items[1]["image_url"] == cd.PNG and items[1]["caption"] == "Cat"
    assert items[2]["image_url"] == "javascript:alert(1)"  # as stored: the page refuses it
    assert set(items[4]) == {
        "id",
        "agent_id",
        "chat_id",
        "prompt",
        "image_url",
        "caption",
        "timestamp",
        "created_at",
    }
    assert got.set_index("item_id")["moment_ms"].to_dict() == {
        4: cd._ms(2, 1),
        2: cd._ms(2) // 1000 * 1000,  # stored in seconds
        1: cd._ms(1),
    }


def test_illustration_gallery_filters_agents_and_pages(reader):
    assert run(reader, "illustration_gallery", agent_ids=[fx.ALPHA])["item_id"].tolist() == [1]
    assert run(reader, "illustration_gallery", agent_ids=[fx.BETA, fx.GHOST])["item_id"].tolist() == [4, 2]
    assert run(reader, "illustration_gallery", limit=2, offset=1)["item_id"].tolist() == [2, 1]
    everything = run(reader, "illustration_gallery", start_ms=0, end_ms=END_MS + 1)
    assert everything["item_id"].tolist() == [4, 3, 2, 1]


def test_illustrations_per_bucket_by_agent_with_names(reader):
    got = run(reader, "illustrations_per_bucket")
    assert list(zip(_days(got), got["agent_name"], got["n_items"], strict=True)) == [
        ("2026-02-28", "Beta", 1),
        ("2026-02-28", "ghost-bot", 1),  # no agents row: the raw id
        ("2026-03-01", "Alpha", 1),
    ]
    alpha = run(reader, "illustrations_per_bucket", agent_ids=[fx.ALPHA])
    assert alpha["n_items"].tolist() == [1] and alpha["agent_id"].tolist() == [fx.ALPHA]


def test_gerta_poses_are_a_catalog_and_counted_when_added(reader):
    gallery = run(reader, "gerta_pose_gallery")
    assert gallery["item_id"].tolist() == [1, 2]
    assert [item["name"] for item in gallery["item"]] == ["waving", "thinking"]
    assert run(reader, "gerta_pose_gallery", limit=1, offset=1)["item_id"].tolist() == [2]
    counts = run(reader, "gerta_poses_per_bucket")
    # Only "thinking" was added in the range (by created_at); poses belong to no agent.
    assert list(zip(_days(counts), counts["n_items"], strict=True)) == [("2026-03-01", 1)]
    assert run(reader, "gerta_poses_per_bucket", agent_ids=[fx.ALPHA])["n_items"].tolist() == [1]


# --- Live tables of other shapes -------------------------------------------------------------------

ODD_SHAPES = """
create table illustrations (
    id bigserial primary key,
    picture text,
    title text,
    made_by text,
    created_at timestamptz
);
insert into illustrations (picture, title, made_by, created_at) values
    ('https://img.example/one.webp', 'One', 'x', '2026-02-28 12:00+00'),
    (null, 'No picture', 'x', null),
    ('javascript:alert(1)', 'Hostile', 'y', '2026-01-01 00:00+00');
create table gerta_poses (pose text, image_link text);
insert into gerta_poses values ('waving', 'https://img.example/w.png');
create table agents (id uuid primary key, name text not null);
"""


@pytest.fixture(scope="module")
def odd_reader(new_database):
    """Illustrations with other columns (a created_at and no timestamp or agent_id), gerta_poses
    without an id or created_at, agents, and no posts table at all."""
    url = new_database("content_odd")
    engine = admin_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(ODD_SHAPES)
    engine.dispose()
    reader = reader_engine(url, statement_timeout_ms=10_000)
    with reader.connect() as conn:
        yield conn
    reader.dispose()


def test_illustrations_of_another_shape_are_read_as_they_are(odd_reader):
    got = run(odd_reader, "illustration_gallery", start_ms=0, end_ms=END_MS)
    # The row with no time at all is kept in the range; the others by created_at.
    assert got["item_id"].tolist() == [3, 2, 1]
    assert got["item"].iloc[2] == {
        "id": 1,
        "picture": "https://img.example/one.webp",
        "title": "One",
        "made_by": "x",
        "created_at": "2026-02-28T12:00:00+00:00",
    }
    assert got["moment_ms"].iloc[2] == int(pd.Timestamp("2026-02-28 12:00", tz="UTC").timestamp() * 1000)
    assert pd.isna(got["moment_ms"].iloc[1])
    # No agent_id column: the agent filter does not hide anything.
    assert len(run(odd_reader, "illustration_gallery", start_ms=0, end_ms=END_MS, agent_ids=[fx.ALPHA])) == 3
    in_february = run(odd_reader, "illustration_gallery", start_ms=START_MS, end_ms=END_MS)
    assert in_february["item_id"].tolist() == [2, 1]
    # Counting needs the timestamp and agent_id this table lacks: a notice, the gallery still shows.
    with pytest.raises(views.MissingSchema, match=r"column illustrations\.timestamp"):
        run(odd_reader, "illustrations_per_bucket")


def test_a_missing_table_or_id_column_is_a_notice_not_an_error(odd_reader):
    with pytest.raises(views.MissingSchema, match=r"column gerta_poses\.id"):
        run(odd_reader, "gerta_pose_gallery")
    with pytest.raises(views.MissingSchema, match=r"column gerta_poses\.created_at"):
        run(odd_reader, "gerta_poses_per_bucket")
    for name in ("post_list", "posts_per_bucket"):
        with pytest.raises(views.MissingSchema, match="table posts"):
            run(odd_reader, name)
