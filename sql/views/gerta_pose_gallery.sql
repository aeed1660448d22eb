-- name: gerta_pose_gallery
-- One row per Gerta pose, in id order (the poses are a catalog, not a stream: every range shows
-- them all): its id and the whole row as a JSON object (`item`), whatever columns the live table
-- has (they are not documented). The :limit rows after the first :offset.
-- params: :limit, :offset
-- requires: gerta_poses(id)
with final as (
    select
        t.id as item_id,
        to_jsonb(t) as item
    from gerta_poses as t
)

select * from final
order by item_id
limit :limit offset :offset
