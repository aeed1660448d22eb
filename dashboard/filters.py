"""Global filters — date range, agents, time bucket, time zone — kept in the URL query string so
a copied link reopens the same view.

Parsing is a pure function of the query parameters (tested without Streamlit); `filter_bar`
renders the sidebar widgets and writes the canonical state back to the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.config import known_timezone

PRESETS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "all": None,
}
PRESET_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT_PRESET = "30d"
BUCKETS = ("hour", "day", "week", "month")
FILTER_KEYS = ("range", "from", "to", "agent", "bucket", "tz")
TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
)
# Hour buckets over long ranges make unreadable charts and heavy queries.
MAX_HOUR_BUCKET_RANGE = timedelta(days=31)
# Custom ranges stay within these days: Lillo's epochs start in 1970, and pandas cannot hold
# moments past 2262.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
# agents.id is a uuid and chat_messages.agent_id a varchar(255); PostgreSQL text holds no NUL.
MAX_AGENT_ID_LENGTH = 255


@dataclass(frozen=True)
class Filters:
    preset: str
    start: datetime  # inclusive, tz-aware
    end: datetime  # exclusive, tz-aware
    agent_ids: tuple[str, ...]
    bucket: str
    tz: str
    notices: tuple[str, ...] = field(default=(), compare=False)

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @property
    def previous_start_ms(self) -> int:
        """Start of the period of equal length before this one; equal to start_ms for all time."""
        if self.preset == "all":
            return self.start_ms
        return self.start_ms - (self.end_ms - self.start_ms)

    @property
    def has_previous_period(self) -> bool:
        return self.preset != "all"

    def view_params(self) -> dict:
        """The bind parameters every range/agent-filtered view takes."""
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "previous_start_ms": self.previous_start_ms,
            "agent_ids": list(self.agent_ids),
            "tz": self.tz,
            "bucket": self.bucket,
        }

    def to_query(self) -> dict[str, str | list[str]]:
        query: dict[str, str | list[str]] = {"range": self.preset, "bucket": self.bucket, "tz": self.tz}
        if self.preset == "custom":
            query["from"] = self.start.astimezone(ZoneInfo(self.tz)).date().isoformat()
            query["to"] = (self.end.astimezone(ZoneInfo(self.tz)) - timedelta(days=1)).date().isoformat()
        if self.agent_ids:
            query["agent"] = list(self.agent_ids)
        return query

    def export_parts(self) -> dict[str, str]:
        """The filters for an export's file name and header."""
        query = self.to_query()
        span = f"{query['from']}..{query['to']}" if self.preset == "custom" else self.preset
        return {"range": span, "agents": "+".join(self.agent_ids), "bucket": self.bucket, "tz": self.tz}

    def describe(self) -> str:
        tzinfo = ZoneInfo(self.tz)
        if self.preset == "all":
            span = "All time"
        else:
            first = self.start.astimezone(tzinfo).strftime("%Y-%m-%d %H:%M")
            last = self.end.astimezone(tzinfo).strftime("%Y-%m-%d %H:%M")
            span = f"{first} → {last}"
        return f"{span} ({self.tz}), by {self.bucket}"


def _first(query: dict, key: str) -> str | None:
    value = query.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if value not in (None, "") else None


def _all(query: dict, key: str) -> list[str]:
    value = query.get(key)
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [v for v in values if v]


def _parse_date(text: str | None, label: str, notices: list[str]) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        notices.append(
            f"The {label} date {text[:40]!r} in the link is not a date (YYYY-MM-DD); it was ignored."
        )
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        moved = min(max(day, FIRST_DAY), LAST_DAY)
        notices.append(
            f"The {label} date {day} is outside the dates the dashboard shows ({FIRST_DAY} to "
            f"{LAST_DAY}); {moved} was used."
        )
        return moved
    return day


def _usable_agent_id(agent_id: str) -> bool:
    return len(agent_id) <= MAX_AGENT_ID_LENGTH and agent_id.isprintable()


def _default_bucket(preset: str) -> str:
    return {"24h": "hour", "all": "week"}.get(preset, "day")


def parse_filters(
    query: dict,
    *,
    known_agent_ids: set[str] | None,
    now: datetime,
    default_tz: str = "UTC",
) -> Filters:
    """Turn URL query parameters into Filters, correcting or dropping what cannot be used.

    Every correction is reported in `notices` so the page can say what it did. `known_agent_ids`
    of None means the agent list is unavailable, so agent ids are kept as given.
    """
    notices: list[str] = []

    tz = _first(query, "tz") or default_tz
    if not known_timezone(tz):
        notices.append(f"Unknown time zone {tz[:40]!r}; showing {default_tz}.")
        tz = default_tz
    tzinfo = ZoneInfo(tz)

    preset = _first(query, "range") or DEFAULT_PRESET
    if preset not in PRESET_LABELS:
        notices.append(f"Unknown range {preset[:40]!r}; showing the last 30 days.")
        preset = DEFAULT_PRESET

    # Presets end at the next whole hour: the rollups are kept per UTC hour, and the same view
    # within an hour is one cache entry (rows newer than the last refresh are still counted live).
    end = (now.astimezone(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if preset == "custom":
        first = _parse_date(_first(query, "from"), "start", notices)
        last = _parse_date(_first(query, "to"), "end", notices)
        if first is None and last is None:
            notices.append("A custom range needs a start or end date; showing the last 30 days.")
            preset = DEFAULT_PRESET
        else:
            today = now.astimezone(tzinfo).date()
            last = last or min(max(today, FIRST_DAY), LAST_DAY)
            first = first or max(last - timedelta(days=29), FIRST_DAY)
            if first > last:
                notices.append(f"The start date {first} was after the end date {last}; they were swapped.")
                first, last = last, first
            start = datetime.combine(first, datetime.min.time(), tzinfo)
            end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo)
    if preset == "all":
        start = datetime(1970, 1, 1, tzinfo=UTC)
    elif preset != "custom":
        start = end - PRESETS[preset]

    bucket = _first(query, "bucket") or _default_bucket(preset)
    if bucket not in BUCKETS:
        notices.append(f"Unknown time bucket {bucket[:40]!r}; showing {_default_bucket(preset)}.")
        bucket = _default_bucket(preset)
    if bucket == "hour" and (preset == "all" or end - start > MAX_HOUR_BUCKET_RANGE):
        notices.append("Hourly buckets are limited to ranges of 31 days or less; showing days.")
        bucket = "day"

    agent_ids = tuple(dict.fromkeys(_all(query, "agent")))
    unknown = [
        a
        for a in agent_ids
        if not _usable_agent_id(a) or (known_agent_ids is not None and a not in known_agent_ids)
    ]
    if unknown:
        shown = ", ".join(repr(a[:40]) for a in unknown[:3])
        notices.append(f"Unknown agent {shown} in the link was ignored.")
        agent_ids = tuple(a for a in agent_ids if a not in unknown)

    return Filters(preset, start, end, agent_ids, bucket, tz, tuple(notices))
