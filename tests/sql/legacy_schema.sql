-- An older Lillo database: chat_messages from before agents existed (no agent_id, unique on
-- (chat_id, message_id)), posts with tweet_id text and no created_at/updated_at, and no
-- gerta_poses table at all.
create table chat_messages (
    id serial primary key,
    message_id bigint not null,
    chat_id bigint not null,
    user_id bigint not null,
    user_first_name varchar(255) not null,
    username varchar(255),
    role varchar(50) not null,
    content text not null,
    timestamp bigint not null,
    reply_to_message_id bigint,
    created_at timestamptz default current_timestamp,
    unique (chat_id, message_id)
);

create table posts (
    id serial primary key,
    type varchar(50) not null,
    content text not null,
    timestamp bigint not null,
    location varchar(255),
    prompt text,
    image_url text,
    tweet_id text
);

create table command_metrics (
    id serial primary key,
    command varchar(50) not null,
    user_id bigint not null,
    chat_id bigint not null,
    duration integer not null,
    success boolean not null,
    error text,
    timestamp bigint not null,
    created_at timestamptz default current_timestamp
);

insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content, timestamp)
values
    (1, 1001, 501, 'Ana', 'user', 'hello', extract(epoch from now())::bigint - 3600),
    (2, 1001, 9001, 'Bot', 'assistant', 'hi', (extract(epoch from now())::bigint - 3590) * 1000);

insert into command_metrics (command, user_id, chat_id, duration, success, error, timestamp)
values ('ticker', 501, 1001, 300, true, null, (extract(epoch from now())::bigint - 3000) * 1000);
