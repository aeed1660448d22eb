"""Drill-down: from a clicked bar of a time chart to the page that lists the rows behind it.

A time chart's x value is the start of a bucket in the filters' time zone. `bucket_query` turns it
into the global filters of that bucket alone (a custom range over the bucket's days, one bucket
finer), so the target page — a chat list, the commands tables — shows exactly that period.
`Drill` says which page to open and which of the point's values (its `customdata`, e.g. the
agent of a stacked bar: `clicked_agent`) narrow it further; `ui.chart_block` does the navigating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from dashboard.filters import MAX_HOUR_BUCKET_RANGE, Filters

FINER = {"month": "day", "week": "day", "day": "hour", "hour": "hour"}


def bucket_days(bucket_start: object, bucket: str) -> tuple[date, date]:
    """The first and last day (inclusive) a bucket starting at `bucket_start` covers."""
    first = pd.Timestamp(str(bucket_start)).date()
    if bucket == "week":
        return first, first + timedelta(days=6)
    if bucket == "month":
        return first, (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
    return first, first  # a day, or the day an hour belongs to


def bucket_query(filters: Filters, bucket_start: object) -> dict[str, str | list[str]]:
    """The global filters narrowed to one bucket of a chart drawn with `filters`."""
    first, last = bucket_days(bucket_start, filters.bucket)
    finer = FINER[filters.bucket]
    if finer == "hour" and last - first >= timedelta(days=MAX_HOUR_BUCKET_RANGE.days):
        finer = "day"
    query: dict[str, str | list[str]] = {
        "range": "custom",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "bucket": finer,
        "tz": filters.tz,
    }
    if filters.agent_ids:
        query["agent"] = list(filters.agent_ids)
    return query


def first_point(event: object) -> Mapping | None:
    """The first selected point of a plotly chart's selection event, if any."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return points[0] if points else None


@dataclass(frozen=True)
class Drill:
    """Where a click on a bar goes: `page` (a file under app_pages) with the bucket's filters and
    the `extra` query parameters computed from the clicked point."""

    page: str
    filters: Filters
    extra: Callable[[Mapping], Mapping[str, str | list[str]]] | None = None
    help: str = "Click a bar to list what is behind it."

    def target(self, point: Mapping) -> tuple[str, dict[str, str | list[str]]] | None:
        x = point.get("x")
        if x in (None, ""):
            return None
        try:
            query = bucket_query(self.filters, x)
        except (ValueError, TypeError):
            return None
        if self.extra is not None:
            query |= dict(self.extra(point))
        return self.page, query


def _customdata(point: Mapping) -> list:
    custom = point.get("customdata")
    if custom is None:
        return []
    return list(custom) if isinstance(custom, list | tuple) else [custom]


def clicked_agent(point: Mapping) -> dict[str, list[str]]:
    """`extra` for charts whose points carry their agent id: the target shows that agent only."""
    agent_id = point_value(point)
    return {"agent": [agent_id]} if agent_id else {}


def point_value(point: Mapping, index: int = 0) -> str | None:
    """The point's `customdata[index]` as text, if it has one."""
    custom = _customdata(point)
    return str(custom[index]) if len(custom) > index and custom[index] is not None else None
