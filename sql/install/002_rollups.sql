-- Rollups: Lillo's raw rows summed per UTC hour (and per UTC day where lists need it), kept fresh
-- by `python -m dashboard refresh` (dashboard/rollups.py). Rows are found by id: everything with
-- an id above refresh_state.last_id is new, whatever its timestamp says, so late rows for an
-- earlier day and second-epoch rows are counted where they belong. Views add the rows above the
-- watermark live, so their answers do not wait for a refresh.

create table if not exists lillo_dash.refresh_state (
    source text primary key,
    last_id bigint not null default 0,
    n_rows bigint not null default 0,
    refreshed_at timestamptz
);

-- Messages per (UTC hour, agent, role): charts and message counts.
create table if not exists lillo_dash.message_hourly (
    hour_start timestamptz not null,
    agent_id text not null,
    role text not null,
    n_messages bigint not null,
    last_ms bigint not null,
    primary key (hour_start, agent_id, role)
);

-- Messages per (UTC day or hour, chat, agent): chat lists. Whole days come from the daily grain,
-- the partial days at a range's ends from the hourly one.
create table if not exists lillo_dash.chat_activity (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    chat_id bigint not null,
    agent_id text not null,
    n_messages bigint not null,
    n_user_messages bigint not null,
    last_ms bigint not null,
    primary key (grain, period_start, chat_id, agent_id)
);

-- Who was active, as linear counting over 2^17 bits: each user / chat id sets bit
-- hashint8(id) & 131071. The union of periods is the OR of their bits, and the number of distinct
-- ids is estimated from the share of zero bits: within 2% up to 1,000,000 distinct ids in a range,
-- and off by a handful at most below 10,000.
-- Per UTC day and agent ('*' = any agent), as bit maps (dense, cheap to OR over long ranges):
create table if not exists lillo_dash.activity_daily (
    day_start timestamptz not null,
    agent_id text not null,
    users bit(131072) not null,
    chats bit(131072) not null,
    primary key (day_start, agent_id)
);
-- Per UTC hour and agent ('*' = any agent), as lists of set bits (sparse), for the partial days
-- at a range's ends:
create table if not exists lillo_dash.activity_hourly (
    hour_start timestamptz not null,
    agent_id text not null,
    user_bits integer[] not null,
    chat_bits integer[] not null,
    primary key (hour_start, agent_id)
);

-- Messages per chat and agent, ever: an upper bound of any range's count, which lets the chat
-- list rank a range exactly while reading the rollup of a few hundred chats only.
create table if not exists lillo_dash.chat_totals (
    chat_id bigint not null,
    agent_id text not null,
    n_messages bigint not null,
    primary key (chat_id, agent_id)
);

-- People who wrote in a chat, per agent, ever: the chat lists' people column.
create table if not exists lillo_dash.chat_people (
    chat_id bigint not null,
    user_id bigint not null,
    agent_id text not null,
    n_messages bigint not null,
    first_ms bigint not null,
    last_ms bigint not null,
    primary key (chat_id, user_id, agent_id)
);

-- Commands per (UTC hour, command without its leading '/', agent), the agent being the one that
-- last wrote in the chat at or before the command ('' when none did). Command '*' counts all
-- commands, agent '*' all agents: a reader picks one level of each, never sums across levels.
create table if not exists lillo_dash.command_hourly (
    hour_start timestamptz not null,
    command text not null,
    agent_id text not null,
    n_calls bigint not null,
    n_failures bigint not null,
    primary key (hour_start, command, agent_id)
);

-- Duration histograms per (grain, period, command, agent; '*' levels as above): bucket b > 0 holds durations in
-- [1.02^(b-1), 1.02^b) ms and stands for 1.02^(b-0.5) ms; bucket 0 holds zero and negative
-- durations (bad data, counted as 0 ms). Percentiles read from them are within 1% of exact.
create table if not exists lillo_dash.command_duration_histogram (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    command text not null,
    agent_id text not null,
    bucket smallint not null,
    n_calls bigint not null,
    primary key (grain, period_start, command, agent_id, bucket)
);

insert into lillo_dash.installed_files (file_name)
values ('002_rollups.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
