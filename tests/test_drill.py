"""Drill-down targets: a clicked bar's bucket becomes the filters of exactly that period."""

from datetime import UTC, date, datetime

import pytest

from dashboard.drill import Drill, bucket_days, bucket_query, clicked_agent, first_point, point_value
from dashboard.filters import parse_filters

NOW = datetime(2026, 11, 26, 23, 10, tzinfo=UTC)


def filters(**query):
    return parse_filters(query, known_agent_ids={"a1", "a2"}, now=NOW)


@pytest.mark.parametrize(
    ("x", "bucket", "first", "last"),
    [
        ("2026-11-20", "day", date(2026, 11, 20), date(2026, 11, 20)),
        ("2026-11-20 13:00", "hour", date(2026, 11, 20), date(2026, 11, 20)),
        ("2026-11-16", "week", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-02-01", "month", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02-01 00:00:00", "month", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12-01", "month", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_bucket_days(x, bucket, first, last):
    assert bucket_days(x, bucket) == (first, last)


def test_a_week_bar_opens_its_seven_days_by_day_in_the_same_zone_and_agents():
    chart = filters(range="90d", bucket="week", tz="Asia/Tokyo", agent=["a2"])
    query = bucket_query(chart, "2026-11-16")
    assert query == {
        "range": "custom",
        "from": "2026-11-16",
        "to": "2026-11-22",
        "bucket": "day",
        "tz": "Asia/Tokyo",
        "agent": ["a2"],
    }
    # The target page parses it into exactly that week, local midnight to local midnight.
    opened = parse_filters(query, known_agent_ids={"a1", "a2"}, now=NOW)
    assert opened.notices == ()
    assert opened.start.isoformat() == "2026-11-16T00:00:00+09:00"
    assert opened.end.isoformat() == "2026-11-23T00:00:00+09:00"
    assert opened.agent_ids == ("a2",)


def test_a_day_bar_opens_that_day_by_hour_and_a_month_bar_by_day():
    assert bucket_query(filters(range="30d"), "2026-11-20")["bucket"] == "hour"
    month = bucket_query(filters(range="all", bucket="month"), "2026-01-01")
    assert (month["from"], month["to"], month["bucket"]) == ("2026-01-01", "2026-01-31", "day")
    assert "agent" not in month


def test_the_clicked_agent_replaces_the_filter_and_extras_are_added():
    drill = Drill("app_pages/conversations.py", filters(agent=["a1"]), extra=clicked_agent)
    page, query = drill.target({"x": "2026-11-20", "customdata": ["a2"]})
    assert page == "app_pages/conversations.py" and query["agent"] == ["a2"]
    by_command = Drill(
        "app_pages/commands.py", filters(), extra=lambda point: {"command": point_value(point) or ""}
    )
    assert by_command.target({"x": "2026-11-20", "customdata": ["img"]})[1]["command"] == "img"


@pytest.mark.parametrize("x", [None, "", "not a date", 12.5e30])
def test_a_point_without_a_usable_bucket_goes_nowhere(x):
    assert Drill("app_pages/commands.py", filters()).target({"x": x}) is None


def test_first_point_of_a_selection_event():
    assert first_point({"selection": {"points": [{"x": 1}, {"x": 2}]}}) == {"x": 1}
    assert first_point({"selection": {"points": []}}) is None
    assert first_point(None) is None
    assert point_value({"customdata": "a1"}) == "a1"
    assert point_value({}) is None
