-- name: model_preferences_chat_id_type
-- The type of model_preferences.chat_id in the live database ('integer', 'bigint', …; a domain
-- counts as its base type): Lillo documents INTEGER while Telegram chat ids are 64-bit, so what
-- fits is read, never assumed. No row when the table or the column is missing.
-- params:
select format_type(case when t.typtype = 'd' then t.typbasetype else t.oid end, null) as type_name
from pg_catalog.pg_attribute as a
inner join pg_catalog.pg_type as t on t.oid = a.atttypid
where a.attrelid = to_regclass('model_preferences')
  and a.attname = 'chat_id'
  and a.attnum > 0
  and not a.attisdropped
