-- name: search_words
-- One row per entry of the search index (lillo_dash.message_words) that a message holding
-- :search_text from the start of a word must hold, with whether the entry may continue past the
-- text (a word at its very end may be only a beginning). The entries are the pairs of neighbouring
-- words as PostgreSQL's parser splits the text ('simple' configuration), except a pair whose first
-- word may continue, and the words in no such pair: a pair is rarer than either of its words, so
-- the index reads far less. dashboard/search.py builds the index query from these rows.
-- params: :search_text
-- requires: chat_messages(content)
with tokens as (
    select t.token, t.lexemes[1] as word, t.n
    from ts_debug('simple', :search_text)
        with ordinality as t(alias, description, token, dictionaries, dictionary, lexemes, n)
    where cardinality(t.lexemes) > 0
),

words as (
    select
        word,
        right(:search_text, length(token)) = token as may_continue,
        row_number() over (order by n) as position
    from tokens
),

pairs as (
    select
        first.word || ' ' || second.word as entry,
        second.may_continue,
        first.position
    from words as first
    join words as second on second.position = first.position + 1
    where not first.may_continue
),

entries as (
    select entry, may_continue from pairs
    union all
    select w.word as entry, w.may_continue
    from words as w
    where not exists (select from pairs as p where w.position in (p.position, p.position + 1))
),

final as (
    select distinct entry, may_continue from entries
)

select * from final
order by may_continue, entry
