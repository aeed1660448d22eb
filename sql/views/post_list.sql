-- name: post_list
-- One row per post published in [start, end), newest first (ties by id): when (local time in :tz
-- and the stored moment in ms), its type, full text, location, prompt, image URL and tweet id, all
-- as stored. The :limit rows after the first :offset.
-- params: :start_ms, :end_ms, :tz, :limit, :offset
-- requires: posts(id, type, content, timestamp, location, prompt, image_url, tweet_id)
with scoped as (
    select
        p.id as post_id,
        epoch_ms(p.timestamp) as posted_ms,
        p.type as post_type,
        p.content,
        p.location,
        p.prompt,
        p.image_url,
        cast(p.tweet_id as text) as tweet_id
    from posts as p
    where epoch_ms(p.timestamp) >= :start_ms
      and epoch_ms(p.timestamp) < :end_ms
    order by posted_ms desc, post_id desc
    limit :limit offset :offset
),

final as (
    select
        post_id,
        to_timestamp(posted_ms / 1000.0) at time zone :tz as posted_at,
        posted_ms,
        post_type,
        content,
        location,
        prompt,
        image_url,
        tweet_id
    from scoped
)

select * from final
order by posted_ms desc, post_id desc
