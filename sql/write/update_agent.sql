-- name: update_agent
-- Writes an agent's editable settings only while they still hold the values the editor started
-- from (optimistic concurrency): no row updated means someone else changed it first.
-- params: :agent_id, :name, :is_active, :capabilities, :character_config, :system_identity, :before_name, :before_is_active, :before_capabilities, :before_character_config, :before_system_identity
update agents
set
    name = :name,
    is_active = :is_active,
    capabilities = cast(:capabilities as jsonb),
    character_config = cast(:character_config as jsonb),
    system_identity = cast(:system_identity as jsonb),
    updated_at = now()
where id::text = :agent_id
  and name is not distinct from :before_name
  and is_active is not distinct from :before_is_active
  and capabilities is not distinct from cast(:before_capabilities as jsonb)
  and character_config is not distinct from cast(:before_character_config as jsonb)
  and system_identity is not distinct from cast(:before_system_identity as jsonb)
