-- Secondary indexes, built without blocking writers or readers of the tables they index: each
-- statement runs on its own, outside a transaction (`python -m dashboard install` does that for
-- every *.concurrently.sql file, after the other files).

-- One chat's rollup rows in a range: the chat lists count chat by chat. The index carries what
-- they count, so it is read without visiting the table (index-only scans).
drop index concurrently if exists lillo_dash.chat_activity_by_chat;
create index concurrently if not exists chat_activity_chat_split
    on lillo_dash.chat_activity (chat_id, grain, period_start)
    include (agent_id, n_messages, n_user_messages, last_ms);
drop index concurrently if exists lillo_dash.chat_activity_chat_counts;

-- A person's couples (chat, agent, first and last message) read from the index alone: the people
-- views by person, and whether someone on a model other than OPENAI also wrote to a pair on it.
create index concurrently if not exists chat_people_by_person
    on lillo_dash.chat_people (user_id) include (chat_id, agent_id, first_ms, last_ms);
drop index concurrently if exists lillo_dash.chat_people_by_user;
-- The couples first seen in a range: the Models page's new people.
create index concurrently if not exists chat_people_by_first
    on lillo_dash.chat_people (first_ms) include (last_ms, chat_id, agent_id, user_id);
-- The couples of one (agent, chat) pair from the index alone: the people of the pairs set to a model
-- other than OPENAI (the key leads with the chat, then the person).
create index concurrently if not exists chat_people_by_pair
    on lillo_dash.chat_people (chat_id, agent_id) include (user_id, first_ms, last_ms);
-- The people whose first message to an agent falls in a range: the Agents page's new people.
create index concurrently if not exists person_totals_by_first
    on lillo_dash.person_totals (first_ms) include (agent_id);
-- Rollup rows of one level (a command or '*', some agents or '*') in a range. The rows of one
-- level lie one per table page, so the indexes carry the counts: the views read them alone.
drop index concurrently if exists lillo_dash.command_hourly_by_agent;
drop index concurrently if exists lillo_dash.command_duration_histogram_by_agent;
drop index concurrently if exists lillo_dash.command_hourly_by_level;
drop index concurrently if exists lillo_dash.command_duration_histogram_by_level;
create index concurrently if not exists command_hourly_level_counts
    on lillo_dash.command_hourly (command, agent_id, hour_start) include (n_calls, n_failures);
create index concurrently if not exists command_duration_histogram_level_counts
    on lillo_dash.command_duration_histogram (command, agent_id, grain, period_start) include (bucket, n_calls);
create index concurrently if not exists activity_hourly_by_agent
    on lillo_dash.activity_hourly (agent_id, hour_start);

-- An agent's newest hourly row: the settings page's last activity.
create index concurrently if not exists message_hourly_agent_latest
    on lillo_dash.message_hourly (agent_id, hour_start desc) include (last_ms);

-- Lillo documents no index on command_metrics by chat: the transcript's commands of one chat
-- would read every command. The name says whose it is; `drop index` removes it without harm.
create index concurrently if not exists lillo_dash_command_metrics_by_chat
    on command_metrics (chat_id, timestamp);

-- A person's calls in time order: the retry funnel looks up, for each failure, the same person's
-- next call within 10 minutes; through the timestamp index alone that reads every call of those
-- minutes (about 200 at 10 M messages). Dashboard-owned like the index above.
create index concurrently if not exists lillo_dash_command_metrics_by_user
    on command_metrics (user_id, timestamp);

-- Calls by duration: the slowest calls table reads from the top down until it has a page, instead of
-- sorting every call of the range.
create index concurrently if not exists lillo_dash_command_metrics_by_duration
    on command_metrics (duration, id);

-- One command's calls by duration (the expression is the command_name() macro's, so the views'
-- `command_name(c.command) = :command` uses it): a command page's slowest calls.
create index concurrently if not exists lillo_dash_command_metrics_by_name_duration
    on command_metrics ((ltrim(lower(command), '/')), duration, id);
