-- The pairs set to another model: messages per period, reply latency samples and commands of the
-- (agent, chat) pairs whose model_preferences row names a model other than OPENAI, for the Models
-- page. They are usually few, and the model views read them pair by pair: from these tables
-- instead of Lillo's rows. Kept by dashboard/rollups_models.py under watermarks of their own
-- (refresh_state sources 'model_pair_activity', 'model_pair_replies' and 'model_pair_commands'); a
-- refresh files the pairs set to another model since the last one (with their whole history) and
-- drops the pairs set back. The views read a pair not filed yet from Lillo's tables, so their
-- answers never wait for a refresh.

-- The filed pairs: those with a model other than OPENAI and messages, at the last refresh. Keyed
-- by chat first: a new command is matched to its chat before its agent is looked up.
create table if not exists lillo_dash.model_pairs (
    chat_id bigint not null,
    agent_id text not null,
    primary key (chat_id, agent_id)
);
-- The model the pair's row named when it was filed: the histograms below count its samples under
-- it, and a refresh moves them when the row names another.
alter table lillo_dash.model_pairs add column if not exists model_type text;

-- model_preferences' rows at the last filing, summed up: a refresh compares the table with it and
-- re-files only when it changed; the views trust model_pairs and model_pair_counts only while it
-- matches. n_pairs: lillo_dash.chat_totals' rows when model_pair_counts was counted (null: never).
create table if not exists lillo_dash.model_pairs_state (
    singleton boolean primary key default true check (singleton),
    n_preferences bigint not null,
    checksum bigint not null
);
alter table lillo_dash.model_pairs_state add column if not exists n_pairs bigint;

-- Every pair of lillo_dash.chat_totals per agent and model at the last filing (no row: OPENAI,
-- counted in n_default_chats too): the Models page's mix reads them instead of joining every pair
-- to model_preferences.
create table if not exists lillo_dash.model_pair_counts (
    agent_id text not null,
    model_type text not null,
    n_chats bigint not null,
    n_default_chats bigint not null,
    primary key (agent_id, model_type)
);

-- Messages per (UTC day or hour, filed pair), as lillo_dash.chat_activity counts them: the model
-- views read the few filed pairs' rows by period instead of probing chat_activity pair by pair.
create table if not exists lillo_dash.model_pair_activity (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    chat_id bigint not null,
    agent_id text not null,
    n_messages bigint not null,
    primary key (grain, period_start, chat_id, agent_id) include (n_messages)
);

-- One row per reply of a filed pair (the assistant message's chat_messages.id): the samples of
-- sql/views/reply_latency.sql, computed over the rows up to the watermark.
create table if not exists lillo_dash.model_pair_replies (
    reply_id bigint primary key,
    chat_id bigint not null,
    agent_id text not null,
    sent_ms bigint not null,
    latency_ms bigint not null
);
create index if not exists model_pair_replies_by_pair
    on lillo_dash.model_pair_replies (chat_id, agent_id, sent_ms) include (latency_ms, reply_id);

-- One row per command (command_metrics.id) that belongs to a filed pair: its agent wrote last in
-- the chat at or before it. The command's name without its leading '/'.
create table if not exists lillo_dash.model_pair_commands (
    command_id bigint primary key,
    chat_id bigint not null,
    agent_id text not null,
    sent_ms bigint not null,
    command text not null,
    success boolean not null,
    duration integer not null
);
create index if not exists model_pair_commands_by_pair
    on lillo_dash.model_pair_commands (chat_id, agent_id, sent_ms) include (command, success, duration);

-- The filed pairs' reply latencies and command durations as histograms per (grain, UTC hour or
-- day, agent or '*' for all agents, model), by the model each pair's model_preferences row named at
-- the last filing (model_pairs_state), in the buckets of lillo_dash.reply_latency_histogram: while
-- model_preferences is as filed, the comparison reads these instead of every filed pair's samples.
create table if not exists lillo_dash.model_reply_histogram (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    agent_id text not null,
    model_type text not null,
    bucket smallint not null,
    n_replies bigint not null,
    primary key (grain, period_start, agent_id, model_type, bucket) include (n_replies)
);

create table if not exists lillo_dash.model_command_histogram (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    agent_id text not null,
    model_type text not null,
    bucket smallint not null,
    n_calls bigint not null,
    n_failures bigint not null,
    primary key (grain, period_start, agent_id, model_type, bucket) include (n_calls, n_failures)
);

-- A refresh recounts the histograms from the earliest moment its new rows touched.
create index if not exists model_pair_replies_by_time
    on lillo_dash.model_pair_replies (sent_ms) include (chat_id, agent_id, latency_ms);
create index if not exists model_pair_commands_by_time
    on lillo_dash.model_pair_commands (sent_ms) include (chat_id, agent_id, success, duration);

-- 006_roles.sql grants the reader every table of the schema, but runs before this file: on the
-- first install these tables do not exist yet there.
do $install$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'lillo_dash_reader') then
        grant select on lillo_dash.model_pairs, lillo_dash.model_pairs_state, lillo_dash.model_pair_counts,
            lillo_dash.model_pair_activity, lillo_dash.model_pair_replies, lillo_dash.model_pair_commands,
            lillo_dash.model_reply_histogram, lillo_dash.model_command_histogram
            to lillo_dash_reader;
    end if;
end
$install$;

insert into lillo_dash.installed_files (file_name)
values ('008_model_rollups.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
