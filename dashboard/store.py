"""The guarded write path: the only code that changes the database.

Every write goes: validate (`agent_edit`, `model_tuning.preview`) → the page shows the changes →
the admin confirms with a reason → `apply`: the actor's role is checked against the configuration,
then one transaction as the `lillo_dash_writer` role runs each change only if its row still holds
the values it was read with (otherwise nothing is written: "changed by someone else — reload"),
and adds one audit row per change. Tables with rules about a whole batch (model preferences: the
live chat_id type, known agents, every stale row named) are checked first, in the same transaction.
Any failure rolls back everything and raises WriteRefused with a message for the person.
`record_view` adds the audit row of someone looking at personal data (a chat's transcript), as the
same writer role.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql as psql

from dashboard import auth, model_tuning
from dashboard.db import connection_lost

# The write vocabulary lives in dashboard/row_change.py; pages use it through this module.
from dashboard.row_change import (
    InvalidInput,
    NotAllowed,
    RowChange,
    StaleEdit,
    WriteRefused,
    WriterUnavailable,
    run_statement,
)

log = logging.getLogger(__name__)

WRITER_ROLE = "lillo_dash_writer"
MAX_NAME = 255
MAX_JSON_BYTES = 64 * 1024
MAX_REASON = 1_000
CAPABILITY_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
AGENT_FIELDS = ("name", "is_active", "capabilities", "character_config", "system_identity")
JSON_FIELDS = ("capabilities", "character_config", "system_identity")


# --- Validation --------------------------------------------------------------------------------------


def parse_json_field(field: str, text: str) -> Any:
    """A JSON document typed into the editor: an object, array or value, at most 64 KB."""
    size = len(text.encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise InvalidInput(f"{field} is {size:,} bytes; the limit is {MAX_JSON_BYTES:,} bytes (64 KB).")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{field} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    if "\x00" in text or "\\u0000" in text:
        raise InvalidInput(f"{field} contains a NUL character, which PostgreSQL cannot store.")
    return value


def agent_edit(
    before: Mapping[str, Any],
    *,
    name: str,
    is_active: bool,
    capabilities: Mapping[str, bool],
    new_capability: str = "",
    character_config: str,
    system_identity: str,
) -> RowChange:
    """The change an agent editor asks for, validated; InvalidInput names the first bad field.

    `before` is the agent's row as read (agent_id and the AGENT_FIELDS)."""
    cleaned_name = name.strip()
    if not cleaned_name:
        raise InvalidInput("The name must not be empty.")
    if "\x00" in cleaned_name:
        raise InvalidInput("The name contains a NUL character, which PostgreSQL cannot store.")
    if len(cleaned_name) > MAX_NAME:
        raise InvalidInput(f"The name is {len(cleaned_name)} characters; the limit is {MAX_NAME}.")
    toggles = {str(key): bool(value) for key, value in capabilities.items()}
    added = new_capability.strip()
    if added:
        if not CAPABILITY_KEY.fullmatch(added):
            raise InvalidInput(
                f"Capability {added[:80]!r} is not a valid key: use lowercase letters, digits and _, "
                "starting with a letter (at most 63 characters)."
            )
        toggles.setdefault(added, True)
    # Keys the editor did not show are kept; a key the agent lacks is added only when switched on
    # (a toggle left off for it means "as before").
    stored = dict(before.get("capabilities") or {})
    capabilities_after = stored | {key: on for key, on in toggles.items() if key in stored or on}
    after = {
        "name": cleaned_name,
        "is_active": bool(is_active),
        "capabilities": capabilities_after,
        "character_config": parse_json_field("character_config", character_config),
        "system_identity": parse_json_field("system_identity", system_identity),
    }
    if len(json.dumps(after["capabilities"]).encode()) > MAX_JSON_BYTES:
        raise InvalidInput(f"capabilities would exceed {MAX_JSON_BYTES:,} bytes.")
    return RowChange(
        table="agents",
        key={"agent_id": str(before["agent_id"])},
        before={f: before.get(f) for f in AGENT_FIELDS},
        after=after,
    )


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _agent_update_values(change: RowChange) -> dict[str, Any]:
    values: dict[str, Any] = {"agent_id": change.key["agent_id"]}
    for prefix, row in (("", change.after), ("before_", change.before)):
        for field in AGENT_FIELDS:
            value = row.get(field)
            values[prefix + field] = _json(value) if field in JSON_FIELDS else value
    return values


def _apply_agent_update(conn: sa.Connection, change: RowChange) -> str:
    if run_statement(conn, "update_agent", _agent_update_values(change)).rowcount == 1:
        return "update"
    if run_statement(conn, "agent_exists", change.key).first() is None:
        raise InvalidInput(
            f"There is no agent with id {change.key['agent_id']!r} (it may have been deleted)."
        )
    raise StaleEdit(
        f"Agent {change.before.get('name')!r} was changed by someone else since you opened it — "
        "reload to see the current settings. Nothing was written."
    )


# (table, action) -> the function writing one change; it returns what the audit log calls what it
# did ('insert', 'update' or 'delete': an upsert is either of the first two).
APPLIERS: dict[tuple[str, str], Callable[[sa.Connection, RowChange], str]] = {
    ("agents", "update"): _apply_agent_update,
    (model_tuning.TABLE, "upsert"): model_tuning.apply_upsert,
    (model_tuning.TABLE, "delete"): model_tuning.apply_delete,
}
# table -> a check of all of a batch's changes to it, run before any is written.
BATCH_CHECKS: dict[str, Callable[[sa.Connection, Sequence[RowChange]], None]] = {
    model_tuning.TABLE: model_tuning.check_batch,
}


# --- Applying ----------------------------------------------------------------------------------------


def _become_writer(conn: sa.Connection) -> None:
    role_exists, allowed, installed, login = conn.execute(
        sa.text(
            "select r.oid is not null, coalesce(pg_has_role(current_user, r.oid, 'SET'), false),"
            " exists (select from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            "         where n.nspname = 'lillo_dash' and c.relname = 'audit_log'),"
            " current_user"
            " from (select 1) as one left join pg_roles as r on r.rolname = :role"
        ),
        {"role": WRITER_ROLE},
    ).one()
    if not (role_exists and installed):
        raise WriterUnavailable(
            "The dashboard's writer role and audit log are not installed in this database, so nothing "
            "can be changed from the dashboard. An admin must run `python -m dashboard install` first."
        )
    if not allowed:
        raise WriterUnavailable(
            f"The database user {login!r} may not act as {WRITER_ROLE}. Run `python -m dashboard install` "
            f"as this user, or `grant {WRITER_ROLE} to {login}`."
        )
    statement = psql.SQL("set local role {}").format(psql.Identifier(WRITER_ROLE))
    conn.connection.driver_connection.execute(statement)


def apply(
    engine: sa.Engine,
    config: auth.AuthConfig,
    actor: auth.User | None,
    changes: Sequence[RowChange],
    reason: str,
) -> int:
    """Write `changes` and their audit rows in one transaction; returns how many rows changed.
    Raises WriteRefused (nothing written) for a non-admin, a missing reason, a stale row, an
    unknown key or a database error."""
    try:
        auth.require_admin(config, auth.AuthState(config.data_dir), actor)
    except auth.NotAllowed as refused:
        raise NotAllowed(str(refused)) from None
    role = auth.verified_role(config, auth.AuthState(config.data_dir), actor)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why you make this change: the reason goes into the audit log.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason is {len(reason)} characters; the limit is {MAX_REASON}.")
    changes = [c for c in changes if c.diff()]
    if not changes:
        raise InvalidInput("Nothing to change: the new values equal the current ones.")
    committing = False
    try:
        with engine.begin() as conn:
            _become_writer(conn)
            for table, check in BATCH_CHECKS.items():
                batch = [c for c in changes if c.table == table]
                if batch:
                    check(conn, batch)
            for change in changes:
                applier = APPLIERS.get((change.table, change.action))
                if applier is None:
                    raise InvalidInput(f"The dashboard does not {change.action} rows of {change.table}.")
                done = applier(conn, change)
                run_statement(
                    conn,
                    "insert_audit",
                    {
                        "actor": actor.name,
                        "actor_role": role,
                        "action": done,
                        "table_name": change.table,
                        "row_key": _json(dict(change.key)),
                        "before": _json({f: change.before.get(f) for f, _, _ in change.diff()}),
                        "after": _json({f: change.after.get(f) for f, _, _ in change.diff()}),
                        "reason": reason,
                    },
                )
            committing = True  # what fails from here on failed in the COMMIT
    except WriteRefused:
        raise
    except sa.exc.DBAPIError as error:
        first_line = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        log.warning("write failed: %s", first_line, exc_info=True)
        raise WriteRefused(_failed_write_message(error, first_line, committing=committing)) from error
    return len(changes)


def _failed_write_message(error: sa.exc.DBAPIError, first_line: str, *, committing: bool) -> str:
    if not connection_lost(error):
        return f"Nothing was written: the database said “{first_line}”."
    if committing:
        # The server may have committed just before the connection went; only a fresh read can tell.
        return (
            "The connection to the database was lost while saving, so the change may or may not have "
            "been written. Reload to see the current values: the audit log lists the change if it was."
        )
    return (
        "Nothing was written: the connection to the database was lost before the change was saved. "
        "Try again once the database answers."
    )


def record_view(
    engine: sa.Engine, config: auth.AuthConfig, actor: auth.User | None, table: str, key: Mapping[str, Any]
) -> None:
    """One audit row saying that `actor` looked at `key` of `table` (a chat's transcript). Raises
    WriteRefused when it cannot be written; the caller then does not show what was asked for."""
    role = auth.verified_role(config, auth.AuthState(config.data_dir), actor)
    if role is None:
        raise NotAllowed("Sign in to see this.")
    try:
        with engine.begin() as conn:
            _become_writer(conn)
            run_statement(
                conn,
                "insert_audit",
                {
                    "actor": actor.name,
                    "actor_role": role,
                    "action": "view",
                    "table_name": table,
                    "row_key": _json(dict(key)),
                    "before": None,
                    "after": None,
                    "reason": "",
                },
            )
    except sa.exc.DBAPIError as error:
        first_line = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        log.warning("could not record a view: %s", first_line)
        raise WriteRefused(f"This view could not be recorded in the audit log: “{first_line}”.") from error
