-- Secondary indexes, built without blocking writers or readers of the tables they index: each
-- statement runs on its own, outside a transaction (`python -m dashboard install` does that for
-- every *.concurrently.sql file, after the other files).

-- One chat's rollup rows in a range: the chat list counts chat by chat.
create index concurrently if not exists chat_activity_by_chat
    on lillo_dash.chat_activity (chat_id, grain, period_start);
