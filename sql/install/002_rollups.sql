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

-- Messages per chat, all agents together, ever: the chat list ranks by it through its index.
create table if not exists lillo_dash.chat_sizes (
    chat_id bigint primary key,
    n_messages bigint not null
);
create index if not exists chat_sizes_by_size on lillo_dash.chat_sizes (n_messages desc, chat_id);

-- A database whose rollups were built before chat_sizes existed: fill it from chat_totals once.
insert into lillo_dash.chat_sizes (chat_id, n_messages)
select t.chat_id, sum(t.n_messages)
from lillo_dash.chat_totals as t
where not exists (select from lillo_dash.chat_sizes)
group by 1;

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

-- The hours (UTC hours since 1970, sorted) in which each person wrote in each chat to each agent:
-- whether a person whose messages there start before a range and end after it wrote inside it,
-- without reading the chat's messages. Kept with chat_people (same statement, same watermark).
create table if not exists lillo_dash.chat_people_hours (
    chat_id bigint not null,
    user_id bigint not null,
    agent_id text not null,
    hours integer[] not null,
    primary key (chat_id, user_id, agent_id)
);

-- Per person and agent ('*' = all agents), ever: messages written, chats written in, first and
-- last message. chat_people summed per person (each refresh adds its batch to both in one
-- statement), so the people list ranks 200,000 people by reading an index, not by grouping
-- chat_people.
create table if not exists lillo_dash.person_totals (
    user_id bigint not null,
    agent_id text not null,
    n_messages bigint not null,
    n_chats bigint not null,
    first_ms bigint not null,
    last_ms bigint not null,
    primary key (user_id, agent_id)
);
-- chat_people's indexes by person and by first message: 004_indexes.concurrently.sql.
create index if not exists person_totals_by_messages
    on lillo_dash.person_totals (agent_id, n_messages desc, user_id);
-- (No index by last seen: every refresh rewrites the rows of the people who wrote, and the people
-- list's "last seen" order sorts the 200,000 all-agents rows in about 100 ms without one.)
drop index if exists lillo_dash.person_totals_by_last_seen;

-- A database whose rollups were built before person_totals existed: fill it from chat_people once.
insert into lillo_dash.person_totals (user_id, agent_id, n_messages, n_chats, first_ms, last_ms)
select cp.user_id, level.agent_id, sum(cp.n_messages), count(distinct cp.chat_id), min(cp.first_ms), max(cp.last_ms)
from lillo_dash.chat_people as cp
cross join lateral (values (cp.agent_id), ('*')) as level (agent_id)
where not exists (select from lillo_dash.person_totals)
group by 1, 2;

-- A database whose rollups were built before chat_people_hours existed: fill it from Lillo's rows
-- once (hours are a set, so rows a later refresh brings again change nothing).
do $backfill$
begin
    if exists (select from lillo_dash.chat_people) and not exists (select from lillo_dash.chat_people_hours) then
        insert into lillo_dash.chat_people_hours (chat_id, user_id, agent_id, hours)
        select m.chat_id, m.user_id, m.agent_id, array_agg(distinct h.hour order by h.hour)
        from chat_messages as m
        cross join lateral (
            select floor(
                case when m.timestamp > 100000000000 then m.timestamp else m.timestamp * 1000 end / 3600000.0
            )::integer as hour
        ) as h
        where m.role = 'user' and m.user_id is not null and m.agent_id is not null
        group by 1, 2, 3;
    end if;
end
$backfill$;

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

-- Reply latency histograms per (grain, UTC hour or day, agent): one sample per user message that
-- is immediately followed by an assistant message in the same chat and agent's history (see
-- sql/views/reply_latency.sql), counted in the period of the reply. Buckets as in
-- command_duration_histogram (lillo_dash.latency_bucket). Kept by dashboard/rollups.py under its own
-- watermark (refresh_state source 'reply_latency'), so a database whose other rollups were built
-- before this table existed builds it on its next refresh. No '*' agent level: the view answers per
-- agent. The key carries the counts, so a range is read from the index alone.
create table if not exists lillo_dash.reply_latency_histogram (
    grain text not null check (grain in ('hour', 'day')),
    period_start timestamptz not null,
    agent_id text not null,
    bucket smallint not null,
    n_replies bigint not null,
    primary key (grain, period_start, agent_id, bucket) include (n_replies)
);

-- The weeks (UTC, starting Monday) in which each person wrote to each agent (user messages): the
-- agent page's retention cohorts. Kept by dashboard/rollups.py under its own watermark
-- (refresh_state source 'person_weeks'), so a database whose other rollups were built before this
-- table existed builds it on its next refresh.
create table if not exists lillo_dash.person_weeks (
    agent_id text not null,
    user_id bigint not null,
    week_start timestamptz not null,
    primary key (agent_id, user_id, week_start)
);

-- People per (agent, cohort week, week): the cohort is a person's first week in person_weeks, and
-- each of their weeks counts once. Kept with person_weeks (same watermark): a refresh takes the
-- touched people's old weeks away and adds their new ones, so a late earlier message moves a
-- person to their true cohort.
create table if not exists lillo_dash.retention_weekly (
    agent_id text not null,
    cohort_week timestamptz not null,
    week_start timestamptz not null,
    n_people bigint not null,
    primary key (agent_id, cohort_week, week_start)
);

-- One row per failed command (command_metrics.id): its moment, command name (without '/'), agent
-- (the one that last wrote in its chat before it, '' when none did), chat, person, error signature
-- (the error_signature() macro, dashboard/error_signature.py), error text cut to 300 characters,
-- and its retry: the same person's next call of the same command (by moment, then row id) when it
-- came within 10 minutes (600,000 ms), else nulls. The error signature and retry funnel views read
-- it instead of running the normaliser's regexes, and a lookup per failure, over the range. A
-- refresh adds new failures and lets new calls replace a stored retry they precede (the next call
-- can only get earlier as rows arrive). Kept by dashboard/rollups.py under its own watermark
-- (refresh_state source 'command_failures'), so a database whose other rollups were built before
-- this table existed builds it on its next refresh.
create table if not exists lillo_dash.command_failures (
    command_id bigint primary key,
    sent_ms bigint not null,
    command text not null,
    agent_id text not null,
    chat_id bigint not null,
    user_id bigint not null,
    signature text not null,
    error_excerpt text,
    retry_ms bigint,
    retry_id bigint,
    retry_success boolean
);
create index if not exists command_failures_by_moment on lillo_dash.command_failures (sent_ms);
create index if not exists command_failures_by_person on lillo_dash.command_failures (user_id, command, sent_ms);
