-- The audit log: one row per change the dashboard makes to Lillo's data (and per view of
-- something sensitive), written in the same transaction as the change by dashboard/store.py.
-- Rows are only ever added: a trigger refuses UPDATE, DELETE and TRUNCATE, whoever runs them.

create table if not exists lillo_dash.audit_log (
    id bigserial primary key,
    at timestamptz not null default now(),
    actor text not null,
    actor_role text not null check (actor_role in ('viewer', 'admin')),
    action text not null check (action in ('insert', 'update', 'delete', 'view')),
    table_name text not null,
    row_key jsonb not null,
    before jsonb,
    after jsonb,
    reason text not null default ''
);

-- The audit page's filters: newest first, optionally one actor or one table.
create index if not exists audit_log_at on lillo_dash.audit_log (at desc);
create index if not exists audit_log_actor_at on lillo_dash.audit_log (actor, at desc);
create index if not exists audit_log_table_at on lillo_dash.audit_log (table_name, at desc);

-- Statement-level, so even an UPDATE or DELETE that matches no row is refused: a caller learns
-- at once that it tried, not only when a row happens to match. Grants keep other roles out; this
-- also stops the owner (only ALTER TABLE ... DISABLE TRIGGER, itself a deliberate act, gets past).
create or replace function lillo_dash.audit_log_append_only()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'audit rows are append-only'
        using detail = format('%s on %I.%I is not allowed.', tg_op, tg_table_schema, tg_table_name),
              hint = 'Record a correction as a new audit row.';
end
$$;

create or replace trigger audit_log_append_only
before update or delete or truncate on lillo_dash.audit_log
for each statement execute function lillo_dash.audit_log_append_only();

-- Which agents have credentials, never the credentials: the reader role cannot select
-- agents.secure_config at all (006_roles.sql), so this runs as its owner. The table is qualified
-- with the schema it is found in now (Lillo's tables are unqualified in the installer's
-- search_path), and the function's own search_path is pg_catalog with pg_temp last, so nothing
-- a caller creates can stand in for a table, function or operator here.
-- Without an agents table (or its secure_config column) the function still exists but returns no
-- rows, meaning "unknown": callers and 006's grants need no existence check, and a re-install after
-- the table appears replaces the body.
do $install$
declare
    agents_schema text;
    body text := 'select null::text, null::boolean where false';
begin
    select n.nspname into agents_schema
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where c.oid = pg_catalog.to_regclass('agents')
        and exists (
            select from pg_catalog.pg_attribute as a
            where a.attrelid = c.oid and a.attname = 'secure_config' and a.attnum > 0 and not a.attisdropped
        );
    if agents_schema is not null then
        body := format(
            'select a.id::text, a.secure_config is not null and a.secure_config <> %L from %I.agents as a',
            '', agents_schema
        );
    end if;
    execute format(
        $sql$
        create or replace function lillo_dash.agent_credentials()
        returns table (agent_id text, credentials_set boolean)
        language sql stable security definer
        set search_path = pg_catalog, pg_temp
        as %L
        $sql$,
        body
    );
end
$install$;

-- A SECURITY DEFINER function is callable by PUBLIC unless revoked; 006_roles.sql grants it to
-- the dashboard's roles.
revoke all on function lillo_dash.agent_credentials() from public;

insert into lillo_dash.installed_files (file_name)
values ('005_audit_log.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
