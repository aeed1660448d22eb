-- name: unknown_agents
-- The ids among :agent_ids that no agents row has (agents.id is a uuid, Lillo's agent ids are
-- text: compared as text).
-- params: :agent_ids
select wanted.agent_id
from unnest(cast(:agent_ids as text[])) as wanted (agent_id)
where not exists (select from agents as a where a.id::text = wanted.agent_id)
order by wanted.agent_id
