-- Lillo's eight core tables as documented (see README, "Assumed shapes").
-- Applied only to the embedded demo database and to test databases: the dashboard never
-- creates, alters or seeds these tables in a database named by DATABASE_URL.

create table if not exists chat_messages (
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
    agent_id varchar(255) not null,
    created_at timestamptz default current_timestamp,
    unique (chat_id, message_id, agent_id)
);
create index if not exists idx_chat_messages_chat_id_timestamp on chat_messages (chat_id, timestamp desc);
create index if not exists idx_chat_messages_agent_id on chat_messages (agent_id);

create table if not exists posts (
    id serial primary key,
    type varchar(50) not null,
    content text not null,
    timestamp bigint not null,
    location varchar(255),
    prompt text,
    image_url text,
    tweet_id varchar(255),
    created_at timestamptz default current_timestamp,
    updated_at timestamptz default current_timestamp
);
create index if not exists idx_posts_timestamp on posts (timestamp desc);

create table if not exists user_data (
    id serial primary key,
    wallet_address varchar(255) unique,
    telegram_id bigint unique,
    username varchar(255),
    first_name varchar(255),
    token_balance varchar(255),
    last_verified bigint,
    created_at timestamptz default current_timestamp,
    updated_at timestamptz default current_timestamp
);
create index if not exists idx_user_data_telegram_id on user_data (telegram_id);
create index if not exists idx_user_data_wallet_address on user_data (wallet_address);

create table if not exists command_metrics (
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
-- Lillo documents one index on command_metrics without its columns; this is the likely one.
create index if not exists idx_command_metrics_timestamp on command_metrics (timestamp);

-- Columns of gerta_poses and illustrations are not published by Lillo: these shapes are assumptions.
create table if not exists gerta_poses (
    id serial primary key,
    name varchar(255) not null unique,
    description text,
    prompt text,
    image_url text not null,
    created_at timestamptz default current_timestamp
);

create table if not exists illustrations (
    id serial primary key,
    agent_id varchar(255),
    chat_id bigint,
    prompt text not null,
    image_url text not null,
    caption text,
    timestamp bigint not null,
    created_at timestamptz default current_timestamp
);

create table if not exists agents (
    id uuid primary key,
    name varchar(255) not null,
    type varchar(255) not null,
    secure_config text,
    token_config jsonb,
    system_identity jsonb,
    character_config jsonb,
    capabilities jsonb,
    is_active boolean not null default true,
    created_at timestamptz default current_timestamp,
    updated_at timestamptz default current_timestamp
);

create table if not exists model_preferences (
    agent_id text not null,
    chat_id integer not null,
    model_type text not null,
    created_at timestamptz default current_timestamp,
    updated_at timestamptz default current_timestamp,
    primary key (agent_id, chat_id)
);
create index if not exists idx_model_preferences_agent_id on model_preferences (agent_id);
create index if not exists idx_model_preferences_chat_id on model_preferences (chat_id);
