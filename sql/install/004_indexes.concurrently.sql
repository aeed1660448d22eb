-- Secondary indexes, built without blocking writers or readers of the tables they index: each
-- statement runs on its own, outside a transaction (`python -m dashboard install` does that for
-- every *.concurrently.sql file, after the other files).

-- One chat's rollup rows in a range: the chat list counts chat by chat.
create index concurrently if not exists chat_activity_by_chat
    on lillo_dash.chat_activity (chat_id, grain, period_start);

-- Rollup rows of one level (a command or '*', some agents or '*') in a range.
drop index concurrently if exists lillo_dash.command_hourly_by_agent;
drop index concurrently if exists lillo_dash.command_duration_histogram_by_agent;
create index concurrently if not exists command_hourly_by_level
    on lillo_dash.command_hourly (command, agent_id, hour_start);
create index concurrently if not exists command_duration_histogram_by_level
    on lillo_dash.command_duration_histogram (command, agent_id, grain, period_start);
create index concurrently if not exists activity_hourly_by_agent
    on lillo_dash.activity_hourly (agent_id, hour_start);
