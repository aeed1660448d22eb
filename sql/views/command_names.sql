-- name: command_names
-- One row per command ever run (its name without the leading '/'), with its calls all time:
-- the commands a person can open, and how a page tells an unknown command from a quiet one.
-- params:
-- requires: command_metrics(command)
select command_name(c.command) as command, count(*) as n_calls
from command_metrics as c
group by 1
order by n_calls desc, command
