-- The words and word pairs of every message (lillo_dash.message_words, 004_search_words.sql), so
-- that the Conversations page searches all of chat_messages; without this index it scans only the
-- newest messages. Lillo has no text index, and the embedded PostgreSQL ships no contrib extensions
-- (no pg_trgm), so this is a full-text GIN index. The expression must stay exactly the one in
-- sql/views/message_search_indexed.sql, or the planner cannot use the index.

-- A GIN build collects its entries in memory; with the default 64 MB it is several times slower
-- on a large table. For this session only.
set maintenance_work_mem = '512MB';

-- Minutes on 10 M messages; Lillo keeps reading and writing meanwhile. An interrupted build leaves
-- the index INVALID: `python -m dashboard install` drops such a leftover and builds it again.
create index concurrently if not exists lillo_dash_chat_messages_words
    on chat_messages using gin (lillo_dash.message_words(content));

-- Statistics of the indexed words, which autovacuum would gather only after many new messages:
-- the planner needs them to tell a rare word from a common one. Reads a sample; blocks no one.
analyze chat_messages;
