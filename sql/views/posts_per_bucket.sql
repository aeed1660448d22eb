-- name: posts_per_bucket
-- One row per (bucket, post type) with posts in [start, end): the bucket's start as local time
-- in :tz and how many posts of that type were published. Posts belong to no agent, so the agent
-- filter does not apply to them.
-- params: :start_ms, :end_ms, :tz, :bucket
-- requires: posts(type, timestamp)
with scoped as (
    select
        date_trunc(:bucket, to_timestamp(epoch_ms(p.timestamp) / 1000.0) at time zone :tz) as bucket_start,
        p.type as post_type
    from posts as p
    where epoch_ms(p.timestamp) >= :start_ms
      and epoch_ms(p.timestamp) < :end_ms
),

final as (
    select
        bucket_start,
        post_type,
        count(*) as n_posts
    from scoped
    group by bucket_start, post_type
)

select * from final
order by bucket_start, post_type
