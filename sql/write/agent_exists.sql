-- name: agent_exists
-- One row when an agent with this id exists.
-- params: :agent_id
select 1 as found
from agents
where id::text = :agent_id
