"""The Models page's tables from its views' rows: the overall mix, the mix per agent, the
comparison with its evidence spelled out, misconfigurations linked to their chats, and changes
with agent names. Pure functions of DataFrames (tested without Streamlit), except `agent_names`."""

from __future__ import annotations

import pandas as pd

from dashboard import views
from dashboard.agent_usage import MODELS


def agent_names() -> dict[str, str]:
    """agent id -> name from the agent directory; empty when it cannot be read."""
    try:
        frame = views.fetch("agent_directory").frame
    except views.ViewUnavailable:
        return {}
    return dict(zip(frame["agent_id"].astype(str), frame["agent_name"].astype(str), strict=True))


def _model_rank(model: str) -> tuple[int, str]:
    """The documented models in their order, then any other model_type found, by name."""
    return (MODELS.index(model) if model in MODELS else len(MODELS), model)


def _model_order(models: pd.Series) -> pd.Series:
    return models.map(lambda m: _model_rank(m)[0])


def overall_mix(mix: pd.DataFrame) -> pd.DataFrame:
    """model_mix summed over agents, one row per model (all four), with each model's share of
    the range's messages."""
    sums = ["n_chats", "n_default_chats", "n_active_chats", "n_messages"]
    totals = mix.groupby("model_type")[sums].sum()
    totals = totals.reindex(sorted(set(MODELS) | set(totals.index), key=_model_rank))
    totals = totals.fillna(0).astype("int64").reset_index()
    all_messages = totals["n_messages"].sum()
    totals["traffic_share"] = totals["n_messages"] / all_messages if all_messages else 0.0
    return totals


def mix_by_agent(mix: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Chats per agent (rows, busiest first) and model (columns), with the agent's name."""
    table = mix.pivot_table(index="agent_id", columns="model_type", values="n_chats", aggfunc="sum")
    table = table.reindex(
        columns=[m for m in MODELS if m in table.columns] + [m for m in table.columns if m not in MODELS]
    )
    table = table.fillna(0).astype("int64")
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    table.insert(0, "Agent", [names.get(str(a), str(a)) for a in table.index])
    return table.reset_index(drop=True)


def _count(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def evidence(row: pd.Series) -> str:
    """What a comparison row's figures rest on, e.g. '12 chats · 340 replies · 0 commands'."""
    parts = [
        (_count(row.get("n_chats")), "chat"),
        (_count(row.get("n_replies")), "reply"),
        (_count(row.get("n_commands")), "command"),
        (_count(row.get("n_new_people")), "new person"),
    ]
    words = [f"{n:,} {noun if n == 1 else _plural(noun)}" for n, noun in parts]
    thin = " — thin" if _count(row.get("n_chats")) < 5 else ""
    return " · ".join(words) + thin


def _plural(noun: str) -> str:
    return {"reply": "replies", "new person": "new people"}.get(noun, noun + "s")


def with_evidence(comparison: pd.DataFrame) -> pd.DataFrame:
    """model_comparison in model order with an `evidence` column."""
    ordered = whole_ms(comparison.sort_values("model_type", key=_model_order, kind="stable"))
    return ordered.assign(evidence=[evidence(row) for _, row in ordered.iterrows()])


def whole_ms(frame: pd.DataFrame) -> pd.DataFrame:
    """Durations to the millisecond: percentiles interpolate fractions nobody needs to read."""
    durations = [c for c in ("median_ms", "p90_ms", "command_p95_ms") if c in frame.columns]
    return frame.assign(**{c: frame[c].astype("Float64").round() for c in durations})


def local_time(ms: pd.Series, tz: str) -> pd.Series:
    """Epoch milliseconds as times in `tz`."""
    return pd.to_datetime(ms, unit="ms", utc=True).dt.tz_convert(tz)


def linked_misconfigurations(frame: pd.DataFrame, names: dict[str, str], tz: str) -> pd.DataFrame:
    """model_misconfigurations with a link to each chat's transcript, the agent's name and the
    last call in `tz`."""
    return frame.assign(
        link=[f"/conversations?chat={int(c)}" for c in frame["chat_id"]],
        agent_name=[names.get(str(a), str(a)) for a in frame["agent_id"]],
        last_at=local_time(frame["last_ms"], tz),
    )


def named_changes(changes: pd.DataFrame, names: dict[str, str], tz: str) -> pd.DataFrame:
    """model_changes with agent names and times in `tz`."""
    return changes.assign(
        agent_name=[names.get(str(a), str(a)) for a in changes["agent_id"]],
        changed_at=pd.to_datetime(changes["changed_at"], utc=True).dt.tz_convert(tz),
    )


def effect_params(change: pd.Series, window_days: int) -> dict:
    """model_change_effect's parameters for one row of model_changes."""
    return {
        "agent_id": str(change["agent_id"]),
        "chat_id": int(change["chat_id"]),
        "changed_at_ms": int(pd.Timestamp(change["changed_at"]).timestamp() * 1000),
        "window_days": window_days,
    }
