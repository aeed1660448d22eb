-- The words of a message as the search index holds them (sql/install/007_search_index.concurrently.sql):
-- each word, lowercased by the 'simple' configuration (every script, no stemming, no stop words),
-- and each pair of neighbouring words as one entry ('good morning'). Pairs are what make a phrase
-- of common words fast to find: "hello world" is looked up as one entry instead of as every
-- message holding "hello" and every message holding "world".
-- Only the first 100,000 characters of a message count, so that no message Lillo stores can make
-- its insert fail (a tsvector holds at most 1 MB).
-- The index stores what this function returned when each row was written: a new body needs a new
-- function name (and index), never `create or replace` with other results.
create or replace function lillo_dash.message_words(content text) returns tsvector
    language sql immutable strict parallel safe
as $words$
    select words || array_to_tsvector(array(
        select pairs.pair
        from (
            select w.lexeme || ' ' || lead(w.lexeme) over (order by p.position) as pair
            from unnest(words) as w, unnest(w.positions) as p(position)
        ) as pairs
        where pairs.pair is not null
    ))
    from to_tsvector('simple', left(content, 100000)) as words
$words$;

-- Lillo's own role writes chat_messages and so computes this for each new row.
grant execute on function lillo_dash.message_words(text) to public;
