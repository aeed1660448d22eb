"""DataFrame -> plotly Figure builders with one shared look. Every time axis names its time zone."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

FONT = "Inter, -apple-system, Segoe UI, Roboto, sans-serif"
PALETTE = px.colors.qualitative.Safe
FAILURE_COLOR = "#d62728"
SUCCESS_COLOR = "#4c78a8"


def _themed(figure: go.Figure, *, x_title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        font_family=FONT,
        margin=dict(l=8, r=8, t=32, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
        hovermode="x unified",
        bargap=0.15,
        height=340,
    )
    figure.update_xaxes(title_text=x_title, showgrid=False)
    figure.update_yaxes(title_text=y_title, rangemode="tozero", gridcolor="rgba(128,128,128,0.2)")
    return figure


def time_axis_title(bucket: str, tz: str) -> str:
    return f"{bucket.capitalize()} ({tz})"


def messages_per_bucket(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars: messages per time bucket, one colour per agent."""
    figure = px.bar(
        frame,
        x="bucket_start",
        y="n_messages",
        color="agent_name",
        color_discrete_sequence=PALETTE,
        labels={"bucket_start": time_axis_title(bucket, tz), "n_messages": "Messages", "agent_name": "Agent"},
    )
    figure.update_layout(barmode="stack")
    return _themed(figure, x_title=time_axis_title(bucket, tz), y_title="Messages")


def commands_per_bucket(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars of succeeded and failed commands per bucket, failures in red on top."""
    succeeded = frame["n_commands"] - frame["n_failures"]
    figure = go.Figure(
        [
            go.Bar(x=frame["bucket_start"], y=succeeded, name="Succeeded", marker_color=SUCCESS_COLOR),
            go.Bar(x=frame["bucket_start"], y=frame["n_failures"], name="Failed", marker_color=FAILURE_COLOR),
        ]
    )
    figure.update_layout(barmode="stack")
    return _themed(figure, x_title=time_axis_title(bucket, tz), y_title="Commands")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def messages_by_role(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars: messages per time bucket, people's and agents' apart (from messages_per_bucket)."""
    totals = frame.groupby("bucket_start", as_index=False)[["n_user_messages", "n_assistant_messages"]].sum()
    other = frame.groupby("bucket_start")["n_messages"].sum().values - totals[
        ["n_user_messages", "n_assistant_messages"]
    ].sum(axis=1)
    long = pd.concat(
        [
            totals.assign(role="people", n=totals["n_user_messages"]),
            totals.assign(role="agents", n=totals["n_assistant_messages"]),
            totals.assign(role="other (e.g. system)", n=other),
        ]
    )
    long = long[long["n"] > 0]
    figure = px.bar(
        long,
        x="bucket_start",
        y="n",
        color="role",
        color_discrete_sequence=PALETTE,
        labels={"n": "Messages", "bucket_start": "", "role": ""},
    )
    return _themed(figure, x_title=time_axis_title(bucket, tz), y_title="Messages")


def hour_of_week_heatmap(frame: pd.DataFrame, *, tz: str) -> go.Figure:
    """Messages per weekday and hour of day, all 7 by 24 cells drawn (0 when empty)."""
    grid = (
        frame.pivot_table(index="weekday", columns="hour_of_day", values="n_messages", aggfunc="sum")
        .reindex(index=range(1, 8), columns=range(24))
        .fillna(0)
    )
    figure = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{hour:02d}" for hour in range(24)],
            y=list(WEEKDAYS),
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 — %{z:,} messages<extra></extra>",
            colorbar=dict(title=dict(text="Messages")),
        )
    )
    figure = _themed(figure, x_title=f"Hour of day ({tz})", y_title="")
    figure.update_yaxes(autorange="reversed", rangemode=None)
    figure.update_layout(hovermode="closest", height=300)
    return figure
