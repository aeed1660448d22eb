-- name: insert_audit
-- One audit row per changed row; the time is the database's, never the form's.
-- params: :actor, :actor_role, :action, :table_name, :row_key, :before, :after, :reason
insert into lillo_dash.audit_log (actor, actor_role, action, table_name, row_key, before, after, reason)
values (
    :actor, :actor_role, :action, :table_name,
    cast(:row_key as jsonb), cast(:before as jsonb), cast(:after as jsonb), :reason
)
