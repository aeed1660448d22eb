-- Least-privilege roles the dashboard switches to with SET ROLE, so that one DATABASE_URL serves
-- both paths and the database itself enforces what each may do:
-- - lillo_dash_reader: SELECT on Lillo's tables (agents without secure_config) and everything in
--   lillo_dash, EXECUTE on lillo_dash's functions. Nothing it can change.
-- - lillo_dash_writer: only what dashboard/store.py writes: agents' editable columns,
--   model_preferences, and new audit rows.
-- Roles are cluster-wide and may already exist (another database on the server, an earlier
-- install); grants are per database and rebuilt from nothing on every install, so a re-install
-- after Lillo's schema changed (a new agents column, a new table) leaves exactly what is below.

do $install$
declare
    role_name text;
begin
    foreach role_name in array array['lillo_dash_reader', 'lillo_dash_writer'] loop
        if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
            begin
                execute format('create role %I nologin', role_name);
            exception when duplicate_object or unique_violation then
                null;  -- an install into another database of the cluster created it meanwhile
            end;
        end if;
    end loop;
end
$install$;

do $install$
declare
    lillo_tables constant text[] := array[
        'chat_messages', 'posts', 'user_data', 'command_metrics', 'gerta_poses', 'illustrations', 'agents',
        'model_preferences'
    ];
    editable constant text[] := array[
        'name', 'is_active', 'capabilities', 'character_config', 'system_identity', 'updated_at'
    ];
    found record;
    reader_columns text;
    writer_select_columns text;
    writer_update_columns text;
begin
    revoke all on all tables in schema lillo_dash from lillo_dash_reader, lillo_dash_writer;
    revoke all on all sequences in schema lillo_dash from lillo_dash_reader, lillo_dash_writer;
    revoke all on all functions in schema lillo_dash from lillo_dash_reader, lillo_dash_writer;
    grant usage on schema lillo_dash to lillo_dash_reader, lillo_dash_writer;
    grant select on all tables in schema lillo_dash to lillo_dash_reader;
    grant execute on all functions in schema lillo_dash to lillo_dash_reader;
    grant insert on table lillo_dash.audit_log to lillo_dash_writer;
    grant usage on sequence lillo_dash.audit_log_id_seq to lillo_dash_writer;

    -- Lillo's tables where the installer's search_path finds them (usually public); missing ones
    -- are skipped.
    for found in
        select c.oid, n.nspname as schema_name, c.relname as table_name, c.relowner
        from unnest(lillo_tables) as t (name)
        inner join pg_catalog.pg_class as c on c.oid = pg_catalog.to_regclass(t.name)
        inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    loop
        -- Only a table's owner can hand out all of its privileges; PostgreSQL's own refusal would
        -- not say what to do.
        if not pg_catalog.pg_has_role(current_user, found.relowner, 'USAGE') then
            raise exception 'cannot grant lillo_dash_reader access to %.%', found.schema_name, found.table_name
                using errcode = 'insufficient_privilege',
                      hint = format(
                          'Run `python -m dashboard install` as the owner of Lillo''s tables (%s owns this one).',
                          pg_catalog.pg_get_userbyid(found.relowner)
                      );
        end if;
        -- Revoking a table's privileges revokes its column privileges too.
        execute format(
            'revoke all on table %I.%I from lillo_dash_reader, lillo_dash_writer', found.schema_name,
            found.table_name
        );
        execute format('grant usage on schema %I to lillo_dash_reader, lillo_dash_writer', found.schema_name);
        if found.table_name = 'agents' then
            -- Column by column, so secure_config is never readable and a column added later is
            -- covered by the next install.
            select
                string_agg(format('%I', a.attname), ', ' order by a.attnum)
                    filter (where a.attname <> 'secure_config'),
                string_agg(format('%I', a.attname), ', ' order by a.attnum)
                    filter (where a.attname = 'id' or a.attname = any(editable)),
                string_agg(format('%I', a.attname), ', ' order by a.attnum)
                    filter (where a.attname = any(editable))
            into reader_columns, writer_select_columns, writer_update_columns
            from pg_catalog.pg_attribute as a
            where a.attrelid = found.oid and a.attnum > 0 and not a.attisdropped;
            if reader_columns is not null then
                execute format(
                    'grant select (%s) on table %I.%I to lillo_dash_reader', reader_columns,
                    found.schema_name, found.table_name
                );
            end if;
            if writer_select_columns is not null then
                execute format(
                    'grant select (%s) on table %I.%I to lillo_dash_writer', writer_select_columns,
                    found.schema_name, found.table_name
                );
            end if;
            if writer_update_columns is not null then
                execute format(
                    'grant update (%s) on table %I.%I to lillo_dash_writer', writer_update_columns,
                    found.schema_name, found.table_name
                );
            end if;
        else
            execute format('grant select on table %I.%I to lillo_dash_reader', found.schema_name, found.table_name);
            if found.table_name = 'model_preferences' then
                execute format(
                    'grant select, insert, update, delete on table %I.%I to lillo_dash_writer',
                    found.schema_name, found.table_name
                );
            end if;
        end if;
    end loop;
end
$install$;

-- The installing login may SET ROLE to both roles (and need not inherit their privileges: it
-- already has more). A superuser can already, and so can a login granted this by an earlier
-- install. A CREATEROLE login that created the roles holds them WITH ADMIN OPTION and can grant
-- itself SET; one that did not must ask whoever can.
do $install$
declare
    role_name text;
begin
    foreach role_name in array array['lillo_dash_reader', 'lillo_dash_writer'] loop
        if pg_catalog.pg_has_role(current_user, role_name, 'SET') then
            continue;
        elsif pg_catalog.pg_has_role(current_user, role_name, 'MEMBER WITH ADMIN OPTION') then
            execute format('grant %I to %I with inherit false, set true', role_name, current_user);
        else
            raise warning 'role % cannot SET ROLE %', current_user, role_name
                using hint = format('A superuser can run: grant %I to %I with inherit false, set true', role_name,
                    current_user);
        end if;
    end loop;
end
$install$;

insert into lillo_dash.installed_files (file_name)
values ('006_roles.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
