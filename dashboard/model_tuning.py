"""Per-chat model preferences, set or cleared for one (agent, chat) pair or many at once.

A page lists candidate pairs with the view model_targets (`fetch_targets`), lets an admin pick some
and a model (or None: clear the preference, back to the default), and calls `preview`: one
RowChange per pair that would change, from the rows as they are now, checked against the live
database (the type of model_preferences.chat_id, known agents). `preview_frame` shows it;
`store.apply` writes it: `check_batch` checks the whole batch again inside the write's transaction
(naming every pair changed by someone else since the preview), then `apply_upsert` and
`apply_delete` write each pair only if its row is still as it was read.

A pair without a row runs on OPENAI; the dashboard calls that state "default". A change here is
- key {"agent_id", "chat_id"};
- before {"model_type": the stored model, None without a row; "updated_at": the row's;
  "n_messages": the pair's traffic in the listed range, shown in the preview and never written};
- after {"model_type": the new model, None to delete the row};
so its audit row says e.g. {"model_type": "GEMINI"} → {"model_type": null}.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard import views
from dashboard.agent_usage import MODELS
from dashboard.filters import Filters
from dashboard.row_change import InvalidInput, RowChange, StaleEdit, WriterUnavailable, run_statement

TABLE = "model_preferences"
TARGETS_VIEW = "model_targets"
MODEL_TYPES = MODELS
DEFAULT_MODEL = "OPENAI"
DEFAULT = "default"
CURRENT_MODEL_CHOICES = ("all", DEFAULT, *MODEL_TYPES)
PREVIEW_COLUMNS = ("agent_id", "chat_id", "model_before", "model_after", "n_messages")
MAX_NAMED = 5
# One batch is one transaction with a statement and an audit row per pair: keep it a reviewable size.
MAX_PAIRS = 10_000
CHAT_ID_TEXT = re.compile(r"[+-]?[0-9]{1,20}")
# Integer types a chat id can be stored in, and what each holds.
ID_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
# Telegram supergroup and channel ids are -100 followed by ten digits.
SUPERGROUP_IDS_BELOW = -1_000_000_000_000


@dataclass(frozen=True)
class ChatIdColumn:
    """model_preferences.chat_id as the live database has it."""

    type_name: str
    low: int
    high: int

    def fits(self, chat_id: int) -> bool:
        return self.low <= chat_id <= self.high


@dataclass(frozen=True)
class Preview:
    """What a bulk change would do: one change per pair that changes, and how many of the chosen
    pairs are already on the model (left out)."""

    changes: tuple[RowChange, ...]
    n_unchanged: int

    def frame(self) -> pd.DataFrame:
        return preview_frame(self.changes)


# --- Listing candidates ------------------------------------------------------------------------------


def target_params(
    filters: Filters,
    *,
    kind: str = "all",
    min_messages: int = 1,
    current_model: str = "all",
    limit: int = 1_000,
) -> dict:
    """The binds of view model_targets: the global filters' range and agents, and the choices
    here (checked, so a bad choice says what is allowed instead of returning no rows)."""
    # The chat list's kinds; imported here so the write path does not load the page modules.
    from dashboard.chat_list import KINDS

    if kind not in KINDS:
        raise InvalidInput(f"Unknown chat kind {kind!r}: choose one of {', '.join(KINDS)}.")
    if current_model not in CURRENT_MODEL_CHOICES:
        raise InvalidInput(
            f"Unknown current model {current_model!r}: choose one of {', '.join(CURRENT_MODEL_CHOICES)}."
        )
    if min_messages < 0 or limit < 1:
        raise InvalidInput("The minimum number of messages must be 0 or more, and the limit at least 1.")
    return filters.view_params() | {
        "kind": kind,
        "min_messages": int(min_messages),
        "current_model": current_model,
        "limit": int(limit),
    }


def fetch_targets(filters: Filters, **choices) -> views.ViewResult:
    """Rows of model_targets (cached like every view) for the filters and `target_params` choices."""
    return views.fetch(TARGETS_VIEW, **target_params(filters, **choices))


# --- Preview -----------------------------------------------------------------------------------------


def _unknown_model(model: Any) -> InvalidInput:
    return InvalidInput(
        f"Unknown model {str(model)[:40]!r}: choose one of {', '.join(MODEL_TYPES)}, or clear the "
        f"preference (back to the default, {DEFAULT_MODEL}). Nothing was written."
    )


def _model(model: str | None) -> str | None:
    if model is None or model == DEFAULT:
        return None
    if model not in MODEL_TYPES:
        raise _unknown_model(model)
    return model


def _chat_id(value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and CHAT_ID_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise InvalidInput(f"{str(value)[:40]!r} is not a Telegram chat id (a whole number like -1001234567890).")


def _count(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _pairs(targets: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[tuple[str, int, int | None]]:
    """(agent_id, chat_id, n_messages) of each chosen pair once, in the order given."""
    rows = targets.to_dict("records") if isinstance(targets, pd.DataFrame) else list(targets)
    pairs: dict[tuple[str, int], int | None] = {}
    for row in rows:
        agent_id = str(row.get("agent_id") or "").strip()
        if not agent_id:
            raise InvalidInput("A chosen row has no agent id.")
        pairs.setdefault((agent_id, _chat_id(row.get("chat_id"))), _count(row.get("n_messages")))
    if not pairs:
        raise InvalidInput("Nothing selected: choose at least one chat. Nothing was written.")
    if len(pairs) > MAX_PAIRS:
        raise InvalidInput(
            f"{len(pairs):,} chats are selected; at most {MAX_PAIRS:,} can be changed at once. Narrow the "
            "selection. Nothing was written."
        )
    return [(agent_id, chat_id, n) for (agent_id, chat_id), n in pairs.items()]


def _moment(value: Any) -> datetime | None:
    if value is None or value is pd.NaT:
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def preview(
    engine: sa.Engine, targets: pd.DataFrame | Iterable[Mapping[str, Any]], model: str | None
) -> Preview:
    """The changes that set `model` (None or "default": clear) for each pair of `targets` (rows of
    model_targets, or any mappings with agent_id, chat_id and optionally n_messages), from the
    pairs' rows as they are now. Raises InvalidInput, naming what is wrong, for an unknown model,
    an empty selection, a chat id the live chat_id column cannot hold or an unknown agent."""
    wanted = _model(model)
    pairs = _pairs(targets)
    keys = [(agent_id, chat_id) for agent_id, chat_id, _ in pairs]
    try:
        with engine.connect() as conn:
            _check_live(conn, keys, [agent_id for agent_id, _ in keys] if wanted else [])
            stored = {
                (row.agent_id, row.chat_id): row
                for row in run_statement(conn, "model_preferences_of_pairs", _key_arrays(keys))
            }
    except sa.exc.SQLAlchemyError as error:
        # Nothing is written by a preview; the person is told why it could not be made.
        raise WriterUnavailable(
            "The preview could not be made: the database did not answer. Nothing was changed; try again "
            "in a moment."
        ) from error
    changes = []
    for agent_id, chat_id, n_messages in pairs:
        row = stored.get((agent_id, chat_id))
        current = None if row is None else row.model_type
        # A pair without a row already runs on the default model.
        if current == wanted or (current is None and wanted == DEFAULT_MODEL):
            continue
        changes.append(
            RowChange(
                table=TABLE,
                key={"agent_id": agent_id, "chat_id": chat_id},
                before={
                    "model_type": current,
                    "updated_at": None if row is None else _moment(row.updated_at),
                    "n_messages": n_messages,
                },
                after={"model_type": wanted},
                action="delete" if wanted is None else "upsert",
            )
        )
    return Preview(tuple(changes), len(pairs) - len(changes))


def _label(model: str | None) -> str:
    return DEFAULT if model is None else model


def preview_frame(changes: Sequence[RowChange]) -> pd.DataFrame:
    """One row per change, for display and CSV: agent_id, chat_id, model_before and model_after
    (a model, or "default" for no preference row), n_messages (traffic in the listed range)."""
    return pd.DataFrame(
        [
            {
                "agent_id": c.key["agent_id"],
                "chat_id": c.key["chat_id"],
                "model_before": _label(c.before.get("model_type")),
                "model_after": _label(c.after.get("model_type")),
                "n_messages": c.before.get("n_messages"),
            }
            for c in changes
        ],
        columns=list(PREVIEW_COLUMNS),
    ).astype({"chat_id": "int64", "n_messages": "Int64"})


# --- Checks against the live database ----------------------------------------------------------------


def chat_id_column(conn: sa.Connection) -> ChatIdColumn:
    """The live type of model_preferences.chat_id and the ids it holds."""
    type_name = run_statement(conn, "model_preferences_chat_id_type", {}).scalar_one_or_none()
    if type_name is None:
        raise InvalidInput(
            "This database has no model_preferences.chat_id column, so no model preference can be "
            "written. Nothing was written."
        )
    if type_name not in ID_RANGES:
        raise InvalidInput(
            f"model_preferences.chat_id is of type {type_name} in this database; the dashboard writes "
            "chat ids only into smallint, integer or bigint columns. Nothing was written."
        )
    return ChatIdColumn(type_name, *ID_RANGES[type_name])


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _misfit_message(column: ChatIdColumn, chat_ids: Sequence[int]) -> str:
    which = "Chat" if len(chat_ids) == 1 else "Chats"
    text = (
        f"{which} {_listed([str(c) for c in chat_ids])} cannot have a model preference in this database: "
        f"model_preferences.chat_id is {column.type_name.upper()}, which holds {column.low:,} to "
        f"{column.high:,}."
    )
    if any(c < SUPERGROUP_IDS_BELOW for c in chat_ids):
        text += " Telegram supergroup ids (-100 followed by ten digits) do not fit in it."
    return text + " Leave these chats out. Nothing was written."


def _check_live(conn: sa.Connection, keys: Sequence[tuple[str, int]], setting_agents: Sequence[str]) -> None:
    """InvalidInput for chat ids the live column cannot hold, and for agents without an agents row
    among `setting_agents` (the agents a model is set for; clearing an orphaned row stays possible)."""
    column = chat_id_column(conn)
    misfits = sorted({chat_id for _, chat_id in keys if not column.fits(chat_id)})
    if misfits:
        raise InvalidInput(_misfit_message(column, misfits))
    if setting_agents:
        wanted = sorted(set(setting_agents))
        unknown = list(run_statement(conn, "unknown_agents", {"agent_ids": wanted}).scalars())
        if unknown:
            which = "is no agent with id" if len(unknown) == 1 else "are no agents with ids"
            raise InvalidInput(
                f"There {which} {_listed(unknown)} (no agents row), so no model can be set for their "
                "chats. Nothing was written."
            )


def _key_arrays(keys: Sequence[tuple[str, int]]) -> dict[str, list]:
    return {"agent_ids": [a for a, _ in keys], "chat_ids": [c for _, c in keys]}


def _pair_label(change: RowChange) -> str:
    return f"agent {change.key['agent_id']} in chat {change.key['chat_id']}"


def _stale_message(stale: Sequence[str]) -> str:
    which = "this pair was" if len(stale) == 1 else f"these {len(stale)} pairs were"
    return (
        f"Since the preview, {which} changed by someone else: {_listed(list(stale))}. Nothing was "
        "written — make the preview again to see the current models."
    )


def check_batch(conn: sa.Connection, changes: Sequence[RowChange]) -> None:
    """Inside the write's transaction, before any row is written: every model known, every chat id
    storable, every agent a model is set for known, and every pair's row still as the preview read
    it (locked until the write commits). Raises InvalidInput or StaleEdit naming the pairs."""
    for change in changes:
        if change.action == "upsert" and change.after.get("model_type") not in MODEL_TYPES:
            raise _unknown_model(change.after.get("model_type"))
    keys = [(str(c.key["agent_id"]), int(c.key["chat_id"])) for c in changes]
    if len(set(keys)) < len(keys):
        raise InvalidInput("A chat is in this batch twice; make the preview again. Nothing was written.")
    setting = [agent_id for (agent_id, _), c in zip(keys, changes, strict=True) if c.action == "upsert"]
    _check_live(conn, keys, setting)
    now = {
        (row.agent_id, row.chat_id): (row.model_type, row.updated_at)
        for row in run_statement(conn, "lock_model_preferences", _key_arrays(keys))
    }
    stale = []
    for key, change in zip(keys, changes, strict=True):
        model, updated_at = change.before.get("model_type"), change.before.get("updated_at")
        found = now.get(key)
        if found != (None if model is None else (model, updated_at)):
            state = "no preference now" if found is None else f"now {found[0]}"
            stale.append(f"{_pair_label(change)} ({state})")
    if stale:
        raise StaleEdit(_stale_message(stale))


# --- Writing (called by store.apply, inside its transaction) -----------------------------------------


def _values(change: RowChange) -> dict[str, Any]:
    return {
        "agent_id": change.key["agent_id"],
        "chat_id": change.key["chat_id"],
        "model_type": change.after.get("model_type"),
        "before_model_type": change.before.get("model_type"),
        "before_updated_at": change.before.get("updated_at"),
    }


def apply_upsert(conn: sa.Connection, change: RowChange) -> str:
    """Insert the pair's row when it had none, else update it; 'insert' or 'update'."""
    done, statement = (
        ("insert", "insert_model_preference")
        if change.before.get("model_type") is None
        else ("update", "update_model_preference")
    )
    if run_statement(conn, statement, _values(change)).rowcount != 1:
        raise StaleEdit(_stale_message([_pair_label(change)]))
    return done


def apply_delete(conn: sa.Connection, change: RowChange) -> str:
    """Delete the pair's row (back to the default model); 'delete'."""
    if run_statement(conn, "delete_model_preference", _values(change)).rowcount != 1:
        raise StaleEdit(_stale_message([_pair_label(change)]))
    return "delete"


def undo_preview(engine: sa.Engine, applied: Sequence[RowChange]) -> Preview:
    """The changes that put every pair of an applied batch back on the model it had before
    (clearing the preference where it had none), from the pairs' rows as they are now."""
    by_model: dict[str | None, list[dict[str, Any]]] = {}
    for change in applied:
        by_model.setdefault(change.before.get("model_type"), []).append(
            dict(change.key) | {"n_messages": change.before.get("n_messages")}
        )
    previews = [preview(engine, pairs, model) for model, pairs in by_model.items()]
    return Preview(tuple(c for p in previews for c in p.changes), sum(p.n_unchanged for p in previews))


def storable(engine: sa.Engine, targets: pd.DataFrame) -> tuple[pd.DataFrame, ChatIdColumn | None]:
    """`targets` without the pairs whose chat id the live model_preferences.chat_id cannot hold
    (supergroups in an INTEGER column), and that column; all of them when it cannot be read."""
    try:
        with engine.connect() as conn:
            column = chat_id_column(conn)
    except (InvalidInput, sa.exc.DBAPIError):
        return targets, None
    fits = targets["chat_id"].map(lambda c: column.fits(int(c)))
    return targets[fits], column
