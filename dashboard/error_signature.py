"""The `error_signature(column)` SQL macro: a failed command's error text with the parts that vary
between occurrences of one fault replaced by placeholders, so that failures group by fault.

Only the first line, at most 300 characters, is kept: it names the fault, while the rest of a
multi-kilobyte stack trace carries the varying detail and would make the regexes slow. Then, in
this order (each step sees what the earlier ones left):
  URLs -> <url>; UUIDs -> <uuid>; '…' and "…" quoted values up to 80 characters -> <v>;
  0x-prefixed hex -> <hex>; ids -> <id>: hex words of 6+ characters with a digit and a letter
  (request ids, hashes), words that start with letters and hold a digit (XYZ123, req_9f2),
  numbers of 5+ digits (user and chat ids, negative ones too); other numbers -> <n> (status
  codes, durations such as 5609ms -> <n>ms); runs of whitespace -> one space.
A NULL or empty error gives ''. Expanded by dashboard.views.expand_macros.
"""

from __future__ import annotations

import re

_CALL = re.compile(r"\berror_signature\(\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\s*\)", re.IGNORECASE)

_SQL = r"""regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(left(split_part(coalesce({c}, ''), E'\n', 1), 300),
    'https?://[^\s''"<>]+', '<url>', 'gi'),
    '[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}', '<uuid>', 'gi'),
    '''[^'']{{0,80}}''|"[^"]{{0,80}}"', '<v>', 'g'),
    '\m0x[0-9a-f]+\M', '<hex>', 'gi'),
    '-?\m(?:(?=[0-9]*[a-f])(?=[a-f]*[0-9])[0-9a-f]{{6,}}|[a-z_]+[0-9][a-z0-9_]*|[0-9]{{5,}})\M',
    '<id>', 'gi'),
    '-?[0-9]+(?:\.[0-9]+)?', '<n>', 'g'),
    '\s+', ' ', 'g')"""


def expand_error_signature(sql: str) -> str:
    return _CALL.sub(lambda m: _SQL.format(c=m[1]), sql)
