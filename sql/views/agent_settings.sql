-- name: agent_settings
-- One row per agents row: its editable settings as stored, whether credentials are set (a yes/no
-- from lillo_dash.agent_credentials(), which never returns the value; the credentials column
-- is never selected), and when it last wrote or received a message, in time zone :tz (null for none): the
-- agent's newest hourly rollup row or the messages above the refresh watermark. Needs the
-- dashboard's install, like every write this page leads to.
-- params: :tz, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, lillo_dash.audit_log, agents(id, name, type, is_active, capabilities, character_config, system_identity, updated_at), chat_messages(id, agent_id, timestamp)
with tail as (
    select m.agent_id, max(epoch_ms(m.timestamp)) as last_ms
    from chat_messages as m
    where m.id > :messages_watermark
    group by m.agent_id
),

final as (
    select
        a.id::text as agent_id,
        a.name,
        a.type,
        a.is_active,
        a.capabilities,
        a.character_config,
        a.system_identity,
        a.updated_at,
        c.credentials_set,
        to_timestamp(nullif(greatest(
            -- The newest hour holds a row per role: the latest of them.
            coalesce((
                select max(h.last_ms)
                from lillo_dash.message_hourly as h
                where h.agent_id = a.id::text
                  and h.hour_start = (
                      select max(x.hour_start) from lillo_dash.message_hourly as x where x.agent_id = a.id::text
                  )
            ), -1),
            coalesce((select t.last_ms from tail as t where t.agent_id = a.id::text), -1)
        ), -1) / 1000.0) at time zone :tz as last_active_at
    from agents as a
    left join lillo_dash.agent_credentials() as c on c.agent_id = a.id::text
)

select * from final
order by lower(name), agent_id
