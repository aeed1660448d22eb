-- name: reply_latency
-- One row per agent with at least one reply in [start, end): n_replies, and the median and 90th
-- percentile of its reply latency in ms (percentile_cont: interpolated between the two nearest
-- samples), most replies first; agent_name is the agents row's name, or the raw agent_id.
-- A sample: within one chat and one agent's history (chat_messages.agent_id), user and assistant
-- messages ordered by (epoch ms, id); each user message immediately followed by an assistant
-- message gives latency = assistant time - user time, in the range of the assistant's time. A user
-- message followed by another user message first gives none (the reply answers the later one), nor
-- does an assistant message after an assistant. Other roles (system notices) are skipped: they
-- neither answer nor interrupt. Ties in time count as 0 ms.
-- No all-agents row: percentiles do not add up across agents, and a row that is no agent would be
-- summed with the others by mistake.
-- params: :start_ms, :end_ms, :agent_ids
-- requires: chat_messages(id, timestamp, chat_id, agent_id, role), agents(id, name)
with turns as (
    select
        m.agent_id,
        m.role,
        epoch_ms(m.timestamp) as sent_ms,
        lag(m.role) over history as previous_role,
        lag(epoch_ms(m.timestamp)) over history as previous_ms
    from chat_messages as m
    where m.role in ('user', 'assistant')
      -- A reply's predecessor is never later than the reply: the range's end can be applied first.
      and epoch_ms(m.timestamp) < :end_ms
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    window history as (partition by m.chat_id, m.agent_id order by epoch_ms(m.timestamp), m.id)
),

samples as (
    select agent_id, sent_ms - previous_ms as latency_ms
    from turns
    where role = 'assistant' and previous_role = 'user' and sent_ms >= :start_ms
),

per_agent as (
    select
        agent_id,
        count(*) as n_replies,
        percentile_cont(0.5) within group (order by latency_ms)::float8 as median_ms,
        percentile_cont(0.9) within group (order by latency_ms)::float8 as p90_ms
    from samples
    group by agent_id
),

final as (
    select
        p.agent_id,
        coalesce(a.name, p.agent_id) as agent_name,
        p.n_replies,
        p.median_ms,
        p.p90_ms
    from per_agent as p
    left join agents as a on a.id::text = p.agent_id
)

select * from final
order by n_replies desc, lower(agent_name), agent_id
