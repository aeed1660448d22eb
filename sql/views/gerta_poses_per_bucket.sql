-- name: gerta_poses_per_bucket
-- One row per bucket with Gerta poses added in [start, end): the bucket's start as local time in
-- :tz and how many poses were added then (by created_at). Poses belong to no agent, so the agent
-- filter does not apply. The table's columns are not documented: a table without created_at
-- gets a notice here while its gallery still shows.
-- params: :start_ms, :end_ms, :tz, :bucket
-- requires: gerta_poses(created_at)
with scoped as (
    select date_trunc(:bucket, p.created_at at time zone :tz) as bucket_start
    from gerta_poses as p
    where p.created_at >= to_timestamp(:start_ms / 1000.0)
      and p.created_at < to_timestamp(:end_ms / 1000.0)
),

final as (
    select bucket_start, count(*) as n_items
    from scoped
    group by bucket_start
)

select * from final
order by bucket_start
