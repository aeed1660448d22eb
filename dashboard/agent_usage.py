"""What the Agents page computes from its views' rows: the agent id from the URL, the per-agent
table (usage joined with reply latency and model mix), the retention matrix and the settings
changes of one agent (from the audit log)."""

from __future__ import annotations

import json

import pandas as pd

# agents.id is a uuid and chat_messages.agent_id a varchar(255): nothing longer is an agent.
MAX_AGENT_ID_LENGTH = 255
# The models a chat can run on, in the order Lillo documents them; OPENAI is the default.
MODELS = ("OPENAI", "GEMINI", "GROK", "DEEPSEEK")


def parse_agent_id(text: str | None) -> tuple[str | None, str | None]:
    """(agent id, None), (None, None) for none given, or (None, why) for something no agent has."""
    if text is None or not text.strip():
        return None, None
    cleaned = text.strip()
    shown = cleaned[:40] + ("…" if len(cleaned) > 40 else "")
    if len(cleaned) > MAX_AGENT_ID_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned):
        return None, f"“{shown.encode('unicode_escape').decode()}” is not an agent id."
    return cleaned, None


def model_columns(mix: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, a column n_<model>_chats per model (Lillo's four first), from agent_model_mix."""
    if mix.empty:
        return pd.DataFrame({"agent_id": pd.Series(dtype=object)})
    wide = mix.pivot_table(
        index="agent_id", columns="model_type", values="n_chats", aggfunc="sum", fill_value=0
    )
    ordered = [m for m in MODELS if m in wide.columns] + sorted(c for c in wide.columns if c not in MODELS)
    wide = wide[ordered].astype("int64")
    wide.columns = [f"n_{m.lower()}_chats" for m in ordered]
    return wide.reset_index()


def usage_table(usage: pd.DataFrame, latency: pd.DataFrame | None, mix: pd.DataFrame | None) -> pd.DataFrame:
    """agent_usage rows with median_ms / p90_ms / n_replies from reply_latency and the model columns
    from agent_model_mix; agents missing from those get no latency and zero chats per model."""
    table = usage.copy()
    if latency is not None:
        table = table.merge(
            latency[["agent_id", "n_replies", "median_ms", "p90_ms"]], on="agent_id", how="left"
        )
        table["n_replies"] = table["n_replies"].fillna(0).astype("int64")
    if mix is not None:
        models = model_columns(mix)
        table = table.merge(models, on="agent_id", how="left")
        for column in models.columns.drop("agent_id"):
            table[column] = table[column].fillna(0).astype("int64")
    return table


def retention_matrix(rows: pd.DataFrame) -> pd.DataFrame:
    """agent_retention rows as one row per cohort week: its size, then the share of it that wrote in
    week 1, 2, … after. 0 where nobody did; empty for weeks after the latest week with data."""
    if rows.empty:
        return pd.DataFrame(columns=["cohort_week", "cohort_size"])
    shares = rows.assign(share=rows["n_people"] / rows["cohort_size"]).pivot_table(
        index=["cohort_week", "cohort_size"], columns="week_number", values="share", fill_value=0.0
    )
    latest = (rows["cohort_week"] + pd.to_timedelta(rows["week_number"] * 7, unit="D")).max()
    cohorts = shares.index.get_level_values("cohort_week")
    for week in shares.columns:
        shares.loc[cohorts + pd.Timedelta(days=7 * int(week)) > latest, week] = float("nan")
    shares = shares.drop(columns=[0], errors="ignore")
    shares.columns = [f"week_{int(n)}" for n in shares.columns]
    return shares.reset_index()


def settings_changes(audit: pd.DataFrame, agent_id: str) -> pd.DataFrame:
    """The audit rows (view audit_log) that changed agent `agent_id`: its agents row or one of its
    chats' model preferences (row_key {"agent_id": …, …})."""
    if audit.empty:
        return audit

    def about_agent(row_key: object) -> bool:
        try:
            key = json.loads(row_key) if isinstance(row_key, str) else None
        except ValueError:
            return False
        return isinstance(key, dict) and str(key.get("agent_id")) == agent_id

    changed = audit[(audit["action"] != "view") & audit["row_key"].map(about_agent)]
    return changed.sort_values("at")
