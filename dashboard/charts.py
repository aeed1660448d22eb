"""DataFrame -> plotly Figure builders with one shared look. Every time axis names its time zone."""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

FONT = "Inter, -apple-system, Segoe UI, Roboto, sans-serif"
PALETTE = px.colors.qualitative.Safe
FAILURE_COLOR = "#d62728"
SUCCESS_COLOR = "#4c78a8"


def inert(values: pd.Series) -> pd.Series:
    """Names from the data as plotly should show them: its labels, legends and hover texts read a
    little HTML (<a href>, <b>, <br>), so a name is escaped to show as it was typed."""
    return values.map(lambda v: v if pd.isna(v) else html.escape(str(v), quote=False))


def themed(figure: go.Figure, *, x_title: str, y_title: str) -> go.Figure:
    # One update of nested values: each update call parses its property paths anew.
    figure.update_layout(
        font=dict(family=FONT),
        margin=dict(l=8, r=8, t=32, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title=dict(text="")),
        hovermode="x unified",
        bargap=0.15,
        height=340,
        xaxis=dict(title=dict(text=x_title), showgrid=False),
        yaxis=dict(title=dict(text=y_title), rangemode="tozero", gridcolor="rgba(128,128,128,0.2)"),
    )
    return figure


def local_times(values: pd.Series) -> pd.Series:
    """Times as plotly draws them: it knows no time zones, so zone-aware times go as their
    wall-clock times in their zone (as plotly express passes them)."""
    return values.dt.tz_localize(None) if isinstance(values.dtype, pd.DatetimeTZDtype) else values


def _groups(frame: pd.DataFrame, color: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    """The rows per value of `color` (shown inert), in order of first appearance; all rows as one
    unnamed group without it."""
    if not color:
        return [(None, frame)]
    named = frame.assign(**{color: inert(frame[color])})
    return list(named.groupby(color, sort=False, dropna=False))


def time_axis_title(bucket: str, tz: str) -> str:
    return f"{bucket.capitalize()} ({tz})"


def stacked_bars(
    frame: pd.DataFrame,
    *,
    y: str,
    y_title: str,
    bucket: str,
    tz: str,
    color: str | None = None,
    color_title: str = "",
    custom_data: list[str] | None = None,
) -> go.Figure:
    """Bars per time bucket stacked by `color` (a column of names from the data, shown inert), in
    the shared look. Built trace by trace: plotly express takes four times as long for the same."""
    x_title = time_axis_title(bucket, tz)
    traces = [
        go.Bar(
            x=local_times(rows["bucket_start"]),
            y=rows[y],
            name=name,
            legendgroup=name,
            showlegend=name is not None,
            marker=dict(color=PALETTE[i % len(PALETTE)]),
            customdata=rows[custom_data].to_numpy() if custom_data else None,
            hovertemplate=(f"{color_title}={name}<br>" if color else "")
            + f"{x_title}=%{{x}}<br>{y_title}=%{{y}}<extra></extra>",
        )
        for i, (name, rows) in enumerate(_groups(frame, color))
    ]
    return themed(go.Figure(traces, layout=dict(barmode="stack")), x_title=x_title, y_title=y_title)


def messages_per_bucket(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars: messages per time bucket, one colour per agent."""
    return stacked_bars(
        frame,
        y="n_messages",
        y_title="Messages",
        bucket=bucket,
        tz=tz,
        color="agent_name",
        color_title="Agent",
        custom_data=["agent_id"],  # what a click drills down to
    )


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
    return themed(figure, x_title=time_axis_title(bucket, tz), y_title="Commands")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def compact_number(value: int) -> str:
    """12 -> '12', 2500 -> '2.5k', 1000000 -> '1M'."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return str(value)


def _size_label(size_from: int, size_to) -> str:
    """'2-4' for small buckets; '1k-2.5k' (up to, not including, 2.5k) for large ones."""
    if pd.isna(size_to):
        return f"{compact_number(int(size_from))}+"
    last = int(size_to) - 1
    if last == size_from:
        return str(last)
    if last < 1000:
        return f"{size_from}–{last}"
    return f"{compact_number(int(size_from))}–{compact_number(int(size_to))}"


def chat_sizes(frame: pd.DataFrame) -> go.Figure:
    """Chats per size bucket (view chat_size_distribution), buckets in order as categories."""
    frame = frame.assign(
        exact_label=frame["size_label"],
        size_label=[_size_label(a, b) for a, b in zip(frame["size_from"], frame["size_to"], strict=True)],
    )
    figure = go.Figure(
        go.Bar(
            x=frame["size_label"],
            y=frame["n_chats"],
            customdata=frame[["n_messages", "exact_label"]].to_numpy(),
            marker=dict(color=SUCCESS_COLOR),
            hovertemplate=(
                "%{customdata[1]} messages: %{y:,} chats, %{customdata[0]:,} messages<extra></extra>"
            ),
        )
    )
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=list(frame["size_label"]))
    return themed(figure, x_title="Messages in the chat", y_title="Chats")


def reply_latency(frame: pd.DataFrame) -> go.Figure:
    """Median and p90 reply latency per agent (view reply_latency), in seconds, slowest p90 on top."""
    ordered = frame.sort_values("p90_ms").assign(agent_name=lambda f: inert(f["agent_name"]))
    figure = go.Figure()
    for column, label, color in (("median_ms", "median", SUCCESS_COLOR), ("p90_ms", "p90", PALETTE[1])):
        figure.add_bar(
            y=ordered["agent_name"],
            x=ordered[column].astype(float) / 1000,
            name=label,
            orientation="h",
            marker_color=color,
            customdata=ordered["n_replies"],
            hovertemplate=f"%{{y}}: {label} %{{x:,.1f}} s over %{{customdata:,}} replies<extra></extra>",
        )
    figure.update_layout(barmode="group", height=max(240, 60 + 36 * len(ordered)))
    styled = themed(figure, x_title="Seconds from a person's message to the agent's reply", y_title="")
    styled.update_layout(hovermode="closest", height=max(240, 60 + 36 * len(ordered)))
    return styled


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
    return stacked_bars(
        long, y="n", y_title="Messages", bucket=bucket, tz=tz, color="role", color_title="Who"
    )


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
    figure = themed(figure, x_title=f"Hour of day ({tz})", y_title="")
    figure.update_yaxes(autorange="reversed", rangemode=None)
    figure.update_layout(hovermode="closest", height=300)
    return figure


def agent_share(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Each agent's share of all messages per bucket (from messages_per_bucket), stacked to 100%."""
    totals = frame.groupby(["bucket_start", "agent_id", "agent_name"], as_index=False)["n_messages"].sum()
    traces = [
        go.Scatter(
            x=local_times(rows["bucket_start"]),
            y=rows["n_messages"],
            name=name,
            legendgroup=name,
            mode="lines",
            line=dict(color=PALETTE[i % len(PALETTE)]),
            stackgroup="1",
            groupnorm="percent",
            customdata=rows[["agent_id"]].to_numpy(),  # what a click drills down to
            hovertemplate="%{y:.1f}%",
        )
        for i, (name, rows) in enumerate(_groups(totals, "agent_name"))
    ]
    styled = themed(go.Figure(traces), x_title=time_axis_title(bucket, tz), y_title="Share of messages (%)")
    styled.update_layout(yaxis=dict(range=[0, 100]))
    return styled


def with_change_markers(figure: go.Figure, changes: pd.DataFrame) -> go.Figure:
    """Dashed vertical lines at `changes["at"]` (settings changes from the audit log), labelled by
    their action; times must be in the figure's time zone."""
    for at, action in zip(changes["at"], changes["action"], strict=True):
        figure.add_vline(x=pd.Timestamp(at), line_dash="dash", line_color="rgba(120,120,120,0.8)")
        figure.add_annotation(
            x=pd.Timestamp(at), y=1, yref="paper", text=str(action), showarrow=False, yanchor="bottom"
        )
    return figure


def command_trend(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """Stacked bars: command calls per bucket, one colour per command (view command_trend)."""
    return stacked_bars(
        frame.assign(command_label=frame["command"]),
        y="n_calls",
        y_title="Calls",
        bucket=bucket,
        tz=tz,
        color="command_label",
        color_title="Command",
        custom_data=["command"],  # what a click drills down to, as stored
    )


def command_failures(frame: pd.DataFrame, *, bucket: str, tz: str) -> go.Figure:
    """One command's calls per bucket (view command_trend), failures in red on top."""
    totals = frame.groupby("bucket_start", as_index=False)[["n_calls", "n_failures"]].sum()
    return commands_per_bucket(totals.rename(columns={"n_calls": "n_commands"}), bucket=bucket, tz=tz)


def command_durations(frame: pd.DataFrame) -> go.Figure:
    """Calls per 2%-wide duration bucket (view command_durations) on a log duration axis; zero
    and negative durations show at the left edge as one bar."""
    middles = (frame["from_ms"].astype(float) * frame["to_ms"].astype(float)) ** 0.5
    widths = frame["to_ms"].astype(float) - frame["from_ms"].astype(float)
    # Bucket 0 (durations <= 0) has no place on a log axis: drawn at 1 ms, a bucket wide.
    at = middles.where(frame["bucket"] > 0, 1.0)
    figure = go.Figure(
        go.Bar(
            x=at,
            y=frame["n_calls"],
            width=widths.where(frame["bucket"] > 0, 0.02),
            marker_color=SUCCESS_COLOR,
            customdata=list(zip(frame["from_ms"], frame["to_ms"], strict=True)),
            hovertemplate="%{customdata[0]:,.0f}–%{customdata[1]:,.0f} ms: %{y:,} calls<extra></extra>",
        )
    )
    styled = themed(figure, x_title="Duration (ms, log scale)", y_title="Calls")
    styled.update_xaxes(type="log")
    styled.update_layout(hovermode="closest")
    return styled
