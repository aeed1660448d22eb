-- One chat's or agent's samples, read by index instead of recomputed from Lillo's rows: the agent
-- of every command, and every reply's latency.

-- One row per command_metrics row up to the watermark, with the agent that last wrote in its chat
-- at or before it (last_speaker(), as lillo_dash.command_hourly counts it). The slowest calls of
-- chosen agents are read from it through an index per agent instead of looking up the agent of
-- every call in the range, and one pair's commands (model_change_effect) by chat and agent. Kept
-- by dashboard/rollups_calls.py under a watermark of its own (refresh_state source
-- 'command_calls'), so a database whose other rollups predate the table builds it on its next
-- refresh.
create table if not exists lillo_dash.command_calls (
    command_id bigint primary key,
    chat_id bigint not null,
    agent_id text not null,
    sent_ms bigint not null,
    command text not null,  -- without its leading '/', as command_name() gives it
    duration integer not null,
    success boolean not null
);

-- The agents' calls slowest first (a page of them is the first entries in the range), and by time
-- (when the range holds few of their calls, reading them all and sorting is cheaper).
create index if not exists command_calls_by_duration
    on lillo_dash.command_calls (agent_id, duration desc, command_id desc) include (sent_ms, command);
create index if not exists command_calls_by_time
    on lillo_dash.command_calls (agent_id, sent_ms) include (duration, command);
create index if not exists command_calls_by_pair
    on lillo_dash.command_calls (chat_id, agent_id, sent_ms) include (duration, success);

-- One row per reply (the assistant message's chat_messages.id) up to the reply latency rollup's
-- watermark: the samples of sql/views/reply_latency.sql, kept with lillo_dash.reply_latency_histogram
-- by dashboard/rollups_replies.py (a late row changes both alike).
create table if not exists lillo_dash.reply_samples (
    reply_id bigint primary key,
    chat_id bigint not null,
    agent_id text not null,
    sent_ms bigint not null,
    latency_ms bigint not null
);
create index if not exists reply_samples_by_pair
    on lillo_dash.reply_samples (chat_id, agent_id, sent_ms) include (latency_ms);

do $install$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'lillo_dash_reader') then
        grant select on lillo_dash.command_calls, lillo_dash.reply_samples to lillo_dash_reader;
    end if;
end
$install$;

insert into lillo_dash.installed_files (file_name)
values ('009_samples.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
