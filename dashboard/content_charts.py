"""Figures of the Content page and the token holders: posts and gallery items per time bucket,
holders per balance band and per verification age. DataFrame -> plotly Figure, in the shared look
of dashboard.charts."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import PALETTE, SUCCESS_COLOR, stacked_bars, themed

# Bands of text that is no usable balance stand apart from the numbers.
UNUSABLE_COLOR = "#9aa0a6"
BUCKET_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000, "month": 30 * 86_400_000}


def _one_bucket_readable(figure: go.Figure, frame: pd.DataFrame, bucket: str) -> go.Figure:
    """A chart of a single bucket: plotly would stretch its bar over a sub-second axis; give it
    the bucket's width and a few buckets of room instead."""
    starts = pd.to_datetime(frame["bucket_start"]).drop_duplicates()
    if len(starts) != 1:
        return figure
    width = BUCKET_MS[bucket]
    start = starts.iloc[0]
    figure.update_traces(width=width * 0.8)
    figure.update_xaxes(
        range=[start - pd.Timedelta(milliseconds=2 * width), start + pd.Timedelta(milliseconds=2 * width)],
        tickformat="%Y-%m-%d" if bucket != "hour" else "%Y-%m-%d %H:%M",
    )
    return figure


def posts_per_bucket(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars: posts per time bucket, one colour per post type."""
    figure = stacked_bars(
        frame, y="n_posts", y_title="Posts", bucket=bucket, tz=tz, color="post_type", color_title="Type"
    )
    return _one_bucket_readable(figure, frame, bucket)


def items_per_bucket(frame: pd.DataFrame, *, bucket: str, tz: str, noun: str) -> go.Figure:
    """Stacked bars: gallery items (illustrations, poses) per time bucket, one colour per agent
    when the rows name agents."""
    named = "agent_name" in frame.columns
    figure = stacked_bars(
        frame,
        y="n_items",
        y_title=noun,
        bucket=bucket,
        tz=tz,
        color="agent_name" if named else None,
        color_title="Agent",
    )
    return _one_bucket_readable(figure, frame, bucket)


def _bands(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    return frame[frame["dimension"] == dimension].sort_values("band_order")


def balance_distribution(frame: pd.DataFrame) -> go.Figure:
    """Holders per balance band (view token_holder_bands), numbers in order, then the bands of
    balances that are no usable number in grey."""
    bands = _bands(frame, "balance")
    usable = bands["band_order"] < 100
    figure = go.Figure(
        go.Bar(
            x=bands["band"],
            y=bands["n_holders"],
            marker_color=[SUCCESS_COLOR if ok else UNUSABLE_COLOR for ok in usable],
            hovertemplate="%{x}: %{y:,} holders<extra></extra>",
        )
    )
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=list(bands["band"]))
    styled = themed(
        figure, x_title="Verified balance (grey: stored text that is no usable number)", y_title="Holders"
    )
    styled.update_layout(hovermode="closest")
    return styled


def verification_age(frame: pd.DataFrame) -> go.Figure:
    """Holders by the time since their last verification (view token_holder_bands), and how many
    of them also chat."""
    bands = _bands(frame, "verified")
    figure = go.Figure(
        [
            go.Bar(
                x=bands["band"],
                y=bands["n_holders"] - bands["n_also_chat"],
                name="Holders who do not chat",
                marker_color=PALETTE[1],
            ),
            go.Bar(
                x=bands["band"],
                y=bands["n_also_chat"],
                name="Holders who also chat",
                marker_color=SUCCESS_COLOR,
            ),
        ]
    )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=list(bands["band"]))
    return themed(figure, x_title="Last verified", y_title="Holders")
