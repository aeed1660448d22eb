"""Global filters parsed from URL query parameters: presets, custom dates, bad input."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.filters import parse_filters

NOW = datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)
AGENTS = {"a1", "a2"}


def parse(**query):
    return parse_filters(query, known_agent_ids=AGENTS, now=NOW, default_tz="UTC")


def test_defaults_are_last_30_days_by_day():
    f = parse()
    assert f.preset == "30d" and f.bucket == "day" and f.tz == "UTC" and f.agent_ids == ()
    assert f.end == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # next whole hour
    assert f.end - f.start == timedelta(days=30)
    assert f.previous_start_ms == f.start_ms - 30 * 86_400_000
    assert f.notices == ()


@pytest.mark.parametrize(
    ("preset", "span", "bucket"),
    [
        ("24h", timedelta(hours=24), "hour"),
        ("7d", timedelta(days=7), "day"),
        ("90d", timedelta(days=90), "day"),
    ],
)
def test_presets(preset, span, bucket):
    f = parse(range=preset)
    assert f.end - f.start == span
    assert f.bucket == bucket


def test_all_time_has_no_previous_period():
    f = parse(range="all")
    assert f.start_ms == 0
    assert not f.has_previous_period
    assert f.previous_start_ms == f.start_ms
    assert f.bucket == "week"


def test_custom_range_covers_whole_days_in_the_chosen_zone():
    f = parse(range="custom", **{"from": "2026-01-01", "to": "2026-01-31"}, tz="Asia/Tokyo")
    assert f.start == datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=9)
    assert f.end == datetime(2026, 2, 1, tzinfo=UTC) - timedelta(hours=9)
    assert f.to_query()["from"] == "2026-01-01" and f.to_query()["to"] == "2026-01-31"


def test_start_after_end_is_swapped_with_a_notice():
    f = parse(range="custom", **{"from": "2026-02-10", "to": "2026-02-01"})
    assert f.start == datetime(2026, 2, 1, tzinfo=UTC)
    assert f.end == datetime(2026, 2, 11, tzinfo=UTC)
    assert any("after the end date" in n for n in f.notices)


@pytest.mark.parametrize(
    "bad", ["yesterday", "2026-13-45", "'; drop table agents; --", "\x00", "9" * 100_000]
)
def test_unparseable_date_is_refused_with_a_notice(bad):
    f = parse(range="custom", **{"from": bad, "to": "2026-02-01"})
    assert f.preset == "custom"
    assert f.end == datetime(2026, 2, 2, tzinfo=UTC)
    assert any("is not a date" in n for n in f.notices)
    assert all(len(n) < 300 for n in f.notices)


def test_custom_without_any_date_falls_back_to_30_days():
    f = parse(range="custom", **{"from": "garbage"})
    assert f.preset == "30d"
    assert len(f.notices) == 2


def test_unknown_agent_is_ignored_with_a_notice():
    f = parse(agent=["a1", "nobody", "a1"])
    assert f.agent_ids == ("a1",)
    assert any("nobody" in n for n in f.notices)


def test_agents_kept_when_the_directory_is_unavailable():
    f = parse_filters({"agent": ["x"]}, known_agent_ids=None, now=NOW)
    assert f.agent_ids == ("x",)


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ({"range": "1y"}, "preset", "30d"),
        ({"bucket": "minute"}, "bucket", "day"),
        ({"tz": "Mars/Olympus"}, "tz", "UTC"),
        ({"bucket": "hour", "range": "90d"}, "bucket", "day"),
    ],
)
def test_unknown_values_fall_back_with_a_notice(query, field, expected):
    f = parse(**query)
    assert getattr(f, field) == expected
    assert len(f.notices) == 1


def test_query_round_trip():
    f = parse(range="7d", bucket="hour", tz="Europe/Berlin", agent=["a2"])
    again = parse(**f.to_query())
    assert again == f
