-- The agent of every command: one row per command_metrics row up to the watermark, with the agent
-- that last wrote in its chat at or before it (last_speaker(), as lillo_dash.command_hourly counts
-- it). The slowest calls of chosen agents are read from it through an index per agent instead of
-- looking up the agent of every call in the range. Kept by dashboard/rollups_calls.py under a
-- watermark of its own (refresh_state source 'command_calls'), so a database whose other rollups
-- predate the table builds it on its next refresh.
create table if not exists lillo_dash.command_calls (
    command_id bigint primary key,
    agent_id text not null,
    sent_ms bigint not null,
    command text not null,  -- without its leading '/', as command_name() gives it
    duration integer not null
);

-- The agents' calls slowest first (a page of them is the first entries in the range), and by time
-- (when the range holds few of their calls, reading them all and sorting is cheaper).
create index if not exists command_calls_by_duration
    on lillo_dash.command_calls (agent_id, duration desc, command_id desc) include (sent_ms, command);
create index if not exists command_calls_by_time
    on lillo_dash.command_calls (agent_id, sent_ms) include (duration, command);

do $install$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'lillo_dash_reader') then
        grant select on lillo_dash.command_calls to lillo_dash_reader;
    end if;
end
$install$;

insert into lillo_dash.installed_files (file_name)
values ('009_command_calls.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
