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
